/**
 * What the events sink node needs besides the queue: its parameters, the lines for an input
 * payload (events, event groups, or an array of either: data-formats.md §12, §13), the
 * mapping from InfluxDB failures to queue actions (§12.2), and its status text.
 */
import type { DetectorEvent } from '../event';
import { describe, eventProblem } from '../events/group';
import { ParamSet, ParamValues } from '../params';
import { InfluxError } from './client';
import {
  EVENT_FIELD_KEYS, EventGroupLineInput, GROUP_FIELD_KEYS, INFLUX_MAX_TIME_MS, INFLUX_MIN_TIME_MS, eventGroupLine, eventLine,
  eventSeriesKey, eventTags, fitsInt64, groupSeriesKey, inInfluxTimeRange, maxSeriesKeyBytes, meanLatencyNs, msToNs,
} from './event-line';
import type { FailureAction, OverflowPolicy } from './sink-queue';

export interface SinkParams extends ParamValues {
  batchSize: number;
  /** s */
  batchInterval: number;
  bufferLimit: number;
  /** s */
  maxRetryAge: number;
  createDatabase: boolean;
  passthrough: boolean;
}

export const sinkParamSet: ParamSet<SinkParams> = {
  owner: 'influx-events',
  specs: [
    { name: 'batchSize', kind: 'int', default: 500, min: 1, max: 10_000, unit: 'lines' },
    { name: 'batchInterval', kind: 'number', default: 1, min: 0, max: 60, unit: 's' },
    { name: 'bufferLimit', kind: 'int', default: 10_000, min: 1, max: 1_000_000, unit: 'lines' },
    { name: 'maxRetryAge', kind: 'number', default: 300, min: 1, max: 86_400, unit: 's' },
    { name: 'createDatabase', kind: 'boolean', default: true },
    { name: 'passthrough', kind: 'boolean', default: false },
  ],
};

export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['drop-oldest', 'drop-newest'];

export function parseOverflow(raw: unknown): { overflow: OverflowPolicy; error?: string } {
  if (raw === undefined || raw === null || raw === '') return { overflow: 'drop-oldest' };
  if (OVERFLOW_POLICIES.includes(raw as OverflowPolicy)) return { overflow: raw as OverflowPolicy };
  return { overflow: 'drop-oldest', error: `influx-events: overflow must be drop-oldest or drop-newest (got ${JSON.stringify(raw)})` };
}

/** §12.2: retry what the server may accept later; split what some lines spoil; report the rest. */
export function classifyWriteFailure(err: unknown, count: number): FailureAction {
  if (!(err instanceof InfluxError)) return 'fail';
  if (err.retryable) return 'retry';
  if (err.kind === 'too-large') return 'shrink';
  if (err.isolatable(count)) return 'split';
  return 'fail';
}

/**
 * A short code for the status: `400`, `ECONNREFUSED`, `timeout`. Looks through `cause`, so an
 * error that wraps the server's (e.g. "not written after retrying for 3 s") keeps its code.
 */
export function errorCode(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; depth < 10 && typeof e === 'object' && e !== null; depth++) {
    if (e instanceof InfluxError) return e.code;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return 'error';
}

const LINE_BREAK = /[\r\n]/;
/** A UTF-16 surrogate without its partner: UTF-8 cannot carry it (it would arrive as U+FFFD). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const TIME_RANGE = `epoch ms ${INFLUX_MIN_TIME_MS} to ${INFLUX_MAX_TIME_MS}, `
  + `${new Date(INFLUX_MIN_TIME_MS).toISOString()} to ${new Date(INFLUX_MAX_TIME_MS).toISOString()}`;
/** The tags the sink derives from the event itself (data-formats.md §12.3). */
const DERIVED_TAGS: Readonly<Record<string, string>> = {
  stream: "the event's stream",
  event_type: "the event's eventType",
  measurement_type: 'the tag derived from the AMP2 stream',
  source: 'the tag derived from the AMP2 stream',
  destination: 'the tag derived from the AMP2 stream',
  test: 'the tag derived from the AMP2 stream',
};

/** Severities are integers from 0 to 100 (detectors.md §1.2): never truncated or clamped here. */
function severityProblem(what: string, x: number): string | null {
  return Number.isInteger(x) && x >= 0 && x <= 100 ? null : `${what} must be an integer from 0 to 100 (got ${describe(x)})`;
}

function timeProblem(what: string, ms: number): string | null {
  return inInfluxTimeRange(ms) ? null : `${what} ${describe(ms)} is outside the time range InfluxDB can store (${TIME_RANGE})`;
}

function latencyProblem(what: string, ns: string, ms: number): string | null {
  return fitsInt64(ns) ? null : `${what} ${describe(ms)} ms is more nanoseconds than InfluxDB's 64-bit integers hold (at most about ±9.22e12 ms, 292 years)`;
}

