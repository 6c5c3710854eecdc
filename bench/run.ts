/**
 * `npm run bench [-- options]`: one run on this machine, printing
 *   1. the machine (CPU, cores, Node, date, load average);
 *   2. parse cost per row: Latency TS I (ampicmp and smokeping; the bundled sample and a larger
 *      generated set) and the NAB corpus, for the line parser alone and for the reader
 *      (files → time-merged measurements);
 *   3. detector cost per sample (1 stream and 10,000 interleaved streams, each detector and
 *      the six Streamevmon detectors together) and retained state per stream;
 *   4. end-to-end throughput in real Node-RED (Latency TS I source → all six detectors),
 *      per-msg and batch;
 *   5. the ratio of detection cost to parse cost.
 * Run with --expose-gc for the state figures (npm run bench does). See docs/benchmarks.md.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { extraDetectors, streamevmonDetectors as detectorDefinitions } from '../lib/detectors/index';
import type { DetectorDefinition } from '../lib/detectors/definition';
import type { Detector, Sample } from '../lib/detectors/types';
import { buildSample } from '../lib/generator';
import { resolveSeriesFiles } from '../lib/latencyts/files';
import { LatencyTsFormat, newKeyCache, parseLine } from '../lib/latencyts/parse';
import { LatencyTsReader } from '../lib/latencyts/reader';
import { scanNabCsv } from '../lib/nab/csv';
import { NabFileRef, resolveNabFiles } from '../lib/nab/files';
import { NabReader } from '../lib/nab/reader';
import { ParamValues, defaultParams } from '../lib/params';
import { measureThroughput, ThroughputResult } from './nodered-throughput';

const USAGE = `usage: npm run bench -- [options]
  --quick          smaller inputs, fewer passes, one Node-RED run per mode (about 30 s)
  --nab DIR        NAB root (with data/) or data directory for the NAB parse cost; default
                   $NAB_DATA, else $STREAMEVMON_NAB, else ../shared/data/nab beside the project
  --only LIST      sections to run, comma-separated: parse, detectors, nodered (default all)
  --json FILE      also write every figure as JSON`;

type Section = 'parse' | 'detectors' | 'nodered';
const SECTIONS: readonly Section[] = ['parse', 'detectors', 'nodered'];

interface Options {
  quick: boolean;
  nab?: string;
  json?: string;
  only: Set<Section>;
}

/** A bad command line: reported without a stack. */
class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { quick: false, only: new Set(SECTIONS) };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--quick') {
      opts.quick = true;
      continue;
    }
    const m = /^--(nab|json|only)(?:=(.*))?$/.exec(arg);
    if (!m) throw new UsageError(`unknown argument ${arg}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '') throw new UsageError(`--${m[1]} needs a value`);
    if (m[1] === 'only') {
      const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const bad = names.filter((n) => !SECTIONS.includes(n as Section));
      if (bad.length || !names.length) throw new UsageError(`--only takes ${SECTIONS.join(', ')} (got ${value})`);
      opts.only = new Set(names as Section[]);
    } else {
      opts[m[1] as 'nab' | 'json'] = value;
    }
  }
  return opts;
}

/** How much work each section does. */
interface Sizes {
  /** Samples on the single stream. */
  oneStream: number;
  manyStreams: number;
  /** Samples per stream in the many-stream run. */
  perStream: number;
  /** Streams and samples per stream for the state figures (windows full). */
  stateStreams: number;
  statePerStream: number;
  /** Days of generated Latency TS I data for the parse figures. */
  parseDays: number;
  /** Each parse figure: the median pass of at least this many passes and this many ms. */
  minPasses: number;
  minMs: number;
  noderedDays: number;
  noderedRepeats: number;
}

const FULL: Sizes = {
  oneStream: 1_000_000, manyStreams: 10_000, perStream: 100, stateStreams: 10_000, statePerStream: 700,
  parseDays: 30, minPasses: 5, minMs: 1500, noderedDays: 14, noderedRepeats: 3,
};
const QUICK: Sizes = {
  oneStream: 300_000, manyStreams: 10_000, perStream: 30, stateStreams: 2_000, statePerStream: 700,
  parseDays: 7, minPasses: 3, minMs: 300, noderedDays: 7, noderedRepeats: 1,
};

// ---------------------------------------------------------------------------------------------
// Helpers

function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) return process.cwd();
    dir = path.dirname(dir);
  }
  return dir;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) { g(); g(); }
}

function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function loadavg(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

/**
 * CPU used by other processes while a section ran: the machine's busy time (/proc/stat) minus
 * this process's and its finished children's (/proc/self/stat; the Node-RED processes are
 * children). In cores, averaged over the section. Linux only; null elsewhere.
 */
interface CpuLoad {
  seconds: number;
  /** Cores busy on the whole machine, on average. */
  machineCores: number;
  /** Cores used by this benchmark (and the Node-RED processes it ran). */
  ownCores: number;
  /** Cores used by everything else. */
  otherCores: number;
  loadAverage: number[];
}

interface CpuMark {
  at: bigint;
  busy: number;
  total: number;
  own: number;
}

function cpuMark(): CpuMark | null {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy (steal, time
    // the hypervisor gave to other machines, counts as other load).
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    const busy = total - cpu[3] - (cpu[4] ?? 0);
    const self = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    // Fields 14-17 of proc(5), counted from field 3 (state) here: utime stime cutime cstime.
    const own = f[11] + f[12] + f[13] + f[14];
    if (![total, busy, own].every(Number.isFinite)) return null;
    return { at: process.hrtime.bigint(), busy, total, own };
  } catch {
    return null;
  }
}

function cpuSince(start: CpuMark | null): CpuLoad | null {
  const end = cpuMark();
  if (!start || !end || end.total <= start.total) return null;
  const cores = os.cpus().length;
  const dTotal = end.total - start.total;
  const machineCores = ((end.busy - start.busy) / dTotal) * cores;
  const ownCores = Math.min(machineCores, ((end.own - start.own) / dTotal) * cores);
  return {
    seconds: Number(end.at - start.at) / 1e9, machineCores, ownCores, otherCores: Math.max(0, machineCores - ownCores), loadAverage: os.loadavg(),
  };
}

/** The line printed under each section: how much else the machine was doing meanwhile. */
function cpuNote(load: CpuLoad | null): string {
  if (!load) return `Load average after this section: ${loadavg()} (CPU use by other processes unknown on this platform).`;
  const cores = os.cpus().length;
  const busy = load.otherCores >= 0.25 ? ' (other work was running: treat these figures as pessimistic)' : '';
  return `Section took ${load.seconds.toFixed(0)} s; CPU: this benchmark ${load.ownCores.toFixed(2)} cores, other processes ${load.otherCores.toFixed(2)} of ${cores} cores${busy}; load average ${loadavg()}.`;
}

interface Timing {
  /** Median ns per row (or sample) over the timed passes. */
  ns: number;
  /** Fastest pass, ns per row. */
  minNs: number;
  rows: number;
  passes: number;
}

/** One untimed warm-up pass, then passes until both minimums are met; ns per row of the median pass. */
async function measure(sizes: Sizes, pass: () => number | Promise<number>): Promise<Timing> {
  await pass();
  const times: number[] = [];
  let rows = 0;
  const t0 = performance.now();
  while (times.length < sizes.minPasses || (performance.now() - t0 < sizes.minMs && times.length < 2000)) {
    const start = process.hrtime.bigint();
    rows = await pass();
    times.push(Number(process.hrtime.bigint() - start));
  }
  return { ns: median(times) / rows, minNs: Math.min(...times) / rows, rows, passes: times.length };
}

// ---------------------------------------------------------------------------------------------
// 1. Machine

interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  v8: string;
  os: string;
  commit: string;
  loadStart: number[];
  loadEnd?: number[];
}

function commit(): string {
  try {
    const root = projectRoot();
    const head = execSync('git rev-parse --short HEAD', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execSync('git status --porcelain', { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

function machine(): Machine {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model?.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    commit: commit(),
    loadStart: os.loadavg(),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Parse cost

interface ParseFigure {
  input: string;
  format: string;
  files: number;
  rows: number;
  bytes: number;
  /** The line parser (or NAB's whole-file scanner) on text already in memory. */
  parseOnly: Timing;
  /** The reader the source nodes use: files → measurements, merged by time. */
  reader: Timing;
}

/** The parse-only loop stores its results here (see there). */
const KEPT_MASK = 1023;
const kept: unknown[] = new Array(KEPT_MASK + 1);

async function latencyTsFigures(sizes: Sizes, input: string, dir: string): Promise<ParseFigure[]> {
  const out: ParseFigure[] = [];
  for (const format of ['ampicmp', 'smokeping'] as LatencyTsFormat[]) {
    const files = await resolveSeriesFiles(path.join(dir, format));
    const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
    const bytes = files.reduce((n, f) => n + fs.statSync(f).size, 0);
    const lines = texts.map((t) => t.split('\n').filter((l) => l.trim() !== ''));
    let sink = 0;
    const parseOnly = await measure(sizes, () => {
      let n = 0;
      for (const fileLines of lines) {
        const cache = newKeyCache();
        for (const line of fileLines) {
          const r = parseLine(format, line, cache);
          if (!r.ok) throw new Error(`${format}: ${r.reason}`);
          // Keep each measurement for a while, as a consumer would: a result that is used at
          // once and dropped lets the optimiser remove allocations and skews the figure.
          kept[n++ & KEPT_MASK] = r.measurement;
        }
      }
      return n;
    });
    const reader = await measure(sizes, async () => {
      let malformed = 0;
      const rd = await LatencyTsReader.open(files, { format: 'auto', onMalformed: () => { malformed++; } });
      let n = 0;
      for (;;) {
        const ms = await rd.next(1000);
        if (ms.length === 0) break;
        n += ms.length;
        sink += ms[0].time;
      }
      await rd.close();
      if (malformed) throw new Error(`${malformed} malformed lines in ${dir}/${format}`);
      return n;
    });
    if (Number.isNaN(sink)) console.log('(never printed: keeps the parsed values alive)');
    out.push({ input, format, files: files.length, rows: reader.rows, bytes, parseOnly, reader });
  }
  return out;
}

/** NAB root and data directory: --nab, $NAB_DATA, $STREAMEVMON_NAB or ../shared/data/nab. */
function locateNab(arg: string | undefined): { data?: string; why: string } {
  const fallback = path.resolve(projectRoot(), '..', 'shared', 'data', 'nab');
  const given = arg ?? process.env.NAB_DATA ?? process.env.STREAMEVMON_NAB;
  const source = arg ? '--nab' : process.env.NAB_DATA ? '$NAB_DATA' : process.env.STREAMEVMON_NAB ? '$STREAMEVMON_NAB' : 'default';
  const dir = path.resolve(given ?? fallback);
  if (!isDir(dir)) return { why: `no NAB corpus at ${dir} (${source}); pass --nab DIR or set NAB_DATA` };
  const data = isDir(path.join(dir, 'data')) ? path.join(dir, 'data') : dir;
  return { data, why: `${data} (${source})` };
}

async function nabFigure(sizes: Sizes, data: string): Promise<ParseFigure> {
  const refs: NabFileRef[] = await resolveNabFiles(data);
  const texts = refs.map((r) => fs.readFileSync(r.path, 'utf8'));
  const bytes = refs.reduce((n, r) => n + fs.statSync(r.path).size, 0);
  let sink = 0;
  const parseOnly = await measure(sizes, () => {
    let n = 0;
    for (const text of texts) {
      const s = scanNabCsv(text, { maxBadRecorded: 1 });
      if (s.badCount) throw new Error(`NAB: ${s.badCount} malformed lines (${s.bad[0]?.reason})`);
      n += s.length;
      sink += s.times[0] ?? 0;
    }
    return n;
  });
  const reader = await measure(sizes, async () => {
    const rd = await NabReader.open(refs);
    let n = 0;
    for (;;) {
      const ms = await rd.next(1000);
      if (ms.length === 0) break;
      n += ms.length;
      sink += ms[0].time;
    }
    await rd.close();
    return n;
  });
  if (Number.isNaN(sink)) console.log('(never printed)');
  return { input: 'NAB corpus', format: 'nab csv', files: refs.length, rows: reader.rows, bytes, parseOnly, reader };
}

interface ParseSection {
  figures: ParseFigure[];
  nab: string;
  nabSkipped?: string;
}

async function parseSection(sizes: Sizes, opts: Options): Promise<ParseSection> {
  console.log('\n## Parse cost per row\n');
  const figures: ParseFigure[] = [];
  figures.push(...await latencyTsFigures(sizes, 'bundled sample', path.join(projectRoot(), 'data', 'latency-ts-i')));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-parse-'));
  try {
    const sample = buildSample({ days: sizes.parseDays, streams: 8, seed: 11 });
    for (const f of sample.files) {
      const target = path.join(tmp, ...f.path.split('/'));
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, f.content);
    }
    figures.push(...await latencyTsFigures(sizes, `generated, ${sizes.parseDays} days`, tmp));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const nab = locateNab(opts.nab);
  let nabSkipped: string | undefined;
  if (nab.data) {
    try {
      figures.push(await nabFigure(sizes, nab.data));
    } catch (err) {
      nabSkipped = `NAB corpus at ${nab.data} could not be read: ${(err as Error).message}`;
    }
  } else {
    nabSkipped = nab.why;
  }
  console.log('| input | format | files | rows | MB | parse only, ns/row | reader, ns/row | reader, rows/s |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const f of figures) {
    console.log(`| ${f.input} | ${f.format} | ${f.files} | ${int(f.rows)} | ${(f.bytes / 1e6).toFixed(1)} | ${pad(f.parseOnly.ns.toFixed(0), 5)} | ${pad(f.reader.ns.toFixed(0), 5)} | ${int(1e9 / f.reader.ns)} |`);
  }
  if (nabSkipped) {
    console.log(`\n!!! NAB parse cost SKIPPED: ${nabSkipped}`);
    console.log('!!! (get NAB from https://github.com/numenta/NAB; see docs/nab.md)');
  } else {
    console.log(`\nNAB corpus: ${nab.why}`);
  }
  console.log('\nparse only = the line parser (Latency TS I) or the whole-file scanner (NAB) on text already in memory;');
  console.log('reader = what the source nodes use: files read in chunks (from the page cache), parsed, merged by time into measurements.');
  console.log(`Each figure is the median pass of at least ${sizes.minPasses} passes and ${sizes.minMs} ms, after a warm-up pass.`);
  return { figures, nab: nab.why, nabSkipped };
}

// ---------------------------------------------------------------------------------------------
// 3. Detectors

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

/** The threshold detector has no default bounds; these catch the ×5 spikes of the higher streams. */
const THRESHOLD_PARAMS = { upper: 500_000, lower: 1_000 };

function create(def: DetectorDefinition): Detector {
  const params: ParamValues = def.name === 'threshold'
    ? { ...defaultParams(def.paramSet), ...THRESHOLD_PARAMS }
    : defaultParams(def.paramSet);
  return def.create(params, { useWindow: false, windowSlide: 1 });
}

/**
 * ns per sample over `samples`, after one warm-up pass (of the JIT) on a separate detector.
 * `history`, if given, is fed untimed to the timed detectors first, so that `samples` meet
 * streams past their own warm-up.
 */
function timeIt(makeDetectors: () => Detector[], samples: Sample[], history: Sample[] = []): { nsPerSample: number; events: number } {
  const warm = makeDetectors();
  for (let i = 0; i < Math.min(samples.length, 200_000); i++) for (const d of warm) d.process(samples[i]);
  const dets = makeDetectors();
  for (const s of history) for (const d of dets) d.process(s);
  let events = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    for (let j = 0; j < dets.length; j++) events += dets[j].process(s).length;
  }
  const ns = Number(process.hrtime.bigint() - start);
  return { nsPerSample: ns / samples.length, events };
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

interface DetectorFigure {
  detector: string;
  nsOneStream: number;
  nsManyStreams: number;
  /** 10,000 streams again, each past its first perStream samples (windows full, runs grown). */
  nsManyStreamsSteady: number;
  eventsOneStream: number;
  eventsManyStreams: number;
  stateHeapBytes: number | null;
  stateJsonBytes: number | null;
}

interface DetectorSection {
  oneStreamSamples: number;
  manyStreams: number;
  perStream: number;
  stateStreams: number;
  statePerStream: number;
  detectors: DetectorFigure[];
  /** The six Streamevmon detectors on every sample. */
  allSix: DetectorFigure;
}

function detectorSection(sizes: Sizes): DetectorSection {
  console.log('\n## Detector cost (default parameters)\n');
  const one = makeSamples(1, sizes.oneStream);
  // Twice perStream per stream: the first half is the "10,000 streams" input (each stream's
  // warm-up included), the second half is timed again after the first half, untimed.
  const manyBoth = makeSamples(sizes.manyStreams, 2 * sizes.perStream);
  const many = manyBoth.slice(0, sizes.manyStreams * sizes.perStream);
  const steady = manyBoth.slice(many.length);
  const full = makeSamples(sizes.stateStreams, sizes.statePerStream, 7);
  const manyLabel = `${int(sizes.manyStreams)} streams`;
  console.log(`| detector | ns/sample, 1 stream | ns/sample, ${manyLabel} | ns/sample, ${manyLabel}, steady | state B/stream (memory) | state B/stream (JSON) |`);
  console.log('|---|---:|---:|---:|---:|---:|');
  const row = (f: DetectorFigure, label = f.detector): void => {
    const st = (b: number | null): string => (b === null ? 'n/a' : b.toFixed(0));
    console.log(`| ${label} | ${pad(f.nsOneStream.toFixed(0), 6)} | ${pad(f.nsManyStreams.toFixed(0), 6)} | ${pad(f.nsManyStreamsSteady.toFixed(0), 6)} | ${st(f.stateHeapBytes)} | ${st(f.stateJsonBytes)} |`);
  };
  const detectors: DetectorFigure[] = [];
  for (const def of [...detectorDefinitions, ...extraDetectors]) {
    const a = timeIt(() => [create(def)], one);
    const b = timeIt(() => [create(def)], many);
    const c = timeIt(() => [create(def)], steady, many);
    const st = stateBytes(() => create(def), full, sizes.stateStreams);
    const f: DetectorFigure = {
      detector: def.name,
      nsOneStream: a.nsPerSample, nsManyStreams: b.nsPerSample, nsManyStreamsSteady: c.nsPerSample,
      eventsOneStream: a.events, eventsManyStreams: b.events,
      stateHeapBytes: st?.heap ?? null, stateJsonBytes: st?.json ?? null,
    };
    detectors.push(f);
    row(f, def.name === 'threshold' ? 'threshold¹' : def.name);
  }
  const all = (): Detector[] => detectorDefinitions.map(create);
  const a = timeIt(all, one);
  const b = timeIt(all, many);
  const c = timeIt(all, steady, many);
  const six = detectors.slice(0, detectorDefinitions.length);
  const sum = (pick: (f: DetectorFigure) => number | null): number | null =>
    six.some((f) => pick(f) === null) ? null : six.reduce((n, f) => n + (pick(f) as number), 0);
  const allSix: DetectorFigure = {
    detector: `all ${detectorDefinitions.length} together`,
    nsOneStream: a.nsPerSample, nsManyStreams: b.nsPerSample, nsManyStreamsSteady: c.nsPerSample,
    eventsOneStream: a.events, eventsManyStreams: b.events,
    stateHeapBytes: sum((f) => f.stateHeapBytes), stateJsonBytes: sum((f) => f.stateJsonBytes),
  };
  row(allSix, `**all ${detectorDefinitions.length} Streamevmon detectors together**`);
  console.log(`\n1 stream: ${int(sizes.oneStream)} samples; ${manyLabel}: ${sizes.perStream} samples each, interleaved (${int(sizes.manyStreams * sizes.perStream)} samples),`);
  console.log(`each stream's warm-up included; steady: the next ${sizes.perStream} samples of each, after the first ${sizes.perStream} went through untimed.`);
  console.log(`State: per stream after ${sizes.statePerStream} samples on each of ${int(sizes.stateStreams)} streams; "all together" is the sum of the six.`);
  console.log(`¹ threshold is ours, not Streamevmon's, and has no default bounds: upper ${THRESHOLD_PARAMS.upper}, lower ${THRESHOLD_PARAMS.lower}; not in "all together".`);
  if (!(globalThis as { gc?: () => void }).gc) console.log('(state figures need node --expose-gc; npm run bench passes it)');
  return {
    oneStreamSamples: sizes.oneStream, manyStreams: sizes.manyStreams, perStream: sizes.perStream,
    stateStreams: sizes.stateStreams, statePerStream: sizes.statePerStream, detectors, allSix,
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Node-RED

async function noderedSection(sizes: Sizes): Promise<ThroughputResult[] | { skipped: string }> {
  console.log('\n## End-to-end throughput in Node-RED\n');
  try {
    const rs = await measureThroughput({ days: sizes.noderedDays, repeats: sizes.noderedRepeats });
    console.log('| mode | measurements | s (median run) | measurements/s | µs/measurement | every run, /s |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const r of rs) {
      console.log(`| ${r.mode} | ${int(r.rows)} | ${r.seconds.toFixed(2)} | ${int(r.perSecond)} | ${(1e6 / r.perSecond).toFixed(1)} | ${r.runs.map(int).join(', ')} |`);
    }
    console.log(`\nA generated Latency TS I set (${sizes.noderedDays} days, 4 ampicmp + 3 smokeping series) replayed by the latency ts node as fast as`);
    console.log('the flow accepts, into all six detector nodes (defaults, purge 3600 s), events dropped by a function node.');
    console.log(`Timed from "Starting flows" to the source's completion msg; ${sizes.noderedRepeats} run(s) per mode, each in a fresh Node-RED.`);
    return rs;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    console.log(`!!! Node-RED throughput FAILED: ${why}`);
    return { skipped: why };
  }
}

// ---------------------------------------------------------------------------------------------
// 5. Ratio

interface RatioRow {
  input: string;
  parseNs: number;
  ratioOneStream: number;
  ratioManyStreams: number;
}

function ratioSection(parse: ParseSection, det: DetectorSection, nodered: ThroughputResult[] | { skipped: string } | undefined): RatioRow[] {
  console.log('\n## Detection cost ÷ parse cost\n');
  const manyLabel = `${int(det.manyStreams)} streams`;
  console.log(`| parse cost of | reader, ns/row | all six, 1 stream (${det.allSix.nsOneStream.toFixed(0)} ns) ÷ parse | all six, ${manyLabel} (${det.allSix.nsManyStreams.toFixed(0)} ns) ÷ parse |`);
  console.log('|---|---:|---:|---:|');
  const rows: RatioRow[] = [];
  // The larger generated set for Latency TS I (steadier), and NAB.
  const chosen = parse.figures.filter((f) => !f.input.startsWith('bundled'));
  for (const f of chosen) {
    const r: RatioRow = {
      input: `${f.format} (${f.input})`, parseNs: f.reader.ns,
      ratioOneStream: det.allSix.nsOneStream / f.reader.ns, ratioManyStreams: det.allSix.nsManyStreams / f.reader.ns,
    };
    rows.push(r);
    console.log(`| ${r.input} | ${r.parseNs.toFixed(0)} | ${r.ratioOneStream.toFixed(1)} | ${r.ratioManyStreams.toFixed(1)} |`);
  }
  console.log('\nA ratio of R: running all six detectors on a measurement costs R times as much as reading and parsing its row;');
  console.log('above 1 the detectors, not the parser, bound a plain-library pipeline.');
  if (nodered && !('skipped' in nodered)) {
    const amp = chosen.find((f) => f.format === 'ampicmp');
    const libNs = (amp?.reader.ns ?? 0) + det.allSix.nsOneStream;
    for (const r of nodered) {
      const perMsgNs = 1e9 / r.perSecond;
      console.log(`Node-RED ${r.mode}: ${(perMsgNs / 1000).toFixed(1)} µs per measurement end to end, against ${(libNs / 1000).toFixed(1)} µs for ampicmp reader + all six`
        + ` detectors in plain code: roughly ${((1 - libNs / perMsgNs) * 100).toFixed(0)} % is Node-RED's own work (msg routing and cloning, node adapters, status).`);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const sizes = opts.quick ? QUICK : FULL;
  const m = machine();
  const t0 = performance.now();
  console.log(`# streamevmon benchmark — ${m.date}${opts.quick ? ' (--quick)' : ''}`);
  console.log(`# ${m.cpu}, ${m.cores} cores, ${m.memoryGiB.toFixed(0)} GiB; Node ${m.node} (V8 ${m.v8}); ${m.os}`);
  console.log(`# commit ${m.commit}; load average at start ${loadavg()}`);

  const whole = cpuMark();
  const cpu: Partial<Record<Section | 'total', CpuLoad | null>> = {};
  const run = async <T>(section: Section, body: () => T | Promise<T>): Promise<T | undefined> => {
    if (!opts.only.has(section)) return undefined;
    gc();
    const mark = cpuMark();
    const result = await body();
    cpu[section] = cpuSince(mark);
    console.log(`\n${cpuNote(cpu[section] ?? null)}`);
    return result;
  };
  const parse = await run('parse', () => parseSection(sizes, opts));
  const det = await run('detectors', () => detectorSection(sizes));
  const nodered = await run('nodered', () => noderedSection(sizes));
  const ratio = parse && det ? ratioSection(parse, det, nodered) : undefined;

  m.loadEnd = os.loadavg();
  cpu.total = cpuSince(whole);
  const others = cpu.total ? `; other processes used ${cpu.total.otherCores.toFixed(2)} of ${m.cores} cores on average` : '';
  console.log(`\n# done in ${((performance.now() - t0) / 1000).toFixed(0)} s${others}; load average at end ${loadavg()}`);
  if (parse?.nabSkipped) console.log(`# !!! NAB parse cost was SKIPPED: ${parse.nabSkipped}`);
  if (opts.json) {
    const report = { machine: m, quick: opts.quick, sizes, cpu, parse, detectors: det, nodered, ratio };
    fs.writeFileSync(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`# JSON written to ${path.resolve(opts.json)}`);
  }
}

main().catch((err: Error) => {
  console.error(`bench: ${err instanceof UsageError ? err.message : err.stack ?? err.message}`);
  process.exitCode = 1;
});
