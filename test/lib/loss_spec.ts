import { strict as assert } from 'node:assert';
import { LossDetector, LossParams, LossWindow, lossDefinition, lossParamSet, lossSeverity } from '../../lib/detectors/loss';
import type { Sample } from '../../lib/detectors/types';
import { NO_EVENTS } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { fingerprint, mixedSamples, seeded } from '../support/state-fingerprint';

const T0 = 1e12;

/** Measurement k of the §9.3 scenario: AMP ICMP stream "3", time t0 + k ms. */
function icmp(k: number, lossy: boolean): Sample {
  return { key: 'ICMP-3', stream: '3', kind: 'ICMP', time: T0 + k, value: lossy ? null : 225000, lossy };
}

/** A series from a pattern string: "." normal, "x" lossy; measurement k at time k. */
function series(pattern: string, key = 's'): Sample[] {
  return [...pattern].map((c, k) => ({ key, stream: key, kind: 'Series', time: k, value: c === 'x' ? null : 1, lossy: c === 'x' }));
}

function runAll(det: LossDetector, samples: Sample[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const s of samples) out.push(...det.process(s));
  return out;
}

function checkpointScenario(): Sample[] {
  const samples: Sample[] = [];
  for (let k = 1; k <= 30; k++) samples.push(icmp(k, false));
  for (let k = 31; k <= 60; k++) samples.push(icmp(k, true));
  return samples;
}

/** The §9.3 loss rows, built independently from the spec's table. */
function expectedCheckpointEvents(): DetectorEvent[] {
  const sev = [17, 20, 23, 27, 30, 33, 37, 40, 43, 47, 50, 53, 57, 60, 63, 67, 70, 73, 77, 80, 83, 87, 90, 93, 97, 100];
  const out: DetectorEvent[] = [];
  for (let j = 5; j <= 30; j++) {
    const base = { eventType: 'loss_events', stream: '3', severity: sev[j - 5], time: T0 + 30 + j };
    out.push({ ...base, detectionLatency: j - 1, description: `Consecutive loss became worse! ${j} in a row.`, tags: { type: 'consecutive_loss' } });
    if (j >= 10) {
      out.push({ ...base, detectionLatency: 0, description: `Loss ratio became worse! ${j - 1}/30 -> ${j}/30`, tags: { type: 'loss_ratio' } });
    }
  }
  return out;
}

