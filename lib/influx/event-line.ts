/**
 * Events and event groups as InfluxDB 1.x line protocol (data-formats.md §12.3, §13), with
 * proper escaping (D10) and exact nanosecond integers (never float multiplication).
 */
import type { DetectorEvent } from '../event';

/** Tag keys and values, field keys: `,` `=` and space are backslash-escaped. */
export function escapeTag(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

/** String field values: backslash and double quote escaped; newlines cannot be carried. */
export function escapeStringField(s: string): string {
  return s.replace(/\r\n|[\r\n]/g, ' ').replace(/[\\"]/g, (c) => `\\${c}`);
}

/** Epoch or duration milliseconds → exact nanoseconds as a decimal string. */
export function msToNs(ms: number): string {
  const whole = Math.trunc(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1000000n + BigInt(frac)).toString();
}

/** The tags of an event line: event tags, then stream and event_type, then AMP2-derived tags. */
export function eventTags(e: DetectorEvent): Record<string, string> {
  const tags: Record<string, string> = { ...e.tags, stream: e.stream, event_type: e.eventType };
  const parts = e.stream.split('--');
  if (parts.length >= 4) {
    tags.measurement_type = parts[0];
    tags.source = parts[1];
    tags.destination = parts[2];
    tags.test = parts[3];
  }
  return tags;
}

/**
 * What InfluxDB 1.x can store (influxdb models.MinNanoTime/MaxNanoTime, MaxKeyLength):
 * timestamps from −2⁶³+2 to 2⁶³−2 ns, i.e. 1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z
 * at millisecond precision; integer fields in int64; a series key (measurement and escaped
 * tags) plus the separator `#!~#` and any one field key of at most 65535 bytes. The sink
 * refuses what falls outside before writing (events-sink.ts).
 */
// The whole milliseconds in InfluxDB's time range (±9223372036854775806 ns, cut to ms).
export const INFLUX_MIN_TIME_MS = -9_223_372_036_854;
export const INFLUX_MAX_TIME_MS = 9_223_372_036_854;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const INFLUX_MAX_KEY_BYTES = 65_535;
/** InfluxDB's separator between the series key and a field key (counted in the key limit). */
const FIELD_KEY_SEPARATOR_BYTES = 4;

/** A decimal integer (e.g. from msToNs) fits InfluxDB's int64 integer fields. */
export function fitsInt64(n: string | bigint): boolean {
  const b = typeof n === 'bigint' ? n : BigInt(n);
  return b >= INT64_MIN && b <= INT64_MAX;
}

/** Epoch ms whose whole milliseconds, in ns, lie in InfluxDB's time range. */
export function inInfluxTimeRange(ms: number): boolean {
  const t = Math.trunc(ms);
  return t >= INFLUX_MIN_TIME_MS && t <= INFLUX_MAX_TIME_MS;
}

/** The longest series key InfluxDB accepts (UTF-8 bytes) for a measurement with these field keys. */
export function maxSeriesKeyBytes(fieldKeys: readonly string[]): number {
  return INFLUX_MAX_KEY_BYTES - FIELD_KEY_SEPARATOR_BYTES - Math.max(0, ...fieldKeys.map((k) => Buffer.byteLength(k)));
}

/** Field keys of the `events` measurement, in line order. */
export const EVENT_FIELD_KEYS: readonly string[] = ['description', 'detection_latency', 'severity'];
/** Field keys of the `event_groups` measurement, in line order. */
export const GROUP_FIELD_KEYS: readonly string[] = ['meanDetectionLatency', 'meanSeverity', 'modeEventType', 'event_count', 'description'];

function renderTags(tags: Record<string, string>): string {
  return Object.entries(tags)
    .filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => [`${k}=${v}`, k, String(v)] as const)
    // Sorted by the unescaped key=value string in UTF-16 code-unit order, as Streamevmon did.
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([, k, v]) => `${escapeTag(k)}=${escapeTag(v)}`)
    .join(',');
}

/** The series key of an event's line, from its eventTags(): `events,<tags>` as written (escaped). */
export function eventSeriesKey(tags: Record<string, string>): string {
  return `events,${renderTags(tags)}`;
}

/** The event line without the `events,` prefix (an event's toString). */
export function eventLineBody(e: DetectorEvent): string {
  const fields = [
    `description="${escapeStringField(e.description)}"`,
    `detection_latency=${msToNs(e.detectionLatency)}i`,
    `severity=${Math.trunc(e.severity)}i`,
  ].join(',');
  return `${renderTags(eventTags(e))} ${fields} ${msToNs(Math.trunc(e.time))}`;
}

/** One line of the `events` measurement. */
export function eventLine(e: DetectorEvent): string {
  return `events,${eventLineBody(e)}`;
}

/** What an event_groups line needs: the group msg payload (data-formats.md §13). */
export interface EventGroupLineInput {
  uid: string | null;
  /** Epoch ms. */
  start: number;
  /** Epoch ms; null while the group is ongoing. */
  end: number | null;
  /** When present, the mean latency is computed from them exactly (ns). */
  events?: readonly DetectorEvent[];
  eventCount: number;
  modeEventType: string;
  meanSeverity: number;
  /** Milliseconds; used when the events are not given. */
  meanDetectionLatency: number;
  description: string;
}

/** Mean detection latency in whole ns, exactly (the BigInt sum of the members' ns, divided). */
export function meanLatencyNs(g: EventGroupLineInput): string {
  if (!g.events || g.events.length === 0) return msToNs(g.meanDetectionLatency);
  let sum = 0n;
  for (const e of g.events) sum += BigInt(msToNs(e.detectionLatency));
  return (sum / BigInt(g.events.length)).toString();
}

/**
 * One line of the `event_groups` measurement. endTime is a *tag* ending in `i`, kept as
 * Streamevmon wrote it so that existing queries keep working (Q11).
 */
export function eventGroupLine(g: EventGroupLineInput): string {
  const fields = [
    `meanDetectionLatency=${meanLatencyNs(g)}i`,
    `meanSeverity=${Math.trunc(g.meanSeverity)}i`,
    `modeEventType="${escapeStringField(g.modeEventType)}"`,
    `event_count=${Math.trunc(g.eventCount)}i`,
    `description="${escapeStringField(g.description)}"`,
  ].join(',');
  return `${groupSeriesKey(g)} ${fields} ${msToNs(Math.trunc(g.start))}`;
}

/** The series key of a group's line: `event_groups,<tags>` as written (escaped). */
export function groupSeriesKey(g: Pick<EventGroupLineInput, 'end' | 'uid'>): string {
  const tags: string[] = [];
  if (g.end !== null && g.end !== undefined) tags.push(`endTime=${msToNs(Math.trunc(g.end))}i`);
  if (g.uid) tags.push(`uid=${escapeTag(g.uid)}`);
  return `event_groups,${tags.length ? tags.join(',') : 'still_ongoing=true'}`;
}
