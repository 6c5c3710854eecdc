import { strict as assert } from 'node:assert';
import {
  DistDiffDetector, DistdiffParams, WindowedDistDiffDetector, distdiffDefinition, distdiffParamSet, ksDistance,
} from '../../lib/detectors/distdiff';
import { spikeDefinition } from '../../lib/detectors/spike';
import { Detector, NO_EVENTS, Sample, StateError } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { DetectorPipeline } from '../../lib/pipeline';
import { encodeDouble } from '../../lib/detectors/keyed';
import { fmtD } from '../../lib/format';
import { changeMagnitudeSeverity } from '../../lib/severity';
import { fingerprint, mixedSamples, seeded } from '../support/state-fingerprint';

const T0 = 1e12;
const NORMAL = 225000;
const ANOMALOUS = 22500000;
const defaults = defaultParams(distdiffParamSet);
/** Small sets so that behaviour tests stay readable: warm-up is 8 values. */
const small: DistdiffParams = { ...defaults, recentsCount: 4, dropExtremeN: 0, zThreshold: 3 };

/** Measurement k of the §9.3 checkpoint scenario: AMP ICMP stream "3" at t0 + k ms. */
function icmp(k: number, value: number | null, lossy = false): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value, lossy };
}

/** A generic series sample at `time` ms. */
function at(time: number, value: number | null, key = 's', lossy = false): Sample {
  return { key, stream: key, kind: 'Series', time, value, lossy };
}

/** Samples 1..n of the checkpoint scenario from phases of [count, value]. */
function phases(...ps: Array<[number, number]>): Sample[] {
  const out: Sample[] = [];
  for (const [count, value] of ps) for (let i = 0; i < count; i++) out.push(icmp(out.length + 1, value));
  return out;
}

