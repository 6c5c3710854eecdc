import type { DetectorEvent } from '../event';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity, trunc } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { NO_EVENTS, Sample } from './types';

/** Changepoint detector parameters (detectors.md §3.2, §10.4). */
export interface ChangepointParams extends Record<string, number> {
  maxHistory: number;
  triggerCount: number;
  ignoreOutlierNormalCount: number;
  /** Seconds; 0 disables purging. */
  inactivityPurgeTime: number;
  /** Seconds. */
  minimumEventInterval: number;
  severityThreshold: number;
}

export const changepointParamSet: ParamSet<ChangepointParams> = {
  owner: 'changepoint',
  specs: [
    { name: 'maxHistory', kind: 'int', default: 60, min: 1, max: 600 },
    { name: 'triggerCount', kind: 'int', default: 40, min: 1, max: 600 },
    { name: 'ignoreOutlierNormalCount', kind: 'int', default: 1, min: 0, max: 600 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 60, min: 0, max: 2147483647, unit: 's' },
    { name: 'minimumEventInterval', kind: 'int', default: 10, min: 0, max: 600, unit: 's' },
    { name: 'severityThreshold', kind: 'number', default: 30, min: 0, max: 100 },
  ],
  constraints: [
    (p) => (p.triggerCount < p.maxHistory ? null
      : `triggerCount (${p.triggerCount}) must be less than maxHistory (${p.maxHistory})`),
    // §10.3: with purging disabled (0) there is no purge time to stay below.
    (p) => (p.inactivityPurgeTime === 0 || p.minimumEventInterval < p.inactivityPurgeTime ? null
      : `minimumEventInterval (${p.minimumEventInterval}) must be less than inactivityPurgeTime (${p.inactivityPurgeTime}) unless inactivityPurgeTime is 0`),
  ],
};

/** Prior probability of a changepoint at each step. */
const HAZARD = 1 / 200;
const KEEP = 1 - HAZARD;
/** The initial distribution every new run absorbs its first value into. */
const INIT_MEAN = 0;
const INIT_VARIANCE = 1e8;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

/** A Normal model as the detector sees it: mean, variance and the count it was last absorbed with. */
export interface NormalDist {
  mean: number;
  variance: number;
  n: number;
}

export const INIT_DIST: Readonly<NormalDist> = Object.freeze({ mean: INIT_MEAN, variance: INIT_VARIANCE, n: 0 });

/** Density of y under the run's Normal model, with the reference's zero-variance fallback (quirk 4 kept). */
export function pdf(mean: number, variance: number, y: number): number {
  let v = variance;
  if (Math.abs(v) <= 1e-15) v = y / 100;
  return (1 / (SQRT_2PI * Math.sqrt(v))) * Math.exp(-((y - mean) * (y - mean)) / (2 * v));
}

// The two halves of `absorb`, split so the hot path needs no object. k comes from the caller (D4: kept).
function absorbedMean(mean: number, y: number, k: number): number {
  const w = k === 1 ? 0 : k;
  return (mean * w + y) / (w + 1);
}

function absorbedVariance(mean: number, variance: number, y: number, k: number, newMean: number): number {
  return (variance * k + (y - newMean) * (y - mean)) / (k + 1);
}

/** Absorb y into d with count k (the reference's uneven weighting, reproduced exactly). */
export function absorb(d: Readonly<NormalDist>, y: number, k: number): NormalDist {
  const mean = absorbedMean(d.mean, y, k);
  return { mean, variance: absorbedVariance(d.mean, d.variance, y, k, mean), n: k };
}

// One run = 4 doubles in a flat array; index 0 is the newest run.
const STRIDE = 4;
const MEAN = 0;
const VARIANCE = 1;
const PROB = 2;
const START = 3;

/**
 * The list of runs in one Float64Array of `capacity` (= maxHistory) runs. An advance never
 * needs room for more: the run the squash would drop is folded in on the fly.
 */
export class RunList {
  readonly data: Float64Array;
  length = 0;

  constructor(capacity: number) {
    this.data = new Float64Array(capacity * STRIDE);
  }

  get capacity(): number { return this.data.length / STRIDE; }

