/**
 * Configuration of the AMP InfluxDB source node (data-formats.md §9.1, §10, §11): schema,
 * measurements, tag filter, mode, time range, output, listener and limits, validated with
 * messages that name the parameter (D9). Values may arrive as strings (`${ENV}`, hand-written
 * flows).
 */
import { ParamSet, parseParams } from '../params';
import { AmpSourceSchema, SCHEMA_MEASUREMENTS, TagFilter } from './source-query';

export type AmpSourceMode = 'history' | 'live' | 'history+live';
export type AmpOutputMode = 'single' | 'batch';

export const AMP_SOURCE_MODES: readonly AmpSourceMode[] = ['history', 'live', 'history+live'];
export const AMP_OUTPUT_MODES: readonly AmpOutputMode[] = ['single', 'batch'];

const OWNER = 'amp';

type NumericParams = {
  batchSize: number;
  chunkSize: number;
  port: number;
  maxBodyKiB: number;
  bufferLimit: number;
  checkInterval: number;
  startOnDeploy: boolean;
  persist: boolean;
};

export const ampSourceParamSet: ParamSet<NumericParams> = {
  owner: OWNER,
  specs: [
    { name: 'batchSize', kind: 'int', default: 1000, min: 1, max: 100000 },
    { name: 'chunkSize', kind: 'int', default: 1000, min: 10, max: 100000 },
    { name: 'port', kind: 'int', default: 0, min: 0, max: 65535 },
    { name: 'maxBodyKiB', kind: 'int', default: 32768, min: 1, max: 1048576, unit: 'KiB' },
    { name: 'bufferLimit', kind: 'int', default: 100000, min: 1, max: 10000000 },
    { name: 'checkInterval', kind: 'number', default: 10, min: 0.1, max: 3600, unit: 's' },
    { name: 'startOnDeploy', kind: 'boolean', default: true },
    { name: 'persist', kind: 'boolean', default: false },
  ],
};

export interface AmpSourceConfig extends NumericParams {
  schema: AmpSourceSchema;
  /** The InfluxDB measurements read (never empty: empty config = all of the schema). */
  measurements: string[];
  tagFilter: TagFilter;
  mode: AmpSourceMode;
  output: AmpOutputMode;
  /** Time expressions (see parseTimeSpec), '' = none. */
  start: string;
  end: string;
  /** '' = the InfluxDB configuration node's. */
  database: string;
  retentionPolicy: string;
  bindHost: string;
  /** '' = the bind address, or the first non-internal IPv4 address when binding to all. */
  advertisedHost: string;
  /** '' = nodered_streamevmon_<node id>. */
  subscriptionName: string;
  /** Context store for the last measurement time ('' = the default store). */
  store: string;
}

const RELATIVE = /^(?:now)?\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time, as epoch ms: a number or numeric string (epoch ms), an ISO 8601 date
 * (`2021-06-03T00:00:00Z`), `now`, or relative to now (`-2h`, `now-30m`, `-7d`; units ms, s,
 * m, h, d, w); a Date. '' / undefined / null → undefined. Anything else → an error text.
 */
export function parseTimeSpec(raw: unknown, now: number = Date.now()): number | undefined | { error: string } {
  if (raw === undefined || raw === null) return undefined;
  if (raw instanceof Date) return Number.isFinite(raw.getTime()) ? raw.getTime() : { error: 'invalid Date' };
  if (typeof raw === 'number') return Number.isFinite(raw) ? Math.trunc(raw) : { error: `${raw} is not a time` };
  if (typeof raw !== 'string') return { error: `${typeof raw} is not a time` };
  const t = raw.trim();
  if (t === '') return undefined;
  if (/^now$/i.test(t)) return now;
  if (/^[+-]?\d+(\.\d+)?$/.test(t)) return Math.trunc(Number(t));
  const rel = RELATIVE.exec(t);
  if (rel) {
    const ms = Number(rel[2]) * UNIT_MS[rel[3].toLowerCase()];
    return Math.trunc(rel[1] === '-' ? now - ms : now + ms);
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  return { error: `${JSON.stringify(t)} is not a time (epoch ms, an ISO 8601 date such as 2021-06-03T00:00:00Z, now, or relative such as -2h)` };
}

/**
 * `key=value` pairs separated by commas or new lines; a key given twice matches either value.
 * A value may contain `=` (URLs); `\,` keeps a comma in a value.
 */
export function parseTagFilter(raw: unknown): { filter: TagFilter; error?: string } {
  const text = typeof raw === 'string' ? raw : raw === undefined || raw === null ? '' : String(raw);
  const filter: Record<string, string[]> = {};
  const parts = text.split(/(?<!\\)[,\n]/).map((p) => p.replace(/\\,/g, ',').trim()).filter((p) => p !== '');
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return { filter: {}, error: `${OWNER}: tag filter entry ${JSON.stringify(part)} must be key=value` };
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (/[\r\n]/.test(key + value)) return { filter: {}, error: `${OWNER}: tag filter entry ${JSON.stringify(part)} contains a line break` };
    (filter[key] ??= []).includes(value) || filter[key].push(value);
  }
  return { filter };
}

