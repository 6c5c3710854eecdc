/**
 * The event-group model (detectors.md §7.1, data-formats.md §13): a group of events with a
 * start, an end (null while ongoing) and a UUID, plus the values derived from its members.
 */
import { DetectorEvent, eventTime } from '../event';

export interface EventGroup {
  /** Assigned when the group opens (C7); null for a group that never became active. */
  uid: string | null;
  /** Epoch ms: the earliest eventTime of its members. */
  start: number;
  /** Epoch ms, or null while the group is still in progress. */
  end: number | null;
  events: DetectorEvent[];
}

/** The group msg payload (data-formats.md §13). */
export interface EventGroupPayload {
  uid: string | null;
  start: number;
  end: number | null;
  events: DetectorEvent[];
  eventCount: number;
  streams: string[];
  modeEventType: string;
  meanSeverity: number;
  /** Milliseconds (the ns mean of §7.1, expressed in ms). */
  meanDetectionLatency: number;
  description: string;
}

export const IN_PROGRESS_DESCRIPTION = 'Event group still in progress.';

/** §7.2: a group holding one event, starting and ending at its eventTime. */
export function singleEventGroup(e: DetectorEvent): EventGroup {
  const t = eventTime(e);
  return { uid: null, start: t, end: t, events: [e] };
}

/** The largest eventTime among the members (-Infinity for an empty group). */
export function maxEventTime(g: EventGroup): number {
  let max = -Infinity;
  for (const e of g.events) {
    const t = eventTime(e);
    if (t > max) max = t;
  }
  return max;
}

/** The most common eventType; ties go to the type that occurs first in member order (§10.3). */
export function modeEventType(g: EventGroup): string {
  // A Map iterates in insertion order, i.e. by first occurrence.
  const counts = new Map<string, number>();
  for (const e of g.events) counts.set(e.eventType, (counts.get(e.eventType) ?? 0) + 1);
  let best = '';
  let bestCount = 0;
  for (const [type, c] of counts) {
    if (c > bestCount) {
      best = type;
      bestCount = c;
    }
  }
  return best;
}

/** Distinct stream ids, in order of first occurrence. */
export function groupStreams(g: EventGroup): string[] {
  return [...new Set(g.events.map((e) => e.stream))];
}

/** Integer mean severity (integer division, as Streamevmon). */
export function meanSeverity(g: EventGroup): number {
  if (g.events.length === 0) return 0;
  let sum = 0;
  for (const e of g.events) sum += e.severity;
  return Math.trunc(sum / g.events.length);
}

/** Mean detection latency in whole nanoseconds (integer division of the ns sum), exactly. */
export function meanDetectionLatencyNs(g: EventGroup): bigint {
  if (g.events.length === 0) return 0n;
  let sum = 0n;
  // BigInt: latencies near 1e12 ms are 1e18 ns, beyond exact doubles.
  for (const e of g.events) {
    const ms = e.detectionLatency;
    sum += Number.isInteger(ms) ? BigInt(ms) * 1_000_000n : BigInt(Math.round(ms * 1e6));
  }
  return sum / BigInt(g.events.length);
}

/**
 * Java's Duration.toString() of a duration truncated to whole seconds: hours are not folded
 * into days (PT25H), zero components are left out, zero is PT0S.
 */
export function javaDurationSeconds(ms: number): string {
  return javaDurationFromSeconds(Math.trunc(ms / 1000));
}

function javaDurationFromSeconds(totalSeconds: number): string {
  if (totalSeconds === 0) return 'PT0S';
  const hours = Math.trunc(totalSeconds / 3600);
  const minutes = Math.trunc((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  let s = 'PT';
  if (hours !== 0) s += `${hours}H`;
  if (minutes !== 0) s += `${minutes}M`;
  if (seconds !== 0) s += `${seconds}S`;
  return s;
}

/** §7.1 description; a group without an end is still in progress. */
export function groupDescription(g: EventGroup): string {
  if (g.end === null) return IN_PROGRESS_DESCRIPTION;
  const latencySeconds = Number(meanDetectionLatencyNs(g) / 1_000_000_000n);
  return `Group of ${g.events.length} events over ${groupStreams(g).length} measurement streams ` +
    `with duration ${javaDurationSeconds(g.end - g.start)}, most common event type "${modeEventType(g)}", ` +
    `mean severity ${meanSeverity(g)}, and mean detection latency ${javaDurationFromSeconds(latencySeconds)}`;
}

/** The group as sent in a group msg, with every derived value filled in. */
export function groupPayload(g: EventGroup): EventGroupPayload {
  return {
    uid: g.uid,
    start: g.start,
    end: g.end,
    events: g.events,
    eventCount: g.events.length,
    streams: groupStreams(g),
    modeEventType: modeEventType(g),
    meanSeverity: meanSeverity(g),
    meanDetectionLatency: Number(meanDetectionLatencyNs(g)) / 1e6,
    description: groupDescription(g),
  };
}

/** The largest |epoch ms| a JavaScript Date can hold. */
const MAX_DATE_MS = 8.64e15;

/**
 * Why a value is not a usable event (data-formats.md §12.1), or null when it is one.
 * Shared by the event filter and grouper nodes, which take events from any flow.
 */
export function eventProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return `payload is not an event object (got ${describe(x)})`;
  const e = x as Record<string, unknown>;
  if (typeof e.eventType !== 'string' || e.eventType === '') return 'event has no eventType';
  if (typeof e.stream !== 'string') return 'event has no stream';
  if (typeof e.severity !== 'number' || !Number.isFinite(e.severity)) return `event severity is not a number (got ${describe(e.severity)})`;
  if (typeof e.time !== 'number' || !Number.isFinite(e.time)) return `event time is not epoch milliseconds (got ${describe(e.time)})`;
  if (typeof e.detectionLatency !== 'number' || !Number.isFinite(e.detectionLatency)) {
    return `event detectionLatency is not a number of ms (got ${describe(e.detectionLatency)})`;
  }
  // Times become dates (summaries, group starts): keep them, and the estimated start, in range.
  if (Math.abs(e.time) > MAX_DATE_MS) return `event time is outside the range of dates (got ${describe(e.time)})`;
  if (Math.abs(e.time - e.detectionLatency) > MAX_DATE_MS) {
    return `event time − detectionLatency is outside the range of dates (got ${describe(e.time)} − ${describe(e.detectionLatency)})`;
  }
  if (typeof e.description !== 'string') return 'event has no description';
  if (typeof e.tags !== 'object' || e.tags === null || Array.isArray(e.tags)) return 'event tags is not an object';
  return null;
}

/** A value as quoted in an error text: numbers as written, others as JSON, cut at 40 characters. */
export function describe(x: unknown): string {
  if (x === undefined || typeof x === 'number') return String(x);
  // JSON.stringify gives undefined for functions and symbols, and throws on BigInt.
  const s = typeof x === 'bigint' ? `${x}n` : JSON.stringify(x) ?? String(x);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
