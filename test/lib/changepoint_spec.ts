import { strict as assert } from 'node:assert';
import {
  ChangepointDetector, ChangepointParams, INIT_DIST, NormalDist, absorb, changepointParamSet, pdf,
} from '../../lib/detectors/changepoint';
import { SpikeDetector, spikeParamSet } from '../../lib/detectors/spike';
import { encodeDouble } from '../../lib/detectors/keyed';
import {
  DetectorSnapshot, NO_EVENTS, SNAPSHOT_FORMAT, Sample, StateError,
} from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { changeMagnitudeSeverity, trunc } from '../../lib/severity';
import { seeded } from '../support/state-fingerprint';

const T0 = 1e12;
const NORMAL = 225000;
const ANOMALOUS = 22500000;
const defaults = defaultParams(changepointParamSet);

/** §9.3: AMP ICMP stream "3", measurement k at t0 + k ms. */
function icmp(k: number, value: number | null, lossy = false): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value, lossy };
}

/** The §9.3 checkpoint input: 120 normal, then 120 anomalous measurements. */
function checkpointSamples(): Sample[] {
  const out: Sample[] = [];
  for (let k = 1; k <= 240; k++) out.push(icmp(k, k <= 120 ? NORMAL : ANOMALOUS));
  return out;
}

/** A generic series: value i at t0 + i·dt (seconds by default). */
function series(values: ReadonlyArray<number | null>, dt = 1000, t0 = T0, key = 'k'): Sample[] {
  return values.map((value, i) => ({ key, stream: key, kind: 'Series', time: t0 + i * dt, value, lossy: value === null }));
}

