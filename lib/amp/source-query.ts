/**
 * What the AMP source asks InfluxDB 1.x (data-formats.md §9.3, §10): the measurements of each
 * schema and their tag keys, the history SELECT with its time range and tag filter, the
 * subscription statements, and the decoding of history rows into points the AMP parsers
 * read. Every name and literal goes through the quoting helpers of lib/influx/influxql.
 */
import type { StatementResult } from '../influx/client';
import { qualifiedMeasurement, quoteIdent, quoteString } from '../influx/influxql';
import type { FieldValue } from '../influx/line-parser';
import { AMP2_LATENCY_TYPES, AMP2_TYPES } from './amp2';
import { LEGACY_TYPES } from './legacy';
import type { PointLike } from './result';

export type AmpSourceSchema = 'legacy' | 'amp2';

/** The InfluxDB measurements of each schema (data-formats.md §2, §4.1, §10). */
export const SCHEMA_MEASUREMENTS: Readonly<Record<AmpSourceSchema, readonly string[]>> = {
  legacy: Object.keys(LEGACY_TYPES),
  amp2: ['external', 'fastping', 'http', 'latency', 'pathlen', 'sip', 'throughput', 'traceroute', 'udpstream', 'video'],
};

/** Tag keys per measurement: history rows give tags and fields as one row of columns. */
function tagKeysOf(measurement: string): ReadonlySet<string> {
  if (LEGACY_TYPES[measurement]) return new Set(['stream']);
  const types = measurement === 'latency' ? Object.values(AMP2_LATENCY_TYPES) : AMP2_TYPES[measurement] ? [AMP2_TYPES[measurement]] : [];
  const keys = new Set(['source', 'destination', 'test']);
  for (const t of types) for (const [k] of t.tags) keys.add(k);
  return keys;
}

const TAG_KEYS = new Map<string, ReadonlySet<string>>();
export function tagKeys(measurement: string): ReadonlySet<string> {
  let k = TAG_KEYS.get(measurement);
  if (!k) {
    k = tagKeysOf(measurement);
    TAG_KEYS.set(measurement, k);
  }
  return k;
}

/** Tag filter: every key must match one of its values (values of one key are alternatives). */
export type TagFilter = Readonly<Record<string, readonly string[]>>;

/** True when the point's tags pass the filter. */
export function tagsMatch(tags: Record<string, string>, filter: TagFilter): boolean {
  for (const key in filter) {
    const v = tags[key];
    if (v === undefined || !filter[key].includes(v)) return false;
  }
  return true;
}

/** Epoch ms → an InfluxQL nanosecond integer, exactly (data-formats.md §0). */
export function nsLiteral(ms: number): string {
  return (BigInt(Math.trunc(ms)) * 1_000_000n).toString();
}

export interface HistoryRange {
  /** Exclusive lower bound (epoch ms); undefined = from the beginning. */
  after?: number;
  /** Inclusive lower bound (epoch ms), used when resuming; wins over `after`. */
  from?: number;
  /** Inclusive upper bound (epoch ms); undefined = no upper bound. */
  until?: number;
}

/**
 * `SELECT * FROM "db"."rp"."m" WHERE time > <startNs> AND time <= <endNs> AND ("tag" = 'v' OR …)`:
 * all series of the measurement in one time-ordered series, tags as columns (§10).
 */
export function historyQuery(db: string, rp: string, measurement: string, range: HistoryRange, filter: TagFilter = {}): string {
  const where: string[] = [];
  if (range.from !== undefined) where.push(`time >= ${nsLiteral(range.from)}`);
  else if (range.after !== undefined) where.push(`time > ${nsLiteral(range.after)}`);
  if (range.until !== undefined) where.push(`time <= ${nsLiteral(range.until)}`);
  for (const key of Object.keys(filter).sort()) {
    const values = filter[key];
    if (values.length === 0) continue;
    const alternatives = values.map((v) => `${quoteIdent(key)} = ${quoteString(v)}`);
    where.push(alternatives.length === 1 ? alternatives[0] : `(${alternatives.join(' OR ')})`);
  }
  const clause = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  return `SELECT * FROM ${qualifiedMeasurement(db, rp, measurement)}${clause}`;
}