function runAll(det: Detector, samples: readonly Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

/** Run with a save → JSON → load into a fresh detector after `split` samples. */
function runRestored(make: () => Detector, samples: readonly Sample[], split: number): DetectorEvent[] {
  const first = make();
  const a = runAll(first, samples.slice(0, split));
  const second = make();
  second.loadState(JSON.parse(JSON.stringify(first.saveState())));
  return [...a, ...runAll(second, samples.slice(split))];
}

function inEvent(det: Detector, key = 'ICMP-3'): boolean {
  return (det.saveState().streams[key] as { inEvent: boolean }).inEvent;
}

/** 1000 repeated, then 1e6 as the k-th value: on `small` the first possible event. */
function shiftAt(k: number): Sample[] {
  return Array.from({ length: k }, (_, i) => at(i * 1000, i === k - 1 ? 1e6 : 1000));
}

const increased = (from: string, to: string, kind = 'ICMP'): string =>
  `Distribution of ${kind} has changed. Mean has increased from ${from} to ${to}`;

describe('ksDistance (vector U5, D5)', () => {
  const c1000 = new Array<number>(16).fill(1000);
  const ramp = Array.from({ length: 16 }, (_, i) => i);

  it('gives 0 for identical sets (Streamevmon: 6.2 and 3.2)', () => {
    assert.equal(ksDistance(c1000, c1000, 20), 0);
    assert.equal(ksDistance(ramp, ramp, 20), 0);
  });

  it('gives 6.2 for 16 × 1000 against 15 × 1000 + 1e6 (the tail after the equal step)', () => {
    assert.equal(ksDistance(c1000, [...new Array<number>(15).fill(1000), 1e6], 20), 6.2);
  });

  it('follows the walk: tail of the other sign, times W − depth, scaled by sqrt(W/2)', () => {
    // O empty after two steps at run −1: f = −1 + (−1/2)·(4 − 2) = −2; z = 2·sqrt(2).
    assert.ok(Math.abs(ksDistance([1, 2], [3, 4], 2) - 2 * Math.SQRT2) < 1e-12);
    // N empty first: the tail counts +1/R per remaining step; f = 1 + 1·(3 − 1) = 3.
    assert.ok(Math.abs(ksDistance([3, 4], [1], 1) - 3 * Math.sqrt(1.5)) < 1e-12);
    // The equal step consumes both 1s of O and the 1 of N in one step (depth 1).
    assert.ok(Math.abs(ksDistance([1, 1, 2], [1, 3], 3) - (4 / 3) * Math.sqrt(2.5)) < 1e-12);
  });

  it('compares like Java Double.compare: −0 is below +0', () => {
    assert.equal(ksDistance([-0], [0], 1), 2);
    assert.equal(ksDistance([0], [0], 1), 0);
  });
});

describe('DistDiffDetector (sequential)', () => {
  it('has the documented defaults (§10.4, C4)', () => {
    assert.deepEqual(defaults, {
      recentsCount: 20, dropExtremeN: 2, minimumChange: 1.05, zThreshold: 5, inactivityPurgeTime: 1200,
    });
  });

  it('checkpoint scenario: one event at t0+123 (§9.3, VALID)', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS]);
    const det = new DistDiffDetector(defaults);
    assert.deepEqual(runAll(det, samples.slice(0, 120)), [], 'no output after the first phase');
    assert.deepEqual(runAll(det, samples.slice(120)), [{
      eventType: 'distdiff_events',
      stream: '3',
      severity: 100,
      time: T0 + 123,
      detectionLatency: 20,
      description: increased('225000.0', '1617187.5'),
      tags: { windowed: 'false' },
    }]);
  });

  it('checkpoint scenario: identical output with a save → JSON → load after 120', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS]);
    const straight = runAll(new DistDiffDetector(defaults), samples);
    assert.equal(straight.length, 1);
    assert.deepEqual(runRestored(() => new DistDiffDetector(defaults), samples, 120), straight);
    // Also in the middle of the episode and of the warm-up.
    assert.deepEqual(runRestored(() => new DistDiffDetector(defaults), samples, 130), straight);
    assert.deepEqual(runRestored(() => new DistDiffDetector(defaults), samples, 25), straight);
  });

  it('three-phase vector: increase at 123, decrease at 258, inEvent clears at 146 (D5)', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS], [120, NORMAL]);
    const det = new DistDiffDetector(defaults);
    const events: DetectorEvent[] = [];
    const flags: boolean[] = [];
    for (const s of samples) {
      events.push(...det.process(s));
      flags.push(inEvent(det));
    }
    assert.deepEqual(events.map((e) => [e.time - T0, e.severity, e.detectionLatency, e.description]), [
      [123, 100, 20, increased('225000.0', '1617187.5')],
      [258, 100, 20, 'Distribution of ICMP has changed. Mean has decreased from 2.25E7 to 225000.0'],
    ]);
    assert.equal(flags.indexOf(true), 123 - 1);
    assert.equal(flags.indexOf(false, 123), 146 - 1, 'cleared at measurement 146 (Streamevmon: 252)');
    assert.equal(flags[flags.length - 1], false, 'not stuck at the end');
  });

  it('WindowedFunctionCheckpointingTest (a): behind 1 s tumbling windows (§9.2)', () => {
    const pipeline = new DetectorPipeline(new DistDiffDetector(defaults), { window: { windowDurationMs: 1000, maxLatenessMs: 0 } });
    const out: DetectorEvent[] = [];
    for (const s of wfcSource()) pipeline.feed(s, out);
    pipeline.flush(out);
    assert.deepEqual(out, [wfcEvent('false')]);
  });

  it('emits nothing on steady input, noise-free or with small noise', () => {
    for (const noise of [0, 1, 50]) {
      const det = new DistDiffDetector(defaults);
      const samples = Array.from({ length: 500 }, (_, k) => icmp(k, 225000 + ((k * 7) % 5) * noise));
      let flagged = false;
      for (const s of samples) {
        assert.equal(det.process(s), NO_EVENTS, 'no allocation for "no events"');
        flagged ||= inEvent(det);
      }
      assert.equal(flagged, false, `noise ${noise}`);
    }
  });

  it('warm-up: the first possible event is at the 2R-th value, including the reset value', () => {
    assert.deepEqual(runAll(new DistDiffDetector(small), shiftAt(7)), []);
    const [e] = runAll(new DistDiffDetector(small), shiftAt(8));
    assert.equal(e.time, 7000);
    assert.equal(e.detectionLatency, 4000, 'back to the newest value of the older set');
    assert.equal(e.description, increased('1000.0', '250750.0', 'Series'));
    assert.equal(e.severity, 100);
    assert.deepEqual(e.tags, { windowed: 'false' });
  });

  it('emits once per episode, and not when the sums differ less than recentsCount', () => {
    const det = new DistDiffDetector(small);
    const samples = Array.from({ length: 12 }, (_, i) => at(i, i < 7 ? 1000 : 1e6));
    assert.equal(runAll(det, samples).length, 1);
    // A shift of 1 in 4 values of 100: the sum difference (3) is below recentsCount (4).
    const shift = (to: number): number => runAll(
      new DistDiffDetector({ ...small, zThreshold: 0, minimumChange: 1 }),
      Array.from({ length: 8 }, (_, i) => at(i, i < 7 ? 100 : to)),
    ).length;
    assert.equal(shift(103), 0);
    assert.equal(shift(104), 1, 'a difference of exactly recentsCount is enough');
  });

  it('uses a lossy measurement that has a value, and skips one without', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS]);
    const expected = runAll(new DistDiffDetector(defaults), samples);
    const lossy = samples.map((s, i) => (i > 0 && i % 3 === 0 ? { ...s, lossy: true } : s));
    assert.deepEqual(runAll(new DistDiffDetector(defaults), lossy), expected);
    const gaps: Sample[] = [];
    for (const s of samples) gaps.push(s, { ...s, value: null, lossy: true });
    assert.deepEqual(runAll(new DistDiffDetector(defaults), gaps), expected);
  });

  it('a lossy reset point only clears lastObserved: the next value resets again', () => {
    // Had the lossy value seeded the history, the 7th value after it would complete the warm-up.
    assert.deepEqual(runAll(new DistDiffDetector(small), [at(-1, 1000, 's', true), ...shiftAt(7)]), []);
    assert.equal(runAll(new DistDiffDetector(small), [at(-1, 1000, 's', true), ...shiftAt(8)]).length, 1);
    const det = new DistDiffDetector(small);
    det.process(at(0, 1000, 's', true));
    assert.deepEqual(det.saveState().streams.s, { lastObserved: null, values: [], times: [], inEvent: false });
    det.process(at(1, 1000));
    assert.deepEqual(det.saveState().streams.s, { lastObserved: 1, values: [1000], times: [1], inEvent: false });
  });

  it('resets after more than inactivityPurgeTime of silence, not at exactly that gap', () => {
    const withGap = (gapMs: number, purge: number): number => {
      const samples = shiftAt(8);
      const last = samples[7];
      samples[7] = { ...last, time: samples[6].time + gapMs };
      return runAll(new DistDiffDetector({ ...small, inactivityPurgeTime: purge }), samples).length;
    };
    assert.equal(withGap(10000, 10), 1, 'a gap of exactly 10 s does not reset');
    assert.equal(withGap(10001, 10), 0, 'a gap of more than 10 s resets');
    assert.equal(withGap(1e9, 0), 1, 'purge time 0 never resets (C1)');
  });

  it('does not move lastObserved back for an out-of-order measurement', () => {
    const det = new DistDiffDetector({ ...small, inactivityPurgeTime: 10 });
    det.process(at(20000, 1000));
    det.process(at(5000, 1000));
    assert.equal((det.saveState().streams.s as { lastObserved: number }).lastObserved, 20000);
    det.process(at(30000, 1000));
    assert.deepEqual((det.saveState().streams.s as { values: number[] }).values, [1000, 1000, 1000], 'no purge: 10 s after 20 s');
  });

  it('keeps state per key and resets one key or all', () => {
    const det = new DistDiffDetector(small);
    for (let i = 0; i < 7; i++) {
      const s = at(i * 1000, 1000);
      det.process({ ...s, key: 'a', stream: 'a' });
      det.process({ ...s, key: 'b', stream: 'b' });
    }
    assert.equal(det.streamCount, 2);
    det.reset('a');
    assert.equal(det.streamCount, 1);
    assert.equal(det.process({ ...at(7000, 1e6), key: 'a', stream: 'a' }).length, 0, 'a starts over');
    const [e] = det.process({ ...at(7000, 1e6), key: 'b', stream: 'b' });
    assert.equal(e.stream, 'b', 'b kept its history');
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('keeps non-finite values through JSON', () => {
    const det = new DistDiffDetector(small);
    [1, Infinity, -Infinity, 4].forEach((v, i) => det.process(at(i, v)));
    const snap = JSON.parse(JSON.stringify(det.saveState()));
    const copy = new DistDiffDetector(small);
    copy.loadState(snap);
    assert.deepEqual(copy.saveState(), det.saveState());
    assert.deepEqual((copy.saveState().streams.s as { values: unknown[] }).values, [1, 'Infinity', '-Infinity', 4]);
  });

  it('rejects corrupt or foreign stored state with StateError, keeping its own', () => {
    const det = new DistDiffDetector(small);
    shiftAt(6).forEach((s) => det.process(s));
    const snap = JSON.parse(JSON.stringify(det.saveState()));
    const own = det.saveState();
    const rejects = (bad: unknown, why: RegExp): void => {
      assert.throws(() => det.loadState(bad), (err: unknown) => err instanceof StateError && why.test(err.message));
      assert.deepEqual(det.saveState(), own);
    };
    const corrupt = (patch: Record<string, unknown>): unknown => ({ ...snap, streams: { s: { ...snap.streams.s, ...patch } } });
    rejects(corrupt({ values: 'oops' }), /stream "s" is corrupt: values must be an array/);
    rejects(corrupt({ times: [1, 2] }), /times does not match the values/);
    rejects(corrupt({ values: new Array(9).fill(1), times: new Array(5).fill(1) }), /more than 2 × recentsCount values/);
    rejects(corrupt({ inEvent: 'no' }), /inEvent must be a boolean/);
    rejects(corrupt({ lastObserved: 'yesterday' }), /lastObserved must be a number/);
    rejects({ ...snap, params: { ...snap.params, recentsCount: 5 } }, /parameters changed/);
    rejects(spikeDefinition.create(defaultParams(spikeDefinition.paramSet), { useWindow: false, windowSlide: 1 }).saveState(), /belongs to spike_events/);
    rejects(new WindowedDistDiffDetector(small, 1).saveState(), /parameters changed/);
    rejects({ ...snap, version: 99 }, /version 99/);
    rejects({ format: 'x' }, /not a streamevmon detector state/);
  });
});