function keyProblem(what: string, key: string, fieldKeys: readonly string[]): string | null {
  const bytes = Buffer.byteLength(key);
  const max = maxSeriesKeyBytes(fieldKeys);
  return bytes <= max ? null : `${what} too long: the series key (measurement and escaped tags) is ${bytes} bytes, InfluxDB takes at most ${max}`;
}

/**
 * Why an event (already known to be one: eventProblem) cannot be stored as it is, or null.
 * Everything InfluxDB would refuse with a 400, or store differently from what was sent, is
 * refused here, before a round trip, naming the field.
 */
function eventStoreProblem(e: DetectorEvent): string | null {
  if (e.stream === '') return 'event stream is empty: InfluxDB cannot store an empty tag value';
  const sev = severityProblem('event severity', e.severity);
  if (sev) return sev;
  const time = timeProblem('event time', e.time);
  if (time) return time;
  const latency = latencyProblem('event detectionLatency', msToNs(e.detectionLatency), e.detectionLatency);
  if (latency) return latency;
  for (const [k, v] of Object.entries(e.tags)) {
    if (k === '') return 'event tags has an empty key';
    if (typeof v !== 'string') return `event tag ${JSON.stringify(k)} is not a string (got ${typeof v})`;
    if (k === 'time') return 'event tag "time" is not allowed: InfluxDB refuses a tag named time';
    if (EVENT_FIELD_KEYS.includes(k)) {
      return `event tag ${JSON.stringify(k)} has the name of a field of the events measurement (${EVENT_FIELD_KEYS.join(', ')}): InfluxDB would keep both and read the tag back as "${k}_1"`;
    }
  }
  const tags = eventTags(e);
  for (const [k, from] of Object.entries(DERIVED_TAGS)) {
    if (Object.hasOwn(e.tags, k) && Object.hasOwn(tags, k) && e.tags[k] !== tags[k]) {
      return `event tag ${JSON.stringify(k)} (${describe(e.tags[k])}) differs from ${from} (${describe(tags[k])}), which would replace it`;
    }
  }
  for (const [k, v] of Object.entries(tags)) {
    const what = k === 'stream' || k === 'event_type' ? `event ${k === 'stream' ? 'stream' : 'eventType'}` : `event tag ${JSON.stringify(k)}`;
    if (LINE_BREAK.test(k) || LINE_BREAK.test(v)) return `${what} contains a line break, which line protocol cannot store`;
    if (k.endsWith('\\') || v.endsWith('\\')) return `${what} ends with a backslash, which line protocol cannot store`;
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) return `${what} contains a lone UTF-16 surrogate, which UTF-8 cannot carry`;
  }
  if (LONE_SURROGATE.test(e.description)) return 'event description contains a lone UTF-16 surrogate, which UTF-8 cannot carry';
  return keyProblem('event tags are', eventSeriesKey(tags), EVENT_FIELD_KEYS);
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

function present(x: unknown): boolean {
  return x !== undefined && x !== null;
}

/** Why a value is not a usable group payload (§13), or null. */
export function groupProblem(g: Record<string, unknown>): string | null {
  if (!finite(g.start)) return 'group start is not epoch milliseconds';
  if (present(g.end) && !finite(g.end)) return 'group end is not epoch milliseconds or null';
  if (present(g.uid)) {
    if (typeof g.uid !== 'string') return 'group uid is not a string';
    if (LINE_BREAK.test(g.uid) || g.uid.endsWith('\\')) return 'group uid contains a line break or ends with a backslash, which line protocol cannot store';
    if (LONE_SURROGATE.test(g.uid)) return 'group uid contains a lone UTF-16 surrogate, which UTF-8 cannot carry';
  }
  if (g.events !== undefined) {
    if (!Array.isArray(g.events)) return 'group events is not an array';
    for (let i = 0; i < g.events.length; i++) {
      const p = eventProblem(g.events[i]);
      if (p) return `group event ${i}: ${p}`;
    }
  }
  const hasEvents = Array.isArray(g.events) && g.events.length > 0;
  if (!finite(g.eventCount) && !hasEvents) return 'group has neither eventCount nor events';
  if (!finite(g.meanDetectionLatency) && !hasEvents) return 'group meanDetectionLatency is not a number of ms';
  if (!finite(g.meanSeverity)) return 'group meanSeverity is not a number';
  if (typeof g.modeEventType !== 'string') return 'group has no modeEventType';
  if (typeof g.description !== 'string') return 'group has no description';
  return null;
}

/**
 * Why a group (already known to be one: groupProblem) cannot be stored as it is, or null:
 * what InfluxDB would refuse, or store differently from what was sent.
 */
