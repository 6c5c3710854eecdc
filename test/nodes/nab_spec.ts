import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import nabNode = require('../../nodes/streamevmon-nab');
import changepointNode = require('../../nodes/streamevmon-changepoint');
import { NAB_FIXTURES, nabFixture, sharedNab } from '../fixtures/nab/locate';
import { collect, helper, lastStatus, loadExample, settle } from './helpers';

const DATA = nabFixture('corpus', 'data');
const LATENCY = nabFixture('corpus', 'data', 'realKnownCause', 'tiny_latency.csv');

function flow(props: Record<string, unknown>) {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'n1', z: 'f1', type: 'streamevmon-nab', startOnDeploy: false, wires: [['out'], ['ctl']], ...props },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'ctl', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

/** Every call's arguments of a node's spied method (warn, error). */
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

describe('streamevmon-nab node', () => {
  let tmp: string;
  before(async () => { tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nab-node-')); });
  after(async () => { await fsp.rm(tmp, { recursive: true, force: true }); });
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    helper.settings({});
  });

  it('replays a data directory as one msg per NabMeasurement, merged by time, then reports completion', async () => {
    await helper.load(nabNode, flow({ path: DATA }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    assert.deepEqual(lastStatus(n1), { fill: 'grey', shape: 'ring', text: 'idle' });
    n1.receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.equal(out.msgs.length, 400);
    const times = out.msgs.map((m) => m.payload.time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    assert.equal(out.msgs[0].topic, 'nab-artificialWithAnomaly/tiny_jump.csv');
    assert.deepEqual(out.msgs[0].payload, { kind: 'NabMeasurement', stream: 'artificialWithAnomaly/tiny_jump.csv', time: Date.UTC(2014, 3, 1), value: 100, lossy: false });
    const last = out.msgs[399];
    assert.equal(last.topic, 'nab-realKnownCause/tiny_latency.csv');
    assert.equal(complete.topic, 'complete');
    assert.deepEqual({ ...complete.payload, bytesRead: 0, elapsedMs: 0 }, { files: 2, rows: 400, malformed: 0, skipped: 0, outOfOrder: 0, bytesRead: 0, passes: 1, elapsedMs: 0 });
    assert.deepEqual(lastStatus(n1), { fill: 'green', shape: 'dot', text: 'done: 400 rows (0 malformed)' });
  });

  it('starts on deploy by default; batch mode sends arrays', async () => {
    const nodes = flow({ path: LATENCY, mode: 'batch', batchSize: '64' });
    delete (nodes[1] as { startOnDeploy?: boolean }).startOnDeploy;
    await helper.load(nabNode, nodes);
    const out = collect('out');
    await collect('ctl').waitFor(1);
    assert.deepEqual(out.msgs.map((m) => [m.topic, m.payload.length]), [['nab', 64], ['nab', 64], ['nab', 64], ['nab', 8]]);
  });

  it('scales each file\'s values when asked (multiply: largest |value| → 100000)', async () => {
    await helper.load(nabNode, flow({ path: LATENCY, valueScale: 'multiply' }));
    const out = collect('out');
    const ctl = collect('ctl');
    helper.getNode('n1').receive({ payload: 'start' });
    await ctl.waitFor(1);
    const values = out.msgs.map((m) => m.payload.value as number);
    assert.equal(Math.max(...values), 100000);
    assert.equal(values[0], 20000 * (100000 / 90000));
  });

  it('feeds a detector: changepoint without purging finds the jump in the fixture', async () => {
    const nodes: any[] = [
      ...flow({ path: nabFixture('corpus', 'data', 'artificialWithAnomaly'), valueScale: 'range' }),
      { id: 'cp', z: 'f1', type: 'streamevmon-changepoint', inactivityPurgeTime: '0', wires: [['events']] },
      { id: 'events', z: 'f1', type: 'helper' },
    ];
    nodes[1].wires = [['cp'], ['ctl']];
    await helper.load([nabNode, changepointNode] as any, nodes);
    const events = collect('events');
    helper.getNode('n1').receive({ payload: 'start' });
    const [e] = await events.waitFor(1);
    assert.equal(e.payload.eventType, 'changepoint_events');
    assert.equal(e.payload.stream, 'artificialWithAnomaly/tiny_jump.csv');
    assert.ok(e.payload.time > Date.UTC(2014, 3, 1) + 120 * 300_000, 'after the jump at row 120');
  });

  it('survives malformed lines: warns with file:line, counts them, sends the good rows', async () => {
    await helper.load(nabNode, flow({ path: nabFixture('malformed') }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.deepEqual(out.msgs.map((m) => m.payload.value), [20, 23, 24, -1500]);
    assert.deepEqual([complete.payload.malformed, complete.payload.skipped, complete.payload.outOfOrder], [5, 1, 1]);
    const warnings = calls(n1, 'warn').map((a) => String(a[0]));
    assert.equal(warnings.length, 5);
    const file = nabFixture('malformed', 'realBad', 'mixed.csv');
    assert.equal(warnings[0], `nab: malformed line ${file}:3: expected 2 columns, got 3: "2014-04-01 00:05:00,21.5,7"`);
    assert.equal(warnings[2], `nab: malformed line ${file}:6: timestamp is not YYYY-MM-DD HH:MM:SS: "2014-02-30 00:10:00"`);
    assert.deepEqual(lastStatus(n1), { fill: 'yellow', shape: 'dot', text: 'done: 4 rows (5 malformed)' });
    assert.equal(calls(n1, 'error').length, 0);
  });

  it('rate-limits malformed-line warnings: the first 10, then a summary', async () => {
    await fsp.mkdir(path.join(tmp, 'junk'), { recursive: true });
    await fsp.writeFile(path.join(tmp, 'junk', 'bad.csv'), ['timestamp,value', '2014-04-01 00:00:00,1', ...Array.from({ length: 25 }, (_, i) => `junk ${i}`)].join('\n'));
    await helper.load(nabNode, flow({ path: path.join(tmp, 'junk') }));
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    await ctl.waitFor(1);
    const warnings = calls(n1, 'warn').map((a) => String(a[0]));
    assert.equal(warnings.length, 11);
    assert.match(warnings[10], /^nab: 15 more malformed lines \(latest: nab: malformed line .*bad\.csv:27: /);
  });

  it('a missing path gives a red status and an error, without crashing', async () => {
    const missing = path.join(tmp, 'no-such-dir');
    await helper.load(nabNode, flow({ path: missing, startOnDeploy: true }));
    const n1 = helper.getNode('n1');
    await waitForStatus(n1, /path not found/);
    assert.deepEqual(lastStatus(n1), { fill: 'red', shape: 'ring', text: `nab: path not found: ${missing}` });
    assert.equal(calls(n1, 'error').length, 1);
  });

  it('a start that fails (a file that is not NAB data) reaches a Catch node through done(err)', async () => {
    await fsp.mkdir(path.join(tmp, 'other'), { recursive: true });
    await fsp.writeFile(path.join(tmp, 'other', 'x.csv'), 'when,what\n1,2\n');
    await helper.load(nabNode, flow({ path: path.join(tmp, 'other') }));
    const caught = collect('caught');
    helper.getNode('n1').receive({ payload: 'start' });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /^(Error: )?nab: .*x\.csv: header "when,what" has no timestamp column$/);
    assert.equal(err.error.source.id, 'n1');
  });

  it('resolves relative paths against the user directory', async () => {
    helper.settings({ userDir: NAB_FIXTURES });
    await helper.load(nabNode, flow({ path: 'corpus/data/*/tiny_jump.csv' }));
    const ctl = collect('ctl');
    helper.getNode('n1').receive({ payload: 'start' });
    const [complete] = await ctl.waitFor(1);
    assert.equal(complete.payload.rows, 200);
  });

  it('stops on a stop msg (realtime mode) and restarts from the beginning', async () => {
    await helper.load(nabNode, flow({ path: LATENCY, mode: 'realtime', speed: '1' }));
    const out = collect('out');
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    await out.waitFor(1);
    n1.receive({ payload: 'stop' });
    await waitForStatus(n1, /^stopped/);
    assert.deepEqual(lastStatus(n1), { fill: 'grey', shape: 'ring', text: 'stopped: 1 rows' });
    await settle(50);
    assert.equal(out.msgs.length, 1, 'the next row is 30 minutes of data away');
    assert.equal(ctl.msgs.length, 0);
    n1.receive({ payload: 'restart' });
    await out.waitFor(2);
    assert.equal(out.msgs[1].payload.time, out.msgs[0].payload.time, 'restart reads from the start');
  });

  it('loop mode sends a loop msg per pass on output 2', async () => {
    await helper.load(nabNode, flow({ path: LATENCY, loop: true }));
    const ctl = collect('ctl');
    const n1 = helper.getNode('n1');
    n1.receive({ payload: 'start' });
    const msgs = await ctl.waitFor(2);
    n1.receive({ payload: 'stop' });
    assert.deepEqual(msgs.slice(0, 2).map((m) => [m.topic, m.payload.passes, m.payload.rows]), [['loop', 1, 200], ['loop', 2, 400]]);
  });

  it('rejects unknown commands through done(err)', async () => {
    await helper.load(nabNode, flow({ path: LATENCY }));
    const caught = collect('caught');
    helper.getNode('n1').receive({ payload: { go: true } });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /^(Error: )?nab: unknown command object; send "start", "stop" or "restart"/);
  });

  it('refuses a bad configuration with D9 messages', async () => {
    await helper.load(nabNode, flow({ path: ' ', mode: 'slow', batchSize: '0', speed: '0', valueScale: 'log' }));
    const n1 = helper.getNode('n1');
    assert.deepEqual(calls(n1, 'error').map((a) => String(a[0])), [
      'nab: speed must be a number greater than 0 and at most 1000000000 (got 0)',
      'nab: batchSize must be an integer between 1 and 100000 (got 0)',
      'nab: path must name a NAB data directory, a glob pattern or CSV files (got " ")',
      'nab: mode must be one of fast, realtime, batch (got slow)',
      'nab: valueScale must be one of none, multiply, range (got log)',
    ]);
    assert.equal(lastStatus(n1).fill, 'red');
    const caught = collect('caught');
    n1.receive({ payload: 'start' });
    const [err] = await caught.waitFor(1);
    assert.match(err.error.message, /streamevmon-nab is not running/);
  });

  it('closes cleanly in the middle of a realtime wait', async () => {
    await helper.load(nabNode, flow({ path: LATENCY, mode: 'realtime', speed: '1' }));
    const out = collect('out');
    helper.getNode('n1').receive({ payload: 'start' });
    await out.waitFor(1);
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 1000);
    await settle(50);
    assert.equal(out.msgs.length, 1);
  });

  it('the example flow replays its NAB file into the changepoint detector', async () => {
    // The example's relative path is looked up in the user directory: put a file there.
    const shared = sharedNab();
    const source = shared ? path.join(shared, 'data', 'realKnownCause', 'ambient_temperature_system_failure.csv') : LATENCY;
    const userDir = path.join(tmp, 'userdir');
    const target = path.join(userDir, 'NAB', 'data', 'realKnownCause', 'ambient_temperature_system_failure.csv');
    await fsp.mkdir(path.dirname(target), { recursive: true });
    await fsp.copyFile(source, target);
    helper.settings({ userDir });
    const ex = await loadExample('sources/02 - NAB file replay.json', [nabNode, changepointNode]);
    ex.trigger('streamevmon-nab', { payload: 'start' });
    const rows = (await fsp.readFile(source, 'utf8')).trim().split('\n').length - 1;
    const end = Date.now() + 5000;
    while (!ex.out.msgs.some((m) => m.topic === 'complete') && Date.now() < end) await settle(20);
    const complete = ex.out.msgs.find((m) => m.topic === 'complete');
    assert.ok(complete, 'the replay completes');
    assert.equal(complete.payload.rows, rows);
    const events = ex.out.msgs.filter((m) => m.payload?.eventType === 'changepoint_events');
    if (shared) assert.ok(events.length > 0, 'the changepoint detector reports the real series\' level changes');
    for (const e of events) assert.equal(e.topic, 'realKnownCause/ambient_temperature_system_failure.csv');
  });
});