describe('WindowedDistDiffDetector', () => {
  it('checkpoint scenario: one event stamped t0+123, the newest element (§9.3, D6)', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS]);
    const det = new WindowedDistDiffDetector(defaults, 1);
    assert.deepEqual(runAll(det, samples.slice(0, 120)), []);
    assert.deepEqual(runAll(det, samples.slice(120)), [{
      eventType: 'distdiff_events',
      stream: '3',
      severity: 100,
      time: T0 + 123,
      detectionLatency: 20,
      description: increased('225000.0', '1617187.5'),
      tags: { windowed: 'true' },
    }]);
  });

  it('checkpoint scenario: identical output with a save → JSON → load', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS], [120, NORMAL]);
    const make = (): Detector => new WindowedDistDiffDetector(defaults, 1);
    const straight = runAll(make(), samples);
    assert.equal(straight.length, 2);
    for (const split of [120, 130, 25]) assert.deepEqual(runRestored(make, samples, split), straight);
  });

  it('WindowedFunctionCheckpointingTest (b): count window (40, 1) (§9.2, UPDATED by D6, C5)', () => {
    assert.deepEqual(runAll(new WindowedDistDiffDetector(defaults, 1), wfcSource()), [wfcEvent('true')]);
  });

  it('is chosen by the definition when the node uses a window', () => {
    assert.ok(distdiffDefinition.create(defaults, { useWindow: true, windowSlide: 1 }) instanceof WindowedDistDiffDetector);
    assert.ok(distdiffDefinition.create(defaults, { useWindow: false, windowSlide: 1 }) instanceof DistDiffDetector);
    assert.equal(distdiffDefinition.ownWindowing, true);
  });

  it('fires on every windowSlide-th arrival, over the last 2R arrivals', () => {
    const samples = [...shiftAt(8), at(8000, 1000), at(9000, 1000)];
    const times = (slide: number): number[] => runAll(new WindowedDistDiffDetector(small, slide), samples).map((e) => e.time);
    assert.deepEqual(times(1), [7000]);
    assert.deepEqual(times(3), [8000], 'fires at arrivals 3, 6, 9');
    assert.deepEqual(times(4), [7000], 'fires at arrivals 4, 8');
    assert.deepEqual(times(5), [9000], 'fires at arrivals 5, 10');
    assert.deepEqual(times(11), [], 'never fires within 10 arrivals');
  });

  it('sorts the window by time: stamped with the newest time, not the last arrival', () => {
    const samples = shiftAt(8);
    [samples[6], samples[7]] = [samples[7], samples[6]];
    const [e] = runAll(new WindowedDistDiffDetector(small, 1), samples);
    assert.equal(e.time, 7000);
    assert.equal(e.detectionLatency, 4000);
  });

  it('gives the same events when arrivals within each slide are out of order', () => {
    const samples = phases([120, NORMAL], [120, ANOMALOUS], [120, NORMAL]);
    const swapped = samples.slice();
    for (let i = 0; i + 1 < swapped.length; i += 2) [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
    const make = (): Detector => new WindowedDistDiffDetector(defaults, 2);
    const straight = runAll(make(), samples);
    assert.equal(straight.length, 2);
    assert.deepEqual(runAll(make(), swapped), straight);
    assert.deepEqual(runRestored(make, swapped, 131), straight);
  });

  it('matches the sequential variant on in-order input without gaps (slide 1)', () => {
    const samples = noisyLevels();
    const sequential = runAll(new DistDiffDetector(defaults), samples);
    assert.ok(sequential.length >= 3, `expected several episodes, got ${sequential.length}`);
    const windowed = runAll(new WindowedDistDiffDetector(defaults, 1), samples);
    assert.deepEqual(windowed, sequential.map((e) => ({ ...e, tags: { windowed: 'true' } })));
  });

  it('gives the same events on noisy data when arrivals within each slide are swapped', () => {
    const samples = noisyLevels();
    const swapped = samples.slice();
    for (let i = 0; i + 1 < swapped.length; i += 2) [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
    const make = (): Detector => new WindowedDistDiffDetector(defaults, 2);
    const straight = runAll(make(), samples);
    assert.ok(straight.length >= 3);
    assert.deepEqual(runAll(make(), swapped), straight);
  });

  it('has no purge and no reset: a long gap changes nothing', () => {
    const samples = shiftAt(8);
    samples[7] = { ...samples[7], time: 1e12 };
    assert.equal(runAll(new WindowedDistDiffDetector({ ...small, inactivityPurgeTime: 1 }, 1), samples).length, 1);
  });

  it('uses lossy values; measurements without a value are not admitted (C3)', () => {
    const samples = shiftAt(8);
    const lossy = samples.map((s) => ({ ...s, lossy: true }));
    assert.equal(runAll(new WindowedDistDiffDetector(small, 1), lossy).length, 1);
    const gaps: Sample[] = [];
    for (const s of samples) gaps.push(s, at(s.time, null, 's', true));
    const det = new WindowedDistDiffDetector(small, 2);
    assert.deepEqual(runAll(det, gaps), runAll(new WindowedDistDiffDetector(small, 2), samples), 'nor counted for the slide');
  });

  it('rejects a sequential snapshot and a corrupt slide counter', () => {
    const det = new WindowedDistDiffDetector(small, 3);
    det.process(at(0, 1));
    const snap = JSON.parse(JSON.stringify(det.saveState()));
    assert.throws(() => det.loadState(new DistDiffDetector(small).saveState()), StateError);
    snap.streams.s.sinceFire = 3;
    assert.throws(() => det.loadState(snap), /sinceFire must be an integer below windowSlide/);
  });
});