describe('LossDetector', () => {
  const defaults = defaultParams(lossParamSet);

  it('has the documented defaults (§10.4)', () => {
    assert.deepEqual(defaults, { maxHistory: 30, lossCount: 10, consecutiveCount: 5 });
    assert.equal(lossDefinition.name, 'loss');
  });

  it('checkpoint scenario: 30 normal then 30 lossy give exactly the 47 events of §9.3 with D3 severities', () => {
    const events = runAll(new LossDetector(defaults), checkpointScenario());
    assert.equal(events.length, 47);
    assert.equal(events.filter((e) => e.tags.type === 'consecutive_loss').length, 26);
    assert.equal(events.filter((e) => e.tags.type === 'loss_ratio').length, 21);
    assert.deepEqual(events, expectedCheckpointEvents());
    // Spot checks straight from the spec text.
    assert.equal(events[0].time, T0 + 35);
    assert.equal(events[0].detectionLatency, 4);
    assert.equal(events[0].severity, 17);
    const firstRatio = events.find((e) => e.tags.type === 'loss_ratio') as DetectorEvent;
    assert.equal(firstRatio.description, 'Loss ratio became worse! 9/30 -> 10/30');
    assert.equal(firstRatio.time, T0 + 40);
    assert.deepEqual(events.slice(-2).map((e) => e.severity), [100, 100]);
    assert.equal(events[events.length - 1].description, 'Loss ratio became worse! 29/30 -> 30/30');
  });

  it('checkpoint scenario: identical output with a save / JSON round trip / restore at any point', () => {
    const samples = checkpointScenario();
    const straight = runAll(new LossDetector(defaults), samples);
    for (const cut of [0, 15, 30, 33, 40, 59]) {
      const first = new LossDetector(defaults);
      const a = runAll(first, samples.slice(0, cut));
      const restored = new LossDetector(defaults);
      restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
      const b = runAll(restored, samples.slice(cut));
      assert.deepEqual([...a, ...b], straight, `restored after ${cut} measurements`);
    }
  });

  it('emits nothing on a loss-free series, returning the shared empty result', () => {
    const det = new LossDetector(defaults);
    for (const s of series('.'.repeat(200))) assert.equal(det.process(s), NO_EVENTS);
  });

  it('reports a consecutive run from consecutiveCount on, with latency from the run start', () => {
    const det = new LossDetector({ maxHistory: 10, lossCount: 0, consecutiveCount: 3 });
    const events = runAll(det, series('..xx.xxxx.'));
    assert.deepEqual(events.map((e) => [e.time, e.detectionLatency, e.description, e.severity]), [
      [7, 2, 'Consecutive loss became worse! 3 in a row.', 63], // 5 lossy of 8 = 62.5 %
      [8, 3, 'Consecutive loss became worse! 4 in a row.', 67], // 6 lossy of 9
    ]);
  });

  it('a run longer than the window stays capped at the window length', () => {
    const det = new LossDetector({ maxHistory: 4, lossCount: 0, consecutiveCount: 4 });
    const events = runAll(det, series('..xxxxxx'));
    assert.deepEqual(events.map((e) => e.description), [
      'Consecutive loss became worse! 4 in a row.',
      'Consecutive loss became worse! 4 in a row.',
      'Consecutive loss became worse! 4 in a row.',
    ]);
    // The oldest entry of the run moves with the window.
    assert.deepEqual(events.map((e) => e.detectionLatency), [3, 3, 3]);
  });

  it('reports the loss ratio only when the lossy count rises to lossCount or above', () => {
    const det = new LossDetector({ maxHistory: 5, lossCount: 2, consecutiveCount: 0 });
    // k: 0 . | 1 x (1/2) | 2 . | 3 x (2/4, fires) | 4 . | 5 . (drops ".", 2/5 stays) |
    // 6 x (drops x: still 2, no rise) | 7 x (3/5, fires) | 8 .
    const events = runAll(det, series('.x.x..xx.'));
    assert.deepEqual(events.map((e) => [e.time, e.description, e.severity, e.detectionLatency, e.tags.type]), [
      [3, 'Loss ratio became worse! 1/4 -> 2/4', 50, 0, 'loss_ratio'],
      [7, 'Loss ratio became worse! 2/5 -> 3/5', 60, 0, 'loss_ratio'],
    ]);
  });

  it('fires before the window is full (no warm-up), with the severity of the current window', () => {
    const det = new LossDetector({ maxHistory: 30, lossCount: 1, consecutiveCount: 1 });
    const events = det.process(series('x')[0]);
    assert.deepEqual(events.map((e) => [e.tags.type, e.severity, e.description]), [
      ['consecutive_loss', 100, 'Consecutive loss became worse! 1 in a row.'],
      ['loss_ratio', 100, 'Loss ratio became worse! 0/1 -> 1/1'],
    ]);
  });

  it('lossCount 0 disables the ratio event and consecutiveCount 0 the run event', () => {
    const pattern = '.'.repeat(10) + 'x'.repeat(20);
    const types = (p: LossParams) => new Set(runAll(new LossDetector(p), series(pattern)).map((e) => e.tags.type));
    assert.deepEqual([...types({ ...defaults, lossCount: 0 })], ['consecutive_loss']);
    assert.deepEqual([...types({ ...defaults, consecutiveCount: 0 })], ['loss_ratio']);
    assert.deepEqual([...types(defaults)].sort(), ['consecutive_loss', 'loss_ratio']);
  });

  it('uses only lossiness: a lossy measurement with a value counts, a non-lossy one without a value does not', () => {
    const det = new LossDetector({ maxHistory: 5, lossCount: 0, consecutiveCount: 2 });
    const s = (k: number, value: number | null, lossy: boolean): Sample => ({ key: 'k', stream: 'k', kind: 'ICMP', time: k, value, lossy });
    assert.equal(det.process(s(1, 1000, true)).length, 0);
    assert.equal(det.process(s(2, 1200, true)).length, 1);
    assert.equal(det.process(s(3, null, false)).length, 0, 'e.g. a Traceroute without errors');
    assert.equal(det.process(s(4, null, true)).length, 0, 'the run restarted');
  });

  it('severity is the rounded percentage of lossy entries, at least 1 (D3)', () => {
    assert.equal(lossSeverity(5, 30), 17);
    assert.equal(lossSeverity(15, 30), 50);
    assert.equal(lossSeverity(1, 600), 1); // 0.17 % rounds to 0, floored at 1
    assert.equal(lossSeverity(1, 200), 1); // 0.5 rounds half up
    assert.equal(lossSeverity(1, 8), 13); // 12.5 rounds half up
    assert.equal(lossSeverity(30, 30), 100);
  });

  it('keeps state per key and resets one key or all', () => {
    const det = new LossDetector({ maxHistory: 10, lossCount: 0, consecutiveCount: 3 });
    runAll(det, [...series('xx', 'a'), ...series('xx', 'b')]);
    assert.equal(det.streamCount, 2);
    det.reset('a');
    assert.equal(det.streamCount, 1);
    assert.equal(det.process({ ...series('x', 'a')[0], time: 5 }).length, 0, 'a starts over');
    assert.equal(det.process({ ...series('x', 'b')[0], time: 5 }).length, 1, 'b kept its run');
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('rejects corrupt state, state of other parameters or detectors, keeping its own', () => {
    const det = new LossDetector(defaults);
    runAll(det, series('..x', 'ICMP-3'));
    const snap = det.saveState();
    assert.deepEqual(snap.streams['ICMP-3'], { times: [0, 1, 2], lossy: [false, false, true] });
    assert.throws(() => new LossDetector({ ...defaults, maxHistory: 40 }).loadState(snap), /parameters changed/);
    const bad = (mutate: (s: Record<string, unknown>) => void): unknown => {
      const copy = JSON.parse(JSON.stringify(snap));
      mutate(copy.streams['ICMP-3']);
      return copy;
    };
    assert.throws(() => det.loadState(bad((s) => { s.lossy = [false, 'yes', true]; })), /corrupt: lossy\[1\] must be a boolean/);
    assert.throws(() => det.loadState(bad((s) => { s.times = [0, 1]; })), /corrupt: times and lossy differ/);
    assert.throws(() => det.loadState(bad((s) => { s.times = 'oops'; })), /corrupt/);
    assert.throws(() => det.loadState(bad((s) => { s.times = new Array(31).fill(0); s.lossy = new Array(31).fill(true); })), /more entries than maxHistory/);
    assert.throws(() => det.loadState({ ...snap, detector: 'spike_events' }), /belongs to spike_events/);
    assert.throws(() => det.loadState({ ...snap, version: 2 }), /version 2/);
    assert.deepEqual(det.saveState(), snap, 'a rejected state leaves the current one untouched');
  });

  it('restored counters are recomputed from the entries', () => {
    const w = LossWindow.from(4, [1, 2, 3, 4, 5, 6], [true, true, false, true, true, true]);
    assert.equal(w.length, 4);
    assert.equal(w.count, 3);
    assert.equal(w.run, 3);
    assert.deepEqual(w.toJSON(), { times: [3, 4, 5, 6], lossy: [false, true, true, true] });
  });

  it('validates parameters with clear messages (D9, §10.4)', () => {
    assert.deepEqual(parseParams(lossParamSet, { maxHistory: '0', lossCount: '-1', consecutiveCount: '2.5' }).errors, [
      'loss: maxHistory must be an integer between 1 and 600 (got 0)',
      'loss: lossCount must be an integer between 0 and 600 (got -1)',
      'loss: consecutiveCount must be an integer between 0 and 600 (got 2.5)',
    ]);
    assert.deepEqual(parseParams(lossParamSet, { maxHistory: '601' }).errors, [
      'loss: maxHistory must be an integer between 1 and 600 (got 601)',
    ]);
    assert.deepEqual(parseParams(lossParamSet, { maxHistory: '8', lossCount: '9', consecutiveCount: '20' }).errors, [
      'loss: lossCount (9) must be at most maxHistory (8)',
      'loss: consecutiveCount (20) must be at most maxHistory (8)',
    ]);
    assert.deepEqual(parseParams(lossParamSet, { lossCount: '0', consecutiveCount: '0' }).errors, [
      'loss: lossCount and consecutiveCount must not both be 0 (the detector could never emit)',
    ]);
    assert.deepEqual(parseParams(lossParamSet, { maxHistory: '10', lossCount: '10', consecutiveCount: '0' }).errors, []);
    assert.deepEqual(parseParams(lossParamSet, {}).params, defaults);
  });
});

// ---- Randomized and golden checks of the packed per-stream state ----

/** Recorded from the implementation before the packed-state rework (typed arrays per stream). */
const GOLDEN_LOSS = [
  '3bd3c4ceae3badb9',
  '7b7a743d6bcb7e84',
  'f397ff26f03e539f',
  'dacabbf17a7e82ec',
];

/** §3.4 read plainly: the window as two arrays, the count and the run found by scanning. */
class ReferenceLoss {
  private readonly streams = new Map<string, { times: number[]; lossy: boolean[] }>();

  constructor(private readonly p: LossParams) {}

  process(s: Sample): DetectorEvent[] {
    const p = this.p;
    let st = this.streams.get(s.key);
    if (st === undefined) {
      st = { times: [], lossy: [] };
      this.streams.set(s.key, st);
    }
    const before = st.lossy.filter(Boolean).length;
    st.times.push(s.time);
    st.lossy.push(s.lossy);
    if (st.times.length > p.maxHistory) {
      st.times.shift();
      st.lossy.shift();
    }
    const len = st.times.length;
    const count = st.lossy.filter(Boolean).length;
    let run = 0;
    while (run < len && st.lossy[len - 1 - run]) run++;
    const consecutive = p.consecutiveCount > 0 && run >= p.consecutiveCount;
    const ratio = p.lossCount > 0 && count > before && count >= p.lossCount;
    const severity = lossSeverity(count, len);
    const events: DetectorEvent[] = [];
    if (consecutive) {
      events.push({
        eventType: 'loss_events', stream: s.stream, severity, time: s.time, detectionLatency: s.time - st.times[len - run],
        description: `Consecutive loss became worse! ${run} in a row.`, tags: { type: 'consecutive_loss' },
      });
    }
    if (ratio) {
      events.push({
        eventType: 'loss_events', stream: s.stream, severity, time: s.time, detectionLatency: 0,
        description: `Loss ratio became worse! ${before}/${len} -> ${count}/${len}`, tags: { type: 'loss_ratio' },
      });
    }
    return events;
  }

  state(key: string): unknown {
    const st = this.streams.get(key);
    return st === undefined ? undefined : { times: [...st.times], lossy: [...st.lossy] };
  }
}

describe('LossDetector against a plain reference (randomized)', () => {
  it('gives the same events and states for random parameters, data and restores', () => {
    const next = seeded(61);
    for (let run = 0; run < 60; run++) {
      // Windows around the 32-entry words of the lossy bits, and small ones.
      const maxHistory = [1, 2, 3, 5, 30, 31, 32, 33, 63, 64, 65, 100, 600][run % 13];
      let lossCount = Math.floor(next() * (maxHistory + 1));
      const consecutiveCount = Math.floor(next() * (maxHistory + 1));
      if (lossCount === 0 && consecutiveCount === 0) lossCount = 1;
      const params: LossParams = { maxHistory, lossCount, consecutiveCount };
      const lossRate = [0.03, 0.3, 0.7][run % 3];
      const samples = mixedSamples(400 + run, 2000).map((s) => ({ ...s, lossy: next() < lossRate }));
      const ref = new ReferenceLoss(params);
      let det = new LossDetector(params);
      samples.forEach((s, i) => {
        const got = det.process(s);
        const want = ref.process(s);
        assert.deepEqual(got.length === 0 ? [] : got, want, `run ${run}, sample ${i}`);
        if (next() < 0.02) {
          const snap = det.saveState();
          for (const key of ['k0', 'k1', 'k2']) assert.deepEqual(snap.streams[key], ref.state(key), `run ${run}, sample ${i}, ${key}`);
          det = new LossDetector(params);
          det.loadState(structuredClone(snap));
        }
      });
    }
  });
});

describe('LossDetector matches the implementation before the packed-state rework', () => {
  it('gives the recorded fingerprints (seeded runs with gaps and restores)', () => {
    const configs: LossParams[] = [
      defaultParams(lossParamSet),
      { maxHistory: 1, lossCount: 1, consecutiveCount: 1 },
      { maxHistory: 33, lossCount: 3, consecutiveCount: 0 },
      { maxHistory: 64, lossCount: 0, consecutiveCount: 2 },
    ];
    const lossier = (seed: number): Sample[] => {
      const next = seeded(seed);
      return mixedSamples(seed, 6000).map((s) => ({ ...s, lossy: s.lossy || next() < 0.3 }));
    };
    assert.deepEqual(configs.map((p, i) => fingerprint(() => new LossDetector(p), lossier(37 + i))), GOLDEN_LOSS);
  });
});