function choice<T extends string>(name: string, options: readonly T[], raw: unknown, dflt: T, errors: string[]): T {
  if (raw === undefined || raw === null || raw === '') return dflt;
  if (typeof raw === 'string' && (options as readonly string[]).includes(raw)) return raw as T;
  errors.push(`${OWNER}: ${name} must be one of ${options.join(', ')} (got ${typeof raw === 'string' ? raw : JSON.stringify(raw)})`);
  return dflt;
}

function text(raw: unknown): string {
  return raw === undefined || raw === null ? '' : String(raw).trim();
}

/** Measurement list: an array, or names separated by commas/spaces; empty = all of the schema. */
export function parseMeasurements(raw: unknown, schema: AmpSourceSchema, errors: string[]): string[] {
  const names = Array.isArray(raw) ? raw.map(String) : text(raw).split(/[\s,]+/);
  const wanted = [...new Set(names.map((n) => n.trim()).filter((n) => n !== ''))];
  const known = SCHEMA_MEASUREMENTS[schema];
  const unknown = wanted.filter((n) => !known.includes(n));
  if (unknown.length) {
    errors.push(`${OWNER}: measurements ${unknown.join(', ')} are not ${schema === 'legacy' ? 'AMP legacy' : 'AMP2'} measurements (choose from ${known.join(', ')})`);
  }
  const ok = wanted.filter((n) => known.includes(n));
  return ok.length ? known.filter((n) => ok.includes(n)) : [...known];
}

const NAME_PROBLEM = /[/\\]|[\u0000-\u001f\u007f]/;

export function parseAmpSourceConfig(raw: Record<string, unknown>): { config: AmpSourceConfig; errors: string[] } {
  const { params, errors } = parseParams(ampSourceParamSet, raw);
  const schema = choice<AmpSourceSchema>('schema', ['amp2', 'legacy'], raw.schema, 'amp2', errors);
  const measurements = parseMeasurements(raw.measurements, schema, errors);
  const tags = parseTagFilter(raw.tagFilter);
  if (tags.error) errors.push(tags.error);
  const mode = choice('mode', AMP_SOURCE_MODES, raw.mode, 'live', errors);
  const output = choice('output', AMP_OUTPUT_MODES, raw.output, 'single', errors);
  const start = text(raw.start);
  const end = text(raw.end);
  const now = Date.now();
  const s = parseTimeSpec(start, now);
  const e = parseTimeSpec(end, now);
  if (typeof s === 'object') errors.push(`${OWNER}: start: ${s.error}`);
  if (typeof e === 'object') errors.push(`${OWNER}: end: ${e.error}`);
  if (typeof s === 'number' && typeof e === 'number' && e < s) errors.push(`${OWNER}: end must not be before start (got start ${start}, end ${end})`);
  const database = text(raw.database);
  const retentionPolicy = text(raw.retentionPolicy);
  if (NAME_PROBLEM.test(database)) errors.push(`${OWNER}: database ${JSON.stringify(database)} is not a valid InfluxDB name`);
  if (NAME_PROBLEM.test(retentionPolicy)) errors.push(`${OWNER}: retentionPolicy ${JSON.stringify(retentionPolicy)} is not a valid InfluxDB name`);
  const bindHost = text(raw.bindHost) || '127.0.0.1';
  if (/:\/\/|[/\s]/.test(bindHost)) errors.push(`${OWNER}: bindHost must be an address without http:// or a path (got ${JSON.stringify(bindHost)})`);
  const advertisedHost = text(raw.advertisedHost);
  if (/:\/\/|[/\s']/.test(advertisedHost)) errors.push(`${OWNER}: advertisedHost must be a host name or address without http:// or a path (got ${JSON.stringify(advertisedHost)})`);
  const subscriptionName = text(raw.subscriptionName);
  if (/[\r\n]/.test(subscriptionName)) errors.push(`${OWNER}: subscriptionName cannot contain a line break`);
  return {
    config: {
      ...params, schema, measurements, tagFilter: tags.filter, mode, output, start, end, database, retentionPolicy,
      bindHost, advertisedHost, subscriptionName, store: text(raw.store),
    },
    errors,
  };
}
