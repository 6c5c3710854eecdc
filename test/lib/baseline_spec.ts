import { strict as assert } from 'node:assert';
import {
  BaselineDetector, BaselineParams, SortedWindow, baselineParamSet, legacyPercentile,
} from '../../lib/detectors/baseline';
import { SpikeDetector, spikeParamSet } from '../../lib/detectors/spike';
import { NO_EVENTS, Sample, StateError } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { changeMagnitudeSeverity } from '../../lib/severity';
import { defaultParams, parseParams } from '../../lib/params';
import { encodeDouble } from '../../lib/detectors/keyed';
import { fmtD } from '../../lib/format';
import { fingerprint, mixedSamples, seeded } from '../support/state-fingerprint';

const T0 = 1e12;
const NORMAL = 225000;
const ANOMALOUS = 22500000;

/** Measurement k of the checkpoint scenario: AMP ICMP stream "3", time t0 + k ms. */
function icmp(k: number, value: number | null, lossy = false): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value, lossy };
}

/** A generic series sample at an absolute time. */
function at(time: number, value: number | null, lossy = false, key = 's'): Sample {
  return { key, stream: key, kind: 'Series', time, value, lossy };
}

function runAll(det: BaselineDetector, samples: Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

/** Run with a save → JSON → load into a fresh detector before sample index `split`. */
function runWithRestore(params: BaselineParams, samples: Sample[], split: number): DetectorEvent[] {
  const first = new BaselineDetector(params);
  const a = runAll(first, samples.slice(0, split));
  const restored = new BaselineDetector(params);
  restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
  return [...a, ...runAll(restored, samples.slice(split))];
}

function checkpointScenario(): Sample[] {
  const samples: Sample[] = [];
  for (let k = 1; k <= 120; k++) samples.push(icmp(k, NORMAL));
  for (let k = 121; k <= 240; k++) samples.push(icmp(k, ANOMALOUS));
  return samples;
}

const range = (from: number, count: number, step = 1): number[] => Array.from({ length: count }, (_, i) => from + i * step);

describe('legacyPercentile (vector U4, q as a fraction, D1)', () => {
  const v100 = range(100, 50);
  const v103 = range(103, 300, 3);

  it("reproduces Streamevmon's checks restated in fraction units", () => {
    assert.equal(legacyPercentile(v100, 0.001), 100);
    assert.equal(legacyPercentile(v103, 0.01), 109.03);
  });

  it('gives the port-semantics vectors', () => {
    assert.equal(legacyPercentile(v100, 0), 100);
    assert.equal(legacyPercentile(v100, 0.1), 104.1);
    assert.equal(legacyPercentile(v100, 0.5), 124.5);
    assert.equal(legacyPercentile(v100, 0.9), 144.9);
    assert.equal(legacyPercentile(v100, 1), 149);
    assert.equal(legacyPercentile(v103, 0.1), 190.3);
    assert.equal(legacyPercentile([1, 2, 3, 4], 0.5), 2.5);
    for (const q of [0, 0.1, 0.5, 1]) assert.equal(legacyPercentile([5], q), 5);
    assert.ok(Number.isNaN(legacyPercentile([], 0.5)));
  });

  it('keeps the q·(n+1) double arithmetic (2452500.0000000116)', () => {
    const values = [...new Array<number>(5).fill(NORMAL), ...new Array<number>(45).fill(ANOMALOUS)];
    assert.equal(legacyPercentile(values, 0.1), 2452500.0000000116);
  });

  it('ignores NaNs and does not depend on input order', () => {
    assert.equal(legacyPercentile([NaN, 4, NaN, 1, 3, 2], 0.5), 2.5);
    assert.equal(legacyPercentile([NaN, 7], 0.9), 7);
    assert.ok(Number.isNaN(legacyPercentile([NaN, NaN], 0.5)));
  });
});

describe('SortedWindow', () => {
  it('matches legacyPercentile of the FIFO contents after every push (random data with ties, NaN, ±0)', () => {
    const next = seeded(42);
    // Small capacities with many ties; 300 with spread values for long shifts.
    for (const capacity of [1, 2, 3, 7, 50, 300]) {
      const w = new SortedWindow(capacity);
      const fifo: number[] = [];
      for (let i = 0; i < 700; i++) {
        const u = next();
        const v = u < 0.05 ? NaN : u < 0.1 ? -0 : u < 0.15 ? 0 : Math.floor(next() * (capacity > 50 ? 1000 : 20)) - 5;
        w.push(v);
        fifo.push(v);
        if (fifo.length > capacity) fifo.shift();
        assert.deepEqual(w.fifo.toArray(), fifo);
        for (const q of [0, 0.1, 0.5, 0.93, 1]) {
          const expected = legacyPercentile(fifo, q);
          const got = w.percentile(q);
          assert.ok(Object.is(got, expected) || got === expected, `capacity ${capacity}, step ${i}, q ${q}: ${got} != ${expected}`);
        }
      }
    }
  });
});

describe('BaselineDetector', () => {
  const defaults = defaultParams(baselineParamSet);

  it('has the documented defaults (§10.4)', () => {
    assert.deepEqual(defaults, { maxHistory: 50, percentile: 0.1, threshold: 25, inactivityPurgeTime: 600 });
  });

  it('checkpoint scenario: two events at t0+165 and t0+166 (§9.3, D1, D2)', () => {
    const events = runAll(new BaselineDetector(defaults), checkpointScenario());
    assert.deepEqual(events, [
      {
        eventType: 'baseline_events', stream: '3', severity: 100, time: T0 + 165, detectionLatency: 0,
        description: 'Observed baseline changed from 225000.0 to 2452500.0000000116', tags: {},
      },
      {
        eventType: 'baseline_events', stream: '3', severity: 100, time: T0 + 166, detectionLatency: 0,
        description: 'Observed baseline changed from 2452500.0000000116 to 2.25E7', tags: {},
      },
    ]);
  });

  it('checkpoint scenario: no output in the first phase, identical output with a save/restore after it', () => {
    const samples = checkpointScenario();
    const straight = runAll(new BaselineDetector(defaults), samples);
    const det = new BaselineDetector(defaults);
    assert.deepEqual(runAll(det, samples.slice(0, 120)), []);
    assert.deepEqual(runWithRestore(defaults, samples, 120), straight);
  });

  it('gives identical output with a save/restore at any point of a noisy run', () => {
    const next = seeded(7);
    const params = { ...defaults, maxHistory: 20, percentile: 0.3, threshold: 10 };
    const samples: Sample[] = [];
    for (let k = 0; k < 300; k++) {
      const level = k < 100 ? 1000 : k < 200 ? 1500 : 800;
      const lossy = next() < 0.1;
      samples.push(at(k * 1000, lossy && next() < 0.5 ? null : level + Math.floor(next() * 50), lossy));
    }
    const straight = runAll(new BaselineDetector(params), samples);
    assert.ok(straight.length >= 2, 'the scenario produces events');
    for (let split = 0; split <= samples.length; split += 13) {
      assert.deepEqual(runWithRestore(params, samples, split), straight, `split at ${split}`);
    }
  });

  it('keeps NaN values and results through save/restore', () => {
    const params = { ...defaults, maxHistory: 3 };
    const samples = [at(0, NaN), at(1, NaN), at(2, NaN), at(3, 100), at(4, 100), at(5, 100), at(6, 1000), at(7, 1000)];
    const straight = runAll(new BaselineDetector(params), samples);
    for (let split = 1; split < samples.length; split++) {
      assert.deepEqual(runWithRestore(params, samples, split), straight, `split at ${split}`);
    }
  });

  it('emits nothing on steady input, noise-free or with small noise, and allocates no result', () => {
    const det = new BaselineDetector(defaults);
    for (let k = 1; k <= 500; k++) assert.equal(det.process(icmp(k, NORMAL)), NO_EVENTS);
    const noisy = new BaselineDetector(defaults);
    const next = seeded(1);
    for (let k = 1; k <= 2000; k++) assert.equal(noisy.process(icmp(k, 1000 + Math.floor(next() * 30))), NO_EVENTS);
  });

  it('detects a level drop once about 10 % of the window is low', () => {
    const det = new BaselineDetector(defaults);
    for (let k = 1; k <= 60; k++) det.process(icmp(k, 1000));
    const events = runAll(det, range(61, 10).map((k) => icmp(k, 500)));
    // pos = 0.1·51 = 5.1: the 5th low value moves the baseline to 500 + 0.1·500, the 6th to 500.
    assert.deepEqual(events.map((e) => [e.time - T0, e.severity, e.description]), [
      [65, 100, 'Observed baseline changed from 1000.0 to 550.0000000000002'],
      [66, changeMagnitudeSeverity(550.0000000000002, 500), 'Observed baseline changed from 550.0000000000002 to 500.0'],
    ]);
  });

  it('the percentile is a fraction: 0.5 tracks the median (D1)', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 10, percentile: 0.5 });
    for (let k = 1; k <= 20; k++) det.process(icmp(k, 1000));
    const events = runAll(det, range(21, 10).map((k) => icmp(k, 2000)));
    // With 5 of 10 values at 2000 the median is half way; with 6 it is 2000.
    assert.deepEqual(events.map((e) => [e.time - T0, e.description]), [
      [25, 'Observed baseline changed from 1000.0 to 1500.0'],
      [26, 'Observed baseline changed from 1500.0 to 2000.0'],
    ]);
  });

  it('emits only when the severity is more than the threshold', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 1, threshold: 25 });
    // With maxHistory 1 the baseline is the last value. 1000 → 1086 scores 25, 1000 → 1087 scores 26.
    const events = runAll(det, [1000, 1000, 1086, 1000, 1087].map((v, i) => at(i, v)));
    assert.deepEqual(events.map((e) => [e.time, e.severity, e.description]), [
      [4, 26, 'Observed baseline changed from 1000.0 to 1087.0'],
    ]);
  });

  it('warms up for the reset value plus maxHistory − 1 values before comparing', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 5, percentile: 1 });
    // percentile 1 tracks the max: it jumps at the 4th value (window not full, no comparison)
    // and again at the 5th (window full, compared with the 4th's result).
    const events = runAll(det, [100, 100, 100, 1000, 5000].map((v, i) => at(i + 1, v)));
    assert.deepEqual(events.map((e) => [e.time, e.description]), [[5, 'Observed baseline changed from 1000.0 to 5000.0']]);
  });

  it('makes no comparison before a previous result exists (D2, quirk 3)', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 1 });
    // Streamevmon compared the 2nd value with lastResult = 0 and scored 100.
    const events = runAll(det, [100, 1000, 5000].map((v, i) => at(i, v)));
    assert.deepEqual(events.map((e) => e.description), ['Observed baseline changed from 1000.0 to 5000.0']);
  });

  it('keeps the previous result per key: interleaved streams do not disturb each other (D2, quirk 2)', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 3 });
    const samples: Sample[] = [];
    for (let k = 0; k < 50; k++) samples.push(at(k, 100, false, 'a'), at(k, 90000, false, 'b'));
    assert.deepEqual(runAll(det, samples), []);
    assert.equal(det.streamCount, 2);
  });

  it('keeps the previous result across an inactivity reset (D2)', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 2, inactivityPurgeTime: 10 });
    runAll(det, [at(0, 100), at(1000, 100), at(2000, 100)]);
    assert.deepEqual(det.process(at(20000, 1000)), [], 'the reset measurement is not compared');
    const [e] = det.process(at(21000, 1000));
    assert.equal(e.description, 'Observed baseline changed from 100.0 to 1000.0');
  });

  describe('inactivity purge (§1.4, C1)', () => {
    const params = { ...defaults, maxHistory: 3, percentile: 1, inactivityPurgeTime: 10 };
    const warm = (det: BaselineDetector): void => {
      runAll(det, [at(0, 100), at(1000, 100), at(2000, 100)]);
    };

    it('does not reset at a gap of exactly inactivityPurgeTime', () => {
      const det = new BaselineDetector(params);
      warm(det);
      assert.equal(det.process(at(12000, 1000)).length, 1);
    });

    it('resets at a gap of more than inactivityPurgeTime, keeping the value as the new window', () => {
      const det = new BaselineDetector(params);
      warm(det);
      assert.deepEqual(det.process(at(12001, 1000)), []);
      assert.deepEqual(det.process(at(12002, 1000)), [], 'window [1000, 1000] is not full');
      assert.deepEqual(det.process(at(12003, 50)), [], 'window [1000, 1000, 50]: max still 1000');
      assert.equal(det.process(at(12004, 50)).length, 0);
      const [e] = det.process(at(12005, 50));
      assert.equal(e.description, 'Observed baseline changed from 1000.0 to 50.0');
    });

    it('purge time 0 never resets (C1)', () => {
      const det = new BaselineDetector({ ...params, inactivityPurgeTime: 0 });
      warm(det);
      assert.equal(det.process(at(1e9, 1000)).length, 1);
      assert.equal(det.process(at(1e9 + 1, 1000)).length, 0);
    });

    it('measures the gap from the newest time seen: an older measurement does not move it back', () => {
      const det = new BaselineDetector(params);
      warm(det);
      det.process(at(500, 100));
      assert.equal(det.process(at(12000, 1000)).length, 1, 'gap from 2000 is exactly 10 s');
    });

    it('lossy measurements keep the series alive without entering the window', () => {
      const det = new BaselineDetector(params);
      warm(det);
      assert.deepEqual(det.process(at(9000, 99999, true)), [], 'lossy with a value: skipped');
      assert.deepEqual(det.process(at(10000, null, true)), []);
      // 18 s after the last value but only 8 s after the last lossy one: no reset.
      const [e] = det.process(at(18000, 1000));
      assert.equal(e.description, 'Observed baseline changed from 100.0 to 1000.0');
    });

    it('a lossy measurement that triggers a reset leaves no starting point, so the next one resets again', () => {
      const det = new BaselineDetector({ ...params, maxHistory: 2 });
      runAll(det, [at(0, 100), at(1000, 100)]);
      assert.deepEqual(det.process(at(20000, null, true)), []);
      // Were the lossy one a starting point, 1000 would join the old window and fire at 21000.
      assert.deepEqual(det.process(at(21000, 1000)), []);
      const [e] = det.process(at(22000, 1000));
      assert.equal(e.time, 22000);
      assert.equal(e.description, 'Observed baseline changed from 100.0 to 1000.0');
    });

    it('a new key whose first measurement is lossy starts at its first value', () => {
      const det = new BaselineDetector({ ...params, maxHistory: 2 });
      const events = runAll(det, [at(0, 5, true), at(1, 100), at(2, 100), at(3, 1000)]);
      assert.deepEqual(events.map((e) => e.time), [3]);
    });

    it('a missing value is handled as lossy even without the lossy flag', () => {
      const det = new BaselineDetector(params);
      warm(det);
      assert.deepEqual(det.process(at(3000, null)), []);
      const st = det.saveState().streams.s as { lastObserved: number; window: number[] };
      assert.deepEqual(st.window, [100, 100, 100], 'nothing entered the window');
      assert.equal(st.lastObserved, 3000);
    });
  });

  it('resets one key or all', () => {
    const det = new BaselineDetector({ ...defaults, maxHistory: 2, percentile: 1 });
    for (let k = 0; k < 3; k++) {
      det.process(at(k, 100, false, 'a'));
      det.process(at(k, 100, false, 'b'));
    }
    det.reset('a');
    assert.equal(det.streamCount, 1);
    assert.deepEqual(det.process(at(3, 1000, false, 'a')), [], 'a starts over with a reset');
    assert.equal(det.process(at(3, 1000, false, 'b')).length, 1, 'b kept its window');
    det.reset();
    assert.equal(det.streamCount, 0);
    assert.deepEqual(det.process(at(4, 5, false, 'b')), []);
  });

  describe('stored state', () => {
    const stored = (): { det: BaselineDetector; snap: ReturnType<BaselineDetector['saveState']> } => {
      const det = new BaselineDetector(defaults);
      runAll(det, range(1, 10).map((k) => icmp(k, 1000 + k)));
      return { det, snap: JSON.parse(JSON.stringify(det.saveState())) };
    };

    it('is plain JSON with the window in arrival order', () => {
      const { snap } = stored();
      assert.equal(snap.detector, 'baseline_events');
      assert.deepEqual(snap.streams['ICMP-3'], { lastObserved: T0 + 10, window: range(1001, 10), lastResult: 1001.1 });
    });

    const corruptions: Array<[string, (s: Record<string, any>) => void]> = [
      ['a window that is not an array', (s) => { s.window = 'oops'; }],
      ['a non-numeric window entry', (s) => { s.window[3] = 'x'; }],
      ['a window longer than maxHistory', (s) => { s.window = new Array(51).fill(1); }],
      ['an empty window with a lastObserved', (s) => { s.window = []; }],
      ['a non-numeric lastObserved', (s) => { s.lastObserved = '1000'; }],
      ['a non-numeric lastResult', (s) => { s.lastResult = 'big'; }],
    ];
    for (const [what, corrupt] of corruptions) {
      it(`rejects ${what} with a StateError and keeps its own state`, () => {
        const { snap } = stored();
        const other = new BaselineDetector(defaults);
        other.process(at(0, 7, false, 'mine'));
        corrupt(snap.streams['ICMP-3'] as Record<string, any>);
        assert.throws(() => other.loadState(snap), (err: unknown) => err instanceof StateError && /corrupt/.test(err.message));
        assert.equal(other.streamCount, 1);
      });
    }

    it('rejects a stream stored as an array', () => {
      const { snap } = stored();
      snap.streams['ICMP-3'] = [1, 2];
      assert.throws(() => new BaselineDetector(defaults).loadState(snap), StateError);
    });

    it('rejects foreign, versioned-away or differently configured state', () => {
      const { snap } = stored();
      const det = new BaselineDetector(defaults);
      const spike = new SpikeDetector(defaultParams(spikeParamSet));
      spike.process(icmp(1, 5));
      assert.throws(() => det.loadState(spike.saveState()), (e: unknown) => e instanceof StateError && /spike_events/.test(e.message));
      assert.throws(() => det.loadState({ ...snap, version: 99 }), (e: unknown) => e instanceof StateError && /version/.test(e.message));
      assert.throws(() => new BaselineDetector({ ...defaults, maxHistory: 10 }).loadState(snap), (e: unknown) => e instanceof StateError && /parameters changed/.test(e.message));
      assert.throws(() => det.loadState(null), StateError);
      assert.throws(() => det.loadState('{}'), StateError);
    });
  });

  describe('parameter validation (D9)', () => {
    const check = (raw: Record<string, unknown>): string[] => parseParams(baselineParamSet, raw).errors;

    it('rejects every out-of-range or malformed value with a clear message', () => {
      assert.deepEqual(check({ maxHistory: '0', percentile: '-0.1', threshold: '-1', inactivityPurgeTime: '-1' }), [
        'baseline: maxHistory must be an integer between 1 and 300 (got 0)',
        'baseline: percentile must be a number between 0 and 1 (got -0.1)',
        'baseline: threshold must be a number between 0 and 100 (got -1)',
        'baseline: inactivityPurgeTime must be an integer between 0 and 2147483647 (got -1)',
      ]);
      assert.deepEqual(check({ maxHistory: '301', percentile: '1.5', threshold: '100.5', inactivityPurgeTime: '2147483648' }), [
        'baseline: maxHistory must be an integer between 1 and 300 (got 301)',
        'baseline: percentile must be a number between 0 and 1 (got 1.5)',
        'baseline: threshold must be a number between 0 and 100 (got 100.5)',
        'baseline: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 2147483648)',
      ]);
      assert.deepEqual(check({ maxHistory: '2.5', percentile: 'ten', inactivityPurgeTime: '1.5' }), [
        'baseline: maxHistory must be an integer between 1 and 300 (got 2.5)',
        'baseline: percentile must be a number between 0 and 1 (got ten)',
        'baseline: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 1.5)',
      ]);
    });

    it('accepts the bounds, numbers and numeric strings, and fills in defaults', () => {
      assert.deepEqual(parseParams(baselineParamSet, { maxHistory: '1', percentile: '0', threshold: '0', inactivityPurgeTime: '0' }), {
        params: { maxHistory: 1, percentile: 0, threshold: 0, inactivityPurgeTime: 0 }, errors: [],
      });
      assert.deepEqual(parseParams(baselineParamSet, { maxHistory: 300, percentile: 1, threshold: 100, inactivityPurgeTime: 2147483647 }).errors, []);
      assert.deepEqual(parseParams(baselineParamSet, {}).params, defaults);
      assert.deepEqual(parseParams(baselineParamSet, { percentile: '0.5' }).params, { ...defaults, percentile: 0.5 });
    });
  });
});

