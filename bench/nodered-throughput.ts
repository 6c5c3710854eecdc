/**
 * End-to-end throughput in real Node-RED: a generated Latency TS I data set replayed by the
 * source node through all six detectors, per-msg and batch modes. Measurements per second
 * from deploy until the source reports completion (its 'complete' msg is queued behind the
 * last measurement, so detector work is included).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSample } from '../lib/generator';
import { NodeRedProcess } from '../test/e2e/nodered';

const DETECTORS = ['baseline', 'changepoint', 'distdiff', 'mode', 'spike', 'loss'];

function flow(dataDir: string, mode: 'fast' | 'batch'): unknown[] {
  const detectorIds = DETECTORS.map((d) => `det-${d}`);
  return [
    { id: 'tab', type: 'tab', label: 'throughput' },
    {
      id: 'src', z: 'tab', type: 'streamevmon-latencyts', path: dataDir, format: 'auto', mode, speed: '1',
      batchSize: '1000', startOnDeploy: true, loop: false, wires: [detectorIds, ['done']],
    },
    // Long purge times: the smokeping series have one row every 5 minutes.
    ...DETECTORS.map((d) => ({ id: `det-${d}`, z: 'tab', type: `streamevmon-${d}`, inactivityPurgeTime: '3600', wires: [['sink']] })),
    { id: 'sink', z: 'tab', type: 'function', func: 'return null;', outputs: 0, wires: [] },
    { id: 'done', z: 'tab', type: 'debug', name: 'complete', active: true, tosidebar: false, console: true, complete: 'payload', targetType: 'msg', wires: [] },
  ];
}

export interface ThroughputResult {
  mode: string;
  rows: number;
  seconds: number;
  perSecond: number;
}

export async function measureThroughput(days = 14, streams = 7): Promise<ThroughputResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-bench-'));
  try {
    const sample = buildSample({ days, streams, seed: 3 });
    let rows = 0;
    for (const f of sample.files) {
      const target = path.join(dir, 'data', ...f.path.split('/'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content);
      if (f.path.endsWith('.series')) rows += f.content.split('\n').filter((l) => l).length;
    }
    const results: ThroughputResult[] = [];
    for (const mode of ['fast', 'batch'] as const) {
      const flowFile = path.join(dir, `flow-${mode}.json`);
      fs.writeFileSync(flowFile, JSON.stringify(flow(path.join(dir, 'data'), mode)));
      const nr = await NodeRedProcess.start({ flowFile, userDir: path.join(dir, `user-${mode}`) });
      try {
        await nr.waitForLog(/\[debug:complete\]/, 600_000);
        // From the flows starting (the source starts at deploy) to the source's 'complete' msg.
        const from = nr.timeOfLog(/Starting flows/) as bigint;
        const to = nr.timeOfLog(/\[debug:complete\]/) as bigint;
        const seconds = Number(to - from) / 1e9;
        results.push({ mode: mode === 'fast' ? 'per msg' : 'batch (1000)', rows, seconds, perSecond: rows / seconds });
      } finally {
        await nr.dispose();
      }
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureThroughput().then((rs) => {
    for (const r of rs) console.log(`${r.mode}: ${r.rows} measurements in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond)} /s`);
  }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
