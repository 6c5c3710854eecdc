import type { DetectorEvent } from '../event';
import { ParamSet } from '../params';
import type { DetectorDefinition } from './definition';
import { changeMagnitudeSeverity } from '../severity';
import { KeyedDetector, decode, encodeDouble } from './keyed';
import { RingBuffer } from './ring';
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

/**
 * The smoothed z-score core: flags values more than `threshold` population standard
 * deviations from the mean of the last `lag` accepted values.
 */
export class SmoothedZScore {
  readonly history: RingBuffer;
  mean = NaN;
  std = NaN;

  constructor(readonly lag: number, readonly threshold: number, readonly influence: number, history?: RingBuffer) {
    this.history = history ?? new RingBuffer(lag);
  }

  /** Returns +1, -1 or 0. */
  add(v: number): number {
    const h = this.history;
    const enough = h.length >= this.lag;
    const far = Math.abs(v - this.mean) > this.threshold * this.std; // false while NaN
    let signal = 0;
    if (enough && far) {
      const last = h.last() as number;
      h.push(this.influence * v + (1 - this.influence) * last);
      signal = v > this.mean ? 1 : -1;
    } else {
      h.push(v);
    }
    // Welford over the whole history, oldest first: bit-identical to the reference thresholds.
    let n = 0;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < h.length; i++) {
      const x = h.at(i);
      n++;
      const dev = x - m1;
      const nd = dev / n;
      m1 += nd;
      m2 += (n - 1) * dev * nd;
    }
    this.mean = n === 0 ? NaN : m1;
    this.std = n === 0 ? NaN : n === 1 ? 0 : Math.sqrt(m2 / n);
    return signal;
  }
}

interface SpikeState {
  lastObserved: number | null;
  /** The previous non-lossy value, or the reset value: the "old" side of the severity. */
  prev: number | null;
  core: SmoothedZScore;
}

export class SpikeDetector extends KeyedDetector<SpikeState, SpikeParams> {
  readonly eventType = 'spike_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;

  constructor(params: SpikeParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
  }

  private newCore(history?: RingBuffer): SmoothedZScore {
    const p = this.params;
    return new SmoothedZScore(p.lag, p.threshold, p.influence, history);
  }

  protected newState(): SpikeState {
    return { lastObserved: null, prev: null, core: this.newCore() };
  }

  protected step(st: SpikeState, s: Sample): readonly DetectorEvent[] {
    if (st.lastObserved === null || (this.purgeMs !== 0 && s.time - st.lastObserved > this.purgeMs)) {
      // Reset: the value only becomes the "previous value" for severity, not history.
      st.lastObserved = s.time;
      st.prev = s.lossy ? null : s.value;
      st.core = this.newCore();
      return NO_EVENTS;
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (s.lossy || s.value === null) return NO_EVENTS;
    const v = s.value;
    const signal = st.core.add(v);
    const prev = st.prev ?? v;
    st.prev = v;
    if (signal === 0) return NO_EVENTS;
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

  protected encodeState(st: SpikeState): unknown {
    return {
      lastObserved: st.lastObserved,
      prev: st.prev === null ? null : encodeDouble(st.prev),
      history: st.core.history.toArray().map(encodeDouble),
      mean: encodeDouble(st.core.mean),
      std: encodeDouble(st.core.std),
    };
  }

  protected decodeState(json: unknown): SpikeState {
    const o = decode.object(json);
    const history = decode.numberArray(o.history, 'history');
    if (history.length > this.params.lag) throw new Error('history is longer than lag');
    const core = this.newCore(RingBuffer.from(this.params.lag, history));
    core.mean = decode.double(o.mean, 'mean');
    core.std = decode.double(o.std, 'std');
    return {
      lastObserved: o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved'),
      prev: decode.nullableNumber(o.prev, 'prev'),
      core,
    };
  }
}

export const spikeDefinition: DetectorDefinition<SpikeParams> = {
  name: 'spike',
  paramSet: spikeParamSet,
  create: (params) => new SpikeDetector(params),
};
