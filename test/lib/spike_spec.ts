import { strict as assert } from 'node:assert';
import { SmoothedZScore, SpikeDetector, spikeParamSet } from '../../lib/detectors/spike';
import type { Sample } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { SpikeParams } from '../../lib/detectors/spike';
import { encodeDouble } from '../../lib/detectors/keyed';
import { changeMagnitudeSeverity } from '../../lib/severity';
import { fingerprint, mixedSamples, seeded } from '../support/state-fingerprint';

const T0 = 1e12;

function icmp(k: number, value: number | null, lossy = false): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value, lossy };
}

function runAll(det: SpikeDetector, samples: Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

describe('SmoothedZScore (vector U3, SmoothedZScoreTest)', () => {
  it('reproduces the reference signals (lag 30, threshold 5, influence 0)', () => {
    const input = [1, 1, 1.1, 1, 0.9, 1, 1, 1.1, 1, 0.9, 1, 1.1, 1, 1, 0.9, 1, 1, 1.1, 1, 1, 1, 1, 1.1, 0.9, 1, 1.1, 1, 1, 0.9, 1, 1.1, 1, 1, 1.1, 1, 0.8, 0.9, 1, 1.2, 0.9, 1, 1, 1.1, 1.2, 1, 1.5, 1, 3, 2, 5, 3, 2, 1, 1, 1, 0.9, 1, 1, 3, 2.6, 4, 3, 3.2, 2, 1, 1, 0.8, 4, 4, 2, 2.5, 1, 1, 1];
    const tail = [1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0];
    const expected = [...new Array<number>(45).fill(0), ...tail];
    const z = new SmoothedZScore(30, 5, 0);
    assert.deepEqual(input.map((v) => z.add(v)), expected);
  });

  it('uses the population standard deviation', () => {
    const z = new SmoothedZScore(4, 1, 0);
    [1, 2, 3, 4].forEach((v) => z.add(v));
    assert.equal(z.mean, 2.5);
    assert.equal(z.std, Math.sqrt(1.25));
  });
});

describe('SpikeDetector', () => {
  const defaults = defaultParams(spikeParamSet);

  it('has the documented defaults (D8)', () => {
    assert.deepEqual(defaults, { lag: 50, threshold: 30, influence: 0.01, inactivityPurgeTime: 60 });
  });

  it('checkpoint scenario: 100 normal then 100 anomalous give 13 Positive events (§9.3, D8)', () => {
    const samples: Sample[] = [];
    for (let k = 1; k <= 100; k++) samples.push(icmp(k, 225000));
    for (let k = 101; k <= 200; k++) samples.push(icmp(k, 22500000));
    const events = runAll(new SpikeDetector(defaults), samples);
    assert.deepEqual(events.map((e) => e.time), Array.from({ length: 13 }, (_, i) => T0 + 101 + i));
    assert.deepEqual(events.map((e) => e.severity), [100, ...new Array<number>(12).fill(1)]);
    for (const e of events) {
      assert.equal(e.eventType, 'spike_events');
      assert.equal(e.stream, '3');
      assert.equal(e.description, 'Positive');
      assert.equal(e.detectionLatency, 0);
      assert.deepEqual(e.tags, {});
    }
  });

  it('gives the same output when state is saved and restored half way (via JSON)', () => {
    const samples: Sample[] = [];
    for (let k = 1; k <= 100; k++) samples.push(icmp(k, 225000 + (k % 7) * 100));
    for (let k = 101; k <= 200; k++) samples.push(icmp(k, 22500000));
    const straight = runAll(new SpikeDetector(defaults), samples);
    const first = new SpikeDetector(defaults);
    const a = runAll(first, samples.slice(0, 120));
    const restored = new SpikeDetector(defaults);
    restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
    const b = runAll(restored, samples.slice(120));
    assert.deepEqual([...a, ...b], straight);
    assert.ok(straight.length > 0);
  });

  it('emits nothing on steady input, and Negative on a drop', () => {
    const det = new SpikeDetector({ ...defaults, lag: 10, threshold: 3 });
    const samples = Array.from({ length: 40 }, (_, k) => icmp(k, 1000 + (k % 3)));
    assert.deepEqual(runAll(det, samples), []);
    const [e] = det.process(icmp(40, 10));
    assert.equal(e.description, 'Negative');
    assert.equal(e.severity, 100);
  });

  it('first signal possible at the (lag+2)-th measurement after a reset', () => {
    const spikeAt = (k: number): boolean => {
      const det = new SpikeDetector({ ...defaults, lag: 5, threshold: 3 });
      for (let i = 1; i < k; i++) det.process(icmp(i, 100 + (i % 2)));
      return det.process(icmp(k, 1e6)).length === 1;
    };
    assert.equal(spikeAt(6), false, 'the history holds only lag-1 values');
    assert.equal(spikeAt(7), true);
  });

  it('skips lossy measurements without updating the previous value', () => {
    const det = new SpikeDetector({ ...defaults, lag: 5, threshold: 3 });
    for (let k = 1; k <= 6; k++) det.process(icmp(k, 1000));
    assert.deepEqual(det.process(icmp(7, 1e6, true)), []);
    assert.deepEqual(det.process(icmp(8, null, true)), []);
    const [e] = det.process(icmp(9, 1100));
    assert.equal(e.description, 'Positive');
    assert.equal(e.severity, 29); // previous value is still 1000
  });

  it('resets after more than inactivityPurgeTime of silence, not at exactly that gap', () => {
    const det = new SpikeDetector({ ...defaults, lag: 3, threshold: 3, inactivityPurgeTime: 10 });
    const at = (ms: number, v: number): Sample => ({ ...icmp(0, v), time: ms });
    [0, 1000, 2000, 3000].forEach((t) => det.process(at(t, 100)));
    assert.equal(det.process(at(13000, 1e6)).length, 1, 'a gap of exactly 10 s does not reset');
    const fresh = new SpikeDetector({ ...defaults, lag: 3, threshold: 3, inactivityPurgeTime: 10 });
    [0, 1000, 2000, 3000].forEach((t) => fresh.process(at(t, 100)));
    assert.equal(fresh.process(at(13001, 1e6)).length, 0, 'a gap of more than 10 s resets');
  });

  it('purge time 0 never resets', () => {
    const det = new SpikeDetector({ ...defaults, lag: 3, threshold: 3, inactivityPurgeTime: 0 });
    [0, 1, 2, 3].forEach((t) => det.process({ ...icmp(0, 100), time: t }));
    assert.equal(det.process({ ...icmp(0, 1e6), time: 1e9 }).length, 1);
  });

  it('keeps state per key and resets one key or all', () => {
    const det = new SpikeDetector({ ...defaults, lag: 3, threshold: 3 });
    for (let k = 1; k <= 5; k++) {
      det.process({ ...icmp(k, 100), key: 'a', stream: 'a' });
      det.process({ ...icmp(k, 5000), key: 'b', stream: 'b' });
    }
    assert.equal(det.streamCount, 2);
    det.reset('a');
    assert.equal(det.streamCount, 1);
    assert.equal(det.process({ ...icmp(6, 1e6), key: 'a', stream: 'a' }).length, 0, 'a starts over');
    assert.equal(det.process({ ...icmp(6, 1e6), key: 'b', stream: 'b' }).length, 1, 'b kept its history');
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('rejects stored state from other parameters or corrupt state, keeping its own', () => {
    const det = new SpikeDetector(defaults);
    det.process(icmp(1, 5));
    const snap = det.saveState();
    assert.throws(() => new SpikeDetector({ ...defaults, lag: 10 }).loadState(snap), /parameters changed/);
    const corrupt = JSON.parse(JSON.stringify(snap));
    corrupt.streams['ICMP-3'].history = 'oops';
    assert.throws(() => det.loadState(corrupt), /corrupt/);
    assert.equal(det.streamCount, 1);
    assert.throws(() => det.loadState({ format: 'x' }), /not a streamevmon detector state/);
  });

  it('validates parameters with clear messages (D9, C6)', () => {
    const r = parseParams(spikeParamSet, { lag: '0', threshold: '0', influence: '2', inactivityPurgeTime: '1.5' });
    assert.deepEqual(r.errors, [
      'spike: lag must be an integer between 1 and 600 (got 0)',
      'spike: threshold must be a number greater than 0 and at most 1000 (got 0)',
      'spike: influence must be a number between 0 and 1 (got 2)',
      'spike: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 1.5)',
    ]);
    assert.deepEqual(parseParams(spikeParamSet, {}).params, defaults);
    assert.deepEqual(parseParams(spikeParamSet, { lag: '20' }).params.lag, 20);
  });
});

// ---- Randomized and golden checks of the packed per-stream state ----

/** Recorded from the implementation before the packed-state rework (typed arrays per stream). */
const GOLDEN_SPIKE = [
  'b636df61eacf492d',
  '90f6b05c60a733a1',
  '9e58504278f5c365',
  '2215ea18c0b9c06f',
];

/** §3.6 read plainly: the history as an array, mean and std by Welford over all of it. */
class ReferenceSpike {
  private readonly streams = new Map<string, {
    lastObserved: number | null; prev: number | null; history: number[]; mean: number; std: number;
  }>();

  constructor(private readonly p: SpikeParams) {}

  process(s: Sample): DetectorEvent[] {
    const p = this.p;
    let st = this.streams.get(s.key);
    if (st === undefined) {
      st = { lastObserved: null, prev: null, history: [], mean: NaN, std: NaN };
      this.streams.set(s.key, st);
    }
    const purgeMs = p.inactivityPurgeTime * 1000;
    if (st.lastObserved === null || (purgeMs !== 0 && s.time - st.lastObserved > purgeMs)) {
      st.lastObserved = s.time;
      st.prev = s.lossy ? null : s.value;
      st.history = [];
      st.mean = NaN;
      st.std = NaN;
      return [];
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (s.lossy || s.value === null) return [];
    const v = s.value;
    const h = st.history;
    let signal = 0;
    if (h.length >= p.lag && Math.abs(v - st.mean) > p.threshold * st.std) {
      h.push(p.influence * v + (1 - p.influence) * h[h.length - 1]);
      signal = v > st.mean ? 1 : -1;
    } else {
      h.push(v);
    }
    if (h.length > p.lag) h.shift();
    let n = 0;
    let m1 = 0;
    let m2 = 0;
    for (const x of h) {
      n++;
      const dev = x - m1;
      const nd = dev / n;
      m1 += nd;
      m2 += (n - 1) * dev * nd;
    }
    st.mean = m1;
    st.std = n === 1 ? 0 : Math.sqrt(m2 / n);
    const prev = st.prev ?? v;
    st.prev = v;
    if (signal === 0) return [];
    return [{
      eventType: 'spike_events', stream: s.stream, severity: changeMagnitudeSeverity(prev, v), time: s.time,
      detectionLatency: 0, description: signal > 0 ? 'Positive' : 'Negative', tags: {},
    }];
  }

  state(key: string): unknown {
    const st = this.streams.get(key);
    if (st === undefined) return undefined;
    return {
      lastObserved: st.lastObserved,
      prev: st.prev === null ? null : encodeDouble(st.prev),
      history: st.history.map(encodeDouble),
      mean: encodeDouble(st.mean),
      std: encodeDouble(st.std),
    };
  }
}

describe('SpikeDetector against a plain reference (randomized)', () => {
  it('gives the same events and states for random parameters, data and restores', () => {
    const next = seeded(41);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    for (let run = 0; run < 60; run++) {
      const params: SpikeParams = {
        lag: pick([1, 2, 3, 5, 10, 50, 200]),
        threshold: pick([0.5, 1, 2, 3, 30]),
        influence: pick([0, 0.01, 0.5, 1]),
        inactivityPurgeTime: pick([0, 1, 60]),
      };
      const ref = new ReferenceSpike(params);
      let det = new SpikeDetector(params);
      mixedSamples(200 + run, 1500).forEach((s, i) => {
        assert.deepEqual(det.process(s), ref.process(s), `run ${run}, sample ${i}`);
        if (next() < 0.02) {
          const snap = det.saveState();
          for (const key of ['k0', 'k1', 'k2']) assert.deepEqual(snap.streams[key], ref.state(key), `run ${run}, sample ${i}, ${key}`);
          det = new SpikeDetector(params);
          det.loadState(structuredClone(snap));
        }
      });
    }
  });

  it('SmoothedZScore walks the history ring in arrival order after it wraps', () => {
    const z = new SmoothedZScore(3, 1000, 0);
    for (const v of [1, 2, 3, 4, 5]) z.add(v);
    assert.deepEqual(z.history(), [3, 4, 5]);
    assert.equal(z.mean, 4);
    assert.equal(z.std, Math.sqrt(2 / 3));
  });
});

describe('SpikeDetector matches the implementation before the packed-state rework', () => {
  it('gives the recorded fingerprints (seeded runs with ±0, NaN, ties, gaps and restores)', () => {
    const configs: SpikeParams[] = [
      defaultParams(spikeParamSet),
      { lag: 3, threshold: 1, influence: 0.5, inactivityPurgeTime: 1 },
      { lag: 20, threshold: 2, influence: 0, inactivityPurgeTime: 0 },
      { lag: 7, threshold: 0.5, influence: 1, inactivityPurgeTime: 60 },
    ];
    assert.deepEqual(configs.map((p, i) => fingerprint(() => new SpikeDetector(p), mixedSamples(17 + i, 6000))), GOLDEN_SPIKE);
  });
});
