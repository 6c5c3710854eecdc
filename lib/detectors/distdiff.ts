/**
 * Distribution-difference detector (detectors.md §3.3, D5, D6, C1, C3–C5, D9): compares the
 * distribution of the last `recentsCount` values with the `recentsCount` values before them
 * using netevmon's Kolmogorov–Smirnov-like walk, and emits once per episode.
 */
import type { DetectorEvent } from '../event';
import { fmtD } from '../format';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { doubles, smallInt } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Distdiff parameters (§10.4, C4). */
export interface DistdiffParams extends Record<string, number> {
  /** R: size of each of the two compared sets. */
  recentsCount: number;
  /** D: values dropped from each end of each sorted set. */
  dropExtremeN: number;
  /** Minimum ratio of the larger sum to the smaller. */
  minimumChange: number;
  /** Minimum z to consider an event. */
  zThreshold: number;
  /** Seconds; 0 disables purging. Sequential variant only. */
  inactivityPurgeTime: number;
}

/** The windowed variant also depends on the count window's slide. */
export interface WindowedDistdiffParams extends DistdiffParams {
  windowSlide: number;
}

export const distdiffParamSet: ParamSet<DistdiffParams> = {
  owner: 'distdiff',
  specs: [
    { name: 'recentsCount', kind: 'int', default: 20, min: 4, max: 600 },
    { name: 'dropExtremeN', kind: 'int', default: 2, min: 0, max: 300 },
    { name: 'minimumChange', kind: 'number', default: 1.05, min: 1, max: 10 },
    { name: 'zThreshold', kind: 'number', default: 5.0, min: 0, max: 50 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 1200, min: 0, max: 2147483647, unit: 's' },
  ],
  constraints: [
    (p) => {
      // Streamevmon ignored this modifier at validation time and crashed later (D9).
      const limit = Math.floor(p.recentsCount / 2) - 1;
      return p.dropExtremeN < limit
        ? null
        : `dropExtremeN (${p.dropExtremeN}) must be less than recentsCount div 2 − 1 (= ${limit})`;
    },
  ],
};

/** Java's Double.compare: −0 sorts before +0 and NaN after everything (equal to itself). */
function javaCompare(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const ia = 1 / a;
    const ib = 1 / b;
    return ia === ib ? 0 : ia < ib ? -1 : 1;
  }
  const na = Number.isNaN(a);
  const nb = Number.isNaN(b);
  return na === nb ? 0 : na ? 1 : -1;
}

/** Double.compare(a, b) === 0. */
function sameDouble(a: number, b: number): boolean {
  return a === b ? a !== 0 || 1 / a === 1 / b : Number.isNaN(a) && Number.isNaN(b);
}

/**
 * The netevmon walk over two ascending lists O[oFrom..oTo) and N[nFrom..nTo), quirks kept:
 * signed `best`, tail term with inverted sign, scaled by W − depth. `r` is the configured
 * recentsCount, not a list length. D5: no tail once both lists are exhausted.
 */
export function ksDistanceRange(
  o: ArrayLike<number>, oFrom: number, oTo: number,
  n: ArrayLike<number>, nFrom: number, nTo: number,
  r: number,
): number {
  const w = (oTo - oFrom) + (nTo - nFrom);
  const step = 1.0 / r;
  let i = oFrom;
  let j = nFrom;
  let depth = 0;
  let run = 0.0;
  let best = 0.0;
  for (;;) {
    let f: number;
    if (i === oTo && j === nTo) f = run;
    else if (i === oTo) f = run + ((-1.0 / r) * (w - depth));
    else if (j === nTo) f = run + ((1.0 / r) * (w - depth));
    else {
      const x = o[i];
      const y = n[j];
      // Plain < and > decide almost every step; Double.compare only for ties, ±0 and NaN.
      const c = x < y ? -1 : x > y ? 1 : javaCompare(x, y);
      if (c < 0) {
        run = run - step;
        if (Math.abs(run) > best) best = run;
        i++;
      } else if (c > 0) {
        run = run + step;
        if (Math.abs(run) > best) best = run;
        j++;
      } else {
        while (i < oTo && sameDouble(o[i], x)) i++;
        while (j < nTo && sameDouble(n[j], x)) j++;
      }
      depth += 1;
      continue;
    }
    const a = Math.abs(f);
    return (a > best ? a : best) * Math.sqrt((w * w) / (2 * w));
  }
}

