/**
 * The InfluxDB server settings of a configuration node (data-formats.md §12.2,
 * node-red-conventions.md §6), validated with messages that name the field (D9).
 * Values may come from `${ENV}` substitution, so numbers and booleans may arrive as strings.
 */

export interface InfluxServerConfig {
  host: string;
  port: number;
  tls: boolean;
  database: string;
  /** '' = the database's default retention policy. */
  retentionPolicy: string;
  /** Per-request timeout (ms). */
  timeoutMs: number;
}

export const INFLUX_DEFAULTS = {
  host: 'localhost',
  port: 8086,
  database: 'streamevmon',
  retentionPolicy: 'streamevmondefault',
  timeoutSeconds: 10,
} as const;

const OWNER = 'influxdb';

/** A value still of the form ${NAME} after Node-RED's substitution: NAME is not set. */
const UNSET_ENV = /^\$\{(\S+)\}$/;

/** The problem with a field whose ${NAME} was not replaced, or null. */
function unsetEnvProblem(field: string, value: unknown): string | null {
  const m = typeof value === 'string' ? UNSET_ENV.exec(value.trim()) : null;
  return m ? `${OWNER}: ${field} is ${value as string} but the environment variable ${m[1]} is not set` : null;
}

function text(raw: unknown, dflt: string): string {
  if (raw === undefined || raw === null) return dflt;
  return String(raw).trim();
}

/** InfluxDB refuses database and policy names that are empty, unprintable or contain / or \. */
function nameProblem(field: string, name: string): string | null {
  if (name === '.' || name === '..' || /[/\\]/.test(name) || /[\u0000-\u001f\u007f]/.test(name)) {
    return `${OWNER}: ${field} ${JSON.stringify(name)} is not a valid InfluxDB name (no / or \\, no control characters)`;
  }
  return null;
}

export function parseInfluxConfig(raw: Record<string, unknown>): { config: InfluxServerConfig; errors: string[] } {
  const errors: string[] = [];
  // A ${NAME} left over means an unset variable: say so rather than that the value is malformed.
  const unset = new Set<string>();
  for (const field of ['host', 'port', 'tls', 'database', 'retentionPolicy', 'timeout']) {
    const problem = unsetEnvProblem(field, raw[field]);
    if (problem) {
      errors.push(problem);
      unset.add(field);
    }
  }
  const host = unset.has('host') ? INFLUX_DEFAULTS.host : text(raw.host, INFLUX_DEFAULTS.host) || INFLUX_DEFAULTS.host;
  if (/:\/\/|[/\s]/.test(host)) {
    errors.push(`${OWNER}: host must be a host name or address without http:// or a path (got ${JSON.stringify(host)}); tick "Use TLS" for https`);
  }

  const portText = unset.has('port') ? '' : text(raw.port, '');
  const port = portText === '' ? INFLUX_DEFAULTS.port : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) errors.push(`${OWNER}: port must be an integer between 1 and 65535 (got ${JSON.stringify(raw.port)})`);

  const database = unset.has('database') ? INFLUX_DEFAULTS.database : text(raw.database, INFLUX_DEFAULTS.database) || INFLUX_DEFAULTS.database;
  const dbProblem = nameProblem('database', database);
  if (dbProblem) errors.push(dbProblem);

  // An explicitly empty retention policy means the database's default one.
  const retentionPolicy = unset.has('retentionPolicy') ? INFLUX_DEFAULTS.retentionPolicy : text(raw.retentionPolicy, INFLUX_DEFAULTS.retentionPolicy);
  const rpProblem = retentionPolicy ? nameProblem('retentionPolicy', retentionPolicy) : null;
  if (rpProblem) errors.push(rpProblem);

  const timeoutText = unset.has('timeout') ? '' : text(raw.timeout, '');
  const timeoutSeconds = timeoutText === '' ? INFLUX_DEFAULTS.timeoutSeconds : Number(timeoutText);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 300) {
    errors.push(`${OWNER}: timeout must be a number of seconds greater than 0 and at most 300 (got ${JSON.stringify(raw.timeout)})`);
  }

  const tls = raw.tls === true || raw.tls === 'true';
  // A "Use TLS" from ${NAME} that is not true/false must not quietly mean "no TLS".
  if (typeof raw.tls === 'string' && !unset.has('tls') && !['', 'true', 'false'].includes(raw.tls)) {
    errors.push(`${OWNER}: tls must be true or false (got ${JSON.stringify(raw.tls)})`);
  }
  return {
    config: { host, port, tls, database, retentionPolicy, timeoutMs: Math.round(timeoutSeconds * 1000) },
    errors,
  };
}
