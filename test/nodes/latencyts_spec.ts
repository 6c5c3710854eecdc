import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import latencyTsNode = require('../../nodes/streamevmon-latencyts');
import { FIXTURES, fixture } from '../fixtures/latencyts/locate';
import { collect, helper, lastStatus, settle } from './helpers';

const AMPICMP = fixture('ampicmp');
const SMOKEPING = fixture('smokeping');

function flow(props: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-latencyts', startOnDeploy: false, wires: [['out'], ['ctl']], ...props },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'ctl', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Every msg that reached a node's spied method (warn, error). */
function calls(node: unknown, method: 'warn' | 'error'): unknown[][] {
  return (node as Record<string, { getCalls(): Array<{ args: unknown[] }> }>)[method].getCalls().map((c) => c.args);
}

async function waitForStatus(node: unknown, re: RegExp, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!re.test(lastStatus(node).text)) {
    if (Date.now() > end) assert.fail(`status ${JSON.stringify(lastStatus(node).text)} never matched ${re}`);
    await settle(10);
  }
}

describe('streamevmon-latencyts node', () => {
  let tmp: string;
  before(async () => { tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'latencyts-node-')); });
  after(async () => { await fsp.rm(tmp, { recursive: true, force: true }); });
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    helper.settings({});
  });

  it('replays several files as one msg per measurement in merged time order, then reports completion on output 2', async () => {
    await helper.load(latencyTsNode, flow({ path: `${AMPICMP},\n${SMOKEPING}` }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    assert.equal(lastStatus(n1).text, 'idle');
    n1.receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.equal(out.msgs.length, 16);
    const times = out.msgs.map((m) => m.payload.time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(out.msgs[0].topic, 'LatencyTSSmokeping-afrinic.net');
    const icmp = out.msgs.find((m) => m.payload.stream === 'callplus-afrinic-ipv6');
    assert.equal(icmp.topic, 'LatencyTSAmpICMP-callplus-afrinic-ipv6');
    assert.deepEqual(icmp.payload, {
      kind: 'LatencyTSAmpICMP', stream: 'callplus-afrinic-ipv6', time: 1391079600000, value: 462691, lossy: false,
      fields: { source: 'callplus', destination: 'afrinic', family: 'ipv6', average: 462691, lossrate: 0 },
    });
    assert.equal(complete.topic, 'complete');
    assert.equal(complete.payload.rows, 16);
    assert.equal(complete.payload.files, 4);
    assert.equal(complete.payload.malformed, 0);
    assert.equal(complete.payload.bytesRead, complete.payload.totalBytes);
    assert.deepEqual(lastStatus(n1), { fill: 'green', shape: 'dot', text: 'done: 16 rows (0 malformed)' });
  });

  it('starts on deploy by default', async () => {
    const nodes: any[] = [
      { id: 'n1', type: 'streamevmon-latencyts', path: AMPICMP, wires: [['out'], ['ctl']] },
      { id: 'out', type: 'helper' },
      { id: 'ctl', type: 'helper' },
    ];
    await helper.load(latencyTsNode, nodes);
    const out = collect('out');
    await collect('ctl').waitFor(1);
    assert.equal(out.msgs.length, 9);
  });

  it('batch mode sends arrays of up to batchSize measurements', async () => {
    await helper.load(latencyTsNode, flow({ path: `${AMPICMP},${SMOKEPING}`, mode: 'batch', batchSize: '10' }));
    const out = collect('out');
    const ctl = collect('ctl');
    helper.getNode('n1').receive({ command: 'start' });
    await ctl.waitFor(1);
    assert.deepEqual(out.msgs.map((m) => [m.topic, m.payload.length]), [['latencyts', 10], ['latencyts', 6]]);
    const all = out.msgs.flatMap((m) => m.payload);
    assert.deepEqual(all.map((m: { time: number }) => m.time), all.map((m: { time: number }) => m.time).sort((a: number, b: number) => a - b));
  });

  it('survives garbage, truncated, wrong-width, empty and binary input, warning with file:line and counting', async () => {
    await helper.load(latencyTsNode, flow({ path: fixture('malformed') }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.equal(out.msgs.length, 3);
    assert.equal(complete.payload.malformed, 8);
    assert.equal(complete.payload.skipped, 2);
    const warnings = calls(n1, 'warn').map((a) => String(a[0]));
    assert.equal(warnings.length, 8);
    assert.ok(warnings.some((w) => w.includes(`malformed line ${fixture('malformed', 'mixed.series')}:3: ampicmp: expected 4 columns`)), warnings.join('\n'));
    assert.ok(warnings.some((w) => /junk\.series:1: neither format fits/.test(w)));
    assert.deepEqual(lastStatus(n1), { fill: 'yellow', shape: 'dot', text: 'done: 3 rows (8 malformed)' });
    assert.equal(calls(n1, 'error').length, 0);
  });

  it('rate-limits malformed-line warnings: the first 10, then a summary', async () => {
    const f = path.join(tmp, 'bad.series');
    await fsp.writeFile(f, ['a-b-ipv4,100,1,0', ...Array.from({ length: 25 }, (_, i) => `junk ${i}`)].join('\n'));
    await helper.load(latencyTsNode, flow({ path: f }));
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    await ctl.waitFor(1);
    const warnings = calls(n1, 'warn').map((a) => String(a[0]));
    assert.equal(warnings.length, 11);
    assert.match(warnings[10], /^latencyts: 15 more malformed lines \(latest: latencyts: malformed line .*bad\.series:26: /);
  });

  it('a missing directory gives a red status and an error, without crashing', async () => {
    const missing = path.join(tmp, 'no-such-dir');
    await helper.load(latencyTsNode, flow({ path: missing, startOnDeploy: true }));
    const n1 = helper.getNode('n1');
    await waitForStatus(n1, /path not found/);
    assert.deepEqual(lastStatus(n1), { fill: 'red', shape: 'ring', text: `latencyts: path not found: ${missing}` });
    const errors = calls(n1, 'error');
    assert.equal(errors.length, 1);
    assert.match(String((errors[0][0] as Error).message), /path not found: .*no-such-dir/);
  });

  it('a start msg that fails reaches a Catch node through done(err)', async () => {
    await helper.load(latencyTsNode, flow({ path: 'no-such-dir' }));
    const caught = collect('caught');
    helper.getNode('n1').receive({ payload: 'start' });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /latencyts: path not found: no-such-dir \(looked for .*no-such-dir\)/);
    assert.equal(err.error.source.id, 'n1');
  });

  it('resolves relative paths against the user directory, then the cwd', async () => {
    helper.settings({ userDir: FIXTURES });
    await helper.load(latencyTsNode, flow({ path: 'ampicmp/series/*.series' }));
    const ctl = collect('ctl');
    helper.getNode('n1').receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.equal(complete.payload.rows, 9);
  });

  it('stops on a stop msg (realtime mode), and restarts from the beginning', async () => {
    await helper.load(latencyTsNode, flow({ path: AMPICMP, mode: 'realtime', speed: '1' }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    await out.waitFor(2);
    n1.receive({ payload: 'stop' });
    await waitForStatus(n1, /^stopped/);
    assert.deepEqual(lastStatus(n1), { fill: 'grey', shape: 'ring', text: 'stopped: 2 rows' });
    await settle(50);
    assert.equal(out.msgs.length, 2, 'the next measurement is 150 s of data away');
    assert.equal(ctl.msgs.length, 0, 'a stopped replay is not complete');
    n1.receive({ payload: 'restart' });
    await out.waitFor(4);
    assert.equal(out.msgs[2].payload.time, out.msgs[0].payload.time, 'restart reads from the start');
  });

  it('loop mode sends a loop msg per pass on output 2', async () => {
    await helper.load(latencyTsNode, flow({ path: AMPICMP, loop: true }));
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    const msgs = await ctl.waitFor(2);
    n1.receive({ payload: 'stop' });
    assert.deepEqual(msgs.slice(0, 2).map((m) => [m.topic, m.payload.passes, m.payload.rows]), [['loop', 1, 9], ['loop', 2, 18]]);
  });

  it('rejects unknown commands through done(err)', async () => {
    await helper.load(latencyTsNode, flow({ path: AMPICMP }));
    const caught = collect('caught');
    helper.getNode('n1').receive({ payload: 1234 });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /unknown command number; send "start", "stop" or "restart"/);
  });

  it('refuses a bad configuration with D9 messages', async () => {
    await helper.load(latencyTsNode, flow({ path: '', mode: 'slow', batchSize: '0', speed: '-1' }));
    const n1 = helper.getNode('n1');
    const errors = calls(n1, 'error').map((a) => String(a[0]));
    assert.deepEqual(errors, [
      'latencyts: speed must be a number greater than 0 and at most 1000000000 (got -1)',
      'latencyts: batchSize must be an integer between 1 and 100000 (got 0)',
      'latencyts: path must name a directory, a glob pattern or .series files (got "")',
      'latencyts: mode must be one of fast, realtime, batch (got slow)',
    ]);
    assert.equal(lastStatus(n1).fill, 'red');
    const caught = collect('caught');
    n1.receive({ payload: 'start' });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /is not running/);
  });

  it('closes cleanly in the middle of a realtime wait', async () => {
    await helper.load(latencyTsNode, flow({ path: AMPICMP, mode: 'realtime', speed: '1' }));
    const out = collect('out');
    helper.getNode('n1').receive({ payload: 'start' });
    await out.waitFor(2);
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 1000);
    await settle(50);
    assert.equal(out.msgs.length, 2);
  });
});
