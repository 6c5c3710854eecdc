import { strict as assert } from 'node:assert';
import changepointNode = require('../../nodes/streamevmon-changepoint');
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

/** 2024-01-01T00:00:00Z: far enough from the epoch for minimumEventInterval (10 s). */
const BASE = Date.UTC(2024, 0, 1);

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1', z: 'f1', type: 'streamevmon-changepoint', maxHistory: '10', triggerCount: '3', ignoreOutlierNormalCount: '1',
      inactivityPurgeTime: '60', minimumEventInterval: '10', severityThreshold: '30', wires: [['out'], ['pass']], ...extra,
    },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** 10 values of 1000 then 50000s, 1 s apart: with maxHistory 10 / triggerCount 3 this fires at index 12. */
const SHIFT = Array.from({ length: 20 }, (_, i) => (i < 10 ? 1000 : 50000));

describe('streamevmon-changepoint node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('emits a changepoint event for a level shift, keyed by msg.topic', async () => {
    await helper.load(changepointNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => n1.receive({ topic: 'web', timestamp: BASE + 1000 * i, payload: v }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'web');
    assert.deepEqual(msg.payload, {
      eventType: 'changepoint_events',
      stream: 'web',
      severity: 100,
      time: BASE + 12000,
      detectionLatency: 10000,
      description: 'Latency increased from 1000 to 50000',
      tags: {},
    });
    assert.equal(msg.summary, '[severity 100] changepoint_events on web: Latency increased from 1000 to 50000 at 2024-01-01T00:00:12.000Z (started 10 s earlier)');
    await settle();
    assert.equal(out.msgs.length, 1);
  });

  it('keeps topics apart', async () => {
    await helper.load(changepointNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // Interleaved: "a" shifts, "b" stays steady; a shared state would see a mixed series.
    SHIFT.forEach((v, i) => {
      n1.receive({ topic: 'a', timestamp: BASE + 1000 * i, payload: v });
      n1.receive({ topic: 'b', timestamp: BASE + 1000 * i, payload: 1000 });
    });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'a');
    assert.equal(msg.payload.time, BASE + 12000);
    await settle();
    assert.equal(out.msgs.length, 1);
  });

  it('uses the documented defaults for a node given only its type (§9.3 checkpoint input)', async () => {
    await helper.load(changepointNode, [{ id: 'n1', type: 'streamevmon-changepoint', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const t0 = 1e12;
    for (let k = 1; k <= 120; k++) n1.receive({ payload: 225000, timestamp: t0 + k });
    await settle();
    assert.equal(out.msgs.length, 0);
    for (let k = 121; k <= 240; k++) n1.receive({ payload: 22500000, timestamp: t0 + k });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
    assert.equal(msg.payload.time, t0 + 163);
    assert.equal(msg.payload.detectionLatency, 42);
    assert.equal(msg.payload.description, 'Latency increased from 967500 to 22500000');
    await settle();
    assert.equal(out.msgs.length, 1);
  });

  it('rejects bad msgs through done(err) → Catch without touching state', async () => {
    await helper.load(changepointNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => {
      n1.receive({ topic: 's', timestamp: BASE + 1000 * i, payload: v });
      if (i === 11) [{ payload: 'abc' }, { payload: { x: 1 } }, { payload: 5, timestamp: 'yesterday' }].forEach((m) => n1.receive({ topic: 's', ...m }));
    });
    const errors = await caught.waitFor(3);
    assert.match(errors[0].error.message, /streamevmon-changepoint: value is not a number: "abc"/);
    assert.match(errors[1].error.message, /not object/);
    assert.match(errors[2].error.message, /time is not epoch milliseconds/);
    assert.equal(errors[0].error.source.id, 'n1');
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, BASE + 12000, 'the bad msgs did not count as measurements');
    await settle(1100); // the status is throttled to once a second
    assert.match(lastStatus(n1).text, /^1 stream · 1 event · bad: 3$/);
  });

  it('skips null values but uses lossy msgs that carry a value', async () => {
    await helper.load(changepointNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => {
      n1.receive({ topic: 's', timestamp: BASE + 1000 * i, payload: v, lossy: i === 11 });
      if (i === 11) n1.receive({ topic: 's', timestamp: BASE + 1000 * i + 500, payload: null });
    });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, BASE + 12000);
  });

  it('msg.reset clears one topic or all', async function () {
    this.timeout(5000);
    await helper.load(changepointNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const feed = (topics: string[], from: number, to: number): void => {
      for (let i = from; i < to; i++) for (const topic of topics) n1.receive({ topic, timestamp: BASE + 1000 * i, payload: SHIFT[i] });
    };
    feed(['a', 'b'], 0, 11);
    n1.receive({ topic: 'a', reset: true });
    feed(['a', 'b'], 11, 20);
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1, 'a restarted on the new level: no change seen');
    await settle(1100); // the status is throttled to once a second
    assert.match(lastStatus(n1).text, /^2 streams · 1 event$/);
    n1.receive({ reset: true });
    await settle(1100);
    assert.match(lastStatus(n1).text, /^0 streams · 1 event$/);
  });

  it('a batch gives one msg with all its events, and reports bad elements', async () => {
    await helper.load(changepointNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    const batch = [
      ...SHIFT.map((v, i) => ({ kind: 'ICMP', stream: '7', time: BASE + 1000 * i, value: v, lossy: false })),
      'garbage',
      ...SHIFT.map((v, i) => ({ topic: 'x', payload: v * 2, timestamp: BASE + 1000 * i })),
    ];
    n1.receive({ payload: batch });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.length, 2);
    assert.deepEqual(msg.payload.map((e: any) => [e.stream, e.description]), [
      ['7', 'Latency increased from 1000 to 50000'],
      ['x', 'Latency increased from 2000 to 100000'],
    ]);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /1 of 41 batch elements rejected; first: element 20: value is not a number/);
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(changepointNode, flow({ triggerCount: '10' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /changepoint: triggerCount \(10\) must be less than maxHistory \(10\)/);
    n1.receive({ payload: 1 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-changepoint is not running/);
  });

  it('reports a range error by parameter name', async () => {
    await helper.load(changepointNode, flow({ severityThreshold: '101', minimumEventInterval: '60' }));
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /changepoint: severityThreshold must be a number between 0 and 100 \(got 101\)/);
  });

  it('the example flow reports the level shift it describes', async () => {
    const ex = await loadExample('detectors/03 - Changepoint detector on injected values.json', [changepointNode], { keepInjects: true });
    const example = ex.nodes;
    const out = ex.out;
    ex.trigger('inject', {});
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.description, 'Latency increased from 20033 to 40400');
    assert.equal(msg.payload.severity, 100);
    assert.equal(msg.topic, 'router-1');
    await settle();
    assert.equal(out.msgs.length, 1);
    // The flow is importable: a flat array, explicit string parameters, no tab or z.
    const cp = example.find((n) => n.type === 'streamevmon-changepoint')!;
    for (const k of ['maxHistory', 'triggerCount', 'ignoreOutlierNormalCount', 'inactivityPurgeTime', 'minimumEventInterval', 'severityThreshold']) {
      assert.equal(typeof cp[k], 'string', k);
    }
    for (const n of example) {
      assert.match(n.id as string, /^[0-9a-f]{16}$/);
      assert.equal(n.z, undefined);
      assert.notEqual(n.type, 'tab');
    }
    assert.ok(example.some((n) => n.type === 'comment'));
  });
});
