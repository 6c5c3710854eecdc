/**
 * Writes the synthetic Latency TS I sample and its ground truth:
 *   node dist/bench/generate-sample.js [--out DIR] [--seed N] [--days D] [--streams N] [--start EPOCH_S]
 * DIR defaults to data/latency-ts-i (relative to the working directory). Existing .series
 * files under DIR/ampicmp and DIR/smokeping are removed first, so no stale series remain.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSample, DEFAULT_SAMPLE_OPTIONS, SampleOptions } from '../lib/generator';

const USAGE = 'usage: generate-sample [--out DIR] [--seed N] [--days D] [--streams N] [--start EPOCH_SECONDS]';

interface CliOptions extends SampleOptions {
  out: string;
}

function parseIntArg(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be an integer between ${min} and ${max} (got ${raw ?? 'nothing'})`);
  }
  return n;
}

export function parseArgs(argv: readonly string[]): CliOptions {
  const o: CliOptions = { ...DEFAULT_SAMPLE_OPTIONS, out: path.join('data', 'latency-ts-i') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--out':
        if (!value) throw new Error('--out needs a directory');
        o.out = value;
        break;
      case '--seed': o.seed = parseIntArg('seed', value, 0, 0xffffffff); break;
      // Long enough for the 200-sample warm-up of a 5-minute smokeping series.
      case '--days': o.days = parseIntArg('days', value, 1, 366); break;
      case '--streams': o.streams = parseIntArg('streams', value, 1, 1000); break;
      case '--start': o.startSeconds = parseIntArg('start', value, 0, 4102444800); break;
      default: throw new Error(`unknown argument ${flag}`);
    }
    i++;
  }
  return o;
}

function removeOldSeries(dir: string): void {
  for (const sub of ['ampicmp', 'smokeping']) {
    const d = path.join(dir, sub);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) if (f.endsWith('.series')) fs.unlinkSync(path.join(d, f));
  }
}

export function main(argv: readonly string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (e) {
    console.error(`generate-sample: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const sample = buildSample(o);
  removeOldSeries(o.out);
  let bytes = 0;
  for (const f of sample.files) {
    const target = path.join(o.out, ...f.path.split('/'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, f.content);
    bytes += Buffer.byteLength(f.content);
  }
  const counts = new Map<string, number>();
  for (const a of sample.groundTruth.anomalies) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
  console.log(`wrote ${sample.files.length} files (${bytes} bytes) to ${o.out}: ${sample.series.length} series, `
    + `${sample.groundTruth.anomalies.length} anomalies (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')})`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
