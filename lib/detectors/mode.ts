import type { DetectorEvent } from '../event';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity, trunc } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode } from './keyed';
import { RingBuffer } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Mode detector parameters (detectors.md §3.5, §10.4, D7). */
export interface ModeParams extends Record<string, number> {
  maxHistory: number;
  minFrequency: number;
  minProminence: number;
  threshold: number;
  /** Seconds; 0 disables purging. */
  inactivityPurgeTime: number;
}

export const modeParamSet: ParamSet<ModeParams> = {
  owner: 'mode',
  specs: [
    { name: 'maxHistory', kind: 'int', default: 30, min: 5, max: 600 },
    { name: 'minFrequency', kind: 'int', default: 6, min: 1, max: 600 },
    { name: 'minProminence', kind: 'int', default: 3, min: 1, max: 600 },
    { name: 'threshold', kind: 'number', default: 7.5, min: 0, max: 100 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 60, min: 0, max: 2147483647, unit: 's' },
  ],
  constraints: [
    (p) => (p.minFrequency < p.maxHistory ? null : `minFrequency (${p.minFrequency}) must be less than maxHistory (${p.maxHistory})`),
    (p) => (p.minProminence < p.maxHistory ? null : `minProminence (${p.minProminence}) must be less than maxHistory (${p.maxHistory})`),
  ],
};

/** "No mode yet" sentinel of `last`; it never matches a bucket unless inputs are negative. */
const UNSET_LAST = -5;
const UNSET_LAST_COUNT = -6;
/** Count of the secondary mode when the history holds a single bucket. */
const NO_SECONDARY_COUNT = -2;

const POW10: readonly number[] = Array.from({ length: 17 }, (_, i) => 10 ** i);

/** Decimal digits of an integer, 0 for 0 (exact, unlike log10 near powers of ten). */
export function digits(i: number): number {
  const a = Math.abs(i);
  if (a === 0) return 0;
  let d = 1;
  while (d < POW10.length && a >= POW10[d]) d++;
  return d;
}

/** Round an integer to two significant digits toward −∞ (12345 → 12000, −155 → −160). */
export function bucket(i: number): number {
  const d = digits(i);
  if (d <= 2) return i;
  const p = POW10[d - 2];
  const r = i % p; // exact for integers; sign follows i
  if (r === 0) return i;
  return r > 0 ? i - r : i - r - p;
}

/** Severity of a change between two bucketed modes, with the D7 divisor floor. */
export function modeSeverity(oldMode: number, newMode: number): number {
  const dOld = digits(oldMode);
  const dNew = digits(newMode);
  const sf = dOld === dNew ? dOld - 1 : Math.max(Math.min(dOld, dNew), 1);
  // sf = 0 gives int(0.1) = 0 in Streamevmon, a division by zero; the port floors it at 1 (D7).
  const div = Math.max(1, sf >= 1 ? POW10[sf - 1] : 0);
  return changeMagnitudeSeverity(Math.trunc(oldMode / div), Math.trunc(newMode / div));
}

/**
 * Bucket counts of the history, kept incrementally so a sample costs O(distinct buckets)
 * without allocation. Distinct buckets never exceed the history length.
 */
class BucketCounts {
  readonly values: Float64Array;
  readonly counts: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
    this.counts = new Int32Array(capacity);
  }

  private indexOf(b: number): number {
    for (let i = 0; i < this.size; i++) if (this.values[i] === b) return i;
    return -1;
  }

  add(b: number): void {
    const i = this.indexOf(b);
    if (i >= 0) {
      this.counts[i]++;
    } else {
      this.values[this.size] = b;
      this.counts[this.size] = 1;
      this.size++;
    }
  }

  remove(b: number): void {
    const i = this.indexOf(b);
    if (i < 0) return;
    if (--this.counts[i] === 0) {
      // Order is irrelevant: only a unique top bucket can pass the prominence gate.
      this.size--;
      this.values[i] = this.values[this.size];
      this.counts[i] = this.counts[this.size];
    }
  }

  has(b: number): boolean {
    return this.indexOf(b) >= 0;
  }
}

interface ModeState {
  lastObserved: number | null;
  /** Raw (not bucketed) integer values, oldest first. */
  history: RingBuffer;
  buckets: BucketCounts;
  /** The mode last reported or adopted: (bucket, count), or the unset sentinel. */
  lastValue: number;
  lastCount: number;
}

export class ModeDetector extends KeyedDetector<ModeState, ModeParams> {
  readonly eventType = 'mode_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;

  constructor(params: ModeParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
  }

