import { strict as assert } from 'node:assert';
import filterNode = require('../../nodes/streamevmon-event-filter');
import { collect, contextGet, contextSet, helper, lastStatus, nodeContext, settle, useConfiguredStores } from './helpers';

function ev(s: number, stream = 'web-1') {
  return { eventType: 'spike_events', stream, severity: 40, time: 1_700_000_000_000 + s * 1000, detectionLatency: 0, description: 'Positive', tags: {} };
}

/** One small level: more than 2 events within 10 s trips it for a 30 s cooldown. */
const LEVELS = [{ name: 'burst', interval: '10', count: '2', cooldown: '30', severity: '60' }];

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-event-filter', levels: LEVELS, wires: [['out']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('streamevmon-event-filter node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('passes events, replaces a flood by one bulk event and suppresses the rest', async () => {
    await helper.load(filterNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const inputs = [0, 1, 2, 3, 4].map((s) => ev(s));
    inputs.forEach((e) => n1.receive({ topic: 'ignored', payload: e }));
    const msgs = await out.waitFor(3);
    await settle();
    assert.equal(out.msgs.length, 3);
    assert.equal(msgs[0].payload, inputs[0], 'a passing event is forwarded unchanged');
    assert.equal(msgs[0].topic, 'web-1', 'topic = event.stream');
    assert.equal(msgs[0].summary, '[severity 40] spike_events on web-1: Positive at 2023-11-14T22:13:20.000Z');
    assert.deepEqual(msgs[2].payload, {
      eventType: 'bulk_spike_events', stream: 'web-1', severity: 60, time: inputs[2].time, detectionLatency: 0,
      description: 'Frequent events of type spike_events - configuration name "burst (2 events in 10 seconds)"', tags: {},
    });
    assert.match(msgs[2].summary, /^\[severity 60\] bulk_spike_events on web-1: Frequent events/);
    await settle(1100);
    assert.equal(lastStatus(n1).text, '1 stream · passed 2 · suppressed 3 · bulk 1');
    assert.equal(lastStatus(n1).fill, 'green');
  });

  it('uses the default small/medium/large levels when none are configured', async () => {
    await helper.load(filterNode, [{ id: 'n1', type: 'streamevmon-event-filter', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (let s = 0; s < 7; s++) n1.receive({ payload: ev(s) });
    const msgs = await out.waitFor(6);
    await settle();
    assert.equal(out.msgs.length, 6, '5 events pass, the 6th trips small, the 7th is suppressed');
    assert.match(msgs[5].payload.description, /configuration name "small \(5 events in 60 seconds\)"/);
  });

  it('a batch gives one msg with the passing and bulk events; bad elements go to Catch', async () => {
    await helper.load(filterNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 'batch', payload: [ev(0), ev(1), 'junk', ev(2), ev(3), ev(0, 'other')] });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'batch');
    assert.deepEqual(msg.payload.map((e: any) => [e.eventType, e.stream]), [
      ['spike_events', 'web-1'], ['spike_events', 'web-1'], ['bulk_spike_events', 'web-1'], ['spike_events', 'other'],
    ]);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /^Error: streamevmon-event-filter: 1 of 6 batch elements rejected; first: element 2: payload is not an event object \(got "junk"\)/);
    n1.receive({ payload: [ev(4)] });
    await settle();
    assert.equal(out.msgs.length, 1, 'a batch with nothing passing sends nothing');
  });

  it('rejects msgs whose payload is not an event through done(err)', async () => {
    await helper.load(filterNode, flow());
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 42 });
    n1.receive({ payload: { ...ev(0), time: 'now' } });
    const errors = await caught.waitFor(2);
    assert.equal(errors[0].error.message, 'Error: streamevmon-event-filter: payload is not an event object (got 42)');
    assert.equal(errors[1].error.message, 'Error: streamevmon-event-filter: event time is not epoch milliseconds (got "now")');
    assert.equal(errors[0].error.source.id, 'n1');
    await settle(1100);
    assert.match(lastStatus(n1).text, /bad 2$/);
  });

  it('rejects an event whose time is beyond the range of dates before it counts, alone or in an array', async () => {
    await helper.load(filterNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: { ...ev(0), time: 9e15 } });
    n1.receive({ payload: [ev(1), { ...ev(2), time: 1e20 }] });
    n1.receive({ payload: { ...ev(3), detectionLatency: -9e15 } });
    const errors = await caught.waitFor(3);
    assert.equal(errors[0].error.message, 'Error: streamevmon-event-filter: event time is outside the range of dates (got 9000000000000000)');
    assert.match(errors[1].error.message, /1 of 2 batch elements rejected; first: element 1: event time is outside the range of dates/);
    assert.match(errors[2].error.message, /event time − detectionLatency is outside the range of dates/);
    await settle(1100);
    // Only the good event of the array passed; the rejected ones never counted towards the level.
    assert.deepEqual(out.msgs.map((m) => m.payload.length ?? 1), [1]);
    assert.equal(lastStatus(n1).text, '1 stream · passed 1 · suppressed 0 · bulk 0 · bad 3');
  });

  it('msg.reset clears one stream (msg.topic) or all', async () => {
    await helper.load(filterNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (const stream of ['a', 'b']) [0, 1, 2].forEach((s) => n1.receive({ payload: ev(s, stream) }));
    await out.waitFor(6);
    n1.receive({ topic: 'a', reset: true });
    n1.receive({ payload: ev(3, 'a') });
    n1.receive({ payload: ev(3, 'b') });
    const msgs = await out.waitFor(7);
    await settle();
    assert.equal(out.msgs.length, 7);
    assert.equal(msgs[6].payload.stream, 'a', 'a starts over, b stays suppressed');
    n1.receive({ reset: true });
    n1.receive({ payload: ev(4, 'b') });
    await out.waitFor(8);
    assert.equal(out.msgs[7].payload.stream, 'b');
  });

  it('refuses to start with bad levels and says why', async () => {
    await helper.load(filterNode, flow({ levels: [{ name: 'x', interval: '0', count: '1', cooldown: '1', severity: '1' }] }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'event-filter: x.interval must be an integer between 1 and 2147483647 (got 0)');
    n1.receive({ payload: ev(0) });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /^Error: streamevmon-event-filter is not running: event-filter: x.interval/);
  });

  describe('keeping state (persist)', () => {
    useConfiguredStores();

    async function floodThenRedeploy(persist: boolean): Promise<number> {
      await helper.load(filterNode, flow({ persist, store: 'keep' }));
      await nodeContext.load();
      const out = collect('out');
      const n1 = helper.getNode('n1');
      [0, 1, 2].forEach((s) => n1.receive({ payload: ev(s) }));
      await out.waitFor(3);
      await helper.setFlows(flow({ persist, store: 'keep' }), 'full');
      const after = collect('out');
      helper.getNode('n1').receive({ payload: ev(3) });
      await settle(100);
      return after.msgs.length;
    }

    it('saves in the chosen store on redeploy and the new instance restores: the flood is still suppressed', async () => {
      assert.equal(await floodThenRedeploy(true), 0);
      const stored = await contextGet('n1', 'streamevmonState', 'keep');
      assert.equal(stored.format, 'streamevmon-event-filter-state');
      assert.equal(stored.streams['web-1'].stamps.length, 3, 'saved on close, before the 4th event');
      assert.equal(await contextGet('n1', 'streamevmonState', 'default'), undefined, 'only the chosen store is used');
    });

    it('control: without persistence the redeployed filter starts fresh', async () => {
      assert.equal(await floodThenRedeploy(false), 1);
    });

    it('restores from a state already in the context store', async () => {
      await helper.load(filterNode, flow({ persist: false }));
      await nodeContext.load();
      const t = ev(0).time;
      await contextSet('n1', 'streamevmonState', {
        format: 'streamevmon-event-filter-state', version: 1,
        levels: [{ name: 'burst', interval: 10, count: 2, cooldown: 30, severity: 60 }],
        streams: { 'web-1': { stamps: [t], disabledAt: [t] } },
      });
      await helper.setFlows(flow({ persist: true }), 'full');
      const out = collect('out');
      const n1 = helper.getNode('n1');
      n1.receive({ payload: ev(20, 'web-1') });
      n1.receive({ payload: ev(20, 'web-2') });
      const [msg] = await out.waitFor(1);
      await settle();
      assert.equal(out.msgs.length, 1);
      assert.equal(msg.payload.stream, 'web-2', 'web-1 is still within its 30 s cooldown');
    });

    it('a stored state from other levels is reported and the filter starts fresh', async () => {
      await helper.load(filterNode, flow({ persist: false }));
      await nodeContext.load();
      await contextSet('n1', 'streamevmonState', { format: 'streamevmon-event-filter-state', version: 1, levels: [], streams: {} });
      await helper.setFlows(flow({ persist: true }), 'full');
      const n1 = helper.getNode('n1');
      const out = collect('out');
      n1.receive({ payload: ev(0) });
      await out.waitFor(1);
      const warned = (n1.warn as any).args.map((a: unknown[]) => String(a[0]));
      assert.ok(warned.some((w: string) => w === 'streamevmon-event-filter: stored state not used (the filter levels changed since the state was stored); starting fresh'), warned.join('\n'));
    });
  });
});
