/**
 * Every detector node, the same hostile input: strings, NaN, objects, missing topics, huge
 * values, out-of-order and unparsable timestamps. Nothing may crash; bad msgs reach Catch with
 * a clear text; NaN and null are lossy; the node keeps working afterwards.
 */
import { strict as assert } from 'node:assert';
import { collect, helper, lastStatus, settle, useConfiguredStores } from './helpers';

const NODES = ['baseline', 'changepoint', 'distdiff', 'mode', 'spike', 'loss'];

function load(name: string, config: Record<string, unknown> = {}): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(`../../nodes/streamevmon-${name}`);
  const flow: unknown[] = [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: `streamevmon-${name}`, ...config, wires: [['out']] },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
  return helper.load(mod, flow as Parameters<typeof helper.load>[1]);
}

describe('every detector node under hostile input', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  for (const name of NODES) {
    it(`${name}: rejects bad msgs clearly, accepts odd-but-valid ones, never crashes`, async () => {
      await load(name);
      const n1 = helper.getNode('n1');
      const caught = collect('caught');
      const bad: unknown[] = [
        { topic: 's', payload: 'twelve' },
        { topic: 's', payload: { value: 3 } },
        { topic: 's', payload: [1, 'x'] },
        { topic: 's', payload: -Infinity },
        { topic: 's', payload: true },
        { topic: 's', payload: 5, timestamp: 'not a date' },
        { topic: 's', payload: 5, timestamp: { at: 1 } },
      ];
      const odd: unknown[] = [
        { payload: 7 },                                   // no topic: the default series
        { topic: 's', payload: NaN },                     // lossy, no value
        { topic: 's', payload: null },                    // lossy, no value
        { topic: 's', payload: '42.5', timestamp: '2024-01-01T00:00:00Z' },
        { topic: 's', payload: 1e300, timestamp: 5000 },  // huge but finite
        { topic: 's', payload: -1e300, timestamp: 6000 },
        { topic: 's', payload: 5, timestamp: 1000 },      // out of order
        { topic: 42, payload: 5 },                        // numeric topic
      ];
      for (const m of [...bad, ...odd]) n1.receive(m as Parameters<typeof n1.receive>[0]);
      const errs = await caught.waitFor(bad.length);
      await settle(100);
      assert.equal(caught.msgs.length, bad.length, 'only the bad msgs are errors');
      for (const e of errs) {
        assert.match(e.error.message, new RegExp(`streamevmon-${name}: `));
        assert.equal(e.error.source.id, 'n1');
      }
      assert.match(errs[0].error.message, /value is not a number: "twelve"/);
      assert.match(errs[2].error.message, /1 of 2 batch elements rejected/);
      assert.match(errs[5].error.message, /time is not epoch milliseconds or an ISO-8601 date/);
      // Still alive and counting: a later msg is processed and the status reports the bad ones.
      n1.receive({ topic: 'after', payload: 1, timestamp: 7000 });
      await settle(1100);
      assert.match(lastStatus(n1).text, new RegExp(`bad: ${bad.length}`));
      assert.match(lastStatus(n1).text, /streams/);
    });
  }
});

describe('every detector node: msg.reset with a numeric msg.topic', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  for (const name of NODES) {
    it(`${name}: clears only the series kept under that topic`, async function () {
      this.timeout(5000);
      await load(name);
      const n1 = helper.getNode('n1');
      n1.receive({ topic: 7, payload: 5, timestamp: 1000 } as never);
      n1.receive({ topic: 'seven', payload: 5, timestamp: 1000 } as never);
      n1.receive({ topic: 'other', payload: 5, timestamp: 1000 } as never);
      await settle(1100);
      assert.match(lastStatus(n1).text, /^3 streams/);
      n1.receive({ topic: 7, reset: true } as never);
      await settle(1100);
      assert.match(lastStatus(n1).text, /^2 streams/);
    });
  }
});

describe('a detector node with "Keep state across restarts"', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  const warnings = (): string[] => ((helper.getNode('n1').warn as unknown as { args: unknown[][] }).args).map((a) => String(a[0]));

  it('warns at start when settings.js configures no context store (the state would be deleted on close)', async () => {
    await load('spike', { persist: true });
    await settle(50);
    assert.deepEqual(warnings().filter((w) => /no context store/.test(w)), [
      'streamevmon-spike: "Keep state across restarts" is on, but settings.js configures no context store (contextStorage): Node-RED deletes node context when a node closes, so nothing will be kept. Configure one, e.g. localfilesystem.',
    ]);
  });

  describe('with a context store configured', () => {
    useConfiguredStores();
    it('says nothing about stores', async () => {
      await load('spike', { persist: true });
      await settle(50);
      assert.deepEqual(warnings().filter((w) => /context store/.test(w)), []);
    });
  });
});

describe('every detector node: "Multiply values by" (valueScale)', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('spike on millisecond values × 1000 finds the spike; a value the scale makes infinite is a bad msg, reported', async () => {
    await load('spike', { valueScale: '1000' });
    const n1 = helper.getNode('n1');
    const out = collect('out');
    const caught = collect('caught');
    for (let i = 0; i < 60; i++) n1.receive({ topic: 'ms', payload: 20 + (i % 5) * 0.01, timestamp: 1000 * (i + 1) } as never);
    n1.receive({ topic: 'ms', payload: 95, timestamp: 61_000 } as never);
    const [event] = await out.waitFor(1);
    assert.equal(event.payload.description, 'Positive');
    assert.equal(event.topic, 'ms');
    n1.receive({ topic: 'ms', payload: 1e306, timestamp: 62_000 } as never);
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-spike: value 1e\+306 × value scale 1000 is not a finite number/);
  });

  for (const name of NODES) {
    it(`${name}: a value scale of 0 stops the node with a red status naming the parameter`, async () => {
      await load(name, { valueScale: '0' });
      const n1 = helper.getNode('n1');
      await settle(50);
      const st = lastStatus(n1);
      assert.equal(st.fill, 'red');
      assert.match(st.text, /valueScale/);
    });
  }
});
