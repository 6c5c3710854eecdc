/**
 * The frequent-event filter (detectors.md §6): per stream, suppresses floods of events and
 * replaces each flood with one "bulk" event per frequency level that it trips.
 */
import type { DetectorEvent } from '../event';
import { ParamSet, ParamSpec, parseParams } from '../params';
import { StateError } from '../detectors/types';
import { decode } from '../detectors/keyed';

/** One frequency level: more than `count` events within `interval` s disables it for `cooldown` s. */
export interface FrequencyLevel {
  name: string;
  /** Seconds. */
  interval: number;
  count: number;
  /** Seconds. */
  cooldown: number;
  /** Severity of the bulk event, 0–100. */
  severity: number;
}

/** Streamevmon's defaults, used when no levels are configured. */
export const DEFAULT_LEVELS: readonly FrequencyLevel[] = Object.freeze([
  { name: 'small', interval: 60, count: 5, cooldown: 120, severity: 25 },
  { name: 'medium', interval: 120, count: 15, cooldown: 240, severity: 50 },
  { name: 'large', interval: 360, count: 100, cooldown: 720, severity: 75 },
]);

const OWNER = 'event-filter';
const INT_MAX = 2147483647;
const LEVEL_FIELDS = ['interval', 'count', 'cooldown', 'severity'] as const;
const LEVEL_RANGES: Record<(typeof LEVEL_FIELDS)[number], { min: number; max: number }> = {
  interval: { min: 1, max: INT_MAX },
  count: { min: 1, max: INT_MAX },
  cooldown: { min: 0, max: INT_MAX },
  severity: { min: 0, max: 100 },
};

export interface LevelsResult {
  levels: FrequencyLevel[];
  errors: string[];
}

/**
 * Validate the configured levels (D9): each needs a unique name and all four integers.
 * No levels at all (undefined, '' or []) means the defaults, as in Streamevmon. A JSON
 * string is accepted too, for hand-written flows.
 */
export function parseLevels(raw: unknown): LevelsResult {
  let list = raw;
  if (typeof list === 'string') {
    if (list.trim() === '') return { levels: DEFAULT_LEVELS.map((l) => ({ ...l })), errors: [] };
    try {
      list = JSON.parse(list);
    } catch {
      return { levels: [], errors: [`${OWNER}: levels must be a JSON list of levels (got ${list})`] };
    }
  }
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    return { levels: DEFAULT_LEVELS.map((l) => ({ ...l })), errors: [] };
  }
  if (!Array.isArray(list)) return { levels: [], errors: [`${OWNER}: levels must be a list of levels (got ${JSON.stringify(list)})`] };

  const errors: string[] = [];
  const levels: FrequencyLevel[] = [];
  const seen = new Set<string>();
  list.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) {
      errors.push(`${OWNER}: level ${i + 1} must be an object with name, interval, count, cooldown and severity`);
      return;
    }
    const o = item as Record<string, unknown>;
    const name = typeof o.name === 'string' ? o.name.trim() : '';
    if (name === '') {
      errors.push(`${OWNER}: level ${i + 1} has no name`);
      return;
    }
    if (seen.has(name)) errors.push(`${OWNER}: level name "${name}" is used more than once`);
    seen.add(name);
    // Every level needs all four values: a blank one must not quietly take a default.
    const missing = LEVEL_FIELDS.filter((f) => o[f] === undefined || o[f] === null || String(o[f]).trim() === '');
    for (const f of missing) errors.push(`${OWNER}: ${name}.${f} is missing`);
    if (missing.length) return;
    const set: ParamSet<Record<string, number>> = { owner: OWNER, specs: LEVEL_FIELDS.map((f) => levelSpec(name, f)) };
    const raw: Record<string, unknown> = {};
    for (const f of LEVEL_FIELDS) raw[`${name}.${f}`] = o[f];
    const parsed = parseParams(set, raw);
    errors.push(...parsed.errors);
    const p = parsed.params;
    levels.push({ name, interval: p[`${name}.interval`], count: p[`${name}.count`], cooldown: p[`${name}.cooldown`], severity: p[`${name}.severity`] });
  });
  return { levels, errors };
}

function levelSpec(name: string, field: (typeof LEVEL_FIELDS)[number]): ParamSpec {
  const r = LEVEL_RANGES[field];
  return { name: `${name}.${field}`, kind: 'int', default: 0, min: r.min, max: r.max };
}

/** Parse or throw, for library users. */
export function requireLevels(raw: unknown): FrequencyLevel[] {
  const { levels, errors } = parseLevels(raw);
  if (errors.length) throw new RangeError(errors.join('; '));
  return levels;
}

