/** Data model of the synthetic Latency TS I generator (data-formats.md §5). */

export type SeriesFormat = 'ampicmp' | 'smokeping';

/** Measurement interval per format, in seconds (AMP ICMP every minute, Smokeping every 5 min). */
export const INTERVAL_SECONDS: Readonly<Record<SeriesFormat, number>> = { ampicmp: 60, smokeping: 300 };

/** Smokeping sends 20 pings per round (the reader's loss = 20 − number of RTTs). */
export const SMOKEPING_PINGS = 20;

/** Probes behind one ampicmp average: lossrates are multiples of 1/10. */
export const AMPICMP_PROBES = 10;

/** Anomaly-free samples at the start of every series, so detectors can warm up. */
export const DEFAULT_WARMUP_SAMPLES = 200;

/** One line of an ampicmp file. */
export interface AmpIcmpRow {
  format: 'ampicmp';
  /** `<source>-<destination>-<family>`, also the file's base name. */
  key: string;
  /** Epoch seconds. */
  time: number;
  /** Average RTT in integer microseconds. */
  average: number;
  /** Fraction of probes lost, a multiple of 1/AMPICMP_PROBES below 1. */
  lossrate: number;
}

/** One line of a smokeping file. */
export interface SmokepingRow {
  format: 'smokeping';
  /** The destination, also the file's base name. */
  key: string;
  /** Epoch seconds. */
  time: number;
  /** RTTs of the answered pings in integer microseconds, ascending; 20 − length were lost. */
  rttsUs: number[];
}

export type Row = AmpIcmpRow | SmokepingRow;

export const ANOMALY_KINDS = [
  'level_shift_up', 'level_shift_down', 'spike', 'loss_burst', 'mode_change', 'noise_change',
] as const;

export type AnomalyKind = typeof ANOMALY_KINDS[number];

/** One injected, labelled anomaly. Windows never overlap and lie after the warm-up. */
export interface Anomaly {
  kind: AnomalyKind;
  /** Index of the first and last changed row (inclusive). */
  startIndex: number;
  endIndex: number;
  /** Epoch ms of the first and last changed row (inclusive window). */
  start: number;
  end: number;
  /**
   * The size of the change (see MAGNITUDE_MEANING): an RTT factor for spikes, level shifts
   * and mode changes, a variance factor for noise changes, a loss fraction for loss bursts.
   */
  magnitude: number;
}

export const MAGNITUDE_MEANING: Readonly<Record<AnomalyKind, string>> = {
  level_shift_up: 'factor applied to the RTT level (> 1)',
  level_shift_down: 'factor applied to the RTT level (< 1)',
  spike: 'factor applied to the whole RTT of each spike sample',
  loss_burst: 'fraction of probes lost in each sample (ampicmp lossrate; smokeping mean share of the 20 pings)',
  mode_change: 'factor applied to the RTT level while the new mode lasts',
  noise_change: 'factor applied to the variance of the jitter',
};

export interface GeneratedSeries {
  format: SeriesFormat;
  key: string;
  rows: Row[];
  anomalies: Anomaly[];
  /** The background model the rows were drawn from. */
  profile: SeriesProfile;
}

/** Per-series background model; all RTT figures in milliseconds. */
export interface SeriesProfile {
  baseRttMs: number;
  /** Standard deviation of the gaussian jitter. */
  jitterMs: number;
  /** Relative amplitude of the daily sinusoid. */
  diurnalAmplitude: number;
  /** Phase of the daily sinusoid, radians. */
  diurnalPhase: number;
  /** Probability per sample of a queueing bump (positive, exponential). */
  queueProbability: number;
  /** Probability per sample of isolated background loss. */
  lossProbability: number;
  /** Offset of the measurement times within the interval, seconds. */
  offsetSeconds: number;
}
