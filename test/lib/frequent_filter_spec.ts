import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { StateError } from '../../lib/detectors/types';
import {
  DEFAULT_LEVELS, FilterSnapshot, FrequencyLevel, FrequentEventFilter, parseLevels, requireLevels,
} from '../../lib/events/frequent-filter';

/** An event of FrequentEventFilterTest: type test_events, stream "1", severity 65, at `s` seconds. */
function ev(s: number, stream = '1', eventType = 'test_events'): DetectorEvent {
  return { eventType, stream, severity: 65, time: s * 1000, detectionLatency: 0, description: 'test', tags: {} };
}

/** Feed events; returns everything the filter let out, in order. */
function run(f: FrequentEventFilter, events: DetectorEvent[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const e of events) f.process(e, out);
  return out;
}

function every(step: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
}

const plain = (out: DetectorEvent[]) => out.filter((e) => e.eventType === 'test_events');
const bulk = (out: DetectorEvent[]) => out.filter((e) => e.eventType.startsWith('bulk_'));

/** Through JSON, as a context store would keep it. */
function roundTrip(f: FrequentEventFilter): FrequentEventFilter {
  const g = new FrequentEventFilter(f.levels);
  g.loadState(JSON.parse(JSON.stringify(f.saveState())));
  return g;
}

