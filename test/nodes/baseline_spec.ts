import { strict as assert } from 'node:assert';
import baselineNode = require('../../nodes/streamevmon-baseline');
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

/** Window 3, median: the baseline follows the middle of the last three values. */
function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-baseline', maxHistory: '3', percentile: '0.5', threshold: '25', inactivityPurgeTime: '60', wires: [['out'], ['pass']], ...extra },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** With window 3 and the median, the baseline moves to 1000 at the 6th value. */
const SHIFT = [100, 100, 100, 100, 1000, 1000];

describe('streamevmon-baseline node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('emits an event when the baseline of a msg.topic series shifts', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => n1.receive({ topic: 'web', timestamp: 1000 * i, payload: v }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'web');
    assert.deepEqual(msg.payload, {
      eventType: 'baseline_events', stream: 'web', severity: 100, time: 5000, detectionLatency: 0,
      description: 'Observed baseline changed from 100.0 to 1000.0', tags: {},
    });
    assert.equal(msg.summary, '[severity 100] baseline_events on web: Observed baseline changed from 100.0 to 1000.0 at 1970-01-01T00:00:05.000Z');
    await settle(1100); // the status is updated at most once a second
    assert.equal(out.msgs.length, 1);
    assert.match(lastStatus(n1).text, /^1 stream · 1 event$/);
  });

  it('keeps series apart by msg.topic', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // Interleaved series at different levels: each one is steady on its own.
    for (let i = 0; i < 10; i++) {
      n1.receive({ topic: 'a', timestamp: i, payload: 100 });
      n1.receive({ topic: 'b', timestamp: i, payload: 5000 });
    }
    await settle(1100);
    assert.equal(out.msgs.length, 0);
    assert.match(lastStatus(n1).text, /^2 streams · 0 events$/);
  });

  it('uses the documented defaults for a node given only its type', async () => {
    await helper.load(baselineNode, [{ id: 'n1', type: 'streamevmon-baseline', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // Window 50, 10th percentile (position 0.1·51 = 5.1): 45 values of 100, then 10s.
    for (let i = 0; i < 49; i++) n1.receive({ payload: i < 45 ? 100 : 10, timestamp: i });
    await settle();
    assert.equal(out.msgs.length, 0, 'no comparison before the window holds 50 values');
    n1.receive({ payload: 10, timestamp: 49 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
    assert.equal(msg.payload.time, 49);
    assert.equal(msg.payload.description, 'Observed baseline changed from 100.0 to 19.00000000000005');
    // Purge after 600 s. A gap of exactly 600 s continues the window: the rise is found.
    let t = 49 + 600000;
    for (let i = 0; i < 50; i++) n1.receive({ payload: 5000, timestamp: t++ });
    await settle();
    const afterRise = out.msgs.length;
    assert.ok(afterRise > 1, 'the rise after a gap of exactly 600 s is reported');
    assert.equal(out.msgs[1].payload.description, 'Observed baseline changed from 19.00000000000005 to 509.0000000000027');
    // A gap of more than 600 s resets: the new window fills with the low values, so no fall is reported.
    t += 600000;
    for (let i = 0; i < 60; i++) n1.receive({ payload: 1, timestamp: t++ });
    await settle();
    assert.equal(out.msgs.length, afterRise);
  });

  it('reads measurements from streamevmon sources, keyed by their stream', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => n1.receive({ payload: { kind: 'ICMP', stream: '3', time: 1e12 + i, value: v, lossy: false } }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.stream, '3');
    assert.equal(msg.payload.time, 1e12 + 5);
  });

  it('rejects bad msgs through done(err) → Catch without touching state', async () => {
    await helper.load(baselineNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [100, 100, 100].forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    const bad = [{ payload: 'abc' }, { payload: { x: 1 } }, { payload: -Infinity }, { payload: 5, timestamp: 'yesterday' }];
    bad.forEach((m) => n1.receive({ topic: 's', ...m }));
    [100, 1000, 1000].forEach((v, i) => n1.receive({ topic: 's', timestamp: 3 + i, payload: v }));
    const errors = await caught.waitFor(4);
    assert.match(errors[0].error.message, /streamevmon-baseline: value is not a number: "abc"/);
    assert.match(errors[1].error.message, /not object/);
    assert.match(errors[2].error.message, /infinite/);
    assert.match(errors[3].error.message, /time is not epoch milliseconds/);
    assert.equal(errors[0].error.source.id, 'n1');
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 5, 'the window saw none of the bad msgs');
    assert.equal(ev.payload.description, 'Observed baseline changed from 100.0 to 1000.0');
    await settle(1100);
    assert.match(lastStatus(n1).text, /bad: 4$/);
  });

  it('skips null payloads and msg.lossy values', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    [100, 100, 100].forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    n1.receive({ topic: 's', timestamp: 3, payload: null });
    n1.receive({ topic: 's', timestamp: 4, payload: 5000, lossy: true });
    n1.receive({ topic: 's', timestamp: 5, payload: 5000, lossy: true });
    n1.receive({ topic: 's', timestamp: 6, payload: 100 });
    await settle();
    assert.equal(out.msgs.length, 0, 'the lossy 5000s never reached the window');
  });

  it('msg.reset clears one topic or all', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (const topic of ['a', 'b']) [100, 100, 100, 1000].forEach((v, i) => n1.receive({ topic, timestamp: i, payload: v }));
    n1.receive({ topic: 'a', reset: true });
    n1.receive({ topic: 'a', timestamp: 5, payload: 1000 });
    n1.receive({ topic: 'b', timestamp: 5, payload: 1000 });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1, 'a started a new window');
    n1.receive({ reset: true });
    await settle(1100);
    assert.match(lastStatus(n1).text, /^0 streams/);
    n1.receive({ topic: 'b', timestamp: 6, payload: 1 });
    await settle();
    assert.equal(out.msgs.length, 1, 'b was reset too');
  });

  it('a batch gives one msg with all its events, and reports bad elements', async () => {
    await helper.load(baselineNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    const batch = [
      ...SHIFT.map((v, i) => ({ kind: 'ICMP', stream: '7', time: i, value: v, lossy: false })),
      'garbage',
      ...SHIFT.map((v, i) => ({ topic: 'x', payload: v * 2, timestamp: i })),
    ];
    n1.receive({ topic: 'batch', payload: batch });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'batch');
    assert.deepEqual(msg.payload.map((e: any) => [e.stream, e.description]), [
      ['7', 'Observed baseline changed from 100.0 to 1000.0'],
      ['x', 'Observed baseline changed from 200.0 to 2000.0'],
    ]);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /1 of 13 batch elements rejected; first: element 6: value is not a number/);
  });

  it('passes input through on output 2 when asked', async () => {
    await helper.load(baselineNode, flow({ passthrough: true, outputs: 2 }));
    const pass = collect('pass');
    helper.getNode('n1').receive({ topic: 's', payload: 3, extra: 'kept' });
    const [msg] = await pass.waitFor(1);
    assert.equal(msg.extra, 'kept');
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(baselineNode, flow({ maxHistory: '0', percentile: '10' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /maxHistory must be an integer between 1 and 300 \(got 0\)/);
    const logged = (n1.error as any).args.map((a: unknown[]) => a[0]);
    assert.ok(logged.includes('baseline: maxHistory must be an integer between 1 and 300 (got 0)'));
    assert.ok(logged.includes('baseline: percentile must be a number between 0 and 1 (got 10)'));
    n1.receive({ payload: 1 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-baseline is not running/);
  });
});

describe('example flow "02 - Baseline detector on injected values"', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('gives the two events its comment describes', async () => {
    const ex = await loadExample('detectors/02 - Baseline detector on injected values.json', [baselineNode]);
    for (const n of ex.nodes) {
      assert.match(n.id, /^[0-9a-f]{16}$/);
      assert.equal(n.z, undefined);
    }
    assert.deepEqual(ex.nodes.map((n) => n.type).sort(), ['comment', 'debug', 'function', 'inject', 'streamevmon-baseline']);
    const out = ex.out;
    ex.trigger('function');
    const msgs = await out.waitFor(2);
    await settle();
    assert.equal(out.msgs.length, 2);
    assert.deepEqual(msgs.map((m) => m.payload.description), [
      'Observed baseline changed from 157.00000000000014 to 400.0',
      'Observed baseline changed from 400.0 to 157.00000000000014',
    ]);
    // The comment quotes what the debug sidebar shows: msg.summary.
    const comment = String(ex.nodes.find((n) => n.type === 'comment').info);
    for (const m of msgs) {
      const shown = /: (Observed baseline changed from \S+ to \S+) at /.exec(m.summary)?.[1];
      assert.ok(shown && comment.includes(`\`${shown}\``), `the comment quotes ${shown}`);
    }
    const start = msgs[0].payload.time - 145 * 1000;
    assert.equal(msgs[1].payload.time, start + 184 * 1000, 'the fall is the 185th value');
  });
});
