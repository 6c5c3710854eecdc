import { strict as assert } from 'node:assert';
import { ModeDetector, ModeParams, bucket, digits, modeDefinition, modeParamSet, modeSeverity } from '../../lib/detectors/mode';
import { SNAPSHOT_FORMAT, Sample, StateError } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { trunc } from '../../lib/severity';
import { fingerprint, mixedSamples, seeded } from '../support/state-fingerprint';

const T0 = 1e12;
const NORMAL = 225000;
const ANOMALOUS = 22500000;

/** Measurement k of the §9.3 checkpoint scenario: AMP ICMP stream "3" at t0 + k ms. */
function icmp(k: number, value: number | null, lossy = false): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value, lossy };
}

/** A generic series sample at `ms`. */
function at(ms: number, value: number | null, key = 's', lossy = false): Sample {
  return { key, stream: key, kind: 'Series', time: ms, value, lossy };
}

function runAll(det: ModeDetector, samples: Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

/** Values fed one per second from t = 0 (the first one is the reset measurement). */
function perSecond(values: number[], key = 's'): Sample[] {
  return values.map((v, i) => at(i * 1000, v, key));
}

function repeat(v: number, n: number): number[] {
  return new Array<number>(n).fill(v);
}

function checkpointSamples(): Sample[] {
  const samples: Sample[] = [];
  for (let k = 1; k <= 120; k++) samples.push(icmp(k, NORMAL));
  for (let k = 121; k <= 240; k++) samples.push(icmp(k, ANOMALOUS));
  return samples;
}

describe('mode bucketing and severity (§3.5)', () => {
  it('rounds to two significant digits toward −∞', () => {
    const cases: Array<[number, number]> = [
      [12345, 12000], [999, 990], [5, 5], [101, 100], [225000, 220000], [22500000, 22000000],
      [-155, -160], [0, 0], [-5, -5], [99, 99], [100, 100], [-100, -100], [-101, -110], [2147483647, 2100000000],
    ];
    for (const [i, b] of cases) assert.equal(bucket(i), b, `bucket(${i})`);
  });

  it('counts decimal digits exactly at powers of ten', () => {
    assert.deepEqual([0, 1, 9, 10, 99, 100, 999, 1000, -1000, 999999999, 1000000000].map(digits), [0, 1, 1, 2, 2, 3, 3, 4, 4, 9, 10]);
  });

  it('scales modes to their significant figures before the shared severity', () => {
    assert.equal(modeSeverity(220000, 22000000), 100); // sf 6, div 1e5: 2 → 220
    assert.equal(modeSeverity(50000, 20000), 55); // sf 4, div 1000: 50 → 20
    assert.equal(modeSeverity(25000, 48000), 37);
    assert.equal(modeSeverity(20, 28), 14); // sf 1, div 1
    assert.equal(modeSeverity(-100, -110), 1); // negative lo → 1
  });

  it('floors the divisor at 1 for two single-digit modes (D7): 9 → 1 scores 100, 2 → 9 scores 60', () => {
    assert.equal(modeSeverity(9, 1), 100);
    assert.equal(modeSeverity(2, 9), 60);
  });
});

describe('ModeDetector', () => {
  const defaults = defaultParams(modeParamSet);
  const withParams = (p: Partial<ModeParams>): ModeDetector => new ModeDetector({ ...defaults, ...p } as ModeParams);

  it('has the documented defaults (§10.4)', () => {
    assert.deepEqual(defaults, { maxHistory: 30, minFrequency: 6, minProminence: 3, threshold: 7.5, inactivityPurgeTime: 60 });
    assert.equal(modeDefinition.name, 'mode');
    assert.ok(modeDefinition.create(defaults, { useWindow: false, windowSlide: 1 }) instanceof ModeDetector);
  });

  it('checkpoint scenario: one event at t0+137 (17th anomalous), none in the normal phase (§9.3, VALID)', () => {
    const samples = checkpointSamples();
    const det = new ModeDetector(defaults);
    assert.deepEqual(runAll(det, samples.slice(0, 120)), [], 'no output after the first phase');
    assert.deepEqual(runAll(det, samples.slice(120)), [{
      eventType: 'mode_events',
      stream: '3',
      severity: 100,
      time: T0 + 137,
      detectionLatency: 0,
      description: 'Mode changed from 220000 to 22000000!',
      tags: {},
    }]);
  });

  it('checkpoint scenario: save → JSON → load at any point gives identical output', () => {
    const samples = checkpointSamples();
    const straight = runAll(new ModeDetector(defaults), samples);
    assert.equal(straight.length, 1);
    for (const cut of [1, 20, 31, 120, 130, 136, 137, 200]) {
      const first = new ModeDetector(defaults);
      const a = runAll(first, samples.slice(0, cut));
      const restored = new ModeDetector(defaults);
      restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
      const b = runAll(restored, samples.slice(cut));
      assert.deepEqual([...a, ...b], straight, `restart after measurement ${cut}`);
    }
  });

  it('U7 (D7): 9 then 1 gives one event at measurement 48, severity 100, instead of a crash', () => {
    const values = [9, ...repeat(9, 30), ...repeat(1, 40)];
    const det = new ModeDetector(defaults);
    const events = runAll(det, perSecond(values));
    assert.deepEqual(events, [{
      eventType: 'mode_events',
      stream: 's',
      severity: 100,
      time: 47 * 1000, // measurement 48 at 1 s spacing from t = 0
      detectionLatency: 0,
      description: 'Mode changed from 9 to 1!',
      tags: {},
    }]);
  });

  it('emits nothing on constant or noisy steady input, even when noise crosses bucket edges', () => {
    const constant = perSecond(repeat(1000, 200));
    assert.deepEqual(runAll(new ModeDetector(defaults), constant), []);
    // 980..1020 spans buckets 980–1020: the mode wanders, but by far less than 1000 / ln 1000.
    const noisy = perSecond(Array.from({ length: 500 }, (_, k) => 980 + ((k * 7919) % 41)));
    assert.deepEqual(runAll(new ModeDetector(defaults), noisy), []);
  });

  it('reports a level shift down, with the scaled severity', () => {
    const events = runAll(new ModeDetector(defaults), perSecond([...repeat(50000, 31), ...repeat(20000, 30)]));
    assert.equal(events.length, 1);
    assert.equal(events[0].description, 'Mode changed from 50000 to 20000!');
    assert.equal(events[0].severity, 55);
    assert.equal(events[0].time, (31 + 16) * 1000, 'the 17th new value makes the new mode prominent');
  });

  it('needs maxHistory values after the reset measurement before a mode is adopted', () => {
    const p = { maxHistory: 10, minFrequency: 6, minProminence: 3 };
    // The window first fills at 6 × 100 + 4 × 500 (not prominent), so 100 is never adopted and
    // 500 is adopted silently. Adopting early, or counting the reset value, would report 100 → 500.
    assert.deepEqual(runAll(withParams(p), perSecond([100, ...repeat(100, 6), ...repeat(500, 10)])), []);
    // With 9 × 100 after the reset value, the first full window (one 500) adopts 100 ...
    const det = withParams(p);
    runAll(det, perSecond([100, ...repeat(100, 9)]));
    assert.deepEqual(runAll(det, [at(10000, 500)]), [], 'the first full window only adopts its mode');
    // ... and 500 replaces it once 7 vs 3 passes the prominence gate (6 vs 4 does not).
    const events = runAll(det, Array.from({ length: 10 }, (_, i) => at(11000 + i * 1000, 500)));
    assert.deepEqual(events.map((e) => [e.description, e.time]), [['Mode changed from 100 to 500!', 16000]]);
  });

  it('adopts a new mode silently when the old one has left the window', () => {
    const det = withParams({ maxHistory: 10 });
    const distinct = Array.from({ length: 10 }, (_, i) => 5000 + 100 * i); // ten buckets, no mode
    const values = [1000, ...repeat(1000, 10), ...distinct, ...repeat(9000, 10), ...repeat(20000, 10)];
    const events = runAll(det, perSecond(values));
    assert.deepEqual(events.map((e) => e.description), ['Mode changed from 9000 to 20000!'],
      '1000 → 9000 is silent because no 1000 was left in the window');
  });

  it('ignores changes smaller than max(threshold, old / ln old)', () => {
    // 20 / ln 20 ≈ 6.7 < 7.5, so the threshold is 7.5: 27 is too close, 28 is not.
    const close = runAll(withParams({ maxHistory: 10 }), perSecond([20, ...repeat(20, 10), ...repeat(27, 10), ...repeat(20, 10)]));
    assert.deepEqual(close, []);
    const far = runAll(withParams({ maxHistory: 10 }), perSecond([20, ...repeat(20, 10), ...repeat(28, 10)]));
    assert.deepEqual(far.map((e) => [e.description, e.severity]), [['Mode changed from 20 to 28!', 14]]);
    // 1000 / ln 1000 ≈ 144.8 exceeds the threshold: 1000 → 1100 is not reported, 1000 → 1200 is.
    const rel = (to: number) => runAll(withParams({ maxHistory: 10 }), perSecond([1000, ...repeat(1000, 10), ...repeat(to, 10)]));
    assert.deepEqual(rel(1100), []);
    assert.equal(rel(1200).length, 1);
    // A change of exactly the threshold is reported (the gate is "less than").
    const exact = runAll(withParams({ maxHistory: 10, threshold: 8 }), perSecond([20, ...repeat(20, 10), ...repeat(28, 10)]));
    assert.equal(exact.length, 1, '|28 − 20| = 8 is not less than 8');
  });

  it('always reports a change away from a negative mode (NaN threshold, kept quirk)', () => {
    const events = runAll(withParams({ maxHistory: 10 }), perSecond([-100, ...repeat(-100, 10), ...repeat(-101, 10)]));
    assert.deepEqual(events.map((e) => [e.description, e.severity]), [['Mode changed from -100 to -110!', 1]]);
  });

  it('a mode of −5 is taken for the "unset" sentinel, so the change away from it is silent', () => {
    const events = runAll(withParams({ maxHistory: 10 }), perSecond([-5, ...repeat(-5, 10), ...repeat(100, 10), ...repeat(500, 10)]));
    assert.deepEqual(events.map((e) => e.description), ['Mode changed from 100 to 500!']);
  });

  it('needs at least minFrequency values of the new mode ("at least", not "more than")', () => {
    const firstEvent = (minFrequency: number): number => {
      const det = withParams({ maxHistory: 10, minFrequency, minProminence: 1 });
      const events = runAll(det, perSecond([100, ...repeat(100, 10), ...repeat(500, 10)]));
      assert.equal(events.length, 1);
      return events[0].time / 1000 - 10; // number of 500s seen
    };
    assert.equal(firstEvent(6), 6, '6 vs 4 is enough with minFrequency 6 (5 vs 5 is a tie)');
    assert.equal(firstEvent(8), 8);
  });

  it('truncates non-integer values before bucketing', () => {
    const events = runAll(withParams({ maxHistory: 10 }), perSecond([20.9, ...repeat(20.9, 10), ...repeat(28.99, 10)]));
    assert.deepEqual(events.map((e) => e.description), ['Mode changed from 20 to 28!']);
  });

  it('skips lossy measurements, with or without a value', () => {
    const base = [1000, ...repeat(1000, 30)];
    const det = new ModeDetector(defaults);
    runAll(det, perSecond(base));
    const lossy = Array.from({ length: 40 }, (_, i) => at(31000 + i * 1000, i % 2 ? null : 90000, 's', true));
    assert.deepEqual(runAll(det, lossy), []);
    // History still holds 30 × 1000, so 17 new values are needed, as without the lossy ones.
    const after = Array.from({ length: 17 }, (_, i) => at(71000 + i * 1000, 5000));
    const events = runAll(det, after);
    assert.equal(events.length, 1);
    assert.equal(events[0].time, 71000 + 16 * 1000);
  });

  it('a lossy measurement is a valid reset point, and it keeps the series alive', () => {
    const det = withParams({ maxHistory: 10, inactivityPurgeTime: 60 });
    det.process(at(0, null, 's', true)); // reset
    runAll(det, Array.from({ length: 10 }, (_, i) => at(1000 + i * 1000, 100)));
    det.process(at(50000, 7, 's', true)); // lossy, but moves lastObserved to 50 s
    const events = runAll(det, Array.from({ length: 7 }, (_, i) => at(100000 + i * 1000, 500)));
    assert.equal(events.length, 1, 'no purge: the gap since the lossy measurement is 50 s');
  });

  it('resets after more than inactivityPurgeTime of silence, not at exactly that gap', () => {
    const run = (gapMs: number): number => {
      const det = withParams({ maxHistory: 10, inactivityPurgeTime: 10 });
      runAll(det, perSecond([100, ...repeat(100, 10)])); // last time 10 s
      return runAll(det, Array.from({ length: 7 }, (_, i) => at(10000 + gapMs + i * 1000, 500))).length;
    };
    assert.equal(run(10000), 1, 'a gap of exactly 10 s does not reset');
    assert.equal(run(10001), 0, 'a gap of more than 10 s resets (history emptied)');
  });

  it('purge time 0 never resets', () => {
    const det = withParams({ maxHistory: 10, inactivityPurgeTime: 0 });
    runAll(det, perSecond([100, ...repeat(100, 10)]));
    const events = runAll(det, Array.from({ length: 7 }, (_, i) => at(1e9 + i, 500)));
    assert.equal(events.length, 1);
  });

  it('processes out-of-order measurements without moving lastObserved back', () => {
    const det = withParams({ maxHistory: 10, inactivityPurgeTime: 10 });
    runAll(det, perSecond([100, ...repeat(100, 10)])); // lastObserved = 10 s
    assert.deepEqual(det.process(at(2000, 500)), []); // late: enters the history
    // 12.5 s is 2.5 s after the newest time (10.5 s after the late one): no purge, and the
    // late 500 counts, so the 6th new 500 makes 7 vs 3.
    const events = runAll(det, Array.from({ length: 7 }, (_, i) => at(12500 + i * 1000, 500)));
    assert.deepEqual(events.map((e) => e.time), [17500]);
  });

  it('keeps state per key and resets one key or all', () => {
    const det = withParams({ maxHistory: 10 });
    runAll(det, perSecond([100, ...repeat(100, 10)], 'a'));
    runAll(det, perSecond([100, ...repeat(100, 10)], 'b'));
    assert.equal(det.streamCount, 2);
    det.reset('a');
    assert.equal(det.streamCount, 1);
    const shift = (key: string) => runAll(det, Array.from({ length: 7 }, (_, i) => at(11000 + i * 1000, 500, key)));
    assert.equal(shift('a').length, 0, 'a starts over');
    assert.equal(shift('b').length, 1, 'b kept its history');
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('rejects foreign, mismatched or corrupt stored state with StateError, keeping its own', () => {
    const det = new ModeDetector(defaults);
    runAll(det, checkpointSamples().slice(0, 40));
    const snap = det.saveState();
    assert.equal(snap.format, SNAPSHOT_FORMAT);
    assert.equal(snap.detector, 'mode_events');
    const rejects = (target: ModeDetector, s: unknown, re: RegExp): void => {
      assert.throws(() => target.loadState(s), (e: unknown) => e instanceof StateError && re.test(e.message));
    };
    rejects(withParams({ maxHistory: 20 }), snap, /parameters changed/);
    rejects(det, { ...snap, detector: 'spike_events' }, /belongs to spike_events/);
    rejects(det, { ...snap, version: 99 }, /version 99/);
    rejects(det, { format: 'x' }, /not a streamevmon detector state/);
    rejects(det, null, /not a streamevmon detector state/);
    const corrupt = (mutate: (s: Record<string, unknown>) => void): unknown => {
      const c = JSON.parse(JSON.stringify(snap));
      mutate(c.streams['ICMP-3']);
      return c;
    };
    rejects(det, corrupt((s) => { s.history = 'oops'; }), /corrupt/);
    rejects(det, corrupt((s) => { s.history = [1.5]; }), /integers/);
    rejects(det, corrupt((s) => { s.history = new Array(31).fill(1); }), /longer than maxHistory/);
    rejects(det, corrupt((s) => { s.last = [1]; }), /pair/);
    rejects(det, corrupt((s) => { s.last = ['x', 1]; }), /last value/);
    rejects(det, corrupt((s) => { s.lastObserved = 'soon'; }), /lastObserved/);
    assert.equal(det.streamCount, 1);
    // The untouched detector still gives the uninterrupted result.
    const events = runAll(det, checkpointSamples().slice(40));
    assert.deepEqual(events.map((e) => e.time), [T0 + 137]);
  });

  it('validates ranges with clear messages (D9, D7)', () => {
    const r = parseParams(modeParamSet, { maxHistory: '3', minFrequency: '0', minProminence: '601', threshold: '100.5', inactivityPurgeTime: '-1' });
    assert.deepEqual(r.errors, [
      'mode: maxHistory must be an integer between 5 and 600 (got 3)',
      'mode: minFrequency must be an integer between 1 and 600 (got 0)',
      'mode: minProminence must be an integer between 1 and 600 (got 601)',
      'mode: threshold must be a number between 0 and 100 (got 100.5)',
      'mode: inactivityPurgeTime must be an integer between 0 and 2147483647 (got -1)',
    ]);
    assert.deepEqual(parseParams(modeParamSet, { maxHistory: '601', minFrequency: '2.5', threshold: '-0.1' }).errors, [
      'mode: maxHistory must be an integer between 5 and 600 (got 601)',
      'mode: minFrequency must be an integer between 1 and 600 (got 2.5)',
      'mode: threshold must be a number between 0 and 100 (got -0.1)',
    ]);
    const edges = parseParams(modeParamSet, { maxHistory: '5', minFrequency: '4', minProminence: '1', threshold: '0', inactivityPurgeTime: '0' });
    assert.deepEqual(edges.errors, []);
    assert.deepEqual(edges.params, { maxHistory: 5, minFrequency: 4, minProminence: 1, threshold: 0, inactivityPurgeTime: 0 });
    assert.deepEqual(parseParams(modeParamSet, { maxHistory: '600', threshold: '100', minProminence: '599', minFrequency: '599' }).errors, []);
    assert.deepEqual(parseParams(modeParamSet, {}).params, defaults);
  });

  it('enforces minFrequency < maxHistory and minProminence < maxHistory', () => {
    assert.deepEqual(parseParams(modeParamSet, { maxHistory: '10', minFrequency: '10', minProminence: '12' }).errors, [
      'mode: minFrequency (10) must be less than maxHistory (10)',
      'mode: minProminence (12) must be less than maxHistory (10)',
    ]);
    assert.deepEqual(parseParams(modeParamSet, { maxHistory: '10', minFrequency: '9', minProminence: '9' }).errors, []);
    // Defaults of omitted parameters take part: the default minFrequency 6 does not fit maxHistory 5.
    assert.deepEqual(parseParams(modeParamSet, { maxHistory: '5' }).errors, ['mode: minFrequency (6) must be less than maxHistory (5)']);
  });
});

// ---- Randomized and golden checks of the packed per-stream state ----

/** Recorded from the implementation before the packed-state rework (typed arrays per stream). */
const GOLDEN_MODE = [
  '4f17f0b34aa773cd',
  '6591a7e37841a36c',
  'bbc1b7f29d0874c6',
];

/** §3.5 read plainly: the history as an array, bucket counts rebuilt from it at every step. */
class ReferenceMode {
  private readonly streams = new Map<string, { lastObserved: number | null; history: number[]; last: [number, number] }>();

  constructor(private readonly p: ModeParams) {}

  process(s: Sample): DetectorEvent[] {
    const p = this.p;
    let st = this.streams.get(s.key);
    if (st === undefined) {
      st = { lastObserved: null, history: [], last: [-5, -6] };
      this.streams.set(s.key, st);
    }
    const purgeMs = p.inactivityPurgeTime * 1000;
    if (st.lastObserved === null || (purgeMs !== 0 && s.time - st.lastObserved > purgeMs)) {
      st.lastObserved = s.time;
      st.history = [];
      st.last = [-5, -6];
      return [];
    }
    if (s.time >= st.lastObserved) st.lastObserved = s.time;
    if (s.lossy || s.value === null) return [];
    st.history.push(trunc(s.value));
    if (st.history.length > p.maxHistory) st.history.shift();
    if (st.history.length < p.maxHistory) return [];
    const counts = new Map<number, number>();
    for (const x of st.history) counts.set(bucket(x), (counts.get(bucket(x)) ?? 0) + 1);
    // Top bucket and runner-up count (−2 with one bucket). With a tie at the top the
    // prominence gate fails whichever bucket is taken as primary, so order does not matter.
    const entries = [...counts];
    let [primary, primaryCount] = entries[0];
    let secondaryCount = -2;
    for (const [b, c] of entries.slice(1)) {
      if (c > primaryCount) {
        secondaryCount = primaryCount;
        primaryCount = c;
        primary = b;
      } else if (c > secondaryCount) {
        secondaryCount = c;
      }
    }
    const old = st.last[0];
    if (old === primary || primaryCount < p.minFrequency || primaryCount - secondaryCount < p.minProminence) return [];
    st.last = [primary, primaryCount];
    if (!counts.has(old)) return [];
    const calc = old / Math.log(old);
    if (Math.abs(old - primary) < (calc < p.threshold ? p.threshold : calc) || old === -5) return [];
    return [{
      eventType: 'mode_events', stream: s.stream, severity: modeSeverity(old, primary), time: s.time,
      detectionLatency: 0, description: `Mode changed from ${old} to ${primary}!`, tags: {},
    }];
  }

  state(key: string): unknown {
    const st = this.streams.get(key);
    return st === undefined ? undefined : { lastObserved: st.lastObserved, history: [...st.history], last: [...st.last] };
  }
}

describe('ModeDetector against a plain reference (randomized)', () => {
  it('gives the same events and states for random parameters, data and restores', () => {
    const next = seeded(51);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    for (let run = 0; run < 60; run++) {
      const maxHistory = pick([5, 6, 10, 30, 100]);
      const params: ModeParams = {
        maxHistory,
        minFrequency: 1 + Math.floor(next() * (maxHistory - 1)),
        minProminence: 1 + Math.floor(next() * (maxHistory - 1)),
        threshold: pick([0, 1, 7.5]),
        inactivityPurgeTime: pick([0, 1, 60]),
      };
      // Integer values and no −0: a Map key would turn a −0 bucket into 0.
      const integer = (v: number): number => (Object.is(Math.round(v), -0) ? 0 : Math.round(v));
      const samples = mixedSamples(300 + run, 1500).map((s) => (s.value === null ? s : { ...s, value: integer(s.value) }));
      const ref = new ReferenceMode(params);
      let det = new ModeDetector(params);
      samples.forEach((s, i) => {
        assert.deepEqual(det.process(s), ref.process(s), `run ${run}, sample ${i}`);
        if (next() < 0.02) {
          const snap = det.saveState();
          for (const key of ['k0', 'k1', 'k2']) assert.deepEqual(snap.streams[key], ref.state(key), `run ${run}, sample ${i}, ${key}`);
          det = new ModeDetector(params);
          det.loadState(structuredClone(snap));
        }
      });
    }
  });
});

describe('ModeDetector matches the implementation before the packed-state rework', () => {
  it('gives the recorded fingerprints (seeded runs with ±0, NaN, ties, gaps and restores)', () => {
    const configs: ModeParams[] = [
      defaultParams(modeParamSet),
      { maxHistory: 5, minFrequency: 2, minProminence: 1, threshold: 0, inactivityPurgeTime: 1 },
      { maxHistory: 12, minFrequency: 4, minProminence: 2, threshold: 1, inactivityPurgeTime: 0 },
    ];
    assert.deepEqual(configs.map((p, i) => fingerprint(() => new ModeDetector(p), mixedSamples(27 + i, 6000))), GOLDEN_MODE);
  });
});
