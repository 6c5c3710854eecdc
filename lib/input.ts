/**
 * Turning what arrives in a Node-RED msg into a detector Sample (detectors.md §1.6):
 * either a streamevmon measurement object, or a bare number keyed by msg.topic.
 * Pure: the node adapter reads the msg properties and passes them here.
 */
import { Measurement, isMeasurement, measurementKey } from './measurement';
import type { Sample } from './detectors/types';

/** The series that messages without a topic belong to. */
export const DEFAULT_SERIES = 'default';
/** Kind name reported for generic (non-streamevmon) series. */
export const GENERIC_KIND = 'Series';

export type SampleResult = { ok: true; sample: Sample } | { ok: false; error: string };

export interface RawInput {
  /** msg.topic */
  topic: unknown;
  /** The configured value property (msg.payload by default). */
  value: unknown;
  /** The configured time property (msg.timestamp by default). */
  time: unknown;
  /** msg.lossy */
  lossy: unknown;
  /** Arrival time, used when there is no time. */
  now: number;
}

export function topicKey(topic: unknown): string | undefined {
  if (typeof topic === 'string' && topic !== '') return topic;
  if (typeof topic === 'number' && Number.isFinite(topic)) return String(topic);
  return undefined;
}

/** Epoch ms from a number or an ISO-8601 string; undefined → now; otherwise an error text. */
export function parseTime(raw: unknown, now: number): number | string {
  if (raw === undefined || raw === null) return now;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : `time is not a finite number (${raw})`;
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? 'time is an invalid Date' : raw.getTime();
  if (typeof raw === 'string') {
    const t = /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : Date.parse(raw);
    return Number.isFinite(t) ? t : `time is not epoch milliseconds or an ISO-8601 date: ${JSON.stringify(raw.slice(0, 60))}`;
  }
  return `time must be epoch milliseconds or an ISO-8601 string, not ${typeof raw}`;
}

/** A number, a numeric string, or null for "no value"; otherwise an error text. */
function parseValue(raw: unknown): number | null | { error: string } {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') {
    if (Number.isNaN(raw)) return null;
    return Number.isFinite(raw) ? raw : { error: `value is infinite (${raw})` };
  }
  if (typeof raw === 'string') {
    const trimmed = raw.trim();
    const n = trimmed === '' ? NaN : Number(trimmed);
    if (Number.isFinite(n)) return n;
    if (trimmed === 'NaN') return null;
    return { error: `value is not a number: ${JSON.stringify(raw.slice(0, 60))}` };
  }
  if (typeof raw === 'boolean') return { error: `value must be a number, not a boolean (${raw})` };
  return { error: `value must be a number or a streamevmon measurement, not ${Array.isArray(raw) ? 'an array' : typeof raw}` };
}

function fromMeasurement(m: Measurement, topic: unknown): SampleResult {
  if (!Number.isFinite(m.time)) return { ok: false, error: `measurement ${m.kind} ${m.stream} has no valid time` };
  if (m.value !== null && m.value !== undefined && !Number.isFinite(m.value)) {
    return { ok: false, error: `measurement ${m.kind} ${m.stream} has a non-finite value (${m.value})` };
  }
  return {
    ok: true,
    sample: {
      key: topicKey(topic) ?? measurementKey(m),
      stream: m.stream,
      kind: m.kind,
      time: m.time,
      value: m.value ?? null,
      lossy: m.lossy,
    },
  };
}

/** Build a sample from one message's parts. State is never touched on error. */
export function sampleFromInput(input: RawInput): SampleResult {
  if (isMeasurement(input.value)) return fromMeasurement(input.value, input.topic);
  const value = parseValue(input.value);
  if (value !== null && typeof value === 'object') return { ok: false, error: value.error };
  const time = parseTime(input.time, input.now);
  if (typeof time === 'string') return { ok: false, error: time };
  const key = topicKey(input.topic) ?? DEFAULT_SERIES;
  return {
    ok: true,
    sample: {
      key,
      stream: key,
      kind: GENERIC_KIND,
      time,
      value,
      lossy: value === null || input.lossy === true,
    },
  };
}

/**
 * One element of a batch (msg.payload = array): a measurement, a bare number (keyed by the
 * msg's topic, at the msg's time), or {topic?, payload|value, timestamp?, lossy?}.
 */
export function sampleFromBatchElement(el: unknown, topic: unknown, time: unknown, now: number): SampleResult {
  if (isMeasurement(el)) return fromMeasurement(el, undefined);
  if (typeof el === 'object' && el !== null && !Array.isArray(el)) {
    const o = el as Record<string, unknown>;
    return sampleFromInput({
      topic: o.topic ?? topic,
      value: 'payload' in o ? o.payload : o.value,
      time: o.timestamp ?? o.time ?? time,
      lossy: o.lossy,
      now,
    });
  }
  return sampleFromInput({ topic, value: el, time, lossy: undefined, now });
}
