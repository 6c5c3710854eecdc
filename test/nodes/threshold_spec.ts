import { strict as assert } from 'node:assert';
import thresholdNode = require('../../nodes/streamevmon-threshold');
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-threshold', upper: '100', lower: '', severity: '30', everySample: false, wires: [['out'], ['pass']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('streamevmon-threshold node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('reports a crossing of the upper bound once, keyed by msg.topic', async () => {
    await helper.load(thresholdNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [80, 120, 130, 90].forEach((v, i) => n1.receive({ topic: 'cpu', timestamp: 1000 * i, payload: v }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'cpu');
    assert.deepEqual(msg.payload, {
      eventType: 'threshold_events',
      stream: 'cpu',
      severity: 30,
      time: 1000,
      detectionLatency: 0,
      description: 'Value 120.0 is above the upper bound 100.0',
      tags: { bound: 'upper' },
    });
    assert.equal(msg.summary, '[severity 30] threshold_events on cpu: Value 120.0 is above the upper bound 100.0 at 1970-01-01T00:00:01.000Z');
    await settle();
    assert.equal(out.msgs.length, 1);
  });

  it('with everySample, reports every value beyond; a lower bound alone works', async () => {
    await helper.load(thresholdNode, flow({ upper: '', lower: '-10', everySample: 'true' }));
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [-5, -12, -15, 0, -11].forEach((v, i) => n1.receive({ topic: 't', timestamp: i, payload: String(v) }));
    const msgs = await out.waitFor(3);
    assert.deepEqual(msgs.map((m) => m.payload.description), [
      'Value -12.0 is below the lower bound -10.0',
      'Value -15.0 is below the lower bound -10.0',
      'Value -11.0 is below the lower bound -10.0',
    ]);
  });

  it('skips msg.lossy and null payloads', async () => {
    await helper.load(thresholdNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 's', timestamp: 0, payload: 500, lossy: true });
    n1.receive({ topic: 's', timestamp: 1, payload: null });
    await settle();
    assert.equal(out.msgs.length, 0);
    n1.receive({ topic: 's', timestamp: 2, payload: 500 });
    await out.waitFor(1);
  });

  it('a batch gives one msg with all its events', async () => {
    await helper.load(thresholdNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 'b', timestamp: 5, payload: [50, 150, 99, 101] });
    const [msg] = await out.waitFor(1);
    assert.deepEqual(msg.payload.map((e: any) => e.description), [
      'Value 150.0 is above the upper bound 100.0',
      'Value 101.0 is above the upper bound 100.0',
    ]);
  });

  it('msg.reset re-arms a series that is still outside', async () => {
    await helper.load(thresholdNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 's', timestamp: 0, payload: 200 });
    n1.receive({ topic: 's', reset: true });
    n1.receive({ topic: 's', timestamp: 1, payload: 200 });
    const msgs = await out.waitFor(2);
    assert.deepEqual(msgs.map((m) => m.payload.time), [0, 1]);
  });

  it('a node given only its type refuses to start: the bounds are required', async () => {
    // Only the type and wires: every parameter missing.
    const bare = flow().map((n) => (n.id === 'n1' ? { id: 'n1', z: 'f1', type: 'streamevmon-threshold', wires: [['out']] } : n));
    await helper.load(thresholdNode, bare);
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    const out = collect('out');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'threshold: set an upper bound, a lower bound or both');
    n1.receive({ payload: 1e9 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-threshold is not running: threshold: set an upper bound, a lower bound or both/);
    assert.equal(out.msgs.length, 0);
  });

  it('refuses crossed bounds and bad values with red status', async () => {
    await helper.load(thresholdNode, flow({ upper: '5', lower: '10' }));
    assert.equal(lastStatus(helper.getNode('n1')).text, 'threshold: lower (10.0) must be less than upper (5.0)');
    await helper.unload();
    await helper.load(thresholdNode, flow({ upper: 'lots', severity: '200' }));
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'threshold: upper must be a number (got lots)');
  });
});

describe('example 07 - Threshold detector on injected values', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('one cycle of the simulated temperature gives one upper and one lower crossing', async () => {
    // Ticks are driven by the test, not by the one-second repeat.
    const ex = await loadExample('detectors/07 - Threshold detector on injected values.json', [thresholdNode], {
      keepInjects: true,
      edit: (n) => (n.type === 'inject' ? { ...n, repeat: '' } : n),
    });
    const det = ex.nodes.find((n) => n.type === 'streamevmon-threshold');
    assert.deepEqual([det.upper, det.lower, det.severity], ['30', '10', '20']);
    const out = ex.out;
    const tick = ex.byName('every second');
    for (let i = 0; i < 15; i++) tick.receive({});
    const msgs = await out.waitFor(2);
    await settle();
    assert.deepEqual(out.msgs.map((m) => [m.topic, m.payload.description, m.payload.severity]), [
      ['room-1', 'Value 31.0 is above the upper bound 30.0', 20],
      ['room-1', 'Value 8.0 is below the lower bound 10.0', 20],
    ]);
    assert.equal(msgs.length, 2);
  });
});
