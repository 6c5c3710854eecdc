import type { DetectorEvent } from '../event';
import { ParamSet } from '../params';
import type { DetectorDefinition } from './definition';
import { changeMagnitudeSeverity } from '../severity';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { doubles, smallInt } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Spike detector parameters (detectors.md §3.6, §10.4, D8, C6). */
export interface SpikeParams extends Record<string, number> {
  lag: number;
  threshold: number;
  influence: number;
  /** Seconds; 0 disables purging. */
  inactivityPurgeTime: number;
}

export const spikeParamSet: ParamSet<SpikeParams> = {
  owner: 'spike',
  specs: [
    { name: 'lag', kind: 'int', default: 50, min: 1, max: 600 },
    { name: 'threshold', kind: 'number', default: 30.0, min: 0, minExclusive: true, max: 1000 },
    { name: 'influence', kind: 'number', default: 0.01, min: 0, max: 1 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 60, min: 0, max: 2147483647, unit: 's' },
  ],
};

/** Slots of ZScoreState.buf before the history ring. */
const MEAN = 0;
const STD = 1;
const LAST_OBSERVED = 2;
const PREV = 3;
const HEAD = 4;

/**
 * One stream's smoothed z-score state in one packed double array: the mean and standard
 * deviation of the history, the spike detector's two doubles, then the ring of the last
 * `lag` accepted values.
 */
class ZScoreState {
  readonly lag: number;
  readonly buf: number[];
  /** Ring position of the oldest history value. */
  start = 0;
  len = 0;
  /** buf[LAST_OBSERVED] holds the newest time seen; false before the first sample. */
  observed = false;
  /** buf[PREV] holds the previous non-lossy value, or the reset value: the "old" side of the severity. */
  hasPrev = false;

  constructor(lag: number) {
    this.lag = smallInt(lag);
    this.buf = doubles(HEAD + this.lag);
    this.buf[MEAN] = NaN;
    this.buf[STD] = NaN;
  }

  /** Empty history, mean and std NaN. */
  clear(): void {
    this.start = 0;
    this.len = 0;
    this.buf[MEAN] = NaN;
    this.buf[STD] = NaN;
  }

  push(v: number): void {
    const lag = this.lag;
    if (this.len < lag) {
      let idx = this.start + this.len;
      if (idx >= lag) idx -= lag;
      this.buf[HEAD + idx] = v;
      this.len++;
    } else {
      this.buf[HEAD + this.start] = v;
      this.start = this.start + 1 === lag ? 0 : this.start + 1;
    }
  }

  /** The history, oldest first. */
  history(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) {
      let idx = this.start + i;
      if (idx >= this.lag) idx -= this.lag;
      out[i] = this.buf[HEAD + idx];
    }
    return out;
  }
}

/**
 * The z-score parameters, passed as one object: doubles passed one by one to a function that
 * is not inlined would be boxed on every call.
 */
class ZScoreParams {
  /** 1 − influence, computed once: the same double every time. */
  readonly oneMinusInfluence: number;

  constructor(readonly threshold: number, readonly influence: number) {
    this.oneMinusInfluence = 1 - influence;
  }
}

/**
 * The smoothed z-score step: flags values more than `threshold` population standard
 * deviations from the mean of the last `lag` accepted values. Returns +1, -1 or 0.
 */
function addZ(st: ZScoreState, v: number, p: ZScoreParams): number {
  const threshold = p.threshold;
  const a = st.buf;
  const lag = st.lag;
  const mean = a[MEAN];
  const enough = st.len >= lag;
  const far = Math.abs(v - mean) > threshold * a[STD]; // false while NaN
  let signal = 0;
  if (enough && far) {
    let lastIdx = st.start + st.len - 1;
    if (lastIdx >= lag) lastIdx -= lag;
    st.push(p.influence * v + p.oneMinusInfluence * a[HEAD + lastIdx]);
    signal = v > mean ? 1 : -1;
  } else {
    st.push(v);
  }
  // Welford over the whole history, oldest first: bit-identical to the reference thresholds.
  // The ring is walked in two runs (start…end of buffer, then its beginning) to skip the wrap test.
  const len = st.len;
  const first = HEAD + st.start;
  const firstEnd = Math.min(first + len, HEAD + lag);
  const secondEnd = HEAD + len - (firstEnd - first);
  let n = 0;
  let m1 = 0;
  let m2 = 0;
  for (let i = first; i < firstEnd; i++) {
    const x = a[i];
    n++;
    const dev = x - m1;
    const nd = dev / n;
    m1 += nd;
    m2 += (n - 1) * dev * nd;
  }
  for (let i = HEAD; i < secondEnd; i++) {
    const x = a[i];
    n++;
    const dev = x - m1;
    const nd = dev / n;
    m1 += nd;
    m2 += (n - 1) * dev * nd;
  }
  // Separate stores, not `n === 0 ? NaN : m1`: such a mix of constant and computed double
  // may be boxed on every call.
  if (n === 0) {
    a[MEAN] = NaN;
    a[STD] = NaN;
  } else {
    a[MEAN] = m1;
    if (n === 1) a[STD] = 0;
    else a[STD] = Math.sqrt(m2 / n);
  }
  return signal;
}

