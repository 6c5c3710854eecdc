import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { StateError } from '../../lib/detectors/types';
import { defaultParams, parseParams } from '../../lib/params';
import {
  EventGroup, IN_PROGRESS_DESCRIPTION, eventProblem, groupDescription, groupPayload, javaDurationSeconds,
  maxEventTime, meanDetectionLatencyNs, modeEventType, singleEventGroup,
} from '../../lib/events/group';
import { GrouperParams, TemporalEventGrouper, grouperParamSet } from '../../lib/events/temporal-grouper';

const HOUR = 3_600_000;
const defaults: GrouperParams = defaultParams(grouperParamSet);

function ev(time: number, extra: Partial<DetectorEvent> = {}): DetectorEvent {
  return { eventType: 'test_events', stream: '1', severity: 10, time, detectionLatency: 0, description: 'd', tags: {}, ...extra };
}

/** Predictable UUIDs: g1, g2, … */
function counter(): () => string {
  let n = 0;
  return () => `g${++n}`;
}

function grouper(p: Partial<GrouperParams> = {}): TemporalEventGrouper {
  return new TemporalEventGrouper({ ...defaults, ...p } as GrouperParams, { newId: counter() });
}

/** Feed events; returns the closed groups. */
function feed(g: TemporalEventGrouper, events: DetectorEvent[]): EventGroup[] {
  const closed: EventGroup[] = [];
  for (const e of events) g.addEvent(e, closed);
  return closed;
}

