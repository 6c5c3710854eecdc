/**
 * Line-protocol parser throughput on the real AMP2 export (test/fixtures/amp/amp2.lproto.gz,
 * 132,173 lines, 25 MB): lines/s and MB/s for parsing alone, and for parsing plus building
 * the AMP2 measurements, as the live-ingest path does: in 5,000-line bodies (the shape of
 * subscription POSTs) and as one retained 25 MB text. The text is unpacked once, outside the
 * timing; each figure is the median of several passes after a warm-up pass.
 * Run after a build: node dist/bench/line-parser.js [passes]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseAmpText } from '../lib/amp/parse';
import { parseLines } from '../lib/influx/line-parser';

function fixture(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return gunzipSync(fs.readFileSync(path.join(dir, 'test', 'fixtures', 'amp', 'amp2.lproto.gz'))).toString('utf8');
}

/** A typical subscription POST body. */
const BODY_LINES = 5000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(label: string, passes: number, bytes: number, run: () => number): void {
  run(); // warm-up: lets the JIT optimise the scanner
  const times: number[] = [];
  let lines = 0;
  for (let i = 0; i < passes; i++) {
    const t0 = process.hrtime.bigint();
    lines = run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const t = median(times);
  console.log(`${label.padEnd(34)} ${Math.round(lines / t).toLocaleString('en-US').padStart(12)} lines/s  ${(bytes / 1e6 / t).toFixed(1).padStart(7)} MB/s  (median of ${passes}, ${(t * 1000).toFixed(0)} ms per pass)`);
}

function main(): void {
  const passes = Number(process.argv[2] ?? 7);
  const text = fixture();
  const bytes = Buffer.byteLength(text);
  console.log(`amp2.lproto: ${text.split('\n').length - 1} lines, ${(bytes / 1e6).toFixed(1)} MB; node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}`);
  // Live ingest parses request bodies of a few thousand lines and lets go of them: most of
  // the whole-file figure is the garbage collector moving 132k retained points to the old space.
  const lines = text.split('\n');
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += BODY_LINES) bodies.push(lines.slice(i, i + BODY_LINES).join('\n'));
  measure(`parseLines, ${BODY_LINES}-line bodies`, passes, bytes, () => {
    let n = 0;
    for (const body of bodies) {
      const r = parseLines(body);
      if (r.errorCount) throw new Error(`${r.errorCount} lines failed`);
      n += r.points.length;
    }
    return n;
  });
  measure(`parseAmpText, ${BODY_LINES}-line bodies`, passes, bytes, () => {
    let n = 0;
    for (const body of bodies) {
      const r = parseAmpText(body, 'amp2');
      if (r.errorCount) throw new Error(`${r.errorCount} lines failed`);
      n += r.measurements.length;
    }
    return n;
  });
  measure('parseLines, whole file retained', passes, bytes, () => {
    const r = parseLines(text);
    if (r.errorCount) throw new Error(`${r.errorCount} lines failed`);
    return r.points.length;
  });
  measure('parseAmpText, whole file retained', passes, bytes, () => {
    const r = parseAmpText(text, 'amp2');
    if (r.errorCount) throw new Error(`${r.errorCount} lines failed`);
    return r.measurements.length;
  });
}

main();