/** ksDistance over two whole ascending lists. */
export function ksDistance(o: ArrayLike<number>, n: ArrayLike<number>, r: number): number {
  return ksDistanceRange(o, 0, o.length, n, 0, n.length, r);
}

function sumRange(a: ArrayLike<number>, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
}

/** D5 identity: the same value at every index of a[aFrom..) and b[bFrom..), `count` long. */
function sameValues(a: ArrayLike<number>, aFrom: number, b: ArrayLike<number>, bFrom: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (!sameDouble(a[aFrom + i], b[bFrom + i])) return false;
  return true;
}

/** Insert v into the ascending run a[base..base+len), which has room for one more. */
function sortedInsert(a: number[], base: number, len: number, v: number): void {
  let i = base + len;
  while (i > base && javaCompare(a[i - 1], v) > 0) {
    a[i] = a[i - 1];
    i--;
  }
  a[i] = v;
}

/** Replace one occurrence of `out` by v in the ascending run a[base..base+len), in one pass. */
function sortedReplace(a: number[], base: number, len: number, out: number, v: number): void {
  let lo = base;
  let hi = base + len;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (javaCompare(a[mid], out) < 0) lo = mid + 1;
    else hi = mid;
  }
  const end = base + len;
  if (lo === end || javaCompare(a[lo], out) !== 0) throw new Error('sorted values out of step with the history');
  let i = lo;
  while (i + 1 < end && javaCompare(a[i + 1], v) < 0) {
    a[i] = a[i + 1];
    i++;
  }
  while (i > base && javaCompare(a[i - 1], v) > 0) {
    a[i] = a[i - 1];
    i--;
  }
  a[i] = v;
}

/** Slot of DistdiffState.buf before the value ring (sequential variant only). */
const LAST_OBSERVED = 0;
/** Where the value ring starts in DistdiffState.buf. */
const RING = 1;

/**
 * One stream of either variant. The value history lives in one packed double array to keep
 * per-stream state small and local: lastObserved, a ring of the last 2R values (the first
 * R of them are `older`, the rest `recent`), sorted copies of both halves (so an update
 * costs O(R) shifts, not two sorts), and a ring of times.
 */
class DistdiffState {
  readonly r: number;
  readonly timeCapacity: number;
  readonly buf: number[];
  /** Where the sorted older half starts in buf. */
  readonly olderBase: number;
  /** Where the sorted recent half starts in buf. */
  readonly recentBase: number;
  /** Where the time ring starts in buf. */
  private readonly timeBase: number;
  private vStart = 0;
  private vLen = 0;
  private tStart = 0;
  private tLen = 0;
  /** An event was emitted and the sets have not yet become similar again. */
  inEvent = false;
  /** Sequential: buf[LAST_OBSERVED] holds the newest time seen (never moves back); false: the next sample resets. */
  observed = false;
  /** Windowed: adjacent arrival pairs going back in time; 0 means arrival order is time order. */
  inversions = 0;
  /** Windowed: admitted arrivals since the window last fired. */
  sinceFire = 0;

  constructor(r: number, timeCapacity: number) {
    this.r = r = smallInt(r);
    this.timeCapacity = timeCapacity = smallInt(timeCapacity);
    this.buf = doubles(RING + 4 * r + this.timeCapacity);
    this.olderBase = RING + 2 * r;
    this.recentBase = RING + 3 * r;
    this.timeBase = RING + 4 * r;
  }

  /** Both halves hold R values. */
  get full(): boolean {
    return this.vLen === 2 * this.r;
  }

  get length(): number {
    return this.vLen;
  }

  get timeCount(): number {
    return this.tLen;
  }

  /** The i-th value in arrival order (older first), 0 ≤ i < 2R. */
  value(i: number): number {
    let idx = this.vStart + i;
    if (idx >= 2 * this.r) idx -= 2 * this.r;
    return this.buf[RING + idx];
  }

  /** The i-th stored time, oldest first, 0 ≤ i < timeCapacity. */
  time(i: number): number {
    let idx = this.tStart + i;
    if (idx >= this.timeCapacity) idx -= this.timeCapacity;
    return this.buf[this.timeBase + idx];
  }