describe('FrequentEventFilter (§9.2 item 4, FrequentEventFilterTest)', () => {
  it('has the documented default levels, in configuration order', () => {
    assert.deepEqual(DEFAULT_LEVELS, [
      { name: 'small', interval: 60, count: 5, cooldown: 120, severity: 25 },
      { name: 'medium', interval: 120, count: 15, cooldown: 240, severity: 50 },
      { name: 'large', interval: 360, count: 100, cooldown: 720, severity: 75 },
    ]);
    assert.deepEqual(parseLevels(undefined), { levels: DEFAULT_LEVELS, errors: [] });
    assert.deepEqual(parseLevels([]).levels, DEFAULT_LEVELS);
    assert.deepEqual(parseLevels('').levels, DEFAULT_LEVELS);
  });

  it('30 events in 30 s, checkpoint and restore, one more: small and medium disabled, large enabled', () => {
    const f = new FrequentEventFilter();
    const out = run(f, every(1, 0, 29).map((s) => ev(s)));
    assert.deepEqual(f.inspect('1')?.disabledAt, { small: 29000, medium: 29000, large: null },
      'each triggering event restarts the cooldown of a disabled level');
    assert.equal(f.inspect('1')?.stamps.length, 30);
    const restored = roundTrip(f);
    assert.deepEqual(restored.inspect('1'), f.inspect('1'));
    const after = run(restored, [ev(30)]);
    assert.deepEqual(after, [], 'still suppressed after the restore');
    const view = restored.inspect('1');
    assert.equal(view?.stamps.length, 31);
    assert.notEqual(view?.disabledAt.small, null);
    assert.notEqual(view?.disabledAt.medium, null);
    assert.equal(view?.disabledAt.large, null);
    assert.deepEqual(plain(out).map((e) => e.time), [0, 1000, 2000, 3000, 4000]);
    assert.deepEqual(bulk(out).map((e) => [e.description, e.time]), [
      ['Frequent events of type test_events - configuration name "small (5 events in 60 seconds)"', 5000],
      ['Frequent events of type test_events - configuration name "medium (15 events in 120 seconds)"', 15000],
    ]);
  });

  it('events every 36 s over 0..720 s retain no stamp older than 720 − 360 s', () => {
    const f = new FrequentEventFilter();
    run(f, every(36, 0, 720).map((s) => ev(s)));
    const stamps = f.inspect('1')?.stamps ?? [];
    assert.ok(stamps.every((t) => t >= 360_000));
    assert.deepEqual(stamps, every(36, 360, 720).map((s) => s * 1000), 'a stamp exactly at the cut-off is kept');
  });

  it('events every 4 s over 0..88 s: 5 pass, one bulk event each for small and medium', () => {
    const f = new FrequentEventFilter();
    const events = every(4, 0, 88).map((s) => ev(s));
    assert.equal(events.length, 23);
    const out = run(f, events);
    assert.deepEqual(plain(out).map((e) => e.time), [0, 4000, 8000, 12000, 16000]);
    const b = bulk(out);
    assert.equal(b.length, 2);
    assert.match(b[0].description, /small/);
    assert.match(b[1].description, /medium/);
    assert.deepEqual(b[0], {
      eventType: 'bulk_test_events', stream: '1', severity: 25, time: 20000, detectionLatency: 0,
      description: 'Frequent events of type test_events - configuration name "small (5 events in 60 seconds)"', tags: {},
    });
    assert.equal(b[1].severity, 50);
    assert.equal(b[1].time, 60000, 'the 16th event within 120 s trips medium');
    assert.deepEqual([f.passed, f.suppressed, f.bulk], [5, 18, 2]);
  });

  it('re-enables a level once an event comes more than its cooldown after it was disabled', () => {
    const f = new FrequentEventFilter();
    run(f, [ev(10)]);
    // Force every level disabled at 10 s, through the stored state.
    const snap = JSON.parse(JSON.stringify(f.saveState())) as FilterSnapshot;
    snap.streams['1'].disabledAt = [10000, 10000, 10000];
    f.loadState(snap);
    assert.deepEqual(run(f, [ev(135)]), [], 'medium and large are still disabled');
    assert.deepEqual(f.inspect('1')?.disabledAt, { small: null, medium: 10000, large: 10000 });
    run(f, [ev(255)]);
    assert.deepEqual(f.inspect('1')?.disabledAt, { small: null, medium: null, large: 10000 });
    assert.deepEqual(run(f, [ev(735)]).map((e) => e.time), [735000], 'all enabled again: the event passes');
    assert.deepEqual(f.inspect('1')?.disabledAt, { small: null, medium: null, large: null });
  });

  it('does not re-enable at exactly the cooldown (strictly more)', () => {
    const f = new FrequentEventFilter();
    run(f, [ev(10)]);
    const snap = f.saveState();
    snap.streams['1'].disabledAt = [10000, null, null];
    f.loadState(snap);
    run(f, [ev(130)]);
    assert.equal(f.inspect('1')?.disabledAt.small, 10000);
    run(f, [ev(130.001)]);
    assert.equal(f.inspect('1')?.disabledAt.small, null);
  });

  it('events every 5 s over 0..240 s: 5 pass, exactly one bulk each for small and medium', () => {
    const f = new FrequentEventFilter();
    const out = run(f, every(5, 0, 240).map((s) => ev(s)));
    assert.equal(plain(out).length, 5);
    assert.deepEqual(bulk(out).map((e) => e.severity), [25, 50], 'no re-enabling while continuously triggered');
  });
});