  protected newState(): ModeState {
    const n = this.params.maxHistory;
    return {
      lastObserved: null,
      history: new RingBuffer(n),
      buckets: new BucketCounts(n),
      lastValue: UNSET_LAST,
      lastCount: UNSET_LAST_COUNT,
    };
  }

  private resetState(st: ModeState, time: number): void {
    st.lastObserved = time;
    st.history.clear();
    st.buckets.size = 0;
    st.lastValue = UNSET_LAST;
    st.lastCount = UNSET_LAST_COUNT;
  }

  protected step(st: ModeState, s: Sample): readonly DetectorEvent[] {
    // 1. Reset on first sight or after more than the purge time of silence; the sample is not kept.
    if (st.lastObserved === null || (this.purgeMs !== 0 && s.time - st.lastObserved > this.purgeMs)) {
      this.resetState(st, s.time);
      return NO_EVENTS;
    }
    // 2. lastObserved only moves forward.
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    // 3. Lossy samples (with or without a value) are skipped.
    if (s.lossy || s.value === null) return NO_EVENTS;
    // 4. History keeps raw integers; buckets follow incrementally.
    const v = trunc(s.value);
    const p = this.params;
    const dropped = st.history.push(v);
    if (dropped !== undefined) st.buckets.remove(bucket(dropped));
    st.buckets.add(bucket(v));
    // 6. Modes are only used once the history is full, so compute them only then.
    if (st.history.length < p.maxHistory) return NO_EVENTS;
    // 5. Primary = top (bucket, count); secondary count = runner-up, or −2 with a single bucket.
    const b = st.buckets;
    let primary = b.values[0];
    let primaryCount = b.counts[0];
    let secondaryCount = NO_SECONDARY_COUNT;
    for (let i = 1; i < b.size; i++) {
      const c = b.counts[i];
      if (c > primaryCount) {
        secondaryCount = primaryCount;
        primaryCount = c;
        primary = b.values[i];
      } else if (c > secondaryCount) {
        secondaryCount = c;
      }
    }
    // 7–9. Same mode as before, or not frequent / prominent enough.
    if (st.lastValue === primary) return NO_EVENTS;
    if (primaryCount < p.minFrequency) return NO_EVENTS;
    if (primaryCount - secondaryCount < p.minProminence) return NO_EVENTS;
    const old = st.lastValue;
    st.lastValue = primary;
    st.lastCount = primaryCount;
    // 10. The old mode has left the window (or there was none): adopt silently.
    if (!b.has(old)) return NO_EVENTS;
    // 11–12. The change must reach max(threshold, old / ln old); NaN (negative old) always passes.
    const calc = old / Math.log(old);
    const thresh = calc < p.threshold ? p.threshold : calc;
    if (Math.abs(old - primary) < thresh) return NO_EVENTS;
    // 13. A genuine change from a real previous mode.
    if (old === UNSET_LAST) return NO_EVENTS;
    return [{
      eventType: this.eventType,
      stream: s.stream,
      severity: modeSeverity(old, primary),
      time: s.time,
      detectionLatency: 0,
      description: `Mode changed from ${old} to ${primary}!`,
      tags: {},
    }];
  }

  // Primary and secondary are recomputed before every use, so only `last` is stored.
  protected encodeState(st: ModeState): unknown {
    return {
      lastObserved: st.lastObserved,
      history: st.history.toArray(),
      last: [st.lastValue, st.lastCount],
    };
  }

  protected decodeState(json: unknown): ModeState {
    const o = decode.object(json);
    const history = decode.numberArray(o.history, 'history');
    if (history.length > this.params.maxHistory) throw new Error('history is longer than maxHistory');
    if (!history.every(isInt32)) throw new Error('history must hold 32-bit integers');
    if (!Array.isArray(o.last) || o.last.length !== 2) throw new Error('last must be a [value, count] pair');
    const lastValue = decode.number(o.last[0], 'last value');
    const lastCount = decode.number(o.last[1], 'last count');
    // A bucket may leave the int32 range (bucket(−2³¹) = −2.2e9), so only integrality is checked.
    if (!Number.isSafeInteger(lastValue) || !Number.isSafeInteger(lastCount)) throw new Error('last must hold integers');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    if (lastObserved !== null && !Number.isFinite(lastObserved)) throw new Error('lastObserved must be finite');
    const st = this.newState();
    for (const v of history) {
      st.history.push(v);
      st.buckets.add(bucket(v));
    }
    st.lastObserved = lastObserved;
    st.lastValue = lastValue;
    st.lastCount = lastCount;
    return st;
  }
}

function isInt32(x: number): boolean {
  return Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;
}

export const modeDefinition: DetectorDefinition<ModeParams> = {
  name: 'mode',
  paramSet: modeParamSet,
  create: (params) => new ModeDetector(params),
};
