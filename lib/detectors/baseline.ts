import type { DetectorEvent } from '../event';
import { fmtD } from '../format';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { RingBuffer, doubles, smallInt } from './ring';
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
  const out = [0.5];
  storePercentileAt(sorted, 0, n, q, out, 0);
  return out[0];
}

/**
 * out[at] = percentileOfSorted over sorted[base..base + n). Stored, not returned: on the hot
 * path a double returned by a call that is not inlined is boxed.
 */
function storePercentileAt(sorted: ArrayLike<number>, base: number, n: number, q: number, out: number[], at: number): void {
  if (n === 0) {
    out[at] = NaN;
    return;
  }
  if (n === 1) {
    out[at] = sorted[base];
    return;
  }
  const pos = q === 1 ? n : q * (n + 1);
  if (pos < 1) {
    out[at] = sorted[base];
  } else if (pos >= n) {
    out[at] = sorted[base + n - 1];
  } else {
    const f = Math.floor(pos);
    const d = pos - f;
    const lower = sorted[base + f - 1];
    out[at] = lower + d * (sorted[base + f] - lower);
  }
}

/** legacyPercentile(values, q) of detectors.md §3.1: NaNs removed, q a fraction. */
export function legacyPercentile(values: readonly number[], q: number): number {
  const s = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return percentileOfSorted(s, s.length, q);
}

/**
 * The window kept twice: in arrival order (to know what to drop) and sorted (to read the
 * percentile without sorting every step). NaNs are in the FIFO only, as the estimator
 * ignores them. Both live in one packed double array, after `head` slots the owner may use:
 * buf[head, head + capacity) is the FIFO ring, buf[head + capacity, …) the sorted values.
 */
export class SortedWindow {
  readonly capacity: number;
  readonly buf: number[];
  /** Where the FIFO ring starts in buf. */
  private readonly fifoBase: number;
  /** Where the sorted values start in buf. */
  private readonly sortedBase: number;
  /** Ring position of the oldest entry. */
  private start = 0;
  private len = 0;
  sortedLength = 0;

  constructor(capacity: number, head = 0) {
    this.capacity = smallInt(capacity);
    this.buf = doubles(head + 2 * this.capacity);
    this.fifoBase = head;
    this.sortedBase = head + this.capacity;
  }

  get length(): number {
    return this.len;
  }

  /** The FIFO contents, oldest first, as a RingBuffer (a copy). */
  get fifo(): RingBuffer {
    return RingBuffer.from(this.capacity, this.values());
  }