/** `CREATE SUBSCRIPTION "<name>" ON "<db>"."<rp>" DESTINATIONS ALL '<url>'` (§9.3). */
export function createSubscription(name: string, db: string, rp: string, destination: string): string {
  return `CREATE SUBSCRIPTION ${quoteIdent(name)} ON ${quoteIdent(db)}.${quoteIdent(rp)} DESTINATIONS ALL ${quoteString(destination)}`;
}

export function dropSubscription(name: string, db: string, rp: string): string {
  return `DROP SUBSCRIPTION ${quoteIdent(name)} ON ${quoteIdent(db)}.${quoteIdent(rp)}`;
}

export const SHOW_SUBSCRIPTIONS = 'SHOW SUBSCRIPTIONS';

export function showRetentionPolicies(db: string): string {
  return `SHOW RETENTION POLICIES ON ${quoteIdent(db)}`;
}

export interface SubscriptionRow {
  database: string;
  retentionPolicy: string;
  name: string;
  mode: string;
  destinations: string[];
}

/** The rows of SHOW SUBSCRIPTIONS: one series per database. */
export function subscriptionRows(results: readonly StatementResult[]): SubscriptionRow[] {
  const out: SubscriptionRow[] = [];
  for (const r of results) {
    for (const s of r.series ?? []) {
      const col = (c: string): number => s.columns.indexOf(c);
      for (const v of s.values) {
        out.push({
          database: s.name ?? '',
          retentionPolicy: String(v[col('retention_policy')] ?? ''),
          name: String(v[col('name')] ?? ''),
          mode: String(v[col('mode')] ?? ''),
          destinations: Array.isArray(v[col('destinations')]) ? (v[col('destinations')] as unknown[]).map(String) : [],
        });
      }
    }
  }
  return out;
}

/** The default retention policy's name from SHOW RETENTION POLICIES, or null. */
export function defaultRetentionPolicy(results: readonly StatementResult[]): string | null {
  for (const r of results) {
    for (const s of r.series ?? []) {
      const name = s.columns.indexOf('name');
      const dflt = s.columns.indexOf('default');
      for (const v of s.values) if (v[dflt] === true) return String(v[name]);
    }
  }
  return null;
}

/**
 * Decodes the rows of one measurement's history answer by column position (§10): tag columns
 * become tags (strings), the others fields; JSON null = absent.
 */
export class RowDecoder {
  private columns: readonly string[] = [];
  private timeCol = -1;
  private isTag: boolean[] = [];
  private readonly tags: ReadonlySet<string>;

  constructor(private readonly measurement: string) {
    this.tags = tagKeys(measurement);
  }

  private setColumns(columns: readonly string[]): void {
    if (columns === this.columns || (columns.length === this.columns.length && columns.every((c, i) => c === this.columns[i]))) return;
    this.columns = columns;
    this.timeCol = columns.indexOf('time');
    this.isTag = columns.map((c) => this.tags.has(c));
  }

  /** Points of a chunk, in the answer's (time) order. */
  decode(result: StatementResult): PointLike[] {
    const out: PointLike[] = [];
    for (const s of result.series ?? []) {
      this.setColumns(s.columns);
      const { columns, timeCol, isTag } = this;
      if (timeCol < 0) continue;
      for (const row of s.values) {
        const time = row[timeCol];
        if (typeof time !== 'number') continue;
        const tags: Record<string, string> = {};
        const fields: Record<string, FieldValue> = {};
        for (let i = 0; i < columns.length; i++) {
          if (i === timeCol) continue;
          const v = row[i];
          if (v === null || v === undefined) continue;
          if (isTag[i]) tags[columns[i]] = String(v);
          else if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') fields[columns[i]] = v;
        }
        out.push({ measurement: this.measurement, tags, fields, time });
      }
    }
    return out;
  }
}
