/**
 * A detector with "Keep state across restarts" resumes after a real Node-RED restart
 * without a new warm-up; without it, the restart starts it over.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NodeRedProcess } from './nodered';

function flow(persist: boolean): unknown[] {
  return [
    { id: 'tab1', type: 'tab', label: 'persistence' },
    { id: 'in1', z: 'tab1', type: 'http in', url: '/feed', method: 'post', wires: [['spike1']] },
    {
      id: 'spike1', z: 'tab1', type: 'streamevmon-spike', lag: '20', threshold: '5', influence: '0',
      inactivityPurgeTime: '0', persist, store: 'file', passthrough: true, outputs: 2, wires: [['keep1'], ['resp1']],
    },
    {
      id: 'keep1', z: 'tab1', type: 'function', wires: [],
      func: "const all = global.get('events') || []; global.set('events', all.concat(msg.payload)); return null;",
    },
    { id: 'resp1', z: 'tab1', type: 'http response', statusCode: '204' },
    { id: 'in2', z: 'tab1', type: 'http in', url: '/events', method: 'get', wires: [['fn2']] },
    { id: 'fn2', z: 'tab1', type: 'function', func: "msg.payload = global.get('events') || []; return msg;", wires: [['resp2']] },
    { id: 'resp2', z: 'tab1', type: 'http response' },
  ];
}

async function feed(nr: NodeRedProcess, values: number[], t0: number): Promise<void> {
  const body = values.map((v, i) => ({ topic: 'link-a', payload: v, timestamp: t0 + i * 1000 }));
  const res = await fetch(`${nr.url}/feed`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 204);
}

async function events(nr: NodeRedProcess): Promise<Array<{ description: string; time: number }>> {
  return (await fetch(`${nr.url}/events`)).json() as Promise<Array<{ description: string; time: number }>>;
}

describe('detector state across a real Node-RED restart (e2e)', function () {
  this.timeout(90_000);
  const dirs: string[] = [];
  const running: NodeRedProcess[] = [];

  after(async () => {
    for (const nr of running) await nr.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const steady = Array.from({ length: 30 }, (_, i) => 100 + (i % 3));

  async function startIn(persist: boolean): Promise<NodeRedProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-persist-'));
    dirs.push(dir);
    const flowFile = path.join(dir, 'flow.json');
    fs.writeFileSync(flowFile, JSON.stringify(flow(persist)));
    const nr = await NodeRedProcess.start({ flowFile, userDir: path.join(dir, 'user') });
    running.push(nr);
    return nr;
  }

  async function runScenario(persist: boolean): Promise<number> {
    const nr = await startIn(persist);
    await feed(nr, steady, 1_000_000);
    assert.deepEqual(await events(nr), [], 'steady input: no events');
    await nr.restart();
    await feed(nr, [1000], 1_000_000 + 30_000);
    const got = await events(nr);
    await nr.stop();
    return got.length;
  }

  it('persisted state: the first spike after the restart is detected at once', async () => {
    assert.equal(await runScenario(true), 1);
  });

  it('control: without persistence the restarted detector has to warm up again', async () => {
    assert.equal(await runScenario(false), 0);
  });

  it('a corrupt stored state is reported and the detector starts fresh', async () => {
    const nr = await startIn(true);
    await feed(nr, steady, 1_000_000);
    await nr.stop();
    // localfilesystem keeps node context in context/<flow id>/<node id>.json
    const file = path.join(nr.userDir, 'context', 'tab1', 'spike1.json');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(stored.streamevmonState.format, 'streamevmon-node-state');
    stored.streamevmonState.detector.streams['link-a'].history = 'garbage';
    fs.writeFileSync(file, JSON.stringify(stored));
    await nr.restart();
    await nr.waitForLog(/stored state not used \(stored state of stream "link-a" is corrupt/, 10_000);
    await feed(nr, [1000], 1_000_000 + 30_000);
    assert.deepEqual(await events(nr), [], 'fresh detector: warming up, no event');
    await feed(nr, [...steady, 1000], 1_000_000 + 40_000);
    assert.equal((await events(nr)).length, 1, 'and it works again after warm-up');
  });
});