  push(v: number): void {
    const r = this.r;
    const cap = 2 * r;
    const a = this.buf;
    const len = this.vLen;
    if (len < r) {
      sortedInsert(a, this.recentBase, len, v);
    } else {
      // The oldest recent value moves to older; when full the oldest older value drops out.
      const moved = this.value(len - r);
      sortedReplace(a, this.recentBase, r, moved, v);
      if (len < cap) sortedInsert(a, this.olderBase, len - r, moved);
      else sortedReplace(a, this.olderBase, r, this.value(0), moved);
    }
    if (len < cap) {
      let idx = this.vStart + len;
      if (idx >= cap) idx -= cap;
      a[RING + idx] = v;
      this.vLen++;
    } else {
      a[RING + this.vStart] = v;
      this.vStart = this.vStart + 1 === cap ? 0 : this.vStart + 1;
    }
  }

  /** Append a time; returns the one dropped when the ring was full, else NaN. */
  pushTime(t: number): number {
    const base = this.timeBase;
    const cap = this.timeCapacity;
    if (this.tLen < cap) {
      let idx = this.tStart + this.tLen;
      if (idx >= cap) idx -= cap;
      this.buf[base + idx] = t;
      this.tLen++;
      return NaN;
    }
    const dropped = this.buf[base + this.tStart];
    this.buf[base + this.tStart] = t;
    this.tStart = this.tStart + 1 === cap ? 0 : this.tStart + 1;
    return dropped;
  }

  /** Forget the values and times. */
  clear(): void {
    this.vStart = 0;
    this.vLen = 0;
    this.tStart = 0;
    this.tLen = 0;
  }

  values(): number[] {
    const out = new Array<number>(this.vLen);
    for (let i = 0; i < this.vLen; i++) out[i] = this.value(i);
    return out;
  }

  times(): number[] {
    const out = new Array<number>(this.tLen);
    for (let i = 0; i < this.tLen; i++) out[i] = this.time(i);
    return out;
  }

  static restore(r: number, timeCapacity: number, values: readonly number[], times: readonly number[]): DistdiffState {
    if (values.length > 2 * r) throw new Error('more than 2 × recentsCount values');
    if (times.length > timeCapacity) throw new Error(`more than ${timeCapacity} times`);
    if (!times.every(Number.isFinite)) throw new Error('times must be finite');
    const h = new DistdiffState(r, timeCapacity);
    for (const v of values) h.push(v);
    for (const t of times) h.pushTime(t);
    return h;
  }
}

/** What both variants share: the z / severity / inEvent judgement of §3.3 steps 6–10. */
abstract class DistdiffBase<P extends DistdiffParams> extends KeyedDetector<DistdiffState, P> {
  readonly eventType = 'distdiff_events';
  private readonly windowedTag: string;
  protected readonly r: number;
  private readonly d: number;
  /** recentsCount − 2 · dropExtremeN: the compared values of each set. */
  private readonly size: number;
  private readonly zThreshold: number;
  private readonly halfZThreshold: number;
  private readonly minimumChange: number;

  constructor(params: P, windowed: boolean) {
    super(params);
    this.windowedTag = windowed ? 'true' : 'false';
    this.r = smallInt(params.recentsCount);
    this.d = smallInt(params.dropExtremeN);
    this.size = smallInt(params.recentsCount - 2 * params.dropExtremeN);
    this.zThreshold = params.zThreshold;
    this.halfZThreshold = params.zThreshold / 2;
    this.minimumChange = params.minimumChange;
  }

  /**
   * Judge two ascending sets of R values: older at o[oBase..), recent at n[nBase..). An event
   * is stamped with st.time(newest), its latency measured back to st.time(olderNewest):
   * indices rather than times, as doubles passed to a function that is not inlined are boxed.
   */
  protected judge(
    st: DistdiffState, o: number[], oBase: number, n: number[], nBase: number,
    s: Sample, newest: number, olderNewest: number,
  ): readonly DetectorEvent[] {
    const size = this.size;
    const oFrom = oBase + this.d;
    const nFrom = nBase + this.d;
    const z = ksDistanceRange(o, oFrom, oFrom + size, n, nFrom, nFrom + size, this.r);
    const identical = sameValues(o, oFrom, n, nFrom, size);
    let events = NO_EVENTS;
    if (!st.inEvent && !(z < this.zThreshold) && !identical) {
      const so = sumRange(o, oFrom, oFrom + size);
      const sn = sumRange(n, nFrom, nFrom + size);
      const severity = this.severity(so, sn, o[oFrom + size - 1] - o[oFrom], n[nFrom + size - 1] - n[nFrom], size);
      if (severity !== null) {
        const mo = so / size;
        const mn = sn / size;
        const time = st.time(newest);
        events = [{
          eventType: this.eventType,
          stream: s.stream,
          severity,
          time,
          detectionLatency: time - st.time(olderNewest),
          description: `Distribution of ${s.kind} has changed. Mean has ${mo < mn ? 'increased' : 'decreased'} from ${fmtD(mo)} to ${fmtD(mn)}`,
          tags: { windowed: this.windowedTag },
        }];
        st.inEvent = true;
      }
    }
    if (z < this.halfZThreshold || identical) st.inEvent = false;
    return events;
  }

