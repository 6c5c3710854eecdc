import { buildGroundTruth, GroundTruth, seriesPathOf } from './groundtruth';
import { formatSeriesFile } from './lines';
import { generateSeries, samplesForDays } from './series';
import { GeneratedSeries, SeriesFormat } from './types';

export interface SampleOptions {
  seed: number;
  days: number;
  /** Total number of series; they alternate ampicmp, smokeping, ampicmp, … */
  streams: number;
  /** Epoch seconds of the first interval. */
  startSeconds: number;
}

/** 2014-01-30T00:00:00Z, within the period Latency TS I covers. */
export const DEFAULT_START_SECONDS = 1391040000;

export const DEFAULT_SAMPLE_OPTIONS: Readonly<SampleOptions> = {
  seed: 1,
  days: 2,
  streams: 7,
  startSeconds: DEFAULT_START_SECONDS,
};

export const GROUND_TRUTH_FILE = 'ground-truth.json';

interface CatalogueEntry {
  key: string;
  baseRttMs: number;
}

/** Realistic names (no hyphen inside a host: the reader splits ampicmp keys on '-'), with plausible RTTs from New Zealand. */
const AMPICMP_CATALOGUE: readonly CatalogueEntry[] = [
  { key: 'waikato-xero-ipv4', baseRttMs: 24 },
  { key: 'callplus-afrinic-ipv6', baseRttMs: 290 },
  { key: 'waikato-arin-ipv6', baseRttMs: 160 },
  { key: 'vocus-google-ipv4', baseRttMs: 8 },
  { key: 'spark-ripe-ipv4', baseRttMs: 270 },
  { key: 'waikato-apnic-ipv4', baseRttMs: 140 },
  { key: 'callplus-lacnic-ipv6', baseRttMs: 230 },
  { key: 'vocus-cloudflare-ipv6', baseRttMs: 6 },
];

/** Smokeping keys containing "v6" are IPv6 targets. */
const SMOKEPING_CATALOGUE: readonly CatalogueEntry[] = [
  { key: 'afrinic.net', baseRttMs: 280 },
  { key: 'ipv6.google.com', baseRttMs: 12 },
  { key: 'www.ripe.net', baseRttMs: 265 },
  { key: 'lacnic.net', baseRttMs: 215 },
  { key: 'www.arin.net', baseRttMs: 150 },
  { key: 'nz.pool.ntp.org', baseRttMs: 5 },
  { key: 'ipv6.he.net', baseRttMs: 135 },
  { key: 'www.apnic.net', baseRttMs: 130 },
];

interface StreamChoice {
  format: SeriesFormat;
  key: string;
  baseRttMs?: number;
}

/** The i-th stream: catalogue entries first, then numbered names with a drawn RTT. */
export function streamAt(i: number): StreamChoice {
  const format: SeriesFormat = i % 2 === 0 ? 'ampicmp' : 'smokeping';
  const n = i >> 1;
  const catalogue = format === 'ampicmp' ? AMPICMP_CATALOGUE : SMOKEPING_CATALOGUE;
  if (n < catalogue.length) return { format, ...catalogue[n] };
  if (format === 'ampicmp') return { format, key: `amp${n}-target${n}-ipv${n % 2 ? 6 : 4}` };
  return { format, key: n % 2 ? `target${n}.v6.example.net` : `target${n}.example.net` };
}

export interface SampleFile {
  /** Relative to the data set's root, forward slashes. */
  path: string;
  content: string;
}

export interface GeneratedSample {
  series: GeneratedSeries[];
  groundTruth: GroundTruth;
  /** Every series file, then the ground-truth file. */
  files: SampleFile[];
}

export function sampleCommand(o: SampleOptions): string {
  const start = o.startSeconds === DEFAULT_START_SECONDS ? '' : ` --start ${o.startSeconds}`;
  return `node dist/bench/generate-sample.js --seed ${o.seed} --days ${o.days} --streams ${o.streams}${start}`;
}

/** Build the whole data set in memory (no I/O), deterministically from the options. */
export function buildSample(opts: Partial<SampleOptions> = {}): GeneratedSample {
  // Only the sample options: callers may pass a wider object (the CLI's has `out`).
  const { seed, days, streams, startSeconds } = { ...DEFAULT_SAMPLE_OPTIONS, ...opts };
  const o: SampleOptions = { seed, days, streams, startSeconds };
  // NaN days would make an endless series: fail early with the bad value.
  if (!Number.isFinite(days) || days <= 0) throw new RangeError(`days must be a positive number, not ${String(days)}`);
  if (!Number.isInteger(streams) || streams < 1) throw new RangeError(`streams must be a whole number of at least 1, not ${String(streams)}`);
  const series: GeneratedSeries[] = [];
  for (let i = 0; i < o.streams; i++) {
    const choice = streamAt(i);
    series.push(generateSeries({
      ...choice,
      seed: o.seed,
      startSeconds: o.startSeconds,
      samples: samplesForDays(choice.format, o.days),
    }));
  }
  const groundTruth = buildGroundTruth(series, { ...o, command: sampleCommand(o) });
  const files = series.map((s) => ({ path: seriesPathOf(s.format, s.key), content: formatSeriesFile(s.rows) }));
  files.push({ path: GROUND_TRUTH_FILE, content: JSON.stringify(groundTruth, null, 2) + '\n' });
  return { series, groundTruth, files };
}
