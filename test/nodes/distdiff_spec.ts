import { strict as assert } from 'node:assert';
import distdiffNode = require('../../nodes/streamevmon-distdiff');
import { collect, helper, lastStatus, settle } from './helpers';

/** Small sets (R = 4, no trimming) so that the warm-up is 8 values. */
function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1', z: 'f1', type: 'streamevmon-distdiff', recentsCount: '4', dropExtremeN: '0', minimumChange: '1.05',
      zThreshold: '3', inactivityPurgeTime: '60', wires: [['out'], ['pass']], ...extra,
    },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Seven values of 1000 then 1e6, one second apart from `t0`. */
const SHIFT = [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1e6];

describe('streamevmon-distdiff node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('emits a distdiff event keyed by msg.topic', async () => {
    await helper.load(distdiffNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => n1.receive({ topic: 'web', timestamp: 1000 * i, payload: v }));
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'web');
    assert.deepEqual(msg.payload, {
      eventType: 'distdiff_events',
      stream: 'web',
      severity: 100,
      time: 7000,
      detectionLatency: 4000,
      description: 'Distribution of Series has changed. Mean has increased from 1000.0 to 250750.0',
      tags: { windowed: 'false' },
    });
    assert.match(msg.summary, /^\[severity 100\] distdiff_events on web: Distribution of Series has changed/);
    await settle();
    assert.equal(out.msgs.length, 1);
  });

  it('uses the documented defaults for a node given only its type', async () => {
    await helper.load(distdiffNode, [{ id: 'n1', type: 'streamevmon-distdiff', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // recentsCount 20, dropExtremeN 2: the third outlier is the first that survives trimming.
    for (let i = 0; i < 40; i++) n1.receive({ payload: 1000, timestamp: i });
    n1.receive({ payload: 1e6, timestamp: 40 });
    n1.receive({ payload: 1e6, timestamp: 41 });
    await settle();
    assert.equal(out.msgs.length, 0);
    n1.receive({ payload: 1e6, timestamp: 42 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
    assert.equal(msg.payload.description, 'Distribution of Series has changed. Mean has increased from 1000.0 to 63437.5');
    assert.equal(msg.payload.detectionLatency, 20);
    assert.deepEqual(msg.payload.tags, { windowed: 'false' });
  });

  it('uses the count-window variant when the window option is on, without delaying events', async () => {
    await helper.load(distdiffNode, flow({ useTimeWindow: true, windowSlide: '1' }));
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // Arrivals out of order: the window is sorted by time, the event stamped with the newest.
    [1000, 1000, 1000, 1000, 1000, 1000, 1e6, 1000].forEach((v, i) => {
      const t = i === 6 ? 7000 : i === 7 ? 6000 : 1000 * i;
      n1.receive({ topic: 'w', timestamp: t, payload: v });
    });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.time, 7000);
    assert.equal(msg.payload.detectionLatency, 4000);
    assert.deepEqual(msg.payload.tags, { windowed: 'true' });
  });

  it('rejects bad msgs through done(err) → Catch without touching state', async () => {
    await helper.load(distdiffNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.slice(0, 4).forEach((v, i) => n1.receive({ topic: 's', timestamp: 1000 * i, payload: v }));
    [{ payload: 'abc' }, { payload: { x: 1 } }, { payload: -Infinity }, { payload: 5, timestamp: 'soon' }]
      .forEach((m) => n1.receive({ topic: 's', ...m }));
    SHIFT.slice(4).forEach((v, i) => n1.receive({ topic: 's', timestamp: 1000 * (i + 4), payload: v }));
    const errors = await caught.waitFor(4);
    assert.match(errors[0].error.message, /streamevmon-distdiff: value is not a number: "abc"/);
    assert.match(errors[2].error.message, /infinite/);
    assert.match(errors[3].error.message, /time is not epoch milliseconds/);
    assert.equal(errors[0].error.source.id, 'n1');
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 7000, 'the bad msgs did not enter the history');
  });

  it('skips msgs without a value, but uses lossy msgs that have one', async () => {
    await helper.load(distdiffNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => {
      n1.receive({ topic: 's', timestamp: 1000 * i, payload: v, lossy: i === 5 });
      if (i > 0) n1.receive({ topic: 's', timestamp: 1000 * i + 500, payload: null });
    });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 7000);
  });

  it('msg.reset clears one topic or all', async () => {
    await helper.load(distdiffNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    for (const topic of ['a', 'b']) SHIFT.slice(0, 7).forEach((v, i) => n1.receive({ topic, timestamp: 1000 * i, payload: v }));
    n1.receive({ topic: 'a', reset: true });
    n1.receive({ topic: 'a', timestamp: 7000, payload: 1e6 });
    n1.receive({ topic: 'b', timestamp: 7000, payload: 1e6 });
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1);
    for (const topic of ['c', 'd']) SHIFT.slice(0, 7).forEach((v, i) => n1.receive({ topic, timestamp: 1000 * i, payload: v }));
    n1.receive({ reset: true });
    n1.receive({ topic: 'c', timestamp: 7000, payload: 1e6 });
    n1.receive({ topic: 'd', timestamp: 7000, payload: 1e6 });
    await settle();
    assert.equal(out.msgs.length, 1, 'every topic was reset');
  });

  it('a batch gives one msg with all its events, and reports bad elements', async () => {
    await helper.load(distdiffNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    const batch = [
      ...SHIFT.map((v, i) => ({ kind: 'LatencyIcmp', stream: 'amp--a--b--icmp', time: 1000 * i, value: v, lossy: false })),
      'garbage',
      ...SHIFT.map((v, i) => ({ topic: 'x', payload: v / 10, timestamp: 1000 * i })),
    ];
    n1.receive({ payload: batch });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.length, 2);
    assert.deepEqual(msg.payload.map((e: any) => e.stream), ['amp--a--b--icmp', 'x']);
    assert.match(msg.payload[0].description, /^Distribution of LatencyIcmp has changed/);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /1 of 17 batch elements rejected; first: element 8: value is not a number/);
  });

  it('refuses to start with a bad configuration and says why', async () => {
    await helper.load(distdiffNode, flow({ recentsCount: '20', dropExtremeN: '9' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.equal(lastStatus(n1).text, 'distdiff: dropExtremeN (9) must be less than recentsCount div 2 − 1 (= 9)');
    n1.receive({ payload: 1 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-distdiff is not running/);
  });

  it('reports a bad window slide like any other parameter', async () => {
    await helper.load(distdiffNode, flow({ useTimeWindow: true, windowSlide: '0' }));
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /distdiff: windowSlide must be an integer between 1 and 1200 \(got 0\)/);
  });
});