  /** eventSeverity's gates after the z and identity checks (sums, ranges); null = no event. */
  private severity(so: number, sn: number, ro: number, rn: number, size: number): number | null {
    const factor = so > sn ? so / sn : sn / so;
    // The sum difference is compared with a count: netevmon legacy, kept.
    if (factor < this.minimumChange || Math.abs(so - sn) < this.r) return null;
    const mo = so / size;
    const mn = sn / size;
    if (rn > 0.25 * ro && Math.abs(mo - mn) < 2 * ro) return null;
    // Fixed division by 1000: the "µs to ms" assumption of netevmon.
    return changeMagnitudeSeverity(mo / 1000, mn / 1000);
  }
}

/**
 * The sequential variant (DistDiffDetector), tagged windowed=false. Its time ring holds the
 * last R+1 times: time(0) is the newest older member's.
 */
export class DistDiffDetector extends DistdiffBase<DistdiffParams> {
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;

  constructor(params: DistdiffParams) {
    super(params, false);
    this.purgeMs = params.inactivityPurgeTime * 1000;
  }

  protected newState(): DistdiffState {
    return new DistdiffState(this.r, this.r + 1);
  }

  protected step(st: DistdiffState, s: Sample): readonly DetectorEvent[] {
    const buf = st.buf;
    if (!st.observed || (this.purgeMs !== 0 && s.time - buf[LAST_OBSERVED] > this.purgeMs)) {
      this.resetWith(st, s);
      return NO_EVENTS;
    }
    if (s.time >= buf[LAST_OBSERVED]) buf[LAST_OBSERVED] = s.time;
    // Only a missing value is skipped: a lossy measurement with a value is used.
    if (s.value === null) return NO_EVENTS;
    st.push(s.value);
    st.pushTime(s.time);
    if (!st.full) return NO_EVENTS;
    // The newest time, at index R, is s.time; index 0 is the newest older member's.
    return this.judge(st, buf, st.olderBase, buf, st.recentBase, s, this.r, 0);
  }

  /**
   * A lossy reset point (or one without a value, which Streamevmon could not handle) only
   * clears lastObserved, so the next measurement resets again.
   */
  private resetWith(st: DistdiffState, s: Sample): void {
    if (s.lossy || s.value === null) {
      st.observed = false;
      return;
    }
    st.observed = true;
    st.buf[LAST_OBSERVED] = s.time;
    st.clear();
    st.push(s.value);
    st.pushTime(s.time);
    st.inEvent = false;
  }

  protected encodeState(st: DistdiffState): unknown {
    return {
      lastObserved: st.observed ? st.buf[LAST_OBSERVED] : null,
      values: st.values().map(encodeDouble),
      times: st.times(),
      inEvent: st.inEvent,
    };
  }

  protected decodeState(json: unknown): DistdiffState {
    const o = decode.object(json);
    const r = this.r;
    const values = decode.numberArray(o.values, 'values');
    const times = decode.numberArray(o.times, 'times');
    if (times.length !== Math.min(r + 1, values.length)) throw new Error('times does not match the values');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    const st = DistdiffState.restore(r, r + 1, values, times);
    st.inEvent = decode.boolean(o.inEvent, 'inEvent');
    if (lastObserved !== null) {
      st.observed = true;
      st.buf[LAST_OBSERVED] = lastObserved;
    }
    return st;
  }
}

/**
 * The windowed variant (WindowedDistDiffDetector), tagged windowed=true: a per-key count
 * window of 2R admitted arrivals (values and times) evaluated every `windowSlide` arrivals.
 * No purge, no reset.
 */
