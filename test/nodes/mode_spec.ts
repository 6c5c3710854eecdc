import { strict as assert } from 'node:assert';
import modeNode = require('../../nodes/streamevmon-mode');
import { collect, helper, lastStatus, settle } from './helpers';

/** maxHistory 5, minFrequency 3, minProminence 2: after 1 reset + 5 values, the 4th new value shifts the mode. */
function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'f1', type: 'tab' },
    {
      id: 'n1', z: 'f1', type: 'streamevmon-mode', maxHistory: '5', minFrequency: '3', minProminence: '2', threshold: '7.5',
      inactivityPurgeTime: '60', wires: [['out'], ['pass']], ...extra,
    },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

const SHIFT = [1000, 1000, 1010, 1000, 1050, 1000, 5000, 5100, 5000, 5020];

describe('streamevmon-mode node', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('emits a mode event for a level shift, keyed by msg.topic', async () => {
    await helper.load(modeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.forEach((v, i) => {
      n1.receive({ topic: 'web', timestamp: 1000 * i, payload: v });
      n1.receive({ topic: 'db', timestamp: 1000 * i, payload: 1000 }); // steady: no event
    });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'web');
    assert.deepEqual(msg.payload, {
      eventType: 'mode_events', stream: 'web', severity: 100, time: 9000, detectionLatency: 0,
      description: 'Mode changed from 1000 to 5000!', tags: {},
    });
    assert.equal(msg.summary, '[severity 100] mode_events on web: Mode changed from 1000 to 5000! at 1970-01-01T00:00:09.000Z');
    await settle(1100); // status updates are throttled to one a second
    assert.equal(out.msgs.length, 1);
    assert.match(lastStatus(n1).text, /^2 streams · 1 event$/);
  });

  it('uses the documented defaults for a node given only its type', async () => {
    await helper.load(modeNode, [{ id: 'n1', type: 'streamevmon-mode', wires: [['out']] }, { id: 'out', type: 'helper' }]);
    const out = collect('out');
    const n1 = helper.getNode('n1');
    // maxHistory 30: 1 reset value + 30 values adopt 225000's bucket; the 17th new value wins.
    for (let k = 1; k <= 31 + 16; k++) n1.receive({ payload: k <= 31 ? 225000 : 22500000, timestamp: k });
    await settle();
    assert.equal(out.msgs.length, 0, '16 new values vs 14 old is not prominent enough');
    n1.receive({ payload: 22500000, timestamp: 48 });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.topic, 'default');
    assert.equal(msg.payload.description, 'Mode changed from 220000 to 22000000!');
    assert.equal(msg.payload.severity, 100);
  });

  it('rejects bad msgs through done(err) → Catch without touching state', async () => {
    await helper.load(modeNode, flow());
    const caught = collect('caught');
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.slice(0, 7).forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    const bad = [{ payload: 'abc' }, { payload: { x: 1 } }, { payload: -Infinity }, { payload: 5, timestamp: 'yesterday' }];
    bad.forEach((m) => n1.receive({ topic: 's', ...m }));
    SHIFT.slice(7).forEach((v, i) => n1.receive({ topic: 's', timestamp: 7 + i, payload: v }));
    const errors = await caught.waitFor(4);
    assert.match(errors[0].error.message, /streamevmon-mode: value is not a number: "abc"/);
    assert.match(errors[1].error.message, /not object/);
    assert.match(errors[2].error.message, /infinite/);
    assert.match(errors[3].error.message, /time is not epoch milliseconds/);
    assert.equal(errors[0].error.source.id, 'n1');
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 9, 'the bad msgs did not enter the history');
    await settle(1100);
    assert.match(lastStatus(n1).text, /^1 stream · 1 event · bad: 4$/);
    assert.equal(lastStatus(n1).fill, 'yellow');
  });

  it('skips null payloads and msg.lossy values', async () => {
    await helper.load(modeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    SHIFT.slice(0, 6).forEach((v, i) => n1.receive({ topic: 's', timestamp: i, payload: v }));
    for (let i = 6; i < 12; i++) n1.receive({ topic: 's', timestamp: i, payload: i % 2 ? null : 5000, lossy: i % 2 === 0 });
    await settle();
    assert.equal(out.msgs.length, 0);
    SHIFT.slice(6).forEach((v, i) => n1.receive({ topic: 's', timestamp: 12 + i, payload: v }));
    const [ev] = await out.waitFor(1);
    assert.equal(ev.payload.time, 15, 'four non-lossy new values were still needed');
  });

  it('msg.reset clears one topic or all', async () => {
    await helper.load(modeNode, flow());
    const out = collect('out');
    const n1 = helper.getNode('n1');
    const feed = (topic: string, values: number[], t0: number): void =>
      values.forEach((v, i) => n1.receive({ topic, timestamp: t0 + i, payload: v }));
    for (const topic of ['a', 'b']) feed(topic, SHIFT.slice(0, 6), 0);
    n1.receive({ topic: 'a', reset: true });
    feed('a', SHIFT.slice(6), 6);
    feed('b', SHIFT.slice(6), 6);
    const [ev] = await out.waitFor(1);
    assert.equal(ev.topic, 'b');
    await settle();
    assert.equal(out.msgs.length, 1, 'a started a new warm-up');
    n1.receive({ reset: true });
    await settle(1100);
    assert.match(lastStatus(n1).text, /^0 streams · 1 event$/);
    feed('b', [1000, 1000, 1000, 1000], 10);
    await settle();
    assert.equal(out.msgs.length, 1, 'b was reset too: 5000 → 1000 is not reported');
  });

  it('a batch gives one msg with all its events, and reports bad elements', async () => {
    await helper.load(modeNode, flow());
    const out = collect('out');
    const caught = collect('caught');
    const n1 = helper.getNode('n1');
    const batch = [
      ...SHIFT.map((v, i) => ({ kind: 'ICMP', stream: '7', time: i, value: v, lossy: false })),
      'garbage',
      ...SHIFT.map((v, i) => ({ topic: 'x', payload: v * 2, timestamp: i })),
    ];
    n1.receive({ payload: batch });
    const [msg] = await out.waitFor(1);
    assert.equal(msg.payload.length, 2);
    assert.deepEqual(msg.payload.map((e: { stream: string; description: string }) => [e.stream, e.description]), [
      ['7', 'Mode changed from 1000 to 5000!'],
      ['x', 'Mode changed from 2000 to 10000!'],
    ]);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /1 of 21 batch elements rejected; first: element 10: value is not a number/);
  });

  it('passes input through on output 2 when asked', async () => {
    await helper.load(modeNode, flow({ passthrough: true, outputs: 2 }));
    const pass = collect('pass');
    helper.getNode('n1').receive({ topic: 's', payload: 3, extra: 'kept' });
    const [msg] = await pass.waitFor(1);
    assert.equal(msg.extra, 'kept');
  });

  it('refuses to start with an out-of-range maxHistory and says why', async () => {
    await helper.load(modeNode, flow({ maxHistory: '3' }));
    const n1 = helper.getNode('n1');
    const caught = collect('caught');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /mode: maxHistory must be an integer between 5 and 600 \(got 3\)/);
    n1.receive({ payload: 1 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-mode is not running/);
  });

  it('refuses a minFrequency that is not less than maxHistory', async () => {
    await helper.load(modeNode, flow({ maxHistory: '', minFrequency: '30' }));
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).fill, 'red');
    assert.match(lastStatus(n1).text, /mode: minFrequency \(30\) must be less than maxHistory \(30\)/);
  });
});