function groupStoreProblem(g: Record<string, unknown>): string | null {
  const hasEvents = Array.isArray(g.events) && g.events.length > 0;
  const start = timeProblem('group start', g.start as number);
  if (start) return start;
  if (finite(g.end)) {
    const end = timeProblem('group end', g.end);
    if (end) return end;
  }
  if (present(g.eventCount) && !(Number.isSafeInteger(g.eventCount) && (g.eventCount as number) >= 0)) {
    return `group eventCount must be a whole number of events (got ${describe(g.eventCount)})`;
  }
  const sev = severityProblem('group meanSeverity', g.meanSeverity as number);
  if (sev) return sev;
  const input = groupInput(g);
  const ns = meanLatencyNs(input);
  if (!fitsInt64(ns)) {
    return hasEvents
      ? 'group mean detection latency of its events is more nanoseconds than InfluxDB\'s 64-bit integers hold (at most about ±9.22e12 ms, 292 years)'
      : latencyProblem('group meanDetectionLatency', ns, input.meanDetectionLatency);
  }
  if (LONE_SURROGATE.test(input.modeEventType)) return 'group modeEventType contains a lone UTF-16 surrogate, which UTF-8 cannot carry';
  if (LONE_SURROGATE.test(input.description)) return 'group description contains a lone UTF-16 surrogate, which UTF-8 cannot carry';
  return keyProblem('group uid is', groupSeriesKey(input), GROUP_FIELD_KEYS);
}

function groupInput(g: Record<string, unknown>): EventGroupLineInput {
  const events = Array.isArray(g.events) ? (g.events as DetectorEvent[]) : undefined;
  return {
    uid: typeof g.uid === 'string' && g.uid !== '' ? g.uid : null,
    start: g.start as number,
    end: finite(g.end) ? g.end : null,
    events,
    eventCount: finite(g.eventCount) ? g.eventCount : (events?.length ?? 0),
    modeEventType: g.modeEventType as string,
    meanSeverity: g.meanSeverity as number,
    meanDetectionLatency: finite(g.meanDetectionLatency) ? g.meanDetectionLatency : 0,
    description: g.description as string,
  };
}

/** Looks like an event group msg payload rather than an event. */
function isGroupShape(x: Record<string, unknown>): boolean {
  return !('eventType' in x) && 'start' in x && ('eventCount' in x || 'events' in x || 'uid' in x);
}

/**
 * The line for one event or group, or why it cannot be written; `shape` when the value is not
 * an event or group at all (rather than one InfluxDB cannot store).
 */
export function lineFor(x: unknown): { line: string } | { error: string; shape: boolean } {
  if (isRecord(x) && isGroupShape(x)) {
    const shape = groupProblem(x);
    if (shape) return { error: shape, shape: true };
    const p = groupStoreProblem(x);
    return p ? { error: p, shape: false } : { line: eventGroupLine(groupInput(x)) };
  }
  const shape = eventProblem(x);
  if (shape) return { error: shape, shape: true };
  const p = eventStoreProblem(x as DetectorEvent);
  return p ? { error: p, shape: false } : { line: eventLine(x as DetectorEvent) };
}

/**
 * The lines for a msg payload: one event or group, or an array of them. Any bad element
 * rejects the whole msg, so that a msg is either written completely or not at all; so does
 * an array of more than `maxLines` elements (the buffer limit: it could never be held whole).
 */
export function linesForPayload(payload: unknown, maxLines = Infinity): { lines: string[] } | { error: string } {
  if (!Array.isArray(payload)) {
    const r = lineFor(payload);
    if (!('error' in r)) return { lines: [r.line] };
    return { error: r.shape ? `${r.error} (the payload must be an event, data-formats.md §12.1, or an event group, §13)` : r.error };
  }
  if (payload.length === 0) return { error: 'payload is an empty array: nothing to write' };
  if (payload.length > maxLines) {
    return { error: `msg has ${payload.length} lines, more than the buffer limit of ${maxLines}: it could never be held whole, so nothing of it was written (split it into smaller arrays, or raise the buffer limit)` };
  }
  const lines: string[] = [];
  for (let i = 0; i < payload.length; i++) {
    const r = lineFor(payload[i]);
    if ('error' in r) return { error: `element ${i} of ${payload.length}: ${r.error}; nothing of this msg was written` };
    lines.push(r.line);
  }
  return { lines };
}

export interface SinkStatusInput {
  held: number;
  written: number;
  failed: number;
  dropped: number;
  /** Code of the last failure, while no write succeeded since. */
  errorCode: string | null;
}

/** node-red-conventions.md §7.2: `queued n` / `written n` / `error: <code>`. */
export function sinkStatus(s: SinkStatusInput): { fill: 'green' | 'yellow' | 'red' | 'blue'; shape: 'dot' | 'ring'; text: string } {
  const extra = [s.dropped ? `dropped ${s.dropped}` : '', s.failed ? `failed ${s.failed}` : ''].filter(Boolean);
  // The error stays shown until a write succeeds again.
  if (s.errorCode) {
    const parts = [`error: ${s.errorCode}`, s.held ? `queued ${s.held}` : `written ${s.written}`, ...extra];
    return { fill: 'red', shape: 'ring', text: parts.join(' · ') };
  }
  if (s.held > 0) return { fill: 'blue', shape: 'dot', text: [`queued ${s.held}`, `written ${s.written}`, ...extra].join(' · ') };
  return { fill: extra.length ? 'yellow' : 'green', shape: 'dot', text: [`written ${s.written}`, ...extra].join(' · ') };
}