describe('FrequentEventFilter behaviour', () => {
  it('emits simultaneous bulk events in configuration order', () => {
    const levels = requireLevels([
      { name: 'b-first', interval: '10', count: '1', cooldown: '0', severity: '10' },
      { name: 'a-second', interval: '10', count: '1', cooldown: '0', severity: '20' },
    ]);
    const out = run(new FrequentEventFilter(levels), [ev(0), ev(1)]);
    assert.deepEqual(out.map((e) => e.description), [
      'test',
      'Frequent events of type test_events - configuration name "b-first (1 events in 10 seconds)"',
      'Frequent events of type test_events - configuration name "a-second (1 events in 10 seconds)"',
    ]);
  });

  it('counts event types of one stream together, and streams apart', () => {
    const f = new FrequentEventFilter();
    const mixed = every(1, 0, 5).map((s) => ev(s, 'x', s % 2 ? 'loss_events' : 'test_events'));
    const out = run(f, mixed);
    assert.equal(out.filter((e) => !e.eventType.startsWith('bulk_')).length, 5);
    assert.deepEqual(bulk(out).map((e) => e.eventType), ['bulk_loss_events'], 'the 6th event (a loss event) trips small');
    assert.deepEqual(run(f, [ev(6, 'y')]).map((e) => e.stream), ['y'], 'another stream is unaffected');
    assert.equal(f.streamCount, 2);
  });

  it('counts only events strictly inside the interval', () => {
    const levels = requireLevels([{ name: 'l', interval: 10, count: 2, cooldown: 0, severity: 1 }]);
    const f = new FrequentEventFilter(levels);
    assert.equal(run(f, [ev(0), ev(5), ev(10)]).length, 3, 'the stamp at t − interval is not counted');
    assert.equal(bulk(run(f, [ev(10.5)])).length, 1, '10.5, 10 and 5 s are within (0.5, 10.5]: 3 > 2');
  });

  it('walks stamps from the newest and stops at the first older one (out-of-order cuts it short)', () => {
    // A wide second level keeps the old stamp from being pruned.
    const levels = requireLevels([
      { name: 'l', interval: 10, count: 3, cooldown: 0, severity: 1 },
      { name: 'wide', interval: 360, count: 1000, cooldown: 0, severity: 1 },
    ]);
    const inOrder = run(new FrequentEventFilter(levels), [ev(100), ev(101), ev(102), ev(103)]);
    assert.deepEqual(bulk(inOrder).map((e) => e.time), [103000], '103, 102, 101, 100: 4 > 3');
    const f = new FrequentEventFilter(levels);
    const out = run(f, [ev(100), ev(101), ev(50), ev(102), ev(103)]);
    // At 103 the walk sees 103, 102 and stops at 50, although 101 and 100 are within 10 s.
    assert.deepEqual(bulk(out), []);
    assert.equal(out.length, 5);
  });

  it('prunes out-of-order stamps wherever they sit in the queue', () => {
    const f = new FrequentEventFilter();
    run(f, [ev(100), ev(0), ev(200)]);
    assert.deepEqual(f.inspect('1')?.stamps, [100000, 0, 200000]);
    run(f, [ev(360)]);
    assert.deepEqual(f.inspect('1')?.stamps, [100000, 0, 200000, 360000], 'a stamp exactly at the cut-off stays');
    run(f, [ev(400)]);
    assert.deepEqual(f.inspect('1')?.stamps, [100000, 200000, 360000, 400000], '0 s is older than 400 − 360 s though not at the front');
    run(f, [ev(461), ev(462)]);
    assert.deepEqual(f.inspect('1')?.stamps, [200000, 360000, 400000, 461000, 462000]);
  });

  it('keeps a long flood within the longest interval (the queue grows)', () => {
    const f = new FrequentEventFilter();
    const out = run(f, Array.from({ length: 1000 }, (_, i) => ev(i / 10)));
    assert.equal(f.inspect('1')?.stamps.length, 1000);
    assert.deepEqual(bulk(out).map((e) => e.severity), [25, 50, 75]);
    assert.equal(bulk(out)[2].time, 10000, 'the 101st event within 360 s trips large');
  });

  it('resets one stream or all', () => {
    const f = new FrequentEventFilter();
    run(f, every(1, 0, 6).map((s) => ev(s, 'a')));
    run(f, every(1, 0, 6).map((s) => ev(s, 'b')));
    f.reset('a');
    assert.equal(f.inspect('a'), undefined);
    assert.equal(run(f, [ev(7, 'a')]).length, 1, 'a starts over');
    assert.equal(run(f, [ev(7, 'b')]).length, 0, 'b is still suppressed');
    f.reset();
    assert.equal(f.streamCount, 0);
  });

  it('forwards a passing event unchanged, as the same object', () => {
    const f = new FrequentEventFilter();
    const out: DetectorEvent[] = [];
    const e = ev(0);
    assert.equal(f.process(e, out), true);
    assert.equal(out[0], e, 'the event is forwarded unchanged, as the same object');
  });
});