describe('event group model (§7.1)', () => {
  it('formats durations as Java ISO-8601, truncated to whole seconds, without days', () => {
    const cases: Array<[number, string]> = [
      [0, 'PT0S'], [999, 'PT0S'], [5000, 'PT5S'], [5999, 'PT5S'], [60_000, 'PT1M'], [61_000, 'PT1M1S'],
      [HOUR, 'PT1H'], [HOUR + 500, 'PT1H'], [HOUR + 2 * 60_000 + 5000, 'PT1H2M5S'], [HOUR + 5000, 'PT1H5S'],
      [90_000_000, 'PT25H'],
    ];
    for (const [ms, iso] of cases) assert.equal(javaDurationSeconds(ms), iso, `${ms} ms`);
  });

  it('describes the data-formats.md §13 example group exactly', () => {
    const a = ev(1564713040000, { eventType: 'loss_events', stream: '3', severity: 40 });
    const b = ev(1564713045000, { eventType: 'loss_events', stream: '3', severity: 61, detectionLatency: 1000 });
    const g: EventGroup = { uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11', start: 1564713040000, end: 1564713044000, events: [a, b] };
    assert.deepEqual(groupPayload(g), {
      uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11',
      start: 1564713040000,
      end: 1564713044000,
      events: [a, b],
      eventCount: 2,
      streams: ['3'],
      modeEventType: 'loss_events',
      meanSeverity: 50,
      meanDetectionLatency: 500,
      description: 'Group of 2 events over 1 measurement streams with duration PT4S, most common event type "loss_events", mean severity 50, and mean detection latency PT0S',
    });
  });

  it('derives the mode type (ties to the first), streams, integer means and a long latency', () => {
    const g: EventGroup = {
      uid: 'u', start: 0, end: 90_000_000, events: [
        ev(0, { eventType: 'a', stream: 's1', severity: 1, detectionLatency: 2 * HOUR }),
        ev(0, { eventType: 'b', stream: 's2', severity: 2, detectionLatency: 0 }),
        ev(0, { eventType: 'b', stream: 's1', severity: 2, detectionLatency: 0 }),
        ev(0, { eventType: 'a', stream: 's3', severity: 2, detectionLatency: 1 }),
      ],
    };
    assert.equal(modeEventType(g), 'a', 'a and b occur twice each; a comes first');
    assert.equal(modeEventType({ ...g, events: g.events.slice(1) }), 'b');
    assert.equal(meanDetectionLatencyNs(g), 1_800_000_250_000n, '(7200000 ms + 1 ms) / 4 in ns');
    assert.equal(groupDescription(g),
      'Group of 4 events over 3 measurement streams with duration PT25H, most common event type "a", mean severity 1, and mean detection latency PT30M');
    assert.deepEqual(groupPayload(g).streams, ['s1', 's2', 's3']);
    assert.equal(groupPayload(g).meanDetectionLatency, 1_800_000.25);
    const huge: EventGroup = { uid: 'u', start: 0, end: 0, events: [ev(0, { detectionLatency: 1e12 }), ev(0, { detectionLatency: 1e12 + 1 })] };
    assert.equal(meanDetectionLatencyNs(huge), 1_000_000_000_000_500_000n, 'exact beyond 2^53 ns');
  });

  it('describes an ongoing group as still in progress', () => {
    assert.equal(groupDescription({ uid: 'u', start: 0, end: null, events: [ev(0)] }), IN_PROGRESS_DESCRIPTION);
    assert.equal(IN_PROGRESS_DESCRIPTION, 'Event group still in progress.');
    assert.equal(groupPayload({ uid: 'u', start: 0, end: null, events: [ev(0)] }).end, null);
  });

  it('tells events from other payloads', () => {
    assert.equal(eventProblem(ev(0)), null);
    assert.equal(eventProblem(42), 'payload is not an event object (got 42)');
    assert.equal(eventProblem({ ...ev(0), eventType: undefined }), 'event has no eventType');
    assert.equal(eventProblem({ ...ev(0), time: '2024' }), 'event time is not epoch milliseconds (got "2024")');
    assert.equal(eventProblem({ ...ev(0), tags: null }), 'event tags is not an object');
    // Values JSON cannot show are still named, not a TypeError.
    assert.equal(eventProblem({ ...ev(0), severity: () => 1 }), 'event severity is not a number (got () => 1)');
    assert.equal(eventProblem({ ...ev(0), time: 5n }), 'event time is not epoch milliseconds (got 5n)');
  });
});

describe('single-event grouper (§9.2 item 5, SingleEventGrouperTest)', () => {
  it('turns each event into a group starting and ending at time − latency', () => {
    const events = [ev(10_000, { detectionLatency: 5000 }), ev(20_000, { detectionLatency: 10_000 }), ev(30_000, { detectionLatency: 15_000 })];
    const groups = events.map(singleEventGroup);
    assert.deepEqual(groups.map((g) => [g.start, g.end]), [[5000, 5000], [10_000, 10_000], [15_000, 15_000]]);
    groups.forEach((g, i) => assert.deepEqual(g.events, [events[i]]));
  });
});

describe('TemporalEventGrouper (§9.2 item 6, TemporalEventGrouperTest)', () => {
  it('has the documented defaults and validates its parameters (D9)', () => {
    assert.deepEqual(defaults, { maximumEventInterval: 10, maximumGroupDuration: 7200, maxLateness: 20, perStream: false });
    const r = parseParams(grouperParamSet, { maximumEventInterval: '-1', maximumGroupDuration: '0', maxLateness: '2.5', perStream: 'yes' });
    assert.deepEqual(r.errors, [
      'event-group: maximumEventInterval must be an integer between 0 and 2147483647 (got -1)',
      'event-group: maximumGroupDuration must be an integer between 1 and 2147483647 (got 0)',
      'event-group: maxLateness must be an integer between 0 and 2147483647 (got 2.5)',
      'event-group: perStream must be true or false (got "yes")',
    ]);
    assert.deepEqual(parseParams(grouperParamSet, { maximumEventInterval: '0', perStream: 'true' }).params,
      { ...defaults, maximumEventInterval: 0, perStream: true });
  });

  it('merges two events 100 ms apart; the group closes when an event arrives about 27 h later', () => {
    const g = grouper();
    assert.deepEqual(feed(g, [ev(5000), ev(5100)]), []);
    const closed = feed(g, [ev(5000 + 27 * HOUR)]);
    assert.equal(closed.length, 1);
    assert.equal(closed[0].start, 5000);
    assert.equal(closed[0].end, 5100);
    assert.equal(closed[0].uid, 'g1');
    assert.deepEqual(closed[0].events.map((e) => e.time), [5000, 5100]);
    // The far event is its own group.
    assert.deepEqual(g.activeGroups().map((a) => [a.uid, a.start, a.end, a.events.length]), [['g2', 5000 + 27 * HOUR, null, 1]]);
  });

  it('emits a lone group once the watermark reaches its timer (maxET + interval)', () => {
    const g = grouper({ maxLateness: 0 });
    assert.deepEqual(feed(g, [ev(5000)]), []);
    const closed: EventGroup[] = [];
    g.advanceWatermark(14_999, closed);
    assert.equal(closed.length, 0);
    g.advanceWatermark(15_000, closed);
    assert.deepEqual(closed.map((c) => [c.uid, c.start, c.end]), [['g1', 5000, 5000]]);
    assert.equal(g.activeCount, 0);
  });

  it('watermark = max event time − maxLateness (detection time, not event time)', () => {
    const g = grouper();
    feed(g, [ev(5000)]);
    assert.equal(g.watermark, 5000 - 20_000);
    // Another stream's late detection of an old anomaly moves the watermark by its time.
    const closed = feed(g, [ev(34_999, { stream: '2', detectionLatency: 25_000 })]);
    assert.deepEqual(closed, [], 'its eventTime 9999 ms is within 10 s: merged');
    assert.equal(g.watermark, 14_999);
    assert.deepEqual(feed(g, [ev(39_000, { stream: '3', detectionLatency: 34_000 })]), [], 'eventTime 5000: merged');
    const next = feed(g, [ev(40_000, { stream: '4' })]);
    assert.deepEqual(next.map((c) => [c.start, c.end, c.events.length]), [[5000, 9999, 3]],
      'a group whose gap is more than the interval closes the old one');
    assert.equal(g.watermark, 20_000);
    assert.equal(g.watermark, Math.max(5000, 34_999, 39_000, 40_000) - 20_000);
  });

  it('the watermark never moves back, and an explicit one can move it forward', () => {
    const g = grouper();
    feed(g, [ev(100_000)]);
    const closed: EventGroup[] = [];
    g.advanceWatermark(50_000, closed);
    assert.equal(g.watermark, 80_000);
    feed(g, [ev(90_000)]);
    assert.equal(g.watermark, 80_000);
    g.advanceWatermark(110_000, closed);
    assert.deepEqual(closed.map((c) => [c.start, c.end]), [[90_000, 100_000]]);
  });

  it('the far event becomes its own group', () => {
    const g = grouper();
    const closed = feed(g, [ev(0), ev(10_000), ev(20_001)]);
    assert.deepEqual(closed.map((c) => [c.start, c.end, c.uid]), [[0, 10_000, 'g1']], 'a gap of exactly the interval still merges');
    assert.deepEqual(g.activeGroups().map((a) => [a.start, a.uid]), [[20_001, 'g2']]);
  });

  it('never lets a group span more than maximumGroupDuration (events every 5 s up to 7300 s)', () => {
    for (const maxLateness of [0, 20]) {
      const g = grouper({ maxLateness });
      const closed = feed(g, Array.from({ length: 7300 / 5 + 1 }, (_, i) => ev(i * 5000)));
      const all = [...closed, ...g.activeGroups()];
      for (const grp of all) assert.ok(grp.events.every((e) => e.time <= grp.start + 7_200_000));
      assert.deepEqual(all.map((c) => [c.start, c.end, c.events.length]), [[0, 7_200_000, 1441], [7_205_000, null, 20]], `maxLateness ${maxLateness}`);
    }
  });

  it('state survives a snapshot and restore through JSON', () => {
    const events = [0, 3000, 5000, 40_000, 41_000, 100_000, 101_000, 130_000].map((t, i) => ev(t, { stream: `s${i % 3}`, severity: i }));
    const straight = grouper();
    const expected = feed(straight, events);
    const first = grouper();
    const a = feed(first, events.slice(0, 4));
    // The restored grouper continues the UUID sequence the way the straight one did.
    const restored = new TemporalEventGrouper({ ...defaults }, { newId: (() => { const ids = counter(); ids(); ids(); return ids; })() });
    restored.loadState(JSON.parse(JSON.stringify(first.saveState())));
    assert.equal(restored.watermark, first.watermark);
    assert.deepEqual(restored.activeGroups(), first.activeGroups());
    const b = feed(restored, events.slice(4));
    assert.deepEqual([...a, ...b], expected);
    const closedStraight: EventGroup[] = [];
    const closedRestored: EventGroup[] = [];
    straight.finaliseAll(closedStraight);
    restored.finaliseAll(closedRestored);
    assert.deepEqual(closedRestored, closedStraight);
    assert.ok(expected.length >= 2);
  });
});

describe('TemporalEventGrouper behaviour', () => {
  it('assigns the UUID when a group opens and keeps it through merges (C7)', () => {
    const g = grouper();
    const closed: EventGroup[] = [];
    const t1 = g.addEvent(ev(0), closed);
    const t2 = g.addEvent(ev(8000), closed);
    const t3 = g.addEvent(ev(30_000), closed);
    assert.deepEqual([t1, t2, t3].map((e) => e.tags.in_group), ['g1', 'g1', 'g2']);
    assert.deepEqual(closed.map((c) => c.uid), ['g1']);
    assert.equal(closed[0].events[1], t2, 'the group holds the forwarded (tagged) copies');
  });

  it('forwards a tagged copy and never mutates the input event', () => {
    const g = grouper();
    const input = ev(0, { tags: { type: 'x' } });
    const frozen = JSON.stringify(input);
    const tagged = g.addEvent(input, []);
    assert.equal(JSON.stringify(input), frozen);
    assert.notEqual(tagged, input);
    assert.deepEqual(tagged, { ...input, tags: { type: 'x', in_group: 'g1' } });
  });

  it('uses random v4 UUIDs by default', () => {
    const g = new TemporalEventGrouper(defaults);
    const a = g.addEvent(ev(0), []).tags.in_group;
    const b = g.addEvent(ev(1e9), []).tags.in_group;
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(a, b);
  });

  it('groups globally by default, or per stream', () => {
    const events = [ev(0, { stream: 'a' }), ev(1000, { stream: 'b' }), ev(2000, { stream: 'a' })];
    const global = grouper();
    feed(global, events);
    assert.deepEqual(global.activeGroups().map((a) => a.events.length), [3]);
    const perStream = grouper({ perStream: true });
    const tags = events.map((e) => perStream.addEvent(e, []).tags.in_group);
    assert.deepEqual(tags, ['g1', 'g2', 'g1']);
    assert.deepEqual(perStream.activeGroups().map((a) => [a.uid, a.events.length]), [['g1', 2], ['g2', 1]]);
    perStream.reset('a');
    assert.deepEqual(perStream.activeGroups().map((a) => a.uid), ['g2']);
  });

  it('merges out-of-order events, moving the start back', () => {
    const g = grouper();
    feed(g, [ev(20_000), ev(15_000, { detectionLatency: 3000 })]);
    assert.deepEqual(g.activeGroups().map((a) => [a.start, a.events.length]), [[12_000, 2]]);
    const closed: EventGroup[] = [];
    g.advanceWatermark(30_000, closed);
    assert.deepEqual(closed.map((c) => [c.start, c.end]), [[12_000, 20_000]], 'end = the largest eventTime');
  });

  it('closes a group at start + maximumGroupDuration even while events keep coming', () => {
    const g = grouper({ maximumGroupDuration: 30, maxLateness: 0 });
    const closed = feed(g, [0, 9, 18, 27, 30].map((s) => ev(s * 1000)));
    assert.deepEqual(closed.map((c) => [c.start, c.end]), [[0, 30_000]], 'the 30 s timer fires as the watermark reaches it');
  });

  it('an event whose timer is already behind the watermark closes at once', () => {
    const g = grouper({ maxLateness: 0, perStream: true });
    feed(g, [ev(100_000, { stream: 'x' })]);
    const closed = feed(g, [ev(100_000, { stream: 'y', detectionLatency: 60_000 })]);
    assert.deepEqual(closed.map((c) => [c.start, c.end, c.events[0].stream]), [[40_000, 40_000, 'y']],
      'its timer at 50 s is behind the watermark (100 s)');
    assert.deepEqual(g.activeGroups().map((a) => a.events[0].stream), ['x']);
  });

  it('accepts whole groups (§7.3 "on an incoming group")', () => {
    const g = grouper();
    const closed: EventGroup[] = [];
    const uid = g.addGroup(singleEventGroup(ev(10_000, { detectionLatency: 5000 })), closed);
    assert.equal(g.addGroup(singleEventGroup(ev(20_000, { detectionLatency: 10_000 })), closed), uid);
    assert.equal(maxEventTime(g.activeGroups()[0]), 10_000);
    assert.throws(() => g.addGroup({ uid: null, start: 0, end: 0, events: [] }, closed), RangeError);
  });

  it('finalises every active group, oldest first, and resets', () => {
    const g = grouper({ perStream: true });
    feed(g, [ev(5000, { stream: 'b' }), ev(1000, { stream: 'a' })]);
    const closed: EventGroup[] = [];
    g.finaliseAll(closed);
    assert.deepEqual(closed.map((c) => [c.start, c.end, c.events[0].stream]), [[1000, 1000, 'a'], [5000, 5000, 'b']]);
    assert.equal(g.activeCount, 0);
    feed(g, [ev(9000)]);
    g.reset();
    assert.equal(g.activeCount, 0);
    assert.equal(g.watermark, -Infinity);
  });

  it('rejects unusable state and keeps its own', () => {
    const g = grouper();
    feed(g, [ev(0)]);
    const snap = g.saveState();
    assert.throws(() => grouper({ maximumEventInterval: 5 }).loadState(snap), (e: Error) => e instanceof StateError && /parameters changed/.test(e.message));
    assert.throws(() => g.loadState({ format: 'nope' }), /not a streamevmon event grouper state/);
    assert.throws(() => g.loadState({ ...snap, version: 2 }), /version 2/);
    const corrupt = JSON.parse(JSON.stringify(snap));
    corrupt.groups[''].events[0].time = 'soon';
    assert.throws(() => g.loadState(corrupt), /stored group "" is corrupt: events\[0\]: event time is not epoch milliseconds/);
    assert.throws(() => g.loadState({ ...snap, watermark: 'x' }), /watermark must be a number/);
    assert.equal(g.activeCount, 1);
    const empty = grouper();
    empty.loadState(JSON.parse(JSON.stringify(empty.saveState())));
    assert.equal(empty.watermark, -Infinity, 'an unset watermark survives JSON as null');
  });
});
