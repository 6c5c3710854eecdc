import type { DetectorEvent } from '../event';
import { fmtD } from '../format';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { RingBuffer } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Baseline detector parameters (detectors.md §3.1, §10.4, D1, C1). */
export interface BaselineParams extends Record<string, number> {
  /** Window length in values. */
  maxHistory: number;
  /** The percentile to track, as a fraction: 0.10 = 10th percentile (D1). */
  percentile: number;
  /** Emit when the severity is more than this. */
  threshold: number;
  /** Seconds; 0 disables purging (C1). */
  inactivityPurgeTime: number;
}

export const baselineParamSet: ParamSet<BaselineParams> = {
  owner: 'baseline',
  specs: [
    { name: 'maxHistory', kind: 'int', default: 50, min: 1, max: 300 },
    { name: 'percentile', kind: 'number', default: 0.10, min: 0, max: 1 },
    { name: 'threshold', kind: 'number', default: 25, min: 0, max: 100 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 600, min: 0, max: 2147483647, unit: 's' },
  ],
};

/**
 * The Commons Math "LEGACY" estimator over the first `n` entries of an ascending, NaN-free
 * array, with q a fraction. `pos` keeps the q·(n+1) double arithmetic, which is what makes
 * values like 2452500.0000000116 come out (D1).
 */
export function percentileOfSorted(sorted: ArrayLike<number>, n: number, q: number): number {
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const pos = q === 1 ? n : q * (n + 1);
  if (pos < 1) return sorted[0];
  if (pos >= n) return sorted[n - 1];
  const f = Math.floor(pos);
  const d = pos - f;
  const lower = sorted[f - 1];
  return lower + d * (sorted[f] - lower);
}

/** legacyPercentile(values, q) of detectors.md §3.1: NaNs removed, q a fraction. */
export function legacyPercentile(values: readonly number[], q: number): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return percentileOfSorted(s, s.length, q);
}

/**
 * The window kept twice: in arrival order (to know what to drop) and sorted (to read the
 * percentile without sorting every step). NaNs are in the FIFO only, as the estimator
 * ignores them.
 */
export class SortedWindow {
  readonly fifo: RingBuffer;
  readonly sorted: Float64Array;
  sortedLength = 0;

  constructor(readonly capacity: number) {
    this.fifo = new RingBuffer(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get length(): number {
    return this.fifo.length;
  }

  push(v: number): void {
    const dropped = this.fifo.push(v);
    if (dropped === undefined || Number.isNaN(dropped)) this.insertSorted(v);
    else if (Number.isNaN(v)) this.removeSorted(dropped);
    else this.replaceSorted(this.indexOf(dropped), v);
  }

  clear(): void {
    this.fifo.clear();
    this.sortedLength = 0;
  }

  percentile(q: number): number {
    return percentileOfSorted(this.sorted, this.sortedLength, q);
  }

  /** First index whose value is not less than v. */
  private lowerBound(v: number): number {
    let lo = 0;
    let hi = this.sortedLength;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of a value known to be present; among equals the very one (0 and -0 print differently). */
  private indexOf(v: number): number {
    let i = this.lowerBound(v);
    while (i < this.sortedLength - 1 && !Object.is(this.sorted[i], v) && this.sorted[i + 1] === v) i++;
    return i;
  }

  private insertSorted(v: number): void {
    if (Number.isNaN(v)) return;
    this.sortedLength++;
    this.replaceSorted(this.sortedLength - 1, v);
  }

  private removeSorted(v: number): void {
    const a = this.sorted;
    for (let i = this.indexOf(v) + 1; i < this.sortedLength; i++) a[i - 1] = a[i];
    this.sortedLength--;
  }

  /**
   * Overwrite slot i with v and move v to its place, shifting only the entries in between.
   * Short shifts (the usual case: the new value lands near the dropped one) use a plain loop,
   * which beats copyWithin's call overhead; long ones use copyWithin.
   */
  private replaceSorted(i: number, v: number): void {
    const a = this.sorted;
    const n = this.sortedLength;
    if (i + 1 < n && a[i + 1] < v) {
      // Moves right: to the last slot whose right neighbour is not less than v.
      let lo = i + 1;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      const k = lo - 1;
      if (k - i > SHORT_SHIFT) a.copyWithin(i, i + 1, k + 1);
      else for (let j = i; j < k; j++) a[j] = a[j + 1];
      a[k] = v;
    } else if (i > 0 && a[i - 1] > v) {
      // Moves left: to the first slot whose left neighbour is not greater than v.
      let lo = 0;
      let hi = i - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] > v) hi = mid;
        else lo = mid + 1;
      }
      const k = lo;
      if (i - k > SHORT_SHIFT) a.copyWithin(k + 1, k, i);
      else for (let j = i; j > k; j--) a[j] = a[j - 1];
      a[k] = v;
    } else {
      a[i] = v;
    }
  }
}