describe('distdiff parameters (§10.4, D9)', () => {
  it('rejects every value out of range, with clear messages', () => {
    const r = parseParams(distdiffParamSet, {
      recentsCount: '3', dropExtremeN: '-1', minimumChange: '0.99', zThreshold: '51', inactivityPurgeTime: '1.5',
    });
    assert.deepEqual(r.errors, [
      'distdiff: recentsCount must be an integer between 4 and 600 (got 3)',
      'distdiff: dropExtremeN must be an integer between 0 and 300 (got -1)',
      'distdiff: minimumChange must be a number between 1 and 10 (got 0.99)',
      'distdiff: zThreshold must be a number between 0 and 50 (got 51)',
      'distdiff: inactivityPurgeTime must be an integer between 0 and 2147483647 (got 1.5)',
    ]);
    const high = parseParams(distdiffParamSet, { recentsCount: '601', dropExtremeN: '301', minimumChange: '10.5', zThreshold: '-1', inactivityPurgeTime: '-1' });
    assert.equal(high.errors.length, 5);
    assert.match(parseParams(distdiffParamSet, { recentsCount: '20.5' }).errors[0], /recentsCount must be an integer/);
  });

  it('accepts the range bounds', () => {
    for (const raw of [
      { recentsCount: '4', dropExtremeN: '0', minimumChange: '1', zThreshold: '0', inactivityPurgeTime: '0' },
      { recentsCount: '600', dropExtremeN: '298', minimumChange: '10', zThreshold: '50', inactivityPurgeTime: '2147483647' },
    ]) assert.deepEqual(parseParams(distdiffParamSet, raw).errors, []);
    assert.deepEqual(parseParams(distdiffParamSet, {}).params, defaults);
  });

  it('enforces dropExtremeN < recentsCount div 2 − 1, modifier included (§9.2 item 8)', () => {
    const errors = (recentsCount: number, dropExtremeN: number): string[] =>
      parseParams(distdiffParamSet, { recentsCount, dropExtremeN }).errors;
    assert.deepEqual(errors(20, 9), ['distdiff: dropExtremeN (9) must be less than recentsCount div 2 − 1 (= 9)']);
    assert.deepEqual(errors(20, 8), []);
    assert.deepEqual(errors(100, 0), [], '0 < 100 div 2 − 1 = 49');
    assert.deepEqual(errors(5, 1), ['distdiff: dropExtremeN (1) must be less than recentsCount div 2 − 1 (= 1)']);
    assert.deepEqual(errors(4, 0), []);
    assert.deepEqual(errors(600, 298), []);
    assert.deepEqual(errors(600, 299), ['distdiff: dropExtremeN (299) must be less than recentsCount div 2 − 1 (= 299)']);
  });
});