  mean(i: number): number { return this.data[i * STRIDE + MEAN]; }
  variance(i: number): number { return this.data[i * STRIDE + VARIANCE]; }
  prob(i: number): number { return this.data[i * STRIDE + PROB]; }
  start(i: number): number { return this.data[i * STRIDE + START]; }
}

/**
 * argMaxSkipNewest (D4) of pdf(run, y) over the (updated) runs: index of the first maximum over
 * 1..len−1, or 0 for a list of at most one run. A NaN only wins at index 1 (`>` is false).
 */
function bestExplaining(runs: RunList, y: number): number {
  const len = runs.length;
  if (len <= 1) return 0;
  const d = runs.data;
  let best = 1;
  let bestValue = pdf(d[STRIDE + MEAN], d[STRIDE + VARIANCE], y);
  for (let i = 2, o = 2 * STRIDE; i < len; i++, o += STRIDE) {
    const v = pdf(d[o + MEAN], d[o + VARIANCE], y);
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * argMaxSkipNewest (D4) of the runs' n. n is not stored: the run at index i was last absorbed
 * with k = i (k = 1 for the new run at 0), and a squash keeps the second-oldest's dist, so
 * n = max(i, 1) (§3.2 invariant). It strictly grows from index 1 on: the first maximum over
 * 1..len−1 is the oldest run.
 */
function longestRun(runs: RunList): number {
  return runs.length <= 1 ? 0 : runs.length - 1;
}

/**
 * One Bayesian update (§3.2 `advance`): every run absorbs y and is weighted by how well it
 * explained y; a new run starts at `time` with the hazard mass; the two oldest runs merge
 * beyond maxHistory; probabilities are normalised. Reads `src`, writes `dst` (distinct).
 *
 * src holds at most maxHistory runs, so at most one squash happens, and then only when
 * src is full: the oldest run's absorbed dist would be dropped by it, so only its probability
 * is computed, and added to the second-oldest's exactly as the squash would. Every other
 * value goes through the same operations in the same order as the spec's pseudocode.
 *
 * Returns argMaxSkipNewest (D4) of the normalised probabilities (step 6's ml), found while
 * dividing: the first maximum over 1..len−1, 0 for at most one run; a NaN only wins at 1.
 */
function advance(src: RunList, dst: RunList, y: number, time: number, maxHistory: number): number {
  const s = src.data;
  const d = dst.data;
  const n = src.length;
  const squash = n >= maxHistory;
  const kept = squash ? n - 1 : n;
  let carry = 0;
  let o = 0;
  for (let k = 1; k <= kept; k++, o += STRIDE) {
    // Run i = k − 1 at offset o absorbs y with k = i + 1 and moves to offset o + STRIDE.
    const mean = s[o + MEAN];
    const variance = s[o + VARIANCE];
    const pp = pdf(mean, variance, y) * s[o + PROB];
    carry += pp * HAZARD;
    const m2 = absorbedMean(mean, y, k);
    d[o + STRIDE + MEAN] = m2;
    d[o + STRIDE + VARIANCE] = absorbedVariance(mean, variance, y, k, m2);
    d[o + STRIDE + PROB] = pp * KEEP;
    d[o + STRIDE + START] = s[o + START];
  }
  let dropped = 0;
  if (squash) {
    const pp = pdf(s[o + MEAN], s[o + VARIANCE], y) * s[o + PROB];
    carry += pp * HAZARD;
    dropped = pp * KEEP;
  }
  const m0 = absorbedMean(INIT_MEAN, y, 1);
  d[MEAN] = m0;
  d[VARIANCE] = absorbedVariance(INIT_MEAN, INIT_VARIANCE, y, 1, m0);
  d[PROB] = carry;
  d[START] = time;
  // Squash: the second-oldest (now at offset o) keeps its dist and start and takes the oldest's probability.
  if (squash) d[o + PROB] = d[o + PROB] + dropped;
  const len = squash ? n : n + 1;
  dst.length = len;
  const end = len * STRIDE;
  let total = 0;
  for (let q = PROB; q < end; q += STRIDE) total += d[q];
  if (total === 0) {
    d[PROB] = 1;
    for (let q = STRIDE + PROB; q < end; q += STRIDE) d[q] = 0;
    return len <= 1 ? 0 : 1;
  }
  d[PROB] /= total;
  if (len <= 1) return 0;
  let best = 1;
  const bestStart = STRIDE + PROB;
  let bestValue = d[bestStart] / total;
  d[bestStart] = bestValue;
  for (let i = 2, q = bestStart + STRIDE; i < len; i++, q += STRIDE) {
    const v = d[q] / total;
    d[q] = v;
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

interface ChangepointState {
  /** Time of the newest measurement seen (or of the reset measurement); null before the first. */
  lastObserved: number | null;
  /** Not cleared by a reset. */
  lastEventTime: number | null;
  runs: RunList;
  /**
   * The runs as they were when the anomaly count was last 0, restored after an outlier. Only
   * read while ca > 0 (at ca = 0 step 4 replaces it before any use), so it is held exactly
   * then: null whenever ca = 0 after a step, its buffer back in the detector's spare pool.
   */
  normalRuns: RunList | null;
  /** The "old regime" reported in an event: mean of its dist, and its start (FAKE: 0, epoch). */
  compositeMean: number;
  compositeStart: number;
  /** Consecutive anomalies. */
  ca: number;
  /** Consecutive normal-looking values after an outlier. */
  cno: number;
  /** Previous most likely run index. */
  pml: number;
}

/**
 * Spare run buffers: every TRIM_INTERVAL steps the pool drops the spares it did not need during
 * the interval (its low-water mark), keeping at least MIN_SPARE.
 */
const TRIM_INTERVAL = 16384;
const MIN_SPARE = 2;

export class ChangepointDetector extends KeyedDetector<ChangepointState, ChangepointParams> {
  readonly eventType = 'changepoint_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;
  private readonly minIntervalMs: number;
  /**
   * Run buffers no stream holds. A stream holds one buffer (runs), and a second (normalRuns)
   * only while an anomaly streak is pending; advances write into a spare and give the replaced
   * buffer back. A buffer is in at most one place: here, or one stream's runs or normalRuns.
   */
  private readonly spare: RunList[] = [];
  /** Fewest spares since the last trim; that many were not needed. */
  private lowWater = 0;
  private untilTrim = TRIM_INTERVAL;

  constructor(params: ChangepointParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
    this.minIntervalMs = params.minimumEventInterval * 1000;
    this.spare.push(this.newRuns());
  }

  private newRuns(): RunList {
    return new RunList(this.params.maxHistory);
  }

  /** A buffer no stream holds; its contents are stale, its length is not reset. */
  private take(): RunList {
    const runs = this.spare.pop();
    if (runs === undefined) {
      this.lowWater = 0;
      return this.newRuns();
    }
    if (this.spare.length < this.lowWater) this.lowWater = this.spare.length;
    return runs;
  }

  /**
   * Give back a buffer its stream no longer holds (the caller drops its reference). The pool
   * never holds more than one spare per stream (plus MIN_SPARE), so a detector never holds
   * more than two buffers per stream; extra ones are left to the GC.
   */
  private give(runs: RunList): void {
    if (this.spare.length < this.states.size + MIN_SPARE) this.spare.push(runs);
  }

  /** Drop the spares that went unused since the last trim, the longest-unused first. */
  private trim(): void {
    this.untilTrim = TRIM_INTERVAL;
    const excess = Math.min(this.lowWater, this.spare.length - MIN_SPARE);
    if (excess > 0) this.spare.splice(0, excess);
    this.lowWater = this.spare.length;
  }

  protected newState(): ChangepointState {
    const runs = this.take();
    runs.length = 0;
    return {
      lastObserved: null,
      lastEventTime: null,
      runs,
      normalRuns: null,
      compositeMean: INIT_MEAN,
      compositeStart: 0,
      ca: 0,
      cno: 0,
      pml: 0,
    };
  }

  /** Forgetting a stream gives its buffers back to the pool. */
  override reset(key?: string): void {
    const st = key === undefined ? undefined : this.states.get(key);
    super.reset(key);
    if (st !== undefined) {
      this.give(st.runs);
      if (st.normalRuns !== null) this.give(st.normalRuns);
    }
    this.fitSpares();
  }

  override loadState(snapshot: unknown): void {
    super.loadState(snapshot);
    this.fitSpares();
  }

  /** Keep at most one spare per stream (plus MIN_SPARE) after streams went away. */
  private fitSpares(): void {
    const limit = this.states.size + MIN_SPARE;
    if (this.spare.length > limit) this.spare.length = limit;
    if (this.lowWater > limit) this.lowWater = limit;
  }

  /** §3.2 reset(m): lastEventTime survives. normalRuns is released by step() (ca = 0). */
  private resetState(st: ChangepointState, time: number): void {
    st.runs.length = 0;
    st.compositeMean = INIT_MEAN;
    st.compositeStart = 0;
    st.ca = 0;
    st.cno = 0;
    st.pml = 0;
    st.lastObserved = time;
  }

  protected step(st: ChangepointState, s: Sample): readonly DetectorEvent[] {
    const events = this.update(st, s);
    // ca = 0: step 4 of the next update replaces normalRuns before reading it.
    if (st.ca === 0 && st.normalRuns !== null) {
      this.give(st.normalRuns);
      st.normalRuns = null;
    }
    if (--this.untilTrim === 0) this.trim();
    return events;
  }

  /** §3.2 steps 1–9. On entry normalRuns is held iff ca > 0. */
  private update(st: ChangepointState, s: Sample): readonly DetectorEvent[] {
    const p = this.params;
    // 1. Inactivity purge; the measurement only initialises.
    if (st.lastObserved === null || (this.purgeMs !== 0 && s.time - st.lastObserved > this.purgeMs)) {
      this.resetState(st, s.time);
      return NO_EVENTS;
    }
    // 2.
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (s.value === null) return NO_EVENTS; // C2: lossiness itself is not checked
    const y = s.value;
    const runs = st.runs;
    // 3.
    if (st.pml >= runs.length) st.pml = runs.length - 1;
    // 4–5. Remember the runs as "normal" and refresh the composite while no anomaly is pending.
    const next = this.take();
    let normal: RunList;
    let ml: number;
    if (st.ca === 0) {
      if (runs.length > 0) {
        st.compositeMean = runs.mean(longestRun(runs));
        // pml is −1 only if the first value after a reset was absorbed as normal, which needs
        // ignoreOutlierNormalCount = 0; the reference would index −1, we take the newest run.
        st.compositeStart = runs.start(st.pml < 0 ? 0 : st.pml);
      } else {
        st.compositeMean = INIT_MEAN;
        st.compositeStart = 0;
      }
      // normalRuns = copy(runs): the old buffer itself becomes normalRuns, unchanged.
      ml = advance(runs, next, y, s.time, p.maxHistory);
      normal = runs;
      st.normalRuns = runs;
    } else {
      ml = advance(runs, next, y, s.time, p.maxHistory);
      this.give(runs);
      normal = st.normalRuns!; // held while ca > 0
    }
    st.runs = next;
    // 6. ml was found by advance. 7.
    if (ml !== st.pml) {
      st.ca++;
      if (bestExplaining(next, y) === next.length - 1) {
        // Best explained by the oldest eligible run (D4: E = len − 1): looks normal.
        st.cno++;
        if (st.cno > p.ignoreOutlierNormalCount) {
          st.ca = 0;
          st.cno = 0;
          advance(normal, next, y, s.time, p.maxHistory); // normal is released by step()
          return NO_EVENTS; // pml deliberately not updated
        }
      } else {
        st.cno = 0;
      }
    } else {
      st.ca = 0;
      st.cno = 0;
    }
    // 8.
    st.pml = ml;
    // 9.
    if (st.ca <= p.triggerCount) return NO_EVENTS;
    st.ca = 0;
    const oldMean = st.compositeMean;
    const severity = changeMagnitudeSeverity(oldMean, y);
    if (severity <= p.severityThreshold) return NO_EVENTS;
    let events: readonly DetectorEvent[] = NO_EVENTS;
    if (s.time - (st.lastEventTime ?? 0) > this.minIntervalMs) {
      events = [{
        eventType: this.eventType,
        stream: s.stream,
        severity,
        time: s.time,
        detectionLatency: s.time - st.compositeStart,
        description: `Latency ${oldMean > y ? 'decreased' : 'increased'} from ${trunc(oldMean)} to ${trunc(y)}`,
        tags: {},
      }];
      st.lastEventTime = s.time;
    }
    this.resetState(st, s.time); // also when the event was suppressed (quirk 3 kept)
    return events;
  }

  /** normalRuns is stored only while it is held (ca > 0). */
  protected encodeState(st: ChangepointState): unknown {
    const out: Record<string, unknown> = {
      lastObserved: st.lastObserved,
      lastEventTime: st.lastEventTime,
      runs: encodeRuns(st.runs),
    };
    if (st.normalRuns !== null) out.normalRuns = encodeRuns(st.normalRuns);
    out.compositeMean = encodeDouble(st.compositeMean);
    out.compositeStart = st.compositeStart;
    out.ca = st.ca;
    out.cno = st.cno;
    out.pml = st.pml;
    return out;
  }

  /**
   * Accepts normalRuns present or absent while ca = 0 (older saves always store it; it is
   * checked, then dropped), and requires it while ca > 0.
   */
  protected decodeState(json: unknown): ChangepointState {
    const o = decode.object(json);
    const ca = count(o.ca, 'ca', 0);
    const runs = this.decodeRuns(o.runs, 'runs');
    let normalRuns: RunList | null = null;
    if (o.normalRuns !== undefined) normalRuns = this.decodeRuns(o.normalRuns, 'normalRuns');
    else if (ca > 0) throw new Error('normalRuns is required while ca > 0');
    if (ca === 0) normalRuns = null;
    return {
      lastObserved: o.lastObserved === null ? null : finite(o.lastObserved, 'lastObserved'),
      lastEventTime: o.lastEventTime === null ? null : finite(o.lastEventTime, 'lastEventTime'),
      runs,
      normalRuns,
      compositeMean: decode.double(o.compositeMean, 'compositeMean'),
      compositeStart: finite(o.compositeStart, 'compositeStart'),
      ca,
      cno: count(o.cno, 'cno', 0),
      pml: count(o.pml, 'pml', -1),
    };
  }

  private decodeRuns(json: unknown, name: string): RunList {
    const o = decode.object(json);
    const mean = decode.numberArray(o.mean, `${name}.mean`);
    const variance = decode.numberArray(o.variance, `${name}.variance`);
    const prob = decode.numberArray(o.prob, `${name}.prob`);
    const start = decode.numberArray(o.start, `${name}.start`);
    const len = mean.length;
    if (variance.length !== len || prob.length !== len || start.length !== len) {
      throw new Error(`${name} columns differ in length`);
    }
    if (len > this.params.maxHistory) throw new Error(`${name} holds more than maxHistory runs`);
    const runs = this.newRuns();
    for (let i = 0; i < len; i++) {
      const q = i * STRIDE;
      runs.data[q + MEAN] = mean[i];
      runs.data[q + VARIANCE] = variance[i];
      runs.data[q + PROB] = prob[i];
      runs.data[q + START] = finite(start[i], `${name}.start[${i}]`);
    }
    runs.length = len;
    return runs;
  }
}

function encodeRuns(runs: RunList): unknown {
  const cols = (field: number): Array<number | string> => {
    const out = new Array<number | string>(runs.length);
    for (let i = 0, q = field; i < runs.length; i++, q += STRIDE) out[i] = encodeDouble(runs.data[q]);
    return out;
  };
  return { mean: cols(MEAN), variance: cols(VARIANCE), prob: cols(PROB), start: cols(START) };
}

function finite(x: unknown, name: string): number {
  const n = decode.number(x, name);
  if (!Number.isFinite(n)) throw new Error(`${name} must be finite`);
  return n;
}

function count(x: unknown, name: string, min: number): number {
  const n = decode.number(x, name);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer of at least ${min}`);
  return n;
}

export const changepointDefinition: DetectorDefinition<ChangepointParams> = {
  name: 'changepoint',
  paramSet: changepointParamSet,
  create: (params) => new ChangepointDetector(params),
};