/** §6 written out as literally as possible, with plain arrays: the reference for random runs. */
function referenceFilter(levels: readonly FrequencyLevel[]) {
  const state = new Map<string, { stamps: number[]; disabledAt: Array<number | null> }>();
  const longest = Math.max(...levels.map((l) => l.interval)) * 1000;
  return (e: DetectorEvent): DetectorEvent[] => {
    let st = state.get(e.stream);
    if (!st) state.set(e.stream, (st = { stamps: [], disabledAt: levels.map(() => null) }));
    st.stamps.push(e.time);
    st.stamps = st.stamps.filter((t) => !(t < e.time - longest));
    const out: DetectorEvent[] = [];
    levels.forEach((c, i) => {
      let recent = 0;
      for (let k = st!.stamps.length - 1; k >= 0 && st!.stamps[k] > e.time - c.interval * 1000; k--) recent++;
      const triggered = recent > c.count;
      const d = st!.disabledAt[i];
      if (d !== null) {
        if (triggered) st!.disabledAt[i] = e.time;
        else if (d < e.time - c.cooldown * 1000) st!.disabledAt[i] = null;
      } else if (triggered) {
        out.push({ eventType: `bulk_${e.eventType}`, stream: e.stream, severity: c.severity, time: e.time, detectionLatency: 0,
          description: `Frequent events of type ${e.eventType} - configuration name "${c.name} (${c.count} events in ${c.interval} seconds)"`, tags: {} });
        st!.disabledAt[i] = e.time;
      }
    });
    if (st.disabledAt.every((d) => d === null)) out.push(e);
    return out;
  };
}

describe('FrequentEventFilter against a literal reference of §6', () => {
  it('agrees on random bursty, partly out-of-order event sequences', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const levels = requireLevels([
      { name: 'fast', interval: 5, count: 3, cooldown: 10, severity: 30 },
      ...DEFAULT_LEVELS,
    ]);
    for (let run = 0; run < 20; run++) {
      const f = new FrequentEventFilter(levels);
      const ref = referenceFilter(levels);
      let t = 0;
      const events: DetectorEvent[] = [];
      for (let i = 0; i < 3000; i++) {
        // Floods (0.1 s apart), pauses of up to 20 min, and some events arriving late.
        t += rand() < 0.02 ? rand() * 1_200_000 : rand() * 3000;
        const late = rand() < 0.05 ? rand() * 30_000 : 0;
        events.push({ ...ev(0, rand() < 0.8 ? 'a' : 'b'), time: Math.round(t - late) });
      }
      const got = run === 0 ? runRestoringEvery10(f, events) : runAllOf(f, events);
      const want = events.flatMap((e) => ref(e));
      assert.deepEqual(got, want, `run ${run}`);
      assert.ok(bulk(want).length > 0 && plain(want).length > 0, 'the run has both floods and quiet spells');
    }
  });
});