/** Deterministic noisy series whose level alternates between 1000 and 3000 every 60 values. */
function noisyLevels(): Sample[] {
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 16807) % 2147483647; // Park–Miller: exact in doubles
    return seed / 2147483647;
  };
  return Array.from({ length: 600 }, (_, k) => icmp(k, (Math.floor(k / 60) % 2 ? 3000 : 1000) + Math.round(rand() * 300)));
}

/** WindowedFunctionCheckpointingTest source: 100 × 1000 µs at 10 ms spacing, then 1e6 µs at 1 ms. */
function wfcSource(): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < 100; i++) out.push({ key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + 10 * i, value: 1000, lossy: false });
  for (let i = 0; i < 100; i++) out.push({ key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + 1000 + i, value: 1e6, lossy: false });
  return out;
}

function wfcEvent(windowed: string): DetectorEvent {
  return {
    eventType: 'distdiff_events',
    stream: '3',
    severity: 100,
    time: 1000000001002,
    detectionLatency: 182,
    description: increased('1000.0', '63437.5'),
    tags: { windowed },
  };
}

// ---- Randomized and golden checks of the packed per-stream state ----

/** Recorded from the implementation before the packed-state rework (typed arrays per stream). */
const GOLDEN_DISTDIFF = [
  '5ded2a83add8c348',
  'b6b445564810b6fc',
  '956b02f761bff968',
  '0e17d9386bfb3a7f',
  'a4336e90e56206e5',
];

