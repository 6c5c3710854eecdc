/**
 * What the events sink node needs besides the queue: its parameters, the lines for an input
 * payload (events, event groups, or an array of either: data-formats.md §12, §13), the
 * mapping from InfluxDB failures to queue actions (§12.2), and its status text.
 */
import type { DetectorEvent } from '../event';
import { eventProblem } from '../events/group';
import { ParamSet, ParamValues } from '../params';
import { InfluxError } from './client';
import { EventGroupLineInput, eventGroupLine, eventLine, eventTags } from './event-line';
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

/** A short code for the status: `400`, `ECONNREFUSED`, `timeout`. */
export function errorCode(err: unknown): string {
  if (err instanceof InfluxError) return err.code;
  return (err as { code?: string })?.code ?? 'error';
}

const LINE_BREAK = /[\r\n]/;

/**
 * Line protocol cannot carry a line break in a tag, an empty tag key, or a tag ending in a
 * backslash (it would escape the separator after it): refuse such events before writing.
 */
function tagProblem(e: DetectorEvent): string | null {
  for (const [k, v] of Object.entries(e.tags)) {
    if (k === '') return 'event tags has an empty key';
    if (typeof v !== 'string') return `event tag ${JSON.stringify(k)} is not a string (got ${typeof v})`;
  }
  for (const [k, v] of Object.entries(eventTags(e))) {
    const what = k === 'stream' || k === 'event_type' ? `event ${k === 'stream' ? 'stream' : 'eventType'}` : `event tag ${JSON.stringify(k)}`;
    if (LINE_BREAK.test(k) || LINE_BREAK.test(v)) return `${what} contains a line break, which line protocol cannot store`;
    if (k.endsWith('\\') || v.endsWith('\\')) return `${what} ends with a backslash, which line protocol cannot store`;
  }
  return null;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finite(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Why a value is not a usable group payload (§13), or null. */
export function groupProblem(g: Record<string, unknown>): string | null {
  if (!finite(g.start)) return 'group start is not epoch milliseconds';
  if (g.end !== null && g.end !== undefined && !finite(g.end)) return 'group end is not epoch milliseconds or null';
  if (g.uid !== null && g.uid !== undefined) {
    if (typeof g.uid !== 'string') return 'group uid is not a string';
    if (LINE_BREAK.test(g.uid) || g.uid.endsWith('\\')) return 'group uid contains a line break or ends with a backslash, which line protocol cannot store';
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

/** The line for one event or group, or why it cannot be written. */
export function lineFor(x: unknown): { line: string } | { error: string } {
  if (isRecord(x) && isGroupShape(x)) {
    const p = groupProblem(x);
    return p ? { error: p } : { line: eventGroupLine(groupInput(x)) };
  }
  const p = eventProblem(x) ?? tagProblem(x as DetectorEvent);
  return p ? { error: p } : { line: eventLine(x as DetectorEvent) };
}

/**
 * The lines for a msg payload: one event or group, or an array of them. Any bad element
 * rejects the whole msg, so that a msg is either written completely or not at all.
 */
export function linesForPayload(payload: unknown): { lines: string[] } | { error: string } {
  if (!Array.isArray(payload)) {
    const r = lineFor(payload);
    return 'error' in r ? { error: `${r.error} (the payload must be an event, data-formats.md §12.1, or an event group, §13)` } : { lines: [r.line] };
  }
  if (payload.length === 0) return { error: 'payload is an empty array: nothing to write' };
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
