/**
 * End-to-end throughput in real Node-RED: a generated Latency TS I data set replayed by the
 * source node through all six detectors, per-msg and batch modes. Measurements per second
 * from the flows starting (the source starts at deploy) until the source reports completion
 * (its 'complete' msg is queued behind the last measurement, so detector work is included).
 * Node-RED's start-up is not counted. Each mode runs `repeats` times, each in a fresh
 * Node-RED; the median run is reported.
 * Used by `npm run bench` (bench/run.ts); alone, after a build:
 *   node dist/bench/nodered-throughput.js [days] [repeats]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSample } from '../lib/generator';
import { NodeRedProcess } from '../test/e2e/nodered';

const DETECTORS = ['baseline', 'changepoint', 'distdiff', 'mode', 'spike', 'loss'];
export const BATCH_SIZE = 1000;

function flow(dataDir: string, mode: 'fast' | 'batch'): unknown[] {
  const detectorIds = DETECTORS.map((d) => `det-${d}`);
  return [
    { id: 'tab', type: 'tab', label: 'throughput' },
    {
      id: 'src', z: 'tab', type: 'streamevmon-latencyts', path: dataDir, format: 'auto', mode, speed: '1',
      batchSize: String(BATCH_SIZE), startOnDeploy: true, loop: false, wires: [detectorIds, ['done']],
    },
    // Long purge times: the smokeping series have one row every 5 minutes.
    ...DETECTORS.map((d) => ({ id: `det-${d}`, z: 'tab', type: `streamevmon-${d}`, inactivityPurgeTime: '3600', wires: [['sink']] })),
    { id: 'sink', z: 'tab', type: 'function', func: 'return null;', outputs: 0, wires: [] },
    { id: 'done', z: 'tab', type: 'debug', name: 'complete', active: true, tosidebar: false, console: true, complete: 'payload', targetType: 'msg', wires: [] },
  ];
}

export interface ThroughputResult {
  mode: string;
  /** Measurements replayed per run. */
  rows: number;
  /** Seconds of the median run. */
  seconds: number;
  /** Measurements per second of the median run. */
  perSecond: number;
  /** Measurements per second of every run, in run order. */
  runs: number[];
}

export interface ThroughputOptions {
  /** Days of generated data (default 14). */
  days?: number;
  /** Series, alternating ampicmp and smokeping (default 7, like the bundled sample). */
  streams?: number;
  /** Runs per mode (default 1). */
  repeats?: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function measureThroughput(opts: ThroughputOptions = {}): Promise<ThroughputResult[]> {
  const days = opts.days ?? 14;
  const streams = opts.streams ?? 7;
  const repeats = Math.max(1, opts.repeats ?? 1);
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
      const seconds: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const nr = await NodeRedProcess.start({ flowFile, userDir: path.join(dir, `user-${mode}-${r}`) });
        try {
          await nr.waitForLog(/\[debug:complete\]/, 600_000);
          // From the flows starting (the source starts at deploy) to the source's 'complete' msg.
          const from = nr.timeOfLog(/Starting flows/) as bigint;
          const to = nr.timeOfLog(/\[debug:complete\]/) as bigint;
          seconds.push(Number(to - from) / 1e9);
        } finally {
          await nr.dispose();
        }
      }
      const mid = median(seconds);
      results.push({
        mode: mode === 'fast' ? 'per msg' : `batch (${BATCH_SIZE})`,
        rows, seconds: mid, perSecond: rows / mid, runs: seconds.map((s) => rows / s),
      });
    }
    return results;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = 'usage: node dist/bench/nodered-throughput.js [days (default 14)] [repeats (default 1)]';

/** A positive whole number from the command line, or undefined when absent. */
function positiveArg(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number of at least 1, not ${JSON.stringify(text)}\n${USAGE}`);
  return n;
}

if (require.main === module) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  let days: number | undefined;
  let repeats: number | undefined;
  try {
    days = positiveArg(process.argv[2], 'days');
    repeats = positiveArg(process.argv[3], 'repeats');
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  measureThroughput({ days, repeats }).then((rs) => {
    for (const r of rs) console.log(`${r.mode}: ${r.rows} measurements in ${r.seconds.toFixed(2)} s = ${Math.round(r.perSecond)} /s`);
  }, (err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