/**
 * §3.3 read plainly, both variants: the last 2R values as an array, each half sorted afresh
 * (Float64Array sorts like Java's Double.compare), judged with ksDistance.
 */
class ReferenceDistdiff {
  private readonly streams = new Map<string, {
    lastObserved: number | null; values: number[]; times: number[]; inEvent: boolean; sinceFire: number;
  }>();

  constructor(private readonly p: DistdiffParams, private readonly windowSlide: number | null) {}

  process(s: Sample): DetectorEvent[] {
    const p = this.p;
    const r = p.recentsCount;
    let st = this.streams.get(s.key);
    if (this.windowSlide === null) {
      if (st === undefined) {
        st = { lastObserved: null, values: [], times: [], inEvent: false, sinceFire: 0 };
        this.streams.set(s.key, st);
      }
      const purgeMs = p.inactivityPurgeTime * 1000;
      if (st.lastObserved === null || (purgeMs !== 0 && s.time - st.lastObserved > purgeMs)) {
        if (s.lossy || s.value === null) {
          st.lastObserved = null;
        } else {
          st.lastObserved = s.time;
          st.values = [s.value];
          st.times = [s.time];
          st.inEvent = false;
        }
        return [];
      }
      if (s.time >= st.lastObserved) st.lastObserved = s.time;
      if (s.value === null) return [];
      st.values.push(s.value);
      st.times.push(s.time);
      if (st.values.length > 2 * r) st.values.shift();
      if (st.times.length > r + 1) st.times.shift();
      if (st.values.length < 2 * r) return [];
      return this.judge(st, st.values, s, s.time, s.time - st.times[0], 'false');
    }
    if (s.value === null) return [];
    if (st === undefined) {
      st = { lastObserved: null, values: [], times: [], inEvent: false, sinceFire: 0 };
      this.streams.set(s.key, st);
    }
    st.values.push(s.value);
    st.times.push(s.time);
    if (st.values.length > 2 * r) {
      st.values.shift();
      st.times.shift();
    }
    if (++st.sinceFire < this.windowSlide) return [];
    st.sinceFire = 0;
    if (st.values.length < 2 * r) return [];
    const times = st.times;
    const order = times.map((_, i) => i).sort((a, b) => times[a] - times[b]); // stable
    const newest = times[order[2 * r - 1]];
    return this.judge(st, order.map((i) => st!.values[i]), s, newest, newest - times[order[r - 1]], 'true');
  }

