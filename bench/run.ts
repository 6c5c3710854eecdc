/**
 * `npm run bench`: detector cost per sample (1 stream and 10,000 interleaved streams, each
 * detector and all together) and retained state per stream. One run, this machine.
 * Run with --expose-gc for the state figures (npm run bench does).
 */
import os from 'node:os';
import { streamevmonDetectors as detectorDefinitions } from '../lib/detectors/index';
import type { DetectorDefinition } from '../lib/detectors/definition';
import type { Detector, Sample } from '../lib/detectors/types';
import { defaultParams } from '../lib/params';

/** Small deterministic PRNG (mulberry32) so every run sees the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latency-like samples (µs) with noise, rare spikes and 1 % loss, `streams` interleaved. */
function makeSamples(streams: number, perStream: number, seed = 42): Sample[] {
  const rand = prng(seed);
  const base = Array.from({ length: streams }, () => 5000 + rand() * 200000);
  const out: Sample[] = new Array(streams * perStream);
  let i = 0;
  for (let k = 0; k < perStream; k++) {
    for (let s = 0; s < streams; s++) {
      const lossy = rand() < 0.01;
      const spike = rand() < 0.002 ? 5 : 1;
      const value = lossy ? null : Math.round(base[s] * spike * (1 + (rand() - 0.5) * 0.05));
      const key = `ICMP-${s}`;
      out[i++] = { key, stream: String(s), kind: 'ICMP', time: 1e12 + k * 60_000, value, lossy };
    }
  }
  return out;
}

function create(def: DetectorDefinition): Detector {
  return def.create(defaultParams(def.paramSet), { useWindow: false, windowSlide: 1 });
}

/** ns per sample over `samples`, after one warm-up pass on a separate detector. */
function timeIt(makeDetectors: () => Detector[], samples: Sample[]): { nsPerSample: number; events: number } {
  const warm = makeDetectors();
  for (let i = 0; i < Math.min(samples.length, 200_000); i++) for (const d of warm) d.process(samples[i]);
  const dets = makeDetectors();
  let events = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    for (let j = 0; j < dets.length; j++) events += dets[j].process(s).length;
  }
  const ns = Number(process.hrtime.bigint() - start);
  return { nsPerSample: ns / samples.length, events };
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); g(); }
}

/** Memory the JS heap and typed-array buffers hold for it. */
function retainedBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Bytes retained per stream once every stream's windows are full (heap + typed arrays). */
function stateBytes(makeDetector: () => Detector, samples: Sample[], streams: number): { heap: number; json: number } | null {
  if (!(globalThis as { gc?: () => void }).gc) return null;
  gc();
  const before = retainedBytes();
  const det = makeDetector();
  for (const s of samples) det.process(s);
  gc();
  const heap = (retainedBytes() - before) / streams;
  const json = JSON.stringify(det.saveState()).length / streams;
  return { heap, json };
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function main(): void {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# streamevmon benchmark — ${new Date().toISOString()}`);
  console.log(`# ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}`);

  const one = makeSamples(1, 1_000_000);
  const many = makeSamples(10_000, 100);
  const full = makeSamples(10_000, 700, 7);
  console.log('\n## Detector cost (default parameters)\n');
  console.log('| detector | ns/sample, 1 stream | ns/sample, 10,000 streams | state B/stream (memory) | state B/stream (JSON) |');
  console.log('|---|---:|---:|---:|---:|');
  for (const def of detectorDefinitions) {
    const a = timeIt(() => [create(def)], one);
    const b = timeIt(() => [create(def)], many);
    const st = stateBytes(() => create(def), full, 10_000);
    console.log(`| ${def.name} | ${pad(a.nsPerSample.toFixed(0), 6)} | ${pad(b.nsPerSample.toFixed(0), 6)} | ${st ? st.heap.toFixed(0) : 'n/a'} | ${st ? st.json.toFixed(0) : 'n/a'} |`);
  }
  const all = () => detectorDefinitions.map(create);
  const a = timeIt(all, one);
  const b = timeIt(all, many);
  let heapAll = 0;
  let jsonAll = 0;
  for (const def of detectorDefinitions) {
    const st = stateBytes(() => create(def), full, 10_000);
    if (st) { heapAll += st.heap; jsonAll += st.json; }
  }
  console.log(`| **all ${detectorDefinitions.length} together** | ${pad(a.nsPerSample.toFixed(0), 6)} | ${pad(b.nsPerSample.toFixed(0), 6)} | ${heapAll.toFixed(0)} | ${jsonAll.toFixed(0)} |`);
  if (!(globalThis as { gc?: () => void }).gc) console.log('\n(state figures need node --expose-gc)');
}

main();
