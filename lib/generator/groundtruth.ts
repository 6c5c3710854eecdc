import {
  ANOMALY_KINDS, AnomalyKind, DEFAULT_WARMUP_SAMPLES, GeneratedSeries, INTERVAL_SECONDS,
  MAGNITUDE_MEANING, SeriesFormat,
} from './types';

/** The state key the Latency TS I source gives a series (data-formats.md §1.2). */
export function stateKeyOf(format: SeriesFormat, key: string): string {
  return (format === 'ampicmp' ? 'LatencyTSAmpICMP-' : 'LatencyTSSmokeping-') + key;
}

/** The file of a series, relative to the data set's root, with forward slashes. */
export function seriesPathOf(format: SeriesFormat, key: string): string {
  return `${format}/${key}.series`;
}

export interface GroundTruthSeries {
  file: string;
  format: SeriesFormat;
  stream: string;
  stateKey: string;
  rows: number;
  /** Epoch ms of the first and last row. */
  first: number;
  last: number;
  baseRttMs: number;
}

export interface GroundTruthAnomaly {
  file: string;
  format: SeriesFormat;
  /** The series key (first column), i.e. the stream id. */
  stream: string;
  stateKey: string;
  kind: AnomalyKind;
  /** Epoch ms of the first and last changed row: an inclusive window. */
  start: number;
  end: number;
  startIso: string;
  endIso: string;
  /** Rows in the window. */
  samples: number;
  magnitude: number;
}

export interface GroundTruth {
  format: 'streamevmon-latency-ts-i-ground-truth';
  version: 1;
  generator: { seed: number; days: number; streams: number; startSeconds: number; command: string };
  intervalSeconds: Readonly<Record<SeriesFormat, number>>;
  warmupSamples: number;
  magnitudeMeaning: Readonly<Record<AnomalyKind, string>>;
  series: GroundTruthSeries[];
  anomalies: GroundTruthAnomaly[];
}

export function buildGroundTruth(series: readonly GeneratedSeries[], generator: GroundTruth['generator']): GroundTruth {
  const meaning = {} as Record<AnomalyKind, string>;
  for (const k of ANOMALY_KINDS) meaning[k] = MAGNITUDE_MEANING[k];
  return {
    format: 'streamevmon-latency-ts-i-ground-truth',
    version: 1,
    generator,
    intervalSeconds: INTERVAL_SECONDS,
    warmupSamples: DEFAULT_WARMUP_SAMPLES,
    magnitudeMeaning: meaning,
    series: series.map((s) => ({
      file: seriesPathOf(s.format, s.key),
      format: s.format,
      stream: s.key,
      stateKey: stateKeyOf(s.format, s.key),
      rows: s.rows.length,
      first: s.rows.length ? s.rows[0].time * 1000 : 0,
      last: s.rows.length ? s.rows[s.rows.length - 1].time * 1000 : 0,
      baseRttMs: Math.round(s.profile.baseRttMs * 1000) / 1000,
    })),
    anomalies: series.flatMap((s) => s.anomalies.map((a) => ({
      file: seriesPathOf(s.format, s.key),
      format: s.format,
      stream: s.key,
      stateKey: stateKeyOf(s.format, s.key),
      kind: a.kind,
      start: a.start,
      end: a.end,
      startIso: new Date(a.start).toISOString(),
      endIso: new Date(a.end).toISOString(),
      samples: a.endIndex - a.startIndex + 1,
      magnitude: a.magnitude,
    }))),
  };
}