  private judge(st: { inEvent: boolean }, values: number[], s: Sample, time: number, latency: number, windowed: string): DetectorEvent[] {
    const p = this.p;
    const r = p.recentsCount;
    const d = p.dropExtremeN;
    const size = r - 2 * d;
    const o = [...Float64Array.from(values.slice(0, r)).sort().subarray(d, d + size)];
    const n = [...Float64Array.from(values.slice(r)).sort().subarray(d, d + size)];
    const z = ksDistance(o, n, r);
    const identical = o.every((x, i) => Object.is(x, n[i]));
    let events: DetectorEvent[] = [];
    if (!st.inEvent && !(z < p.zThreshold) && !identical) {
      const so = o.reduce((a, x) => a + x, 0);
      const sn = n.reduce((a, x) => a + x, 0);
      const factor = so > sn ? so / sn : sn / so;
      const mo = so / size;
      const mn = sn / size;
      const ro = o[size - 1] - o[0];
      const rn = n[size - 1] - n[0];
      if (!(factor < p.minimumChange || Math.abs(so - sn) < r) && !(rn > 0.25 * ro && Math.abs(mo - mn) < 2 * ro)) {
        events = [{
          eventType: 'distdiff_events', stream: s.stream, severity: changeMagnitudeSeverity(mo / 1000, mn / 1000), time,
          detectionLatency: latency,
          description: `Distribution of ${s.kind} has changed. Mean has ${mo < mn ? 'increased' : 'decreased'} from ${fmtD(mo)} to ${fmtD(mn)}`,
          tags: { windowed },
        }];
        st.inEvent = true;
      }
    }
    if (z < p.zThreshold / 2 || identical) st.inEvent = false;
    return events;
  }