/**
 * The smoothed z-score core on its own (as in the reference implementation), over the same
 * per-stream state the detector keeps.
 */
export class SmoothedZScore {
  private readonly state: ZScoreState;
  private readonly p: ZScoreParams;

  constructor(readonly lag: number, readonly threshold: number, readonly influence: number) {
    this.state = new ZScoreState(lag);
    this.p = new ZScoreParams(threshold, influence);
  }

  get mean(): number {
    return this.state.buf[MEAN];
  }

  get std(): number {
    return this.state.buf[STD];
  }

  /** The accepted values, oldest first. */
  history(): number[] {
    return this.state.history();
  }

  /** Returns +1, -1 or 0. */
  add(v: number): number {
    return addZ(this.state, v, this.p);
  }
}

export class SpikeDetector extends KeyedDetector<ZScoreState, SpikeParams> {
  readonly eventType = 'spike_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;
  private readonly lag: number;
  private readonly z: ZScoreParams;

  constructor(params: SpikeParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
    this.lag = smallInt(params.lag);
    this.z = new ZScoreParams(params.threshold, params.influence);
  }

  protected newState(): ZScoreState {
    return new ZScoreState(this.lag);
  }

  protected step(st: ZScoreState, s: Sample): readonly DetectorEvent[] {
    const buf = st.buf;
    if (!st.observed || (this.purgeMs !== 0 && s.time - buf[LAST_OBSERVED] > this.purgeMs)) {
      // Reset: the value only becomes the "previous value" for severity, not history.
      st.observed = true;
      buf[LAST_OBSERVED] = s.time;
      st.hasPrev = !s.lossy && s.value !== null;
      if (st.hasPrev) buf[PREV] = s.value as number;
      st.clear();
      return NO_EVENTS;
    }
    if (s.time >= buf[LAST_OBSERVED]) buf[LAST_OBSERVED] = s.time;
    if (s.lossy || s.value === null) return NO_EVENTS;
    const v = s.value;
    const signal = addZ(st, v, this.z);
    const hadPrev = st.hasPrev;
    const stored = buf[PREV];
    buf[PREV] = v;
    st.hasPrev = true;
    if (signal === 0) return NO_EVENTS;
    const prev = hadPrev ? stored : v;
    return [{
      eventType: this.eventType,
      stream: s.stream,
      severity: changeMagnitudeSeverity(prev, v),
      time: s.time,
      detectionLatency: 0,
      description: signal > 0 ? 'Positive' : 'Negative',
      tags: {},
    }];
  }

  protected encodeState(st: ZScoreState): unknown {
    return {
      lastObserved: st.observed ? st.buf[LAST_OBSERVED] : null,
      prev: st.hasPrev ? encodeDouble(st.buf[PREV]) : null,
      history: st.history().map(encodeDouble),
      mean: encodeDouble(st.buf[MEAN]),
      std: encodeDouble(st.buf[STD]),
    };
  }

  protected decodeState(json: unknown): ZScoreState {
    const o = decode.object(json);
    const history = decode.numberArray(o.history, 'history');
    if (history.length > this.params.lag) throw new Error('history is longer than lag');
    const st = new ZScoreState(this.lag);
    for (const v of history) st.push(v);
    st.buf[MEAN] = decode.double(o.mean, 'mean');
    st.buf[STD] = decode.double(o.std, 'std');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    const prev = decode.nullableNumber(o.prev, 'prev');
    if (lastObserved !== null) {
      st.observed = true;
      st.buf[LAST_OBSERVED] = lastObserved;
    }
    if (prev !== null) {
      st.hasPrev = true;
      st.buf[PREV] = prev;
    }
    return st;
  }
}

export const spikeDefinition: DetectorDefinition<SpikeParams> = {
  name: 'spike',
  paramSet: spikeParamSet,
  create: (params) => new SpikeDetector(params),
};