  /** The FIFO contents, oldest first. */
  values(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) {
      let idx = this.start + i;
      if (idx >= this.capacity) idx -= this.capacity;
      out[i] = this.buf[this.fifoBase + idx];
    }
    return out;
  }

  push(v: number): void {
    const a = this.buf;
    const cap = this.capacity;
    if (this.len < cap) {
      let idx = this.start + this.len;
      if (idx >= cap) idx -= cap;
      a[this.fifoBase + idx] = v;
      this.len++;
      this.insertSorted(v);
      return;
    }
    // The dropped value is looked up through its FIFO slot: a double loaded here and passed
    // to a call that is not inlined would be boxed.
    const slot = this.fifoBase + this.start;
    this.start = this.start + 1 === cap ? 0 : this.start + 1;
    if (Number.isNaN(a[slot])) {
      a[slot] = v;
      this.insertSorted(v);
    } else if (Number.isNaN(v)) {
      const i = this.sortedIndexOfSlot(slot);
      a[slot] = v;
      this.removeSorted(i);
    } else {
      const i = this.sortedIndexOfSlot(slot);
      a[slot] = v;
      this.replaceSorted(i, v);
    }
  }

  clear(): void {
    this.start = 0;
    this.len = 0;
    this.sortedLength = 0;
  }

  percentile(q: number): number {
    const out = [0.5];
    storePercentileAt(this.buf, this.sortedBase, this.sortedLength, q, out, 0);
    return out[0];
  }

  /**
   * buf[slot] = percentile(of.percentile), for a head slot: on the hot path, a double that is
   * returned, or passed to a call that is not inlined, is boxed.
   */
  storePercentile(of: { readonly percentile: number }, slot: number): void {
    storePercentileAt(this.buf, this.sortedBase, this.sortedLength, of.percentile, this.buf, slot);
  }

  /**
   * buf index of the sorted copy of the (non-NaN) value in FIFO slot `slot`; among equals the
   * very one (0 and -0 print differently).
   */
  private sortedIndexOfSlot(slot: number): number {
    const a = this.buf;
    const v = a[slot];
    // The first sorted value that is not less than v.
    let lo = this.sortedBase;
    let hi = lo + this.sortedLength;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const last = this.sortedBase + this.sortedLength - 1;
    let i = lo;
    while (i < last && !Object.is(a[i], v) && a[i + 1] === v) i++;
    return i;
  }

  private insertSorted(v: number): void {
    if (Number.isNaN(v)) return;
    this.sortedLength++;
    this.replaceSorted(this.sortedBase + this.sortedLength - 1, v);
  }

  /** Remove the sorted value at buf index `at`. */
  private removeSorted(at: number): void {
    const a = this.buf;
    const end = this.sortedBase + this.sortedLength;
    for (let i = at + 1; i < end; i++) a[i - 1] = a[i];
    this.sortedLength--;
  }

  /**
   * Overwrite sorted slot i (a buf index) with v and move v to its place, shifting only the
   * entries in between.
   */
  private replaceSorted(i: number, v: number): void {
    const a = this.buf;
    const first = this.sortedBase;
    const end = first + this.sortedLength;
    if (i + 1 < end && a[i + 1] < v) {
      // Moves right: to the last slot whose right neighbour is not less than v.
      let lo = i + 1;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      const k = lo - 1;
      for (let j = i; j < k; j++) a[j] = a[j + 1];
      a[k] = v;
    } else if (i > first && a[i - 1] > v) {
      // Moves left: to the first slot whose left neighbour is not greater than v.
      let lo = first;
      let hi = i - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (a[mid] > v) hi = mid;
        else lo = mid + 1;
      }
      const k = lo;
      for (let j = i; j > k; j--) a[j] = a[j - 1];
      a[k] = v;
    } else {
      a[i] = v;
    }
  }
}

/** Slots of BaselineState.buf before the window. */
const LAST_OBSERVED = 0;
const LAST_RESULT = 1;
/** changeMagnitudeSeverity(x, x) for x = buf[SAME_VALUE]: the baseline is often unchanged. */
const SAME_VALUE = 2;
const SAME_SEVERITY = 3;
/** The last severity computed (scratch). */
const SEVERITY = 4;
const HEAD = 5;

/** Object.is for numbers, in plain double arithmetic (Object.is may box its arguments). */
function sameDouble(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : a !== a && b !== b;
}

/** What SAME_VALUE and SAME_SEVERITY start with. */
const SAME_NAN_SEVERITY = changeMagnitudeSeverity(NaN, NaN);

/** One stream: the window, with the doubles of the slots above in its buffer's head. */
class BaselineState extends SortedWindow {
  /** buf[LAST_OBSERVED] holds the newest time seen (epoch ms); false: the next measurement resets. */
  observed = false;
  /** buf[LAST_RESULT] holds the previous step's baseline, per key and persisted; false for a new key (D2). */
  hasResult = false;

  constructor(capacity: number) {
    super(capacity, HEAD);
    this.buf[SAME_VALUE] = NaN;
    this.buf[SAME_SEVERITY] = SAME_NAN_SEVERITY;
  }