/**
 * A FIFO of event times over a growable ring of doubles, in arrival order. Pruning pops from
 * the front while the times arrived in order; after an out-of-order arrival it compacts the
 * whole queue in place, so that every stamp older than the cut-off really goes. The ring
 * shrinks again after a flood, keeping idle streams small.
 */
class StampQueue {
  private static readonly MIN_CAPACITY = 16;
  private buf = new Float64Array(StampQueue.MIN_CAPACITY);
  private head = 0;
  length = 0;
  /** True while every stamp is ≥ the one before it. */
  private ordered = true;

  private index(i: number): number {
    const idx = this.head + i;
    return idx >= this.buf.length ? idx - this.buf.length : idx;
  }

  at(i: number): number {
    return this.buf[this.index(i)];
  }

  push(t: number): void {
    if (this.length === this.buf.length) this.resize(this.buf.length * 2);
    if (this.length > 0 && t < this.at(this.length - 1)) this.ordered = false;
    this.buf[this.index(this.length)] = t;
    this.length++;
  }

  private resize(capacity: number): void {
    const next = new Float64Array(capacity);
    for (let i = 0; i < this.length; i++) next[i] = this.at(i);
    this.buf = next;
    this.head = 0;
  }

  /** Delete every stamp strictly before `cutoff`. */
  dropBefore(cutoff: number): void {
    if (this.ordered) {
      while (this.length > 0 && this.buf[this.head] < cutoff) {
        this.head = this.head + 1 === this.buf.length ? 0 : this.head + 1;
        this.length--;
      }
    } else {
      // Keep order: slot w ≤ i has always been read already.
      let w = 0;
      let ordered = true;
      for (let i = 0; i < this.length; i++) {
        const t = this.at(i);
        if (t < cutoff) continue;
        if (w > 0 && t < this.at(w - 1)) ordered = false;
        this.buf[this.index(w++)] = t;
      }
      this.length = w;
      this.ordered = ordered;
    }
    const cap = this.buf.length;
    if (cap > StampQueue.MIN_CAPACITY && this.length * 4 < cap) this.resize(cap / 2);
  }

  /** How many of the newest stamps, walking back, are after `after`; stops at the first older one or at `limit`. */
  countRecent(after: number, limit: number): number {
    let n = 0;
    for (let i = this.length - 1; i >= 0 && n < limit; i--) {
      if (!(this.at(i) > after)) break;
      n++;
    }
    return n;
  }

  toArray(): number[] {
    const out = new Array<number>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }

  static from(values: readonly number[]): StampQueue {
    const q = new StampQueue();
    for (const v of values) q.push(v);
    return q;
  }
}

interface StreamState {
  stamps: StampQueue;
  /** Per level, in configuration order: when it was (last re-)disabled, NaN while enabled. */
  disabledAt: Float64Array;
}

/** A read-only view of one stream's state, for tests and diagnostics. */
export interface FilterStreamView {
  stamps: number[];
  /** Level name → disabled-at time, or null when enabled. */
  disabledAt: Record<string, number | null>;
}

export const FILTER_STATE_FORMAT = 'streamevmon-event-filter-state';
const FILTER_STATE_VERSION = 1;

export interface FilterSnapshot {
  format: typeof FILTER_STATE_FORMAT;
  version: number;
  levels: FrequencyLevel[];
  streams: Record<string, { stamps: number[]; disabledAt: Array<number | null> }>;
}

export class FrequentEventFilter {
  private readonly states = new Map<string, StreamState>();
  private readonly longestIntervalMs: number;
  private readonly intervalMs: Float64Array;
  private readonly cooldownMs: Float64Array;
  /** Counters for the node status (not persisted). */
  passed = 0;
  suppressed = 0;
  bulk = 0;

  constructor(readonly levels: readonly FrequencyLevel[] = DEFAULT_LEVELS) {
    this.intervalMs = Float64Array.from(levels, (l) => l.interval * 1000);
    this.cooldownMs = Float64Array.from(levels, (l) => l.cooldown * 1000);
    this.longestIntervalMs = Math.max(0, ...this.intervalMs);
  }

  get streamCount(): number {
    return this.states.size;
  }