function runAllOf(f: FrequentEventFilter, events: DetectorEvent[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  for (const e of events) f.process(e, out);
  return out;
}

/** The same, restoring through JSON every 10 events. */
function runRestoringEvery10(f: FrequentEventFilter, events: DetectorEvent[]): DetectorEvent[] {
  const out: DetectorEvent[] = [];
  let cur = f;
  events.forEach((e, i) => {
    if (i % 10 === 0) cur = roundTrip(cur);
    cur.process(e, out);
  });
  return out;
}

describe('FrequentEventFilter state', () => {
  it('restores through JSON and continues exactly as without the restore', () => {
    const events = [...every(4, 0, 88), ...every(50, 100, 1500)].map((s) => ev(s));
    const straight = run(new FrequentEventFilter(), events);
    const first = new FrequentEventFilter();
    const a = run(first, events.slice(0, 20));
    const b = run(roundTrip(first), events.slice(20));
    assert.deepEqual([...a, ...b], straight);
    assert.ok(plain(straight).length > 5, 'levels re-enable after the flood');
  });

  it('rejects state from other levels, other formats or corrupt state, keeping its own', () => {
    const f = new FrequentEventFilter();
    run(f, [ev(1)]);
    const snap = f.saveState();
    const other = new FrequentEventFilter(requireLevels([{ name: 'small', interval: 60, count: 6, cooldown: 120, severity: 25 }]));
    assert.throws(() => other.loadState(snap), (e: Error) => e instanceof StateError && /levels changed/.test(e.message));
    assert.throws(() => f.loadState({ format: 'x' }), /not a streamevmon event filter state/);
    assert.throws(() => f.loadState({ ...snap, version: 99 }), /version 99/);
    const corrupt = JSON.parse(JSON.stringify(snap));
    corrupt.streams['1'].stamps = [1, 'x'];
    assert.throws(() => f.loadState(corrupt), /stream "1" is corrupt: stamps\[1\] must be a number/);
    corrupt.streams['1'].stamps = [];
    corrupt.streams['1'].disabledAt = [null];
    assert.throws(() => f.loadState(corrupt), /disabledAt must be a list of 3 entries/);
    assert.equal(f.inspect('1')?.stamps.length, 1, 'own state kept');
  });
});

describe('frequent filter levels validation (D9)', () => {
  it('accepts strings from the editor and numbers from code', () => {
    assert.deepEqual(requireLevels([{ name: ' x ', interval: '1', count: 1, cooldown: '0', severity: '100' }]),
      [{ name: 'x', interval: 1, count: 1, cooldown: 0, severity: 100 }]);
    assert.deepEqual(requireLevels('[{"name":"j","interval":2,"count":3,"cooldown":4,"severity":5}]'),
      [{ name: 'j', interval: 2, count: 3, cooldown: 4, severity: 5 }]);
  });

  it('reports every problem with the level, the value, the rule and what it got', () => {
    const r = parseLevels([
      { name: 'a', interval: '0', count: '0', cooldown: '-1', severity: '101' },
      { name: 'b', interval: '1.5', count: 'many', cooldown: '1', severity: '50' },
      { name: 'c', interval: '60', count: '5' },
      { name: '', interval: 1, count: 1, cooldown: 1, severity: 1 },
      { name: 'a', interval: 1, count: 1, cooldown: 1, severity: 1 },
      42,
    ]);
    assert.deepEqual(r.errors, [
      'event-filter: a.interval must be an integer between 1 and 2147483647 (got 0)',
      'event-filter: a.count must be an integer between 1 and 2147483647 (got 0)',
      'event-filter: a.cooldown must be an integer between 0 and 2147483647 (got -1)',
      'event-filter: a.severity must be an integer between 0 and 100 (got 101)',
      'event-filter: b.interval must be an integer between 1 and 2147483647 (got 1.5)',
      'event-filter: b.count must be an integer between 1 and 2147483647 (got many)',
      'event-filter: c.cooldown is missing',
      'event-filter: c.severity is missing',
      'event-filter: level 4 has no name',
      'event-filter: level name "a" is used more than once',
      'event-filter: level 6 must be an object with name, interval, count, cooldown and severity',
    ]);
    assert.throws(() => requireLevels([{ name: 'a', interval: 0, count: 1, cooldown: 1, severity: 1 }]), RangeError);
    assert.deepEqual(parseLevels('{oops').errors, ['event-filter: levels must be a JSON list of levels (got {oops)']);
    assert.deepEqual(parseLevels({ name: 'a' }).errors, ['event-filter: levels must be a list of levels (got {"name":"a"})']);
  });
});