  /**
   * changeMagnitudeSeverity(prev, r) into buf[SEVERITY], and into the memo when prev is r.
   * The caller checks the memo first: doubles passed to or returned by a call that is not
   * inlined are boxed, and that check runs for nearly every sample.
   */
  computeSeverity(prev: number, r: number): void {
    const buf = this.buf;
    const sev = changeMagnitudeSeverity(prev, r);
    buf[SEVERITY] = sev;
    if (sameDouble(prev, r)) {
      buf[SAME_VALUE] = r;
      buf[SAME_SEVERITY] = sev;
    }
  }
}

export class BaselineDetector extends KeyedDetector<BaselineState, BaselineParams> {
  readonly eventType = 'baseline_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;
  private readonly maxHistory: number;
  private readonly threshold: number;

  constructor(params: BaselineParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
    this.maxHistory = smallInt(params.maxHistory);
    this.threshold = params.threshold;
  }

  protected newState(): BaselineState {
    return new BaselineState(this.maxHistory);
  }

  protected step(st: BaselineState, s: Sample): readonly DetectorEvent[] {
    const buf = st.buf;
    const lossy = s.lossy || s.value === null;
    if (!st.observed || (this.purgeMs !== 0 && s.time - buf[LAST_OBSERVED] > this.purgeMs)) {
      // Reset: a lossy measurement is no valid starting point, so the next one resets again.
      // lastResult survives the reset (D2).
      if (lossy) {
        st.observed = false;
      } else {
        st.observed = true;
        buf[LAST_OBSERVED] = s.time;
        st.clear();
        st.push(s.value as number);
      }
      return NO_EVENTS;
    }
    if (s.time >= buf[LAST_OBSERVED]) buf[LAST_OBSERVED] = s.time;
    if (lossy) return NO_EVENTS;

    st.push(s.value as number);
    const hadPrev = st.hasResult;
    const prev = buf[LAST_RESULT];
    // The doubles of this path go through buf: one computed here and also passed to a call,
    // even on a rare branch, would be boxed on every sample.
    st.storePercentile(this.params, LAST_RESULT);
    const r = buf[LAST_RESULT];
    st.hasResult = true;
    if (!hadPrev || st.length < this.maxHistory) return NO_EVENTS;
    // changeMagnitudeSeverity(prev, r), remembered for prev equal to r (a pure function).
    // Object.is(prev, r) && Object.is(r, buf[SAME_VALUE]), spelt out so that nothing is boxed.
    const same = buf[SAME_VALUE];
    if (prev === r ? (r === same && (r !== 0 || 1 / r === 1 / prev) && (r !== 0 || 1 / r === 1 / same))
      : (prev !== prev && r !== r && same !== same)) {
      buf[SEVERITY] = buf[SAME_SEVERITY];
    } else {
      st.computeSeverity(prev, r);
    }
    const sev = buf[SEVERITY];
    if (!(sev > this.threshold)) return NO_EVENTS;
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
      lastObserved: st.observed ? st.buf[LAST_OBSERVED] : null,
      window: st.values().map(encodeDouble),
      lastResult: st.hasResult ? encodeDouble(st.buf[LAST_RESULT]) : null,
    };
  }

  protected decodeState(json: unknown): BaselineState {
    const o = decode.object(json);
    const values = decode.numberArray(o.window, 'window');
    if (values.length > this.params.maxHistory) throw new Error('window is longer than maxHistory');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    // Every reset that sets lastObserved also puts a value in the window.
    if (lastObserved !== null && values.length === 0) throw new Error('window is empty although lastObserved is set');
    const st = new BaselineState(this.maxHistory);
    for (const v of values) st.push(v);
    const lastResult = decode.nullableNumber(o.lastResult, 'lastResult');
    if (lastObserved !== null) {
      st.observed = true;
      st.buf[LAST_OBSERVED] = lastObserved;
    }
    if (lastResult !== null) {
      st.hasResult = true;
      st.buf[LAST_RESULT] = lastResult;
    }
    return st;
  }
}

export const baselineDefinition: DetectorDefinition<BaselineParams> = {
  name: 'baseline',
  paramSet: baselineParamSet,
  create: (params) => new BaselineDetector(params),
};
