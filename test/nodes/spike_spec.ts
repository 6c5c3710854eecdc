import { strict as assert } from 'node:assert';
import spikeNode = require('../../nodes/streamevmon-spike');
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-spike', lag: '3', threshold: '3', influence: '0', inactivityPurgeTime: '60', wires: [['out'], ['pass']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('streamevmon-spike node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('emits a Positive event for a bare-number spike, keyed by msg.topic', async () => {
    await helper.load(spikeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [10, 10, 11, 10, 10, 50].forEach((v, i) => n1.receive({ topic: 'web', timestamp: 1000 * i, payload: v }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'web');
    assert.equal(msg.payload.eventType, 'spike_events');
    assert.equal(msg.payload.description, 'Positive');
    assert.equal(msg.payload.stream, 'web');
    assert.equal(msg.payload.time, 5000);
    assert.match(msg.summary, /^\[severity 100\] spike_events on web: Positive at 1970-01-01T00:00:05.000Z/);
  });

  it('uses the documented defaults for a node given only its type', async () => {
    await helper.load(spikeNode, [{ id: 'n1', type: 'streamevmon-spike', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // lag 50: 1 reset value + 50 history values, then the spike.
    for (let i = 0; i < 51; i++) n1.receive({ payload: 100 + (i % 2), timestamp: i });
    await settle();
    assert.equal(out.msgs.length, 0);
    n1.receive({ payload: 1e6, timestamp: 51 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
  });

  it('reads value and time from configured properties and ISO time strings', async () => {
    await helper.load(spikeNode, flow({ property: 'data.rtt', timeProperty: 'data.at' }));
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [10, 10, 11, 10, 10, 50].forEach((v, i) => n1.receive({ topic: 's', data: { rtt: String(v), at: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString() } }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.time, Date.UTC(2024, 0, 1, 0, 0, 5));
  });

  it('rejects bad msgs through done(err) → Catch without touching state', async () => {
    await helper.load(spikeNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const bad = [{ payload: 'abc' }, { payload: { x: 1 } }, { payload: Infinity }, { payload: 5, timestamp: 'yesterday' }];
    [10, 10, 11].forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    bad.forEach((m) => n1.receive({ topic: 's', ...m }));
    [10, 10, 50].forEach((v, i) => n1.receive({ topic: 's', timestamp: 3 + i, payload: v }));
    const errors = await caught.waitFor(4);
    assert.match(errors[0].error.message, /value is not a number: "abc"/);
    assert.match(errors[1].error.message, /not object/);
    assert.match(errors[2].error.message, /infinite/);
    assert.match(errors[3].error.message, /time is not epoch milliseconds/);
    assert.equal(errors[0].error.source.id, 'n1');
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 5, 'the spike after the bad msgs is still found');
  });

  it('treats null payloads and msg.lossy as lossy (skipped)', async () => {
    await helper.load(spikeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [10, 10, 11, 10].forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    n1.receive({ topic: 's', timestamp: 4, payload: null });
    n1.receive({ topic: 's', timestamp: 5, payload: 500, lossy: true });
    n1.receive({ topic: 's', timestamp: 6, payload: 10 });
    await settle();
    assert.equal(out.msgs.length, 0);
  });

  it('msg.reset clears one topic or all', async () => {
    await helper.load(spikeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (const topic of ['a', 'b']) [10, 10, 11, 10].forEach((v, i) => n1.receive({ topic, timestamp: i, payload: v }));
    n1.receive({ topic: 'a', reset: true });
    n1.receive({ topic: 'a', timestamp: 5, payload: 99 });
    n1.receive({ topic: 'b', timestamp: 5, payload: 99 });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1);
    n1.receive({ reset: true });
    n1.receive({ topic: 'b', timestamp: 6, payload: 999 });
    await settle();
    assert.equal(out.msgs.length, 1, 'b was reset too');
  });

  it('a batch gives one msg with all its events, and reports bad elements', async () => {
    await helper.load(spikeNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    const batch = [
      ...[10, 10, 11, 10, 10, 50].map((v, i) => ({ kind: 'ICMP', stream: '7', time: i, value: v, lossy: false })),
      'garbage',
      ...[20, 20, 21, 20, 20, 90].map((v, i) => ({ topic: 'x', payload: v, timestamp: i })),
    ];
    n1.receive({ payload: batch });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.length, 2);
    assert.deepEqual(msg.payload.map((e: any) => e.stream), ['7', 'x']);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /1 of 13 batch elements rejected; first: element 6: value is not a number/);
  });

  it('passes input through on output 2 when asked', async () => {
    await helper.load(spikeNode, flow({ passthrough: true, outputs: 2 }));
    const pass = collect('pass');
    helper.getNode('n1').receive({ topic: 's', payload: 3, extra: 'kept' });
    const [msg] = await pass.waitFor(1);
    assert.equal(msg.extra, 'kept');
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(spikeNode, flow({ lag: '0' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /lag must be an integer between 1 and 600 \(got 0\)/);
    n1.receive({ payload: 1 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /is not running/);
  });

  it('reorders out-of-order input through time windows', async () => {
    await helper.load(spikeNode, flow({ useTimeWindow: true, windowDuration: '10', maxLateness: '0' }));
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // Within the first window the spike arrives before older values; ordered, it is last.
    for (const [t, v] of [[5000, 50], [0, 10], [1000, 10], [2000, 11], [3000, 10], [4000, 10]]) {
      n1.receive({ topic: 's', timestamp: t, payload: v });
    }
    await settle();
    assert.equal(out.msgs.length, 0, 'held until the window closes');
    n1.receive({ topic: 's', timestamp: 10000, payload: 10 });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 5000);
    n1.receive({ topic: 's', timestamp: 100, payload: 10 });
    await settle(1100);
    assert.match(lastStatus(n1).text, /late: 1/);
  });
});

describe('example flow "01 - Spike detector on injected values"', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('gives the two events its comment describes', async () => {
    const ex = await loadExample('detectors/01 - Spike detector on injected values.json', [spikeNode]);
    assert.deepEqual(ex.nodes.map((n) => n.type).sort(), ['comment', 'debug', 'function', 'inject', 'inject', 'streamevmon-spike']);
    ex.trigger('function');
    const msgs = await ex.out.waitFor(2);
    await settle();
    assert.equal(ex.out.msgs.length, 2);
    for (const m of msgs) assert.match(m.summary, /^\[severity 100\] spike_events on web-1: Positive at /);
    assert.equal(msgs[1].payload.time - msgs[0].payload.time, 40_000, 'values 60 and 100');
  });
});