export class WindowedDistDiffDetector extends DistdiffBase<WindowedDistdiffParams> {
  protected readonly stateVersion = 1;
  private readonly windowSlide: number;
  // Scratch for windows whose arrivals are out of time order (shared: processing is synchronous).
  private readonly order: Int32Array;
  private readonly scratch: Float64Array;
  /** The two halves of scratch, sorted in place. */
  private readonly scratchOlder: Float64Array;
  private readonly scratchRecent: Float64Array;
  /** The sorted scratch copied to a packed double array, the kind judge sees from the states. */
  private readonly sorted: number[];

  constructor(params: DistdiffParams, windowSlide: number) {
    super({ ...params, windowSlide }, true);
    const r = this.r;
    this.windowSlide = smallInt(windowSlide);
    this.order = new Int32Array(2 * r);
    this.scratch = new Float64Array(2 * r);
    this.scratchOlder = this.scratch.subarray(0, r);
    this.scratchRecent = this.scratch.subarray(r);
    this.sorted = doubles(2 * r);
  }

  protected newState(): DistdiffState {
    return new DistdiffState(this.r, 2 * this.r);
  }

  protected step(st: DistdiffState, s: Sample): readonly DetectorEvent[] {
    // C3: a measurement without a value never enters the window (Streamevmon crashed).
    if (s.value === null) return NO_EVENTS;
    st.push(s.value);
    if (st.timeCount > 0 && s.time < st.time(st.timeCount - 1)) st.inversions++;
    // NaN (nothing dropped) compares false.
    if (st.pushTime(s.time) > st.time(0)) st.inversions--;
    if (++st.sinceFire < this.windowSlide) return NO_EVENTS;
    st.sinceFire = 0;
    if (!st.full) return NO_EVENTS;
    const r = this.r;
    if (st.inversions === 0) {
      // Arrival order is time order: the halves are exactly older and recent.
      return this.judge(st, st.buf, st.olderBase, st.buf, st.recentBase, s, 2 * r - 1, r - 1);
    }
    const ord = this.sortByTime(st);
    const sc = this.scratch;
    for (let i = 0; i < 2 * r; i++) sc[i] = st.value(ord[i]);
    // Each half sorted in place: the subarray views share the scratch buffer.
    this.scratchOlder.sort();
    this.scratchRecent.sort();
    const sorted = this.sorted;
    for (let i = 0; i < 2 * r; i++) sorted[i] = sc[i];
    // D6/C5: stamped with the newest element; latency back to the newest of the older half.
    return this.judge(st, sorted, 0, sorted, r, s, ord[2 * r - 1], ord[r - 1]);
  }

  /** Stable insertion sort of window positions by time: arrivals are nearly in order. */
  private sortByTime(h: DistdiffState): Int32Array {
    const ord = this.order;
    for (let i = 0; i < ord.length; i++) {
      const t = h.time(i);
      let j = i;
      while (j > 0 && h.time(ord[j - 1]) > t) {
        ord[j] = ord[j - 1];
        j--;
      }
      ord[j] = i;
    }
    return ord;
  }

  protected encodeState(st: DistdiffState): unknown {
    return {
      values: st.values().map(encodeDouble),
      times: st.times(),
      sinceFire: st.sinceFire,
      inEvent: st.inEvent,
    };
  }

  protected decodeState(json: unknown): DistdiffState {
    const o = decode.object(json);
    const r = this.r;
    const values = decode.numberArray(o.values, 'values');
    const times = decode.numberArray(o.times, 'times');
    if (times.length !== values.length) throw new Error('times does not match the values');
    const sinceFire = decode.number(o.sinceFire, 'sinceFire');
    if (!Number.isInteger(sinceFire) || sinceFire < 0 || sinceFire >= this.windowSlide) {
      throw new Error('sinceFire must be an integer below windowSlide');
    }
    let inversions = 0;
    for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) inversions++;
    const st = DistdiffState.restore(r, 2 * r, values, times);
    st.inversions = inversions;
    st.sinceFire = sinceFire;
    st.inEvent = decode.boolean(o.inEvent, 'inEvent');
    return st;
  }
}

export const distdiffDefinition: DetectorDefinition<DistdiffParams> = {
  name: 'distdiff',
  paramSet: distdiffParamSet,
  create: (params, options) => (options.useWindow
    ? new WindowedDistDiffDetector(params, options.windowSlide)
    : new DistDiffDetector(params)),
  // "Use window" selects the count-window variant instead of tumbling time windows (§4.2).
  ownWindowing: true,
};