/** Up to this many moved entries a plain loop is faster than copyWithin (measured). */
const SHORT_SHIFT = 16;

interface BaselineState {
  /** Newest time seen (epoch ms), or null: the next measurement resets. */
  lastObserved: number | null;
  window: SortedWindow;
  /** The previous step's baseline, per key and persisted; null for a new key (D2). */
  lastResult: number | null;
}

export class BaselineDetector extends KeyedDetector<BaselineState, BaselineParams> {
  readonly eventType = 'baseline_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;

  constructor(params: BaselineParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
  }

  protected newState(): BaselineState {
    return { lastObserved: null, window: new SortedWindow(this.params.maxHistory), lastResult: null };
  }

  protected step(st: BaselineState, s: Sample): readonly DetectorEvent[] {
    const lossy = s.lossy || s.value === null;
    if (st.lastObserved === null || (this.purgeMs !== 0 && s.time - st.lastObserved > this.purgeMs)) {
      // Reset: a lossy measurement is no valid starting point, so the next one resets again.
      // lastResult survives the reset (D2).
      if (lossy) {
        st.lastObserved = null;
      } else {
        st.lastObserved = s.time;
        st.window.clear();
        st.window.push(s.value as number);
      }
      return NO_EVENTS;
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (lossy) return NO_EVENTS;

    const w = st.window;
    w.push(s.value as number);
    const r = w.percentile(this.params.percentile);
    const prev = st.lastResult;
    st.lastResult = r;
    if (prev === null || w.length < this.params.maxHistory) return NO_EVENTS;
    const sev = changeMagnitudeSeverity(prev, r);
    if (!(sev > this.params.threshold)) return NO_EVENTS;
    return [{
      eventType: this.eventType,
      stream: s.stream,
      severity: sev,
      time: s.time,
      detectionLatency: 0,
      description: `Observed baseline changed from ${fmtD(prev)} to ${fmtD(r)}`,
      tags: {},
    }];
  }

  protected encodeState(st: BaselineState): unknown {
    return {
      lastObserved: st.lastObserved,
      window: st.window.fifo.toArray().map(encodeDouble),
      lastResult: st.lastResult === null ? null : encodeDouble(st.lastResult),
    };
  }

  protected decodeState(json: unknown): BaselineState {
    const o = decode.object(json);
    const values = decode.numberArray(o.window, 'window');
    if (values.length > this.params.maxHistory) throw new Error('window is longer than maxHistory');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    // Every reset that sets lastObserved also puts a value in the window.
    if (lastObserved !== null && values.length === 0) throw new Error('window is empty although lastObserved is set');
    const window = new SortedWindow(this.params.maxHistory);
    for (const v of values) window.push(v);
    return { lastObserved, window, lastResult: decode.nullableNumber(o.lastResult, 'lastResult') };
  }
}

export const baselineDefinition: DetectorDefinition<BaselineParams> = {
  name: 'baseline',
  paramSet: baselineParamSet,
  create: (params) => new BaselineDetector(params),
};
