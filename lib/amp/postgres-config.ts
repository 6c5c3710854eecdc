/**
 * The settings of a streamevmon-postgres configuration node (data-formats.md §3 defaults:
 * localhost:5432, database nntsc), validated with messages naming the field (D9). Values may
 * come from `${ENV}` substitution, so numbers and booleans may arrive as strings; a `${NAME}`
 * still present means the variable was not set.
 */

export interface PostgresSettings {
  /** Host name, address, or a Unix-socket directory (starting with /). */
  host: string;
  port: number;
  database: string;
  /** Most connections the pool opens. */
  poolSize: number;
  /** Require TLS and verify the server certificate. */
  tls: boolean;
  /** Connect and query timeout (ms). */
  timeoutMs: number;
}

export const POSTGRES_DEFAULTS = {
  host: 'localhost',
  port: 5432,
  database: 'nntsc',
  poolSize: 5,
  timeoutSeconds: 10,
} as const;

const OWNER = 'postgres';
const UNSET_ENV = /^\$\{(\S+)\}$/;

function text(raw: unknown): string {
  return raw === undefined || raw === null ? '' : String(raw).trim();
}

function unsetEnv(field: string, value: string): string | null {
  const m = UNSET_ENV.exec(value);
  return m ? `${OWNER}: ${field} is ${value} but the environment variable ${m[1]} is not set` : null;
}

function intIn(field: string, raw: unknown, dflt: number, min: number, max: number, errors: string[]): number {
  const t = text(raw);
  if (t === '') return dflt;
  const env = unsetEnv(field, t);
  if (env) {
    errors.push(env);
    return dflt;
  }
  const n = Number(t);
  if (!Number.isInteger(n) || n < min || n > max) {
    errors.push(`${OWNER}: ${field} must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`);
    return dflt;
  }
  return n;
}

export function parsePostgresConfig(raw: Record<string, unknown>): { settings: PostgresSettings; errors: string[] } {
  const errors: string[] = [];
  const host = text(raw.host) || POSTGRES_DEFAULTS.host;
  const hostEnv = unsetEnv('host', host);
  if (hostEnv) errors.push(hostEnv);
  else if (!host.startsWith('/') && /:\/\/|[/\s@]/.test(host)) {
    errors.push(`${OWNER}: host must be a host name, an address or a socket directory, without postgres:// or user@ (got ${JSON.stringify(host)})`);
  }
  const port = intIn('port', raw.port, POSTGRES_DEFAULTS.port, 1, 65535, errors);
  const database = text(raw.database) || POSTGRES_DEFAULTS.database;
  const dbEnv = unsetEnv('database', database);
  if (dbEnv) errors.push(dbEnv);
  else if (/[\u0000-\u001f\u007f]/.test(database) || database.length > 63) {
    errors.push(`${OWNER}: database must be a PostgreSQL name of at most 63 characters (got ${JSON.stringify(database)})`);
  }
  const poolSize = intIn('pool size', raw.poolSize, POSTGRES_DEFAULTS.poolSize, 1, 100, errors);

  const timeoutText = text(raw.timeout);
  let timeoutSeconds: number = POSTGRES_DEFAULTS.timeoutSeconds;
  if (timeoutText !== '') {
    const env = unsetEnv('timeout', timeoutText);
    const n = Number(timeoutText);
    if (env) errors.push(env);
    else if (!Number.isFinite(n) || n <= 0 || n > 300) {
      errors.push(`${OWNER}: timeout must be a number of seconds greater than 0 and at most 300 (got ${JSON.stringify(raw.timeout)})`);
    } else timeoutSeconds = n;
  }
  const tls = raw.tls === true || raw.tls === 'true';
  // A "Use TLS" from ${NAME} that is unset or not true/false must not quietly mean "no TLS".
  if (typeof raw.tls === 'string') {
    const env = unsetEnv('tls', raw.tls);
    if (env) errors.push(env);
    else if (!['', 'true', 'false'].includes(raw.tls)) errors.push(`${OWNER}: tls must be true or false (got ${JSON.stringify(raw.tls)})`);
  }
  return { settings: { host, port, database, poolSize, tls, timeoutMs: Math.round(timeoutSeconds * 1000) }, errors };
}