// ---- Randomized and golden checks of the packed per-stream state ----

/** Recorded from the implementation before the packed-state rework (typed arrays per stream). */
const GOLDEN_BASELINE = [
  'b51f984173a8adfc',
  '481c5e73a0421512',
  'c4bb2750dbb8affb',
  'd0725013d8b1c853',
];

/** §3.1 read plainly: the window as an array, its percentile by sorting a copy every time. */
class ReferenceBaseline {
  private readonly streams = new Map<string, { lastObserved: number | null; window: number[]; lastResult: number | null }>();

  constructor(private readonly p: BaselineParams) {}

  process(s: Sample): DetectorEvent[] {
    const p = this.p;
    let st = this.streams.get(s.key);
    if (st === undefined) {
      st = { lastObserved: null, window: [], lastResult: null };
      this.streams.set(s.key, st);
    }
    const lossy = s.lossy || s.value === null;
    const purgeMs = p.inactivityPurgeTime * 1000;
    if (st.lastObserved === null || (purgeMs !== 0 && s.time - st.lastObserved > purgeMs)) {
      if (lossy) {
        st.lastObserved = null;
      } else {
        st.lastObserved = s.time;
        st.window = [s.value as number];
      }
      return [];
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (lossy) return [];
    st.window.push(s.value as number);
    if (st.window.length > p.maxHistory) st.window.shift();
    const r = legacyPercentile(st.window, p.percentile);
    const prev = st.lastResult;
    st.lastResult = r;
    if (prev === null || st.window.length < p.maxHistory) return [];
    const severity = changeMagnitudeSeverity(prev, r);
    if (!(severity > p.threshold)) return [];
    return [{
      eventType: 'baseline_events', stream: s.stream, severity, time: s.time, detectionLatency: 0,
      description: `Observed baseline changed from ${fmtD(prev)} to ${fmtD(r)}`, tags: {},
    }];
  }

  state(key: string): unknown {
    const st = this.streams.get(key);
    if (st === undefined) return undefined;
    return {
      lastObserved: st.lastObserved,
      window: st.window.map(encodeDouble),
      lastResult: st.lastResult === null ? null : encodeDouble(st.lastResult),
    };
  }
}

describe('BaselineDetector against a plain reference (randomized)', () => {
  it('gives the same events and states for random parameters, data and restores', () => {
    const next = seeded(31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    for (let run = 0; run < 60; run++) {
      const params: BaselineParams = {
        maxHistory: pick([1, 2, 3, 7, 20, 50, 300]),
        percentile: pick([0, 0.1, 0.5, 0.93, 1]),
        threshold: pick([0, 5, 25]),
        inactivityPurgeTime: pick([0, 1, 600]),
      };
      // No −0: sorting a copy may order 0 and −0 either way, the sorted window keeps its own order.
      const samples = mixedSamples(100 + run, 1500).map((s) => (Object.is(s.value, -0) ? { ...s, value: 0 } : s));
      const ref = new ReferenceBaseline(params);
      let det = new BaselineDetector(params);
      samples.forEach((s, i) => {
        assert.deepEqual(det.process(s), ref.process(s), `run ${run}, sample ${i}`);
        if (next() < 0.02) {
          const snap = det.saveState();
          for (const key of ['k0', 'k1', 'k2']) assert.deepEqual(snap.streams[key], ref.state(key), `run ${run}, sample ${i}, ${key}`);
          det = new BaselineDetector(params);
          det.loadState(structuredClone(snap));
        }
      });
    }
  });

  it('remembers the severity of an unchanged baseline exactly, ±0 and NaN included', () => {
    // Window of 1 with percentile 1: the baseline is the last value, so prev and r repeat.
    const params = { ...defaultParams(baselineParamSet), maxHistory: 1, percentile: 1, threshold: 0 };
    const values = [5, 5, 5, 0, 0, -0, -0, 0, NaN, NaN, 7, 7, -0, 0.05, 0.05, Infinity, Infinity, 5];
    const det = new BaselineDetector(params);
    const ref = new ReferenceBaseline(params);
    values.forEach((v, k) => assert.deepEqual(det.process(at(k, v)), ref.process(at(k, v)), `value ${k}`));
  });
});

describe('BaselineDetector matches the implementation before the packed-state rework', () => {
  it('gives the recorded fingerprints (seeded runs with ±0, NaN, ties, gaps and restores)', () => {
    const configs: BaselineParams[] = [
      defaultParams(baselineParamSet),
      { maxHistory: 3, percentile: 0.5, threshold: 0, inactivityPurgeTime: 1 },
      { maxHistory: 20, percentile: 1, threshold: 5, inactivityPurgeTime: 0 },
      { maxHistory: 7, percentile: 0, threshold: 0, inactivityPurgeTime: 600 },
    ];
    assert.deepEqual(configs.map((p, i) => fingerprint(() => new BaselineDetector(p), mixedSamples(7 + i, 6000))), GOLDEN_BASELINE);
  });
});
