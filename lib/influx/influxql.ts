/**
 * InfluxQL quoting (data-formats.md Q4): every name and string that reaches a statement goes
 * through these functions, so user text can never end a literal or identifier early.
 */

/**
 * InfluxQL's scanner rejects a newline inside a quoted identifier or string, so no escape
 * can carry one: refuse it instead of letting the server fail with a parse error.
 */
function refuseNewline(what: string, s: string): void {
  if (/[\r\n]/.test(s)) throw new RangeError(`InfluxQL ${what} cannot contain a line break: ${JSON.stringify(s)}`);
}

/** An identifier (database, retention policy, measurement, tag or field key) in double quotes. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name === '') throw new RangeError('InfluxQL identifier must be a non-empty string');
  refuseNewline('identifier', name);
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A string literal in single quotes. */
export function quoteString(value: string): string {
  if (typeof value !== 'string') throw new RangeError('InfluxQL string literal must be a string');
  refuseNewline('string literal', value);
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** `"db"."rp"."measurement"`, or `"db".."measurement"` for the default retention policy. */
export function qualifiedMeasurement(db: string, rp: string | undefined, measurement: string): string {
  return `${quoteIdent(db)}.${rp ? quoteIdent(rp) : ''}.${quoteIdent(measurement)}`;
}

export function createDatabase(db: string): string {
  return `CREATE DATABASE ${quoteIdent(db)}`;
}

export interface RetentionPolicySpec {
  /** InfluxQL duration literal; '0s' = keep forever. */
  duration?: string;
  replication?: number;
  isDefault?: boolean;
}

const DURATION = /^(\d+(ns|u|µ|ms|s|m|h|d|w))+$|^INF$/i;

/** data-formats.md §12.2: `CREATE RETENTION POLICY "<rp>" ON "<db>" DURATION 0s REPLICATION 1 DEFAULT`. */
export function createRetentionPolicy(rp: string, db: string, spec: RetentionPolicySpec = {}): string {
  const duration = spec.duration ?? '0s';
  if (!DURATION.test(duration)) throw new RangeError(`InfluxQL duration is not valid: ${JSON.stringify(duration)}`);
  const replication = spec.replication ?? 1;
  if (!Number.isInteger(replication) || replication < 1) throw new RangeError(`replication must be a positive integer (got ${replication})`);
  const dflt = spec.isDefault === false ? '' : ' DEFAULT';
  return `CREATE RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(db)} DURATION ${duration} REPLICATION ${replication}${dflt}`;
}
