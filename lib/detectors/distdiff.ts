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

function sumRange(a: Float64Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i];
  return s;
}

/** D5 identity: the same value at every index of a[aFrom..) and b[bFrom..), `count` long. */
function sameValues(a: Float64Array, aFrom: number, b: Float64Array, bFrom: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (!sameDouble(a[aFrom + i], b[bFrom + i])) return false;
  return true;
}

/** Insert v into the ascending run a[base..base+len), which has room for one more. */
function sortedInsert(a: Float64Array, base: number, len: number, v: number): void {
  let i = base + len;
  while (i > base && javaCompare(a[i - 1], v) > 0) {
    a[i] = a[i - 1];
    i--;
  }
  a[i] = v;
}

/** Replace one occurrence of `out` by v in the ascending run a[base..base+len), in one pass. */
function sortedReplace(a: Float64Array, base: number, len: number, out: number, v: number): void {
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

/**
 * The value history both variants keep, in one Float64Array to keep per-stream state small:
 * a ring of the last 2R values (the first R of them are `older`, the rest `recent`), sorted
 * copies of both halves (so an update costs O(R) shifts, not two sorts), and a ring of times.
 */
class History {
  readonly buf: Float64Array;
  private vStart = 0;
  private vLen = 0;
  private tStart = 0;
  private tLen = 0;

  constructor(readonly r: number, readonly timeCapacity: number) {
    this.buf = new Float64Array(4 * r + timeCapacity);
  }

  /** Where the sorted older half starts in buf. */
  get olderBase(): number {
    return 2 * this.r;
  }

  /** Where the sorted recent half starts in buf. */
  get recentBase(): number {
    return 3 * this.r;
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

  /** The i-th value in arrival order (older first). */
  value(i: number): number {
    return this.buf[(this.vStart + i) % (2 * this.r)];
  }

  /** The i-th stored time, oldest first. */
  time(i: number): number {
    return this.buf[4 * this.r + ((this.tStart + i) % this.timeCapacity)];
  }

  push(v: number): void {
    const r = this.r;
    const cap = 2 * r;
    const a = this.buf;
    const len = this.vLen;
    if (len < r) {
      sortedInsert(a, 3 * r, len, v);
    } else {
      // The oldest recent value moves to older; when full the oldest older value drops out.
      const moved = this.value(len - r);
      sortedReplace(a, 3 * r, r, moved, v);
      if (len < cap) sortedInsert(a, 2 * r, len - r, moved);
      else sortedReplace(a, 2 * r, r, this.value(0), moved);
    }
    if (len < cap) {
      a[(this.vStart + len) % cap] = v;
      this.vLen++;
    } else {
      a[this.vStart] = v;
      this.vStart = (this.vStart + 1) % cap;
    }
  }

  /** Append a time; returns the one dropped when the ring was full, else NaN. */
  pushTime(t: number): number {
    const base = 4 * this.r;
    const cap = this.timeCapacity;
    if (this.tLen < cap) {
      this.buf[base + ((this.tStart + this.tLen) % cap)] = t;
      this.tLen++;
      return NaN;
    }
    const dropped = this.buf[base + this.tStart];
    this.buf[base + this.tStart] = t;
    this.tStart = (this.tStart + 1) % cap;
    return dropped;
  }

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

  static restore(r: number, timeCapacity: number, values: readonly number[], times: readonly number[]): History {
    if (values.length > 2 * r) throw new Error('more than 2 × recentsCount values');
    if (times.length > timeCapacity) throw new Error(`more than ${timeCapacity} times`);
    if (!times.every(Number.isFinite)) throw new Error('times must be finite');
    const h = new History(r, timeCapacity);
    for (const v of values) h.push(v);
    for (const t of times) h.pushTime(t);
    return h;
  }
}

interface EpisodeState {
  /** An event was emitted and the sets have not yet become similar again. */
  inEvent: boolean;
}

/** What both variants share: the z / severity / inEvent judgement of §3.3 steps 6–10. */
abstract class DistdiffBase<S extends EpisodeState, P extends DistdiffParams> extends KeyedDetector<S, P> {
  readonly eventType = 'distdiff_events';
  private readonly windowedTag: string;

  constructor(params: P, windowed: boolean) {
    super(params);
    this.windowedTag = windowed ? 'true' : 'false';
  }

  /** Judge two ascending sets of R values: older at o[oBase..), recent at n[nBase..). */
  protected judge(
    st: S, o: Float64Array, oBase: number, n: Float64Array, nBase: number,
    s: Sample, time: number, latency: number,
  ): readonly DetectorEvent[] {
    const p = this.params;
    const d = p.dropExtremeN;
    const size = p.recentsCount - 2 * d;
    const oFrom = oBase + d;
    const nFrom = nBase + d;
    const z = ksDistanceRange(o, oFrom, oFrom + size, n, nFrom, nFrom + size, p.recentsCount);
    const identical = sameValues(o, oFrom, n, nFrom, size);
    let events = NO_EVENTS;
    if (!st.inEvent && !(z < p.zThreshold) && !identical) {
      const so = sumRange(o, oFrom, oFrom + size);
      const sn = sumRange(n, nFrom, nFrom + size);
      const severity = this.severity(so, sn, o[oFrom + size - 1] - o[oFrom], n[nFrom + size - 1] - n[nFrom], size);
      if (severity !== null) {
        const mo = so / size;
        const mn = sn / size;
        events = [{
          eventType: this.eventType,
          stream: s.stream,
          severity,
          time,
          detectionLatency: latency,
          description: `Distribution of ${s.kind} has changed. Mean has ${mo < mn ? 'increased' : 'decreased'} from ${fmtD(mo)} to ${fmtD(mn)}`,
          tags: { windowed: this.windowedTag },
        }];
        st.inEvent = true;
      }
    }
    if (z < p.zThreshold / 2 || identical) st.inEvent = false;
    return events;
  }

  /** eventSeverity's gates after the z and identity checks (sums, ranges); null = no event. */
  private severity(so: number, sn: number, ro: number, rn: number, size: number): number | null {
    const p = this.params;
    const factor = so > sn ? so / sn : sn / so;
    // The sum difference is compared with a count: netevmon legacy, kept.
    if (factor < p.minimumChange || Math.abs(so - sn) < p.recentsCount) return null;
    const mo = so / size;
    const mn = sn / size;
    if (rn > 0.25 * ro && Math.abs(mo - mn) < 2 * ro) return null;
    // Fixed division by 1000: the "µs to ms" assumption of netevmon.
    return changeMagnitudeSeverity(mo / 1000, mn / 1000);
  }
}

interface SequentialState extends EpisodeState {
  /** Newest measurement time seen (never moves back), or null: the next sample resets. */
  lastObserved: number | null;
  /** Values, and the times of the last R+1 of them: time(0) is the newest older member. */
  history: History;
}

/** The sequential variant (DistDiffDetector), tagged windowed=false. */
export class DistDiffDetector extends DistdiffBase<SequentialState, DistdiffParams> {
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;

  constructor(params: DistdiffParams) {
    super(params, false);
    this.purgeMs = params.inactivityPurgeTime * 1000;
  }

  protected newState(): SequentialState {
    const r = this.params.recentsCount;
    return { lastObserved: null, history: new History(r, r + 1), inEvent: false };
  }

  protected step(st: SequentialState, s: Sample): readonly DetectorEvent[] {
    if (st.lastObserved === null || (this.purgeMs !== 0 && s.time - st.lastObserved > this.purgeMs)) {
      this.resetWith(st, s);
      return NO_EVENTS;
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    // Only a missing value is skipped: a lossy measurement with a value is used.
    if (s.value === null) return NO_EVENTS;
    const h = st.history;
    h.push(s.value);
    h.pushTime(s.time);
    if (!h.full) return NO_EVENTS;
    return this.judge(st, h.buf, h.olderBase, h.buf, h.recentBase, s, s.time, s.time - h.time(0));
  }

  /**
   * A lossy reset point (or one without a value, which Streamevmon could not handle) only
   * clears lastObserved, so the next measurement resets again.
   */
  private resetWith(st: SequentialState, s: Sample): void {
    if (s.lossy || s.value === null) {
      st.lastObserved = null;
      return;
    }
    st.lastObserved = s.time;
    st.history.clear();
    st.history.push(s.value);
    st.history.pushTime(s.time);
    st.inEvent = false;
  }

  protected encodeState(st: SequentialState): unknown {
    return {
      lastObserved: st.lastObserved,
      values: st.history.values().map(encodeDouble),
      times: st.history.times(),
      inEvent: st.inEvent,
    };
  }

  protected decodeState(json: unknown): SequentialState {
    const o = decode.object(json);
    const r = this.params.recentsCount;
    const values = decode.numberArray(o.values, 'values');
    const times = decode.numberArray(o.times, 'times');
    if (times.length !== Math.min(r + 1, values.length)) throw new Error('times does not match the values');
    return {
      lastObserved: o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved'),
      history: History.restore(r, r + 1, values, times),
      inEvent: decode.boolean(o.inEvent, 'inEvent'),
    };
  }
}

interface WindowedState extends EpisodeState {
  /** The last 2R admitted values and their times, in arrival order. */
  history: History;
  /** Adjacent arrival pairs going back in time: 0 means arrival order is time order. */
  inversions: number;
  /** Admitted arrivals since the window last fired. */
  sinceFire: number;
}

/**
 * The windowed variant (WindowedDistDiffDetector), tagged windowed=true: a per-key count
 * window of 2R admitted arrivals evaluated every `windowSlide` arrivals. No purge, no reset.
 */
export class WindowedDistDiffDetector extends DistdiffBase<WindowedState, WindowedDistdiffParams> {
  protected readonly stateVersion = 1;
  // Scratch for windows whose arrivals are out of time order (shared: processing is synchronous).
  private readonly order: Int32Array;
  private readonly scratch: Float64Array;

  constructor(params: DistdiffParams, windowSlide: number) {
    super({ ...params, windowSlide }, true);
    this.order = new Int32Array(2 * params.recentsCount);
    this.scratch = new Float64Array(2 * params.recentsCount);
  }

  protected newState(): WindowedState {
    const r = this.params.recentsCount;
    return { history: new History(r, 2 * r), inversions: 0, sinceFire: 0, inEvent: false };
  }

  protected step(st: WindowedState, s: Sample): readonly DetectorEvent[] {
    // C3: a measurement without a value never enters the window (Streamevmon crashed).
    if (s.value === null) return NO_EVENTS;
    const h = st.history;
    h.push(s.value);
    if (h.timeCount > 0 && s.time < h.time(h.timeCount - 1)) st.inversions++;
    // NaN (nothing dropped) compares false.
    if (h.pushTime(s.time) > h.time(0)) st.inversions--;
    if (++st.sinceFire < this.params.windowSlide) return NO_EVENTS;
    st.sinceFire = 0;
    if (!h.full) return NO_EVENTS;
    const r = this.params.recentsCount;
    if (st.inversions === 0) {
      // Arrival order is time order: the halves are exactly older and recent.
      const newest = h.time(2 * r - 1);
      return this.judge(st, h.buf, h.olderBase, h.buf, h.recentBase, s, newest, newest - h.time(r - 1));
    }
    const ord = this.sortByTime(h);
    const sc = this.scratch;
    for (let i = 0; i < 2 * r; i++) sc[i] = h.value(ord[i]);
    // Each half sorted in place: subarray views share the scratch buffer.
    sc.subarray(0, r).sort();
    sc.subarray(r).sort();
    // D6/C5: stamped with the newest element; latency back to the newest of the older half.
    const newest = h.time(ord[2 * r - 1]);
    return this.judge(st, sc, 0, sc, r, s, newest, newest - h.time(ord[r - 1]));
  }

  /** Stable insertion sort of window positions by time: arrivals are nearly in order. */
  private sortByTime(h: History): Int32Array {
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

  protected encodeState(st: WindowedState): unknown {
    return {
      values: st.history.values().map(encodeDouble),
      times: st.history.times(),
      sinceFire: st.sinceFire,
      inEvent: st.inEvent,
    };
  }

  protected decodeState(json: unknown): WindowedState {
    const o = decode.object(json);
    const r = this.params.recentsCount;
    const values = decode.numberArray(o.values, 'values');
    const times = decode.numberArray(o.times, 'times');
    if (times.length !== values.length) throw new Error('times does not match the values');
    const sinceFire = decode.number(o.sinceFire, 'sinceFire');
    if (!Number.isInteger(sinceFire) || sinceFire < 0 || sinceFire >= this.params.windowSlide) {
      throw new Error('sinceFire must be an integer below windowSlide');
    }
    let inversions = 0;
    for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) inversions++;
    return {
      history: History.restore(r, 2 * r, values, times),
      inversions,
      sinceFire,
      inEvent: decode.boolean(o.inEvent, 'inEvent'),
    };
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
