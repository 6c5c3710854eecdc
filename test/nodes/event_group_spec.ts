import { strict as assert } from 'node:assert';
import groupNode = require('../../nodes/streamevmon-event-group');
import { collect, contextGet, helper, lastStatus, nodeContext, settle, useConfiguredStores } from './helpers';

const T0 = 1_564_713_040_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function ev(ms: number, extra: Record<string, unknown> = {}) {
  return { eventType: 'loss_events', stream: '3', severity: 40, time: T0 + ms, detectionLatency: 0, description: 'd', tags: { type: 'x' }, ...extra };
}

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1', z: 'f1', type: 'streamevmon-event-group', maximumEventInterval: '10', maximumGroupDuration: '7200',
      maxLateness: '20', perStream: false, wires: [['events'], ['groups']], ...extra,
    },
    { id: 'events', z: 'f1', type: 'helper' },
    { id: 'groups', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('streamevmon-event-group node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('forwards each event at once tagged in_group, without touching the input event', async () => {
    await helper.load(groupNode, flow());
    const events = collect('events');
    const groups = collect('groups');
    const n1 = helper.getNode('n1');
    const input = ev(0);
    n1.receive({ payload: input });
    n1.receive({ payload: ev(5000) });
    n1.receive({ payload: ev(60_000) });
    const [a, b, c] = await events.waitFor(3);
    assert.match(a.payload.tags.in_group, UUID);
    assert.equal(b.payload.tags.in_group, a.payload.tags.in_group, 'same group');
    assert.notEqual(c.payload.tags.in_group, a.payload.tags.in_group, 'more than 10 s later: a new group');
    assert.equal(a.payload.tags.type, 'x');
    assert.deepEqual(input.tags, { type: 'x' }, 'the input event is not mutated');
    assert.equal(a.topic, '3');
    assert.match(a.summary, /^\[severity 40\] loss_events on 3: d at 2019-08-02T02:30:40.000Z/);
    const [g] = await groups.waitFor(1);
    assert.equal(g.topic, 'event_group');
    assert.equal(g.payload.uid, a.payload.tags.in_group);
    assert.equal(g.payload.start, T0);
    assert.equal(g.payload.end, T0 + 5000);
    assert.equal(g.payload.eventCount, 2);
    assert.deepEqual(g.payload.events.map((e: any) => e.tags.in_group), [g.payload.uid, g.payload.uid]);
    await settle(1100);
    assert.equal(lastStatus(n1).text, '1 active · 3 events · 1 group');
  });

  it('emits a group when msg.watermark passes its timer (the data-formats.md §13 example)', async () => {
    await helper.load(groupNode, flow());
    const groups = collect('groups');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: ev(0) });
    n1.receive({ payload: ev(5000, { severity: 61, detectionLatency: 1000 }) });
    n1.receive({ watermark: T0 + 13_999 });
    await settle();
    assert.equal(groups.msgs.length, 0, 'the timer is at maxET + 10 s = start + 14 s');
    n1.receive({ watermark: T0 + 14_000, payload: 1_700_000_000_000 });
    const [g] = await groups.waitFor(1);
    assert.deepEqual({ ...g.payload, uid: 'u', events: g.payload.events.length }, {
      uid: 'u', start: T0, end: T0 + 4000, events: 2, eventCount: 2, streams: ['3'], modeEventType: 'loss_events',
      meanSeverity: 50, meanDetectionLatency: 500,
      description: 'Group of 2 events over 1 measurement streams with duration PT4S, most common event type "loss_events", mean severity 50, and mean detection latency PT0S',
    });
  });

  it('msg.flush closes every active group now; per-stream grouping keeps streams apart', async () => {
    await helper.load(groupNode, flow({ perStream: 'true' }));
    const groups = collect('groups');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: [ev(0, { stream: 'a' }), ev(1000, { stream: 'b' }), ev(2000, { stream: 'a' })] });
    n1.receive({ flush: true });
    const msgs = await groups.waitFor(2);
    assert.deepEqual(msgs.map((m: any) => [m.payload.streams, m.payload.eventCount]), [[['a'], 2], [['b'], 1]], 'oldest first');
  });

  it('a batch gives one msg of tagged events on output 1', async () => {
    await helper.load(groupNode, flow());
    const events = collect('events');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 'batch', payload: [ev(0), { nope: 1 }, ev(1000)] });
    const [msg] = await events.waitFor(1);
    assert.equal(msg.topic, 'batch');
    assert.equal(msg.payload.length, 2);
    assert.equal(msg.payload[0].tags.in_group, msg.payload[1].tags.in_group);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /^Error: streamevmon-event-group: 1 of 3 batch elements rejected; first: element 1: event has no eventType/);
  });

  it('msg.reset drops the active group without emitting it', async () => {
    await helper.load(groupNode, flow());
    const groups = collect('groups');
    const events = collect('events');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: ev(0) });
    n1.receive({ reset: true });
    n1.receive({ payload: ev(1000) });
    const [, second] = await events.waitFor(2);
    assert.notEqual(second.payload.tags.in_group, events.msgs[0].payload.tags.in_group, 'a new group after the reset');
    n1.receive({ flush: true });
    const [g] = await groups.waitFor(1);
    await settle();
    assert.equal(groups.msgs.length, 1);
    assert.equal(g.payload.eventCount, 1);
  });

  it('rejects non-events and bad watermarks through done(err)', async () => {
    await helper.load(groupNode, flow());
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'hello' });
    n1.receive({ watermark: 'later' });
    const errors = await caught.waitFor(2);
    assert.equal(errors[0].error.message, 'Error: streamevmon-event-group: payload is not an event object (got "hello")');
    assert.equal(errors[1].error.message, 'Error: streamevmon-event-group: msg.watermark must be epoch milliseconds (got "later")');
  });

  it('rejects an event beyond the range of dates before it touches any group; a NaN watermark is named', async () => {
    await helper.load(groupNode, flow());
    const caught = collect('caught');
    const events = collect('events');
    const groups = collect('groups');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: ev(0) });
    n1.receive({ payload: ev(1000) });
    n1.receive({ payload: ev(2000, { time: 1e20 }) });
    n1.receive({ watermark: NaN });
    const errors = await caught.waitFor(2);
    assert.equal(errors[0].error.message, 'Error: streamevmon-event-group: event time is outside the range of dates (got 100000000000000000000)');
    assert.equal(errors[1].error.message, 'Error: streamevmon-event-group: msg.watermark must be epoch milliseconds (got NaN)');
    await settle(100);
    assert.equal(events.msgs.length, 2);
    assert.equal(groups.msgs.length, 0, 'the open group was not closed by the bad event');
    n1.receive({ flush: true });
    const [g] = await groups.waitFor(1);
    assert.equal(g.payload.eventCount, 2, 'and the bad event is not in it');
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(groupNode, flow({ maximumGroupDuration: '0' }));
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'event-group: maximumGroupDuration must be an integer between 1 and 2147483647 (got 0)');
  });

  describe('on close', () => {
    useConfiguredStores();

    it('without persistence, active groups are finalised and sent on close (seen downstream when only the grouper is redeployed)', async () => {
      await helper.load(groupNode, flow());
      const groups = collect('groups');
      const events = collect('events');
      const n1 = helper.getNode('n1');
      n1.receive({ payload: ev(0) });
      const [e] = await events.waitFor(1);
      // Redeploy only the changed grouper: the helper nodes stay up and see what it sends on close.
      await helper.setFlows(flow({ maximumEventInterval: '11' }), 'nodes');
      const [g] = await groups.waitFor(1);
      assert.equal(g.payload.uid, e.payload.tags.in_group);
      assert.equal(g.payload.end, T0);
    });

    it('with persistence, active groups are saved and continue after the restart', async () => {
      await helper.load(groupNode, flow({ persist: true }));
      await nodeContext.load();
      const groups = collect('groups');
      const events = collect('events');
      helper.getNode('n1').receive({ payload: ev(0) });
      const [first] = await events.waitFor(1);
      await helper.setFlows(flow({ persist: true, name: 'renamed' }), 'nodes');
      await settle();
      assert.equal(groups.msgs.length, 0, 'nothing emitted on close');
      const stored = await contextGet('n1', 'streamevmonState');
      assert.deepEqual(Object.values(stored.groups).map((g: any) => g.uid), [first.payload.tags.in_group]);
      const n1 = helper.getNode('n1');
      n1.receive({ payload: ev(3000) });
      const [, second] = await events.waitFor(2);
      assert.equal(second.payload.tags.in_group, first.payload.tags.in_group, 'the restored group is joined');
      n1.receive({ flush: true });
      const [g] = await groups.waitFor(1);
      assert.equal(g.payload.eventCount, 2);
      assert.deepEqual([g.payload.start, g.payload.end], [T0, T0 + 3000]);
    });

    it('with persistence, removing the node still emits its active groups', async () => {
      await helper.load(groupNode, flow({ persist: true }));
      const groups = collect('groups');
      helper.getNode('n1').receive({ payload: ev(0) });
      await settle();
      await helper.setFlows(flow().filter((n) => n.id !== 'n1'), 'nodes');
      const [g] = await groups.waitFor(1);
      assert.equal(g.payload.eventCount, 1);
    });
  });
});