  /**
   * Feed one event: appends the bulk events it causes, then the event itself when no level
   * is disabled, to `out`. Returns whether the event passed. Allocates nothing when no level
   * trips.
   */
  process(e: DetectorEvent, out: DetectorEvent[]): boolean {
    let st = this.states.get(e.stream);
    if (st === undefined) {
      st = { stamps: new StampQueue(), disabledAt: new Float64Array(this.levels.length).fill(NaN) };
      this.states.set(e.stream, st);
    }
    const t = e.time;
    st.stamps.push(t);
    st.stamps.dropBefore(t - this.longestIntervalMs);
    let anyDisabled = false;
    for (let c = 0; c < this.levels.length; c++) {
      const level = this.levels[c];
      // "More than count" is all that matters, so the walk can stop at count + 1.
      const triggered = st.stamps.countRecent(t - this.intervalMs[c], level.count + 1) > level.count;
      const disabledAt = st.disabledAt[c];
      if (!Number.isNaN(disabledAt)) {
        if (triggered) st.disabledAt[c] = t; // still flooding: the cooldown starts over
        else if (disabledAt < t - this.cooldownMs[c]) st.disabledAt[c] = NaN;
      } else if (triggered) {
        out.push(this.bulkEvent(e, level));
        this.bulk++;
        st.disabledAt[c] = t;
      }
      if (!Number.isNaN(st.disabledAt[c])) anyDisabled = true;
    }
    if (anyDisabled) {
      this.suppressed++;
      return false;
    }
    out.push(e);
    this.passed++;
    return true;
  }

  private bulkEvent(e: DetectorEvent, c: FrequencyLevel): DetectorEvent {
    return {
      eventType: `bulk_${e.eventType}`,
      stream: e.stream,
      severity: c.severity,
      time: e.time,
      detectionLatency: 0,
      description: `Frequent events of type ${e.eventType} - configuration name "${c.name} (${c.count} events in ${c.interval} seconds)"`,
      tags: {},
    };
  }

  /** Forget one stream's state, or every stream's. */
  reset(stream?: string): void {
    if (stream === undefined) this.states.clear();
    else this.states.delete(stream);
  }

  inspect(stream: string): FilterStreamView | undefined {
    const st = this.states.get(stream);
    if (st === undefined) return undefined;
    const disabledAt: Record<string, number | null> = {};
    this.levels.forEach((l, c) => { disabledAt[l.name] = Number.isNaN(st.disabledAt[c]) ? null : st.disabledAt[c]; });
    return { stamps: st.stamps.toArray(), disabledAt };
  }

  saveState(): FilterSnapshot {
    const streams: FilterSnapshot['streams'] = {};
    for (const [key, st] of this.states) {
      streams[key] = {
        stamps: st.stamps.toArray(),
        disabledAt: Array.from(st.disabledAt, (d) => (Number.isNaN(d) ? null : d)),
      };
    }
    return { format: FILTER_STATE_FORMAT, version: FILTER_STATE_VERSION, levels: this.levels.map((l) => ({ ...l })), streams };
  }

  /** Replace all state with a snapshot's; throws StateError (keeping the current state) when unusable. */
  loadState(snapshot: unknown): void {
    const snap = snapshot as Partial<FilterSnapshot> | null;
    if (typeof snap !== 'object' || snap === null || snap.format !== FILTER_STATE_FORMAT) {
      throw new StateError('stored state is not a streamevmon event filter state');
    }
    if (snap.version !== FILTER_STATE_VERSION) {
      throw new StateError(`stored state has version ${String(snap.version)}, this filter reads version ${FILTER_STATE_VERSION}`);
    }
    if (!sameLevels(snap.levels, this.levels)) throw new StateError('the filter levels changed since the state was stored');
    if (typeof snap.streams !== 'object' || snap.streams === null) throw new StateError('stored state has no streams');
    const decoded = new Map<string, StreamState>();
    for (const [key, json] of Object.entries(snap.streams)) {
      try {
        decoded.set(key, this.decodeStream(json));
      } catch (err) {
        throw new StateError(`stored state of stream "${key}" is corrupt: ${(err as Error).message}`);
      }
    }
    this.states.clear();
    for (const [key, st] of decoded) this.states.set(key, st);
  }

  private decodeStream(json: unknown): StreamState {
    const o = decode.object(json);
    if (!Array.isArray(o.stamps)) throw new Error('stamps must be an array');
    const stamps = StampQueue.from(o.stamps.map((t: unknown, i) => decode.number(t, `stamps[${i}]`)));
    if (!Array.isArray(o.disabledAt) || o.disabledAt.length !== this.levels.length) {
      throw new Error(`disabledAt must be a list of ${this.levels.length} entries`);
    }
    const disabledAt = Float64Array.from(o.disabledAt, (d: unknown, i) => (d === null ? NaN : decode.number(d, `disabledAt[${i}]`)));
    return { stamps, disabledAt };
  }
}

function sameLevels(a: unknown, b: readonly FrequencyLevel[]): boolean {
  if (!Array.isArray(a) || a.length !== b.length) return false;
  return b.every((l, i) => {
    const o = a[i] as Record<string, unknown> | null;
    return typeof o === 'object' && o !== null && o.name === l.name && o.interval === l.interval &&
      o.count === l.count && o.cooldown === l.cooldown && o.severity === l.severity;
  });
}