function runAll(det: ChangepointDetector, samples: readonly Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

function make(overrides: Partial<ChangepointParams> = {}): ChangepointDetector {
  return new ChangepointDetector({ ...defaults, ...overrides } as ChangepointParams);
}

/** Indices (into the input) of the samples that produced an event. */
function eventIndices(det: ChangepointDetector, samples: readonly Sample[]): number[] {
  const out: number[] = [];
  samples.forEach((s, i) => { if (det.process(s).length) out.push(i); });
  return out;
}

const step = (a: number, b: number, at: number, n: number): number[] => Array.from({ length: n }, (_, i) => (i < at ? a : b));

describe('changepoint Normal model (vector U2, DistributionTest)', () => {
  const close = (actual: number, expected: number): void => {
    assert.ok(Math.abs(actual - expected) <= 1e-15, `${actual} differs from ${expected}`);
  };

  it('gives the reference densities of the initial distribution', () => {
    close(pdf(INIT_DIST.mean, INIT_DIST.variance, 0), 3.989422804014325e-5);
    close(pdf(INIT_DIST.mean, INIT_DIST.variance, 1), 3.98942278406721e-5);
  });

  it('absorbs values with the reference weighting', () => {
    const xs = [1, 0.5, -1, 2, -3, 4, -5];
    const means = [1, 2.5 / 3, 0.375, 0.7, 1 / 12, 9 / 14, -1 / 16];
    const variances = [5e7, 3.333333338888889e7, 2.5000000671875e7, 2.000000096e7, 1.6666669368055558e7, 1.4285718479591837e7, 1.2500007152343752e7];
    const pdf1 = [5.641895835477566e-5, 6.909882980789e-5, 7.978845438478e-5, 8.920620346597e-5, 9.772049199778e-5, 1.0555019017665e-4, 1.12837879332e-4];
    let d: NormalDist = { ...INIT_DIST };
    xs.forEach((x, i) => {
      d = absorb(d, x, i + 1);
      assert.equal(d.n, i + 1);
      close(d.mean, means[i]);
      close(d.variance, variances[i]);
      close(pdf(d.mean, d.variance, 1), pdf1[i]);
    });
  });

  it('keeps the zero-variance fallback v = y/100, NaN for negative y (quirk 4)', () => {
    assert.equal(pdf(0, 0, 100), (1 / Math.sqrt(2 * Math.PI)) * Math.exp(-(100 * 100) / 2));
    assert.ok(Number.isNaN(pdf(0, 1e-16, -100)));
  });
});

describe('ChangepointDetector', () => {
  it('has the documented defaults (§10.4)', () => {
    assert.deepEqual(defaults, {
      maxHistory: 60, triggerCount: 40, ignoreOutlierNormalCount: 1, inactivityPurgeTime: 60, minimumEventInterval: 10, severityThreshold: 30,
    });
  });

  describe('checkpoint scenario (§9.3, D4 re-derived)', () => {
    it('emits nothing for 120 normal measurements', () => {
      assert.deepEqual(runAll(make(), checkpointSamples().slice(0, 120)), []);
    });

    it('emits exactly the provisional port event: t0+163, severity 100, latency 42 ms', () => {
      assert.deepEqual(runAll(make(), checkpointSamples()), [{
        eventType: 'changepoint_events',
        stream: '3',
        severity: 100,
        time: T0 + 163,
        detectionLatency: 42,
        description: 'Latency increased from 967500 to 22500000',
        tags: {},
      }]);
    });

    it('gives identical output with a save → JSON → load at any point', () => {
      const samples = checkpointSamples();
      const straight = runAll(make(), samples);
      for (const cut of [1, 2, 60, 120, 121, 122, 140, 162, 163, 200]) {
        const first = make();
        const a = runAll(first, samples.slice(0, cut));
        const restored = make();
        restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
        const b = runAll(restored, samples.slice(cut));
        assert.deepEqual([...a, ...b], straight, `cut after measurement ${cut}`);
      }
    });
  });

  it('stays silent on steady input: constant, small noise, a sawtooth', () => {
    assert.deepEqual(runAll(make(), series(new Array<number>(2000).fill(NORMAL))), []);
    assert.deepEqual(runAll(make(), series(new Array<number>(500).fill(5))), []);
    let seed = 1;
    const noise = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 - 0.5; };
    assert.deepEqual(runAll(make(), series(Array.from({ length: 3000 }, () => 1000 * (1 + 0.1 * noise())))), []);
    assert.deepEqual(runAll(make(), series(Array.from({ length: 3000 }, (_, i) => 1000 + (i % 5)))), []);
  });

  it('returns the shared NO_EVENTS array when nothing happens (no allocation)', () => {
    const det = make();
    for (const s of series([1000, 1000, 1000])) assert.equal(det.process(s), NO_EVENTS);
  });

  it('ignores isolated outliers', () => {
    const one = Array.from({ length: 300 }, (_, i) => (i === 150 ? 100000 : 1000));
    const two = Array.from({ length: 300 }, (_, i) => (i === 150 || i === 151 ? 100000 : 1000));
    assert.deepEqual(runAll(make(), series(one)), []);
    assert.deepEqual(runAll(make(), series(two)), []);
  });

  it('reports a level shift up and down, with truncated values in the description', () => {
    // Shift at 150 s, found at 190 s. The latency runs from the start of the run that was most
    // likely before the anomalies, often long before the shift (62 s here).
    const up = runAll(make(), series(step(1000, 5000.9, 150, 300)));
    assert.deepEqual(up.map((e) => [e.time - T0, e.severity, e.detectionLatency, e.description]),
      [[190000, 100, 128000, 'Latency increased from 1000 to 5000']]);
    const down = runAll(make(), series(step(100000, 20000, 150, 300)));
    assert.deepEqual(down.map((e) => [e.time - T0, e.severity, e.detectionLatency, e.description]),
      [[190000, 100, 128000, 'Latency decreased from 100000 to 20000']]);
    const twice = runAll(make(), series(Array.from({ length: 400 }, (_, i) => (i < 100 || i >= 200 ? 1000 : 5000))));
    assert.deepEqual(twice.map((e) => e.description), ['Latency increased from 1000 to 5000', 'Latency decreased from 5000 to 1000']);
  });

  it('emits only when severity is more than severityThreshold', () => {
    // 100000 → 105000 is found as a change, with severity 14 (< 30 by default).
    const samples = series(step(100000, 105000, 150, 300));
    assert.deepEqual(runAll(make(), samples), []);
    assert.deepEqual(runAll(make({ severityThreshold: 14 }), samples), []);
    const [e] = runAll(make({ severityThreshold: 13 }), samples);
    assert.equal(e.severity, 14);
    assert.equal(e.description, 'Latency increased from 100000 to 105000');
  });

  describe('after a reset', () => {
    // With outliers never restored (600), constant data counts as anomalous from the first
    // value after a reset: the 42nd measurement after the reset measurement fires.
    const eager = { ignoreOutlierNormalCount: 600 };

    it('fires with the FAKE composite: severity 100, latency since the epoch (quirk 2)', () => {
      const events = runAll(make(eager), series(new Array<number>(100).fill(1000)));
      assert.deepEqual(events.map((e) => [e.time, e.severity, e.detectionLatency, e.description]), [
        [T0 + 41000, 100, T0 + 41000, 'Latency increased from 0 to 1000'],
        [T0 + 82000, 100, T0 + 82000, 'Latency increased from 0 to 1000'],
      ]);
    });

    it('suppresses events within minimumEventInterval (strictly more) but still resets (quirk 3)', () => {
      const samples = series(new Array<number>(200).fill(1000));
      // Triggers at 41, 82, 123, 164 s: 41 s apart.
      assert.deepEqual(eventIndices(make({ ...eager, minimumEventInterval: 40 }), samples), [41, 82, 123, 164]);
      assert.deepEqual(eventIndices(make({ ...eager, minimumEventInterval: 41 }), samples), [41, 123]);
      assert.deepEqual(eventIndices(make({ ...eager, minimumEventInterval: 50 }), samples), [41, 123]);
    });

    it('measures minimumEventInterval from the epoch before the first event', () => {
      const samples = series(new Array<number>(200).fill(1000), 100, 0); // triggers every 4.1 s from t = 4.1 s
      // 4.1 s and 8.2 s are not more than 10 s after the epoch; 16.4 s is within 10 s of 12.3 s.
      assert.deepEqual(eventIndices(make(eager), samples), [123]);
    });
  });

  describe('inactivity purge (§1.4)', () => {
    const eager = { ignoreOutlierNormalCount: 600 };
    /** 1000s at 1 s spacing, with a gap of `gap` ms before measurement 20. */
    const withGap = (gap: number): Sample[] => series(new Array<number>(150).fill(1000)).map((s, i) => (i >= 20 ? { ...s, time: s.time + gap - 1000 } : s));

    it('resets only when the gap is more than inactivityPurgeTime', () => {
      assert.deepEqual(eventIndices(make(eager), withGap(60000)), [41, 82, 123]);
      assert.deepEqual(eventIndices(make(eager), withGap(60001)), [61, 102, 143]);
    });

    it('never purges with inactivityPurgeTime 0', () => {
      assert.deepEqual(eventIndices(make({ ...eager, inactivityPurgeTime: 0 }), withGap(1e9)), [41, 82, 123]);
    });

    it('does not move lastObserved back for an out-of-order measurement', () => {
      const samples = series(new Array<number>(150).fill(1000));
      samples[20] = { ...samples[20], time: T0 - 50000 }; // 70 s older than its predecessor
      samples[21] = { ...samples[21], time: T0 + 19000 + 60000 }; // exactly 60 s after the newest
      for (let i = 22; i < samples.length; i++) samples[i] = { ...samples[i], time: samples[i].time + 59000 };
      const never = eventIndices(make({ ...eager, inactivityPurgeTime: 0 }), samples);
      assert.deepEqual(eventIndices(make(eager), samples), never);
      assert.deepEqual(never, [41, 82, 123]);
    });

    it('checks the purge before skipping a measurement without a value (C2)', () => {
      const samples = series([null, ...new Array<number>(100).fill(1000)]);
      // The value-less first measurement is the reset point, so the next one is processed.
      assert.deepEqual(eventIndices(make(eager), samples), [41, 82]);
      // 50 s steps, purge 60 s: the value-less measurement refreshes lastObserved.
      const runsAfter = (input: Sample[]): number => {
        const det = make();
        runAll(det, input);
        return (det.saveState().streams.k as { runs: { mean: number[] } }).runs.mean.length;
      };
      const withNull = series([1000, 1000, null, 1000], 50000);
      assert.equal(runsAfter(withNull), 1);
      assert.equal(runsAfter([withNull[0], withNull[1], withNull[3]]), 0, 'a 100 s gap purges');
    });
  });

  describe('lossy measurements', () => {
    it('skips measurements without a value (C2) without counting them', () => {
      const plain = checkpointSamples();
      const gappy: Sample[] = [];
      // A lossy, value-less measurement (same time) after every anomalous one.
      for (const s of plain) {
        gappy.push(s);
        if (s.value === ANOMALOUS) gappy.push({ ...s, time: s.time, value: null, lossy: true });
      }
      const [e] = runAll(make(), gappy);
      assert.equal(e.time, T0 + 163);
      assert.equal(e.description, 'Latency increased from 967500 to 22500000');
    });

    it('uses a lossy measurement that has a value: lossiness is not checked', () => {
      const lossy = checkpointSamples().map((s) => ({ ...s, lossy: true }));
      assert.deepEqual(runAll(make(), lossy), runAll(make(), checkpointSamples()));
    });
  });

  it('keeps state per key and resets one key or all', () => {
    const det = make();
    const a = checkpointSamples().map((s) => ({ ...s, key: 'a', stream: 'a' }));
    const b = checkpointSamples().map((s) => ({ ...s, key: 'b', stream: 'b' }));
    const events: DetectorEvent[] = [];
    for (let i = 0; i < 150; i++) {
      events.push(...det.process(a[i]), ...det.process(b[i]));
    }
    assert.equal(det.streamCount, 2);
    det.reset('a');
    assert.equal(det.streamCount, 1);
    for (let i = 150; i < 240; i++) events.push(...det.process(a[i]), ...det.process(b[i]));
    // b fires as usual; a restarted on anomalous data and only initialised from measurement 151 on.
    assert.deepEqual(events.map((e) => [e.stream, e.time - T0]), [['b', 163]]);
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('restores NaN and infinite model values exactly through JSON', () => {
    const p = { maxHistory: 5, triggerCount: 3 };
    const samples = series([1e3, 1e3, 1e3, 1.7e308, 1.7e308, -1.7e308, 5, 5, 5, 5, 5]);
    const first = make(p);
    runAll(first, samples.slice(0, 8));
    const json = JSON.stringify(first.saveState());
    assert.match(json, /"NaN"/);
    assert.match(json, /"-?Infinity"/);
    const restored = make(p);
    restored.loadState(JSON.parse(json));
    assert.deepEqual(restored.saveState(), first.saveState());
  });

  describe('stored state', () => {
    const saved = (): ReturnType<ChangepointDetector['saveState']> => {
      const det = make();
      runAll(det, checkpointSamples().slice(0, 130));
      return JSON.parse(JSON.stringify(det.saveState()));
    };

    it('rejects state from another detector, version or parameters', () => {
      const snap = saved();
      const spike = new SpikeDetector(defaultParams(spikeParamSet));
      assert.throws(() => make().loadState(spike.saveState()), (e: unknown) => e instanceof StateError && /belongs to spike_events/.test(e.message));
      assert.throws(() => make({ maxHistory: 61 }).loadState(snap), (e: unknown) => e instanceof StateError && /parameters changed/.test(e.message));
      assert.throws(() => make().loadState({ ...snap, version: 2 }), StateError);
      assert.throws(() => make().loadState(null), StateError);
      assert.throws(() => make().loadState({ format: 'x' }), /not a streamevmon detector state/);
    });

    it('rejects corrupt per-stream state and keeps its own', () => {
      const det = make();
      runAll(det, checkpointSamples().slice(0, 10));
      const before = det.saveState();
      const corruptions: Array<(s: any) => void> = [
        (s) => { s.runs.prob.pop(); },
        (s) => { s.runs = 'oops'; },
        (s) => { s.normalRuns.mean = [1, 2, 'x']; },
        (s) => { for (const c of ['mean', 'variance', 'prob', 'start']) s.runs[c] = new Array(61).fill(1); },
        (s) => { s.runs.start[0] = 'NaN'; },
        (s) => { s.ca = -1; },
        (s) => { s.cno = 1.5; },
        (s) => { s.pml = -2; },
        (s) => { s.lastObserved = 'yesterday'; },
        (s) => { s.lastEventTime = undefined; },
        (s) => { s.compositeMean = null; },
        (s) => { delete s.compositeStart; },
      ];
      for (const corrupt of corruptions) {
        const snap = saved();
        corrupt(snap.streams['ICMP-3']);
        assert.throws(() => det.loadState(snap), (e: unknown) => e instanceof StateError && /stream "ICMP-3" is corrupt/.test(e.message), corrupt.toString());
      }
      assert.deepEqual(det.saveState(), before);
    });
  });

  describe('parameter validation (D9)', () => {
    const errors = (raw: Record<string, unknown>): string[] => parseParams(changepointParamSet, raw).errors;

    it('accepts the defaults and values at the range ends', () => {
      assert.deepEqual(parseParams(changepointParamSet, {}).params, defaults);
      assert.deepEqual(errors({ maxHistory: '600', triggerCount: '599', ignoreOutlierNormalCount: '600', inactivityPurgeTime: '2147483647', minimumEventInterval: '600', severityThreshold: '100' }), []);
      assert.deepEqual(errors({ maxHistory: '2', triggerCount: '1', ignoreOutlierNormalCount: '0', inactivityPurgeTime: '1', minimumEventInterval: '0', severityThreshold: '0' }), []);
      assert.deepEqual(parseParams(changepointParamSet, { severityThreshold: '12.5' }).params.severityThreshold, 12.5);
    });

    it('rejects values out of range or not integers', () => {
      assert.deepEqual(errors({ maxHistory: '0', triggerCount: '0', ignoreOutlierNormalCount: '-1', inactivityPurgeTime: '-1', minimumEventInterval: '-1', severityThreshold: '-1' }), [
        'changepoint: maxHistory must be an integer between 1 and 600 (got 0)',
        'changepoint: triggerCount must be an integer between 1 and 600 (got 0)',
        'changepoint: ignoreOutlierNormalCount must be an integer between 0 and 600 (got -1)',
        'changepoint: inactivityPurgeTime must be an integer between 0 and 2147483647 (got -1)',
        'changepoint: minimumEventInterval must be an integer between 0 and 600 (got -1)',
        'changepoint: severityThreshold must be a number between 0 and 100 (got -1)',
      ]);
      assert.deepEqual(errors({ maxHistory: '601', triggerCount: '601', ignoreOutlierNormalCount: '601', inactivityPurgeTime: '2147483648', minimumEventInterval: '601', severityThreshold: '100.5' }), [
        'changepoint: maxHistory must be an integer between 1 and 600 (got 601)',
        'changepoint: triggerCount must be an integer between 1 and 600 (got 601)',
        'changepoint: ignoreOutlierNormalCount must be an integer between 0 and 600 (got 601)',
        'changepoint: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 2147483648)',
        'changepoint: minimumEventInterval must be an integer between 0 and 600 (got 601)',
        'changepoint: severityThreshold must be a number between 0 and 100 (got 100.5)',
      ]);
      assert.deepEqual(errors({ maxHistory: '60.5', triggerCount: 'x', inactivityPurgeTime: '1.5' }), [
        'changepoint: maxHistory must be an integer between 1 and 600 (got 60.5)',
        'changepoint: triggerCount must be an integer between 1 and 600 (got x)',
        'changepoint: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 1.5)',
      ]);
    });

    it('requires triggerCount < maxHistory', () => {
      assert.deepEqual(errors({ maxHistory: '60', triggerCount: '60' }), ['changepoint: triggerCount (60) must be less than maxHistory (60)']);
      assert.deepEqual(errors({ maxHistory: '1' }), ['changepoint: triggerCount (40) must be less than maxHistory (1)']);
      assert.deepEqual(errors({ maxHistory: '60', triggerCount: '59' }), []);
    });

    it('requires minimumEventInterval < inactivityPurgeTime unless purging is off (§10.3)', () => {
      assert.deepEqual(errors({ minimumEventInterval: '60', inactivityPurgeTime: '60' }), [
        'changepoint: minimumEventInterval (60) must be less than inactivityPurgeTime (60) unless inactivityPurgeTime is 0',
      ]);
      assert.deepEqual(errors({ inactivityPurgeTime: '5' }), [
        'changepoint: minimumEventInterval (10) must be less than inactivityPurgeTime (5) unless inactivityPurgeTime is 0',
      ]);
      assert.deepEqual(errors({ minimumEventInterval: '59', inactivityPurgeTime: '60' }), []);
      assert.deepEqual(errors({ minimumEventInterval: '600', inactivityPurgeTime: '0' }), []);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Buffer pooling and a straightforward reference implementation (§3.2 pseudocode, literally).
// ---------------------------------------------------------------------------------------------

interface RefRun { mean: number; variance: number; n: number; prob: number; start: number }

interface RefState {
  lastObserved: number | null;
  lastEventTime: number | null;
  runs: RefRun[];
  normalRuns: RefRun[];
  composite: RefRun;
  ca: number;
  cno: number;
  pml: number;
}

const REF_HAZARD = 1 / 200;
const REF_FAKE: RefRun = { mean: 0, variance: 1e8, n: 0, prob: -1, start: 0 };

function refPdf(mean: number, variance: number, y: number): number {
  let v = variance;
  if (Math.abs(v) <= 1e-15) v = y / 100;
  return (1 / (Math.sqrt(2 * Math.PI) * Math.sqrt(v))) * Math.exp(-((y - mean) * (y - mean)) / (2 * v));
}

function refAbsorb(mean: number, variance: number, y: number, k: number): { mean: number; variance: number; n: number } {
  const w = k === 1 ? 0 : k;
  const m = (mean * w + y) / (w + 1);
  return { mean: m, variance: (variance * k + (y - m) * (y - mean)) / (k + 1), n: k };
}

/** argMaxSkipNewest (D4). */
function refH<T>(list: readonly T[], f: (x: T) => number): number {
  if (list.length <= 1) return 0;
  let best = 1;
  for (let i = 2; i < list.length; i++) if (f(list[i]) > f(list[best])) best = i;
  return best;
}

function refAdvance(runs: readonly RefRun[], y: number, time: number, maxHistory: number): RefRun[] {
  let carry = 0;
  const moved: RefRun[] = [];
  runs.forEach((r, i) => {
    const p = refPdf(r.mean, r.variance, y);
    carry += (p * r.prob) * REF_HAZARD;
    moved.push({ ...refAbsorb(r.mean, r.variance, y, i + 1), prob: (p * r.prob) * (1 - REF_HAZARD), start: r.start });
  });
  let out: RefRun[] = [{ ...refAbsorb(0, 1e8, y, 1), prob: carry, start: time }, ...moved];
  while (out.length > maxHistory) {
    const a = out[out.length - 2];
    const b = out[out.length - 1];
    out = [...out.slice(0, -2), { ...a, prob: a.prob + b.prob }];
  }
  let total = 0;
  for (const r of out) total += r.prob;
  if (total === 0) out.forEach((r, i) => { r.prob = i === 0 ? 1 : 0; });
  else out.forEach((r) => { r.prob /= total; });
  return out;
}

/** The detector as the spec's pseudocode reads, with plain arrays of run objects. */
class RefChangepoint {
  readonly states = new Map<string, RefState>();

  /** legacy: store normalRuns always, as saves made before the pooling did. */
  constructor(readonly p: ChangepointParams, readonly legacy = false) {}

  private reset(st: RefState, time: number): void {
    st.runs = [];
    st.normalRuns = [];
    st.composite = REF_FAKE;
    st.ca = 0;
    st.cno = 0;
    st.pml = 0;
    st.lastObserved = time;
  }

  resetKey(key?: string): void {
    if (key === undefined) this.states.clear();
    else this.states.delete(key);
  }

  process(m: Sample): DetectorEvent[] {
    const p = this.p;
    let st = this.states.get(m.key);
    if (st === undefined) {
      st = { lastObserved: null, lastEventTime: null, runs: [], normalRuns: [], composite: REF_FAKE, ca: 0, cno: 0, pml: 0 };
      this.states.set(m.key, st);
    }
    if (st.lastObserved === null || (p.inactivityPurgeTime !== 0 && m.time - st.lastObserved > p.inactivityPurgeTime * 1000)) {
      this.reset(st, m.time);
      return [];
    }
    if (m.time >= st.lastObserved) st.lastObserved = m.time;
    if (m.value === null) return [];
    const y = m.value;
    if (st.pml >= st.runs.length) st.pml = st.runs.length - 1;
    if (st.ca === 0) {
      st.normalRuns = st.runs.map((r) => ({ ...r }));
      st.composite = st.runs.length > 0
        ? { ...st.runs[refH(st.runs, (r) => r.n)], prob: -2, start: st.runs[Math.max(st.pml, 0)].start }
        : REF_FAKE;
    }
    st.runs = refAdvance(st.runs, y, m.time, p.maxHistory);
    const ml = refH(st.runs, (r) => r.prob);
    if (ml !== st.pml) {
      st.ca += 1;
      const hp = refH(st.runs, (r) => refPdf(r.mean, r.variance, y));
      if (hp === st.runs.length - 1) {
        st.cno += 1;
        if (st.cno > p.ignoreOutlierNormalCount) {
          st.ca = 0;
          st.cno = 0;
          st.runs = refAdvance(st.normalRuns, y, m.time, p.maxHistory);
          return [];
        }
      } else {
        st.cno = 0;
      }
    } else {
      st.ca = 0;
      st.cno = 0;
    }
    st.pml = ml;
    const events: DetectorEvent[] = [];
    if (st.ca > p.triggerCount) {
      const old = st.composite.mean;
      const sev = changeMagnitudeSeverity(old, y);
      if (sev > p.severityThreshold) {
        if (m.time - (st.lastEventTime ?? 0) > p.minimumEventInterval * 1000) {
          events.push({
            eventType: 'changepoint_events',
            stream: m.stream,
            severity: sev,
            time: m.time,
            detectionLatency: m.time - st.composite.start,
            description: `Latency ${old > y ? 'decreased' : 'increased'} from ${trunc(old)} to ${trunc(y)}`,
            tags: {},
          });
          st.lastEventTime = m.time;
        }
        this.reset(st, m.time);
      }
      st.ca = 0;
    }
    return events;
  }

  saveState(): DetectorSnapshot {
    const cols = (runs: RefRun[]): unknown => ({
      mean: runs.map((r) => encodeDouble(r.mean)),
      variance: runs.map((r) => encodeDouble(r.variance)),
      prob: runs.map((r) => encodeDouble(r.prob)),
      start: runs.map((r) => encodeDouble(r.start)),
    });
    const streams: Record<string, unknown> = {};
    for (const [key, st] of this.states) {
      const out: Record<string, unknown> = { lastObserved: st.lastObserved, lastEventTime: st.lastEventTime, runs: cols(st.runs) };
      if (st.ca > 0 || this.legacy) out.normalRuns = cols(st.normalRuns);
      Object.assign(out, { compositeMean: encodeDouble(st.composite.mean), compositeStart: st.composite.start, ca: st.ca, cno: st.cno, pml: st.pml });
      streams[key] = out;
    }
    return { format: SNAPSHOT_FORMAT, version: 1, detector: 'changepoint_events', params: { ...this.p }, streams };
  }
}

/** Private pooling state, for white-box checks. */
interface PoolView {
  states: Map<string, { runs: { data: Float64Array }; normalRuns: { data: Float64Array } | null; ca: number }>;
  spare: Array<{ data: Float64Array }>;
}
const pool = (det: ChangepointDetector): PoolView => det as unknown as PoolView;

/** Every buffer is held in one place only; normalRuns is held exactly while ca > 0. */
function checkBuffers(det: ChangepointDetector, where: string): void {
  const v = pool(det);
  const seen = new Set<ArrayBufferLike>();
  const add = (data: Float64Array, what: string): void => {
    assert.ok(!seen.has(data.buffer), `${where}: ${what} shares a buffer`);
    seen.add(data.buffer);
  };
  for (const [key, st] of v.states) {
    add(st.runs.data, `${key}.runs`);
    assert.equal(st.normalRuns !== null, st.ca > 0, `${where}: ${key} holds normalRuns iff ca > 0`);
    if (st.normalRuns !== null) add(st.normalRuns.data, `${key}.normalRuns`);
  }
  v.spare.forEach((r, i) => add(r.data, `spare[${i}]`));
  assert.ok(v.spare.length <= v.states.size + 2, `${where}: at most one spare per stream (+2)`);
}

interface Trial { params: ChangepointParams; samples: Sample[]; actions: Array<'none' | 'resetKey' | 'resetAll' | 'reload' | 'legacyLoad'> }

/** Several keys interleaved: level shifts, outliers and bursts, noise, gaps, nulls, odd values. */
function makeTrial(seed: number): Trial {
  const r = seeded(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const maxHistory = r() < 0.1 ? 1 : r() < 0.2 ? 60 : int(2, 14);
  const purge = r() < 0.3 ? 0 : int(5, 90);
  const params: ChangepointParams = {
    maxHistory,
    triggerCount: maxHistory === 1 ? 1 : int(1, Math.min(maxHistory - 1, 45)),
    ignoreOutlierNormalCount: int(0, 3),
    inactivityPurgeTime: purge,
    minimumEventInterval: int(0, purge === 0 ? 20 : Math.min(20, purge - 1)),
    severityThreshold: r() < 0.3 ? 0 : int(1, 60),
  };
  const keys = Array.from({ length: int(1, 6) }, (_, i) => `key-${i}`);
  const level = keys.map(() => 10 ** (1 + 5 * r()));
  const noise = keys.map(() => [0, 0.001, 0.05, 0.3][int(0, 3)]);
  const clock = keys.map(() => T0 + int(0, 5000));
  const burst = keys.map(() => 0);
  const samples: Sample[] = [];
  const actions: Trial['actions'] = [];
  const n = int(200, 700);
  for (let i = 0; i < n; i++) {
    const k = int(0, keys.length - 1);
    if (r() < 0.01) level[k] *= 0.1 + 10 * r(); // level shift
    clock[k] += r() < 0.02 ? int(1, 120) * 1000 : r() < 0.01 ? -int(1, 80) * 1000 : 1000;
    let value: number | null = level[k] * (1 + noise[k] * (r() - 0.5));
    if (burst[k] > 0) { burst[k]--; value *= 20; } else if (r() < 0.03) { burst[k] = int(0, 3); value *= 0.01 + 50 * r(); }
    const odd = r();
    if (odd < 0.01) value = null;
    else if (odd < 0.013) value = [0, -value, 1.7e308, -1.7e308, Math.round(value)][int(0, 4)];
    samples.push({ key: keys[k], stream: keys[k], kind: 'Series', time: clock[k], value, lossy: value === null });
    const a = r();
    actions.push(a < 0.004 ? 'resetKey' : a < 0.005 ? 'resetAll' : a < 0.015 ? 'reload' : a < 0.02 ? 'legacyLoad' : 'none');
  }
  return { params, samples, actions };
}

describe('changepoint buffer pooling (one run buffer per stream unless an anomaly is pending)', () => {
  it('holds a single buffer for a steady stream and stores no normalRuns', () => {
    const det = make();
    runAll(det, series(Array.from({ length: 500 }, (_, i) => 1000 + (i % 5))));
    const st = pool(det).states.get('k')!;
    assert.equal(st.ca, 0);
    assert.equal(st.normalRuns, null);
    assert.equal(st.runs.data.length, 60 * 4, 'maxHistory runs of 4 doubles');
    const saved = det.saveState().streams.k as Record<string, unknown>;
    assert.ok(!('normalRuns' in saved));
    assert.ok(pool(det).spare.length <= 2);
    checkBuffers(det, 'steady');
  });

  it('holds normalRuns while an anomaly is pending, and stores it', () => {
    const det = make();
    runAll(det, checkpointSamples().slice(0, 130)); // 10 anomalies pending
    const st = pool(det).states.get('ICMP-3')!;
    assert.ok(st.ca > 0);
    assert.notEqual(st.normalRuns, null);
    const saved = det.saveState().streams['ICMP-3'] as { normalRuns: { mean: number[] } };
    assert.equal(saved.normalRuns.mean.length, 60);
    checkBuffers(det, 'pending');
  });

  it('reuses buffers across streams without sharing one in use', () => {
    const det = make({ maxHistory: 8, triggerCount: 5 });
    const r = seeded(3);
    for (let i = 0; i < 6000; i++) {
      const k = Math.floor(r() * 12);
      const value = r() < 0.1 ? 50000 * r() : 1000 + (k * 100) + r();
      det.process({ key: `s${k}`, stream: `s${k}`, kind: 'Series', time: T0 + i * 100, value, lossy: false });
      if (i % 997 === 0) det.reset(`s${k}`);
      checkBuffers(det, `sample ${i}`);
    }
  });

  it('gives buffers back on reset and trims spares that stay unused', () => {
    const det = make({ maxHistory: 4, triggerCount: 2 });
    for (let k = 0; k < 50; k++) runAll(det, series([1, 2, 3], 1000, T0, `s${k}`));
    for (let k = 0; k < 50; k++) det.reset(`s${k}`);
    assert.equal(det.streamCount, 0);
    assert.ok(pool(det).spare.length <= 2, 'no more spares than streams (+2)');
    for (let k = 0; k < 200; k++) runAll(det, series([1, 2, 3, 1e6], 1000, T0, `s${k}`));
    const steady = series(new Array<number>(40000).fill(5), 10, T0, 's0');
    runAll(det, steady);
    assert.ok(pool(det).spare.length <= 2, `unused spares trimmed (${pool(det).spare.length} left)`);
    checkBuffers(det, 'after trim');
  });

  it('reads a state stored with normalRuns at ca = 0 (older saves), and needs it while ca > 0', () => {
    const samples = checkpointSamples();
    const ref = new RefChangepoint(defaults, true);
    let cut = 0;
    while (cut < 30 || ref.states.get('ICMP-3')!.ca !== 0) ref.process(samples[cut++]);
    const legacy = JSON.parse(JSON.stringify(ref.saveState()));
    assert.equal(legacy.streams['ICMP-3'].ca, 0);
    assert.ok('normalRuns' in legacy.streams['ICMP-3']);
    const det = make();
    det.loadState(legacy);
    assert.equal(pool(det).states.get('ICMP-3')!.normalRuns, null);
    const straight = make();
    const rest = runAll(det, samples.slice(cut));
    assert.deepEqual(rest, runAll(straight, samples).filter((e) => e.time > T0 + cut));
    assert.equal(rest.length, 1);
    // Malformed normalRuns is rejected even at ca = 0.
    const bad = JSON.parse(JSON.stringify(legacy));
    bad.streams['ICMP-3'].normalRuns.prob.pop();
    assert.throws(() => make().loadState(bad), (e: unknown) => e instanceof StateError && /corrupt: normalRuns columns differ/.test(e.message));
    // Missing while an anomaly is pending.
    const pending = make();
    runAll(pending, samples.slice(0, 130));
    const snap = JSON.parse(JSON.stringify(pending.saveState()));
    delete snap.streams['ICMP-3'].normalRuns;
    assert.throws(() => make().loadState(snap), (e: unknown) => e instanceof StateError && /normalRuns is required while ca > 0/.test(e.message));
  });

  it('matches a straightforward reference exactly: events and stored states, many random series', function () {
    this.timeout(120000);
    let events = 0;
    let reloads = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const { params, samples, actions } = makeTrial(seed);
      const ref = new RefChangepoint(params);
      let det = new ChangepointDetector(params);
      samples.forEach((s, i) => {
        const where = `seed ${seed}, sample ${i}`;
        const expected = ref.process(s);
        assert.deepStrictEqual(det.process(s), expected, where);
        events += expected.length;
        checkBuffers(det, where);
        switch (actions[i]) {
          case 'resetKey': ref.resetKey(s.key); det.reset(s.key); break;
          case 'resetAll': ref.resetKey(); det.reset(); break;
          case 'reload': {
            const snap = det.saveState();
            assert.deepStrictEqual(snap, ref.saveState(), where);
            det = new ChangepointDetector(params);
            det.loadState(JSON.parse(JSON.stringify(snap)));
            reloads++;
            break;
          }
          case 'legacyLoad': {
            const legacy = new RefChangepoint(params, true);
            for (const [k, st] of ref.states) legacy.states.set(k, st);
            det.loadState(JSON.parse(JSON.stringify(legacy.saveState())));
            reloads++;
            break;
          }
          default:
        }
      });
      assert.deepStrictEqual(det.saveState(), ref.saveState(), `seed ${seed}, end`);
    }
    // The trials must exercise the interesting paths, not just agree on silence.
    assert.ok(events > 100, `${events} events`);
    assert.ok(reloads > 100, `${reloads} reloads`);
  });
});
