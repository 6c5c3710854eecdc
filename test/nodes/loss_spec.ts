import { strict as assert } from 'node:assert';
import lossNode = require('../../nodes/streamevmon-loss');
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-loss', maxHistory: '10', lossCount: '0', consecutiveCount: '3', wires: [['out'], ['pass']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

describe('streamevmon-loss node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('msg.lossy true and a null payload both count as lossy; events are keyed by msg.topic', async () => {
    await helper.load(lossNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 'link-1', timestamp: 1000, payload: 12 });
    n1.receive({ topic: 'link-1', timestamp: 2000, payload: 12, lossy: true });
    n1.receive({ topic: 'link-1', timestamp: 3000, payload: null });
    n1.receive({ topic: 'link-2', timestamp: 3500, payload: null });
    n1.receive({ topic: 'link-1', timestamp: 4000 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'link-1');
    assert.deepEqual(msg.payload, {
      eventType: 'loss_events',
      stream: 'link-1',
      severity: 75,
      time: 4000,
      detectionLatency: 2000,
      description: 'Consecutive loss became worse! 3 in a row.',
      tags: { type: 'consecutive_loss' },
    });
    assert.equal(msg.summary, '[severity 75] loss_events on link-1: Consecutive loss became worse! 3 in a row. at 1970-01-01T00:00:04.000Z (started 2 s earlier)');
    await settle();
    assert.equal(out.msgs.length, 1, 'link-2 has a run of 1 only');
  });

  it('uses the documented defaults for a node given only its type', async () => {
    await helper.load(lossNode, [{ id: 'n1', type: 'streamevmon-loss', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (let i = 0; i < 4; i++) n1.receive({ payload: null, timestamp: i });
    await settle();
    assert.equal(out.msgs.length, 0, 'consecutiveCount 5: four lossy values are not enough');
    n1.receive({ payload: null, timestamp: 4 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
    assert.equal(msg.payload.description, 'Consecutive loss became worse! 5 in a row.');
    assert.equal(msg.payload.severity, 100);
    // lossCount 10: the 10th lossy value brings the ratio event too, after the run event.
    for (let i = 5; i < 10; i++) n1.receive({ payload: null, timestamp: i });
    // Two events for one msg leave as two msgs: run event first.
    const msgs = await out.waitFor(7);
    assert.deepEqual(msgs.slice(5).map((m: any) => [m.payload.time, m.payload.tags.type]), [[9, 'consecutive_loss'], [9, 'loss_ratio']]);
    assert.equal(msgs[6].payload.description, 'Loss ratio became worse! 9/10 -> 10/10');
  });

  it('a batch gives one msg with all its events', async () => {
    await helper.load(lossNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const batch = [
      ...[false, true, true, true].map((lossy, i) => ({ kind: 'ICMP', stream: '7', time: i, value: lossy ? null : 1000, lossy })),
      ...[null, null, null, null].map((v, i) => ({ topic: 'x', payload: v, timestamp: i })),
    ];
    n1.receive({ payload: batch });
    const [msg] = await out.waitFor(1);
    assert.deepEqual(msg.payload.map((e: any) => [e.stream, e.description]), [
      ['7', 'Consecutive loss became worse! 3 in a row.'],
      ['x', 'Consecutive loss became worse! 3 in a row.'],
      ['x', 'Consecutive loss became worse! 4 in a row.'],
    ]);
  });

  it('msg.reset clears one topic or all', async () => {
    await helper.load(lossNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (const topic of ['a', 'b']) [0, 1].forEach((t) => n1.receive({ topic, timestamp: t, payload: null }));
    n1.receive({ topic: 'a', reset: true });
    n1.receive({ topic: 'a', timestamp: 2, payload: null });
    n1.receive({ topic: 'b', timestamp: 2, payload: null });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1);
    n1.receive({ reset: true });
    n1.receive({ topic: 'b', timestamp: 3, payload: null });
    await settle();
    assert.equal(out.msgs.length, 1, 'b was reset too');
  });

  it('rejects a bad value through done(err) without touching the run', async () => {
    await helper.load(lossNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    n1.receive({ topic: 's', timestamp: 0, payload: null });
    n1.receive({ topic: 's', timestamp: 1, payload: 'lost' });
    n1.receive({ topic: 's', timestamp: 2, payload: null });
    n1.receive({ topic: 's', timestamp: 3, payload: null });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-loss: value is not a number: "lost"/);
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 3);
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(lossNode, flow({ maxHistory: '8', consecutiveCount: '9' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'loss: consecutiveCount (9) must be at most maxHistory (8)');
    n1.receive({ payload: null });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-loss is not running/);
  });

  it('refuses lossCount and consecutiveCount both 0', async () => {
    await helper.load(lossNode, flow({ lossCount: '0', consecutiveCount: '0' }));
    assert.equal(lastStatus(helper.getNode('n1')).text, 'loss: lossCount and consecutiveCount must not both be 0 (the detector could never emit)');
  });
});

describe('example 06 - Loss detector on injected values', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('the buttons raise the events its comment describes', async () => {
    const ex = await loadExample('detectors/06 - Loss detector on injected values.json', [lossNode], { keepInjects: true });
    assert.equal(ex.nodes.filter((n) => n.type === 'streamevmon-loss').length, 1);
    const out = ex.out;
    const click = (name: string): void => ex.byName(name).receive({});
    click('delivered');
    click('lost');
    click('partly lost');
    await settle();
    assert.equal(out.msgs.length, 0);
    click('lost');
    const [first] = await out.waitFor(1);
    assert.equal(first.summary.replace(/ at .*/, ''), '[severity 75] loss_events on link-1: Consecutive loss became worse! 3 in a row.');
    click('lost');
    const msgs = await out.waitFor(3);
    assert.deepEqual(msgs.slice(1).map((m) => m.payload.description), ['Consecutive loss became worse! 4 in a row.', 'Loss ratio became worse! 3/5 -> 4/5']);
    click('reset');
    click('lost');
    await settle();
    assert.equal(out.msgs.length, 3);
  });
});