  state(key: string): unknown {
    const st = this.streams.get(key);
    if (st === undefined) return undefined;
    const values = st.values.map(encodeDouble);
    return this.windowSlide === null
      ? { lastObserved: st.lastObserved, values, times: [...st.times], inEvent: st.inEvent }
      : { values, times: [...st.times], sinceFire: st.sinceFire, inEvent: st.inEvent };
  }
}

describe('distdiff against a plain reference (randomized, both variants)', () => {
  it('gives the same events and states for random parameters, data and restores', () => {
    const next = seeded(71);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
    let total = 0;
    for (let run = 0; run < 60; run++) {
      const recentsCount = pick([4, 5, 6, 8, 10, 20, 33]);
      const params: DistdiffParams = {
        recentsCount,
        dropExtremeN: Math.floor(next() * (Math.floor(recentsCount / 2) - 1)),
        minimumChange: pick([1, 1.05, 2]),
        zThreshold: pick([0, 1, 2, 5]),
        inactivityPurgeTime: pick([0, 1, 1200]),
      };
      const windowSlide = run % 2 === 0 ? null : pick([1, 2, 3, 7]);
      const make = (): Detector => (windowSlide === null
        ? new DistDiffDetector(params) : new WindowedDistDiffDetector(params, windowSlide));
      const ref = new ReferenceDistdiff(params, windowSlide);
      let det = make();
      mixedSamples(500 + run, 2000).forEach((s, i) => {
        const got = det.process(s);
        total += got.length;
        assert.deepEqual(got, ref.process(s), `run ${run}, sample ${i}`);
        if (next() < 0.02) {
          const snap = det.saveState();
          for (const key of ['k0', 'k1', 'k2']) assert.deepEqual(snap.streams[key], ref.state(key), `run ${run}, sample ${i}, ${key}`);
          det = make();
          det.loadState(structuredClone(snap));
        }
      });
    }
    assert.ok(total > 20, `the runs produce events (${total})`);
  });
});

describe('distdiff matches the implementation before the packed-state rework', () => {
  it('gives the recorded fingerprints (seeded runs with ±0, NaN, ties, gaps and restores)', () => {
    const small: DistdiffParams = { recentsCount: 5, dropExtremeN: 0, minimumChange: 1, zThreshold: 1, inactivityPurgeTime: 1 };
    const makers: Array<() => Detector> = [
      () => new DistDiffDetector(defaults),
      () => new DistDiffDetector(small),
      () => new DistDiffDetector({ ...defaults, recentsCount: 10, dropExtremeN: 1, zThreshold: 2, inactivityPurgeTime: 0 }),
      () => new WindowedDistDiffDetector(defaults, 1),
      () => new WindowedDistDiffDetector(small, 3),
    ];
    assert.deepEqual(makers.map((make, i) => fingerprint(make, mixedSamples(47 + i, 6000))), GOLDEN_DISTDIFF);
  });
});
