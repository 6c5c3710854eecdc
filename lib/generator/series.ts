import { effectsOf, Effects, planAnomalies } from './anomalies';
import { deriveSeed, Prng } from './prng';
import {
  ANOMALY_KINDS, AnomalyKind, Anomaly, AmpIcmpRow, DEFAULT_WARMUP_SAMPLES, GeneratedSeries,
  INTERVAL_SECONDS, Row, SMOKEPING_PINGS, SeriesFormat, SeriesProfile, SmokepingRow,
} from './types';

export interface SeriesOptions {
  format: SeriesFormat;
  /** Series key: `<src>-<dst>-<family>` (ampicmp, no other hyphens) or a destination (smokeping). */
  key: string;
  seed: number;
  /** Epoch seconds of the first interval; each series adds its own offset within it. */
  startSeconds: number;
  /** Number of rows. */
  samples: number;
  /** Anomaly kinds to inject; default all of them, [] for a clean series. */
  kinds?: readonly AnomalyKind[];
  warmupSamples?: number;
  /** Base RTT in ms; drawn log-uniformly from 5–300 ms when absent. */
  baseRttMs?: number;
}

const DAY_SECONDS = 86400;

/** Rows per series for a number of days at the format's interval. */
export function samplesForDays(format: SeriesFormat, days: number): number {
  return Math.floor((days * DAY_SECONDS) / INTERVAL_SECONDS[format]);
}

function drawProfile(prng: Prng, format: SeriesFormat, baseRttMs?: number): SeriesProfile {
  const base = baseRttMs ?? prng.logUniform(5, 300);
  if (baseRttMs !== undefined) prng.next(); // keep the later draws independent of the choice
  return {
    baseRttMs: base,
    // A floor of 50 µs plus a share of the RTT: short paths are relatively noisier.
    jitterMs: 0.05 + base * prng.uniform(0.002, 0.01),
    diurnalAmplitude: prng.uniform(0.01, 0.04),
    diurnalPhase: prng.uniform(0, 2 * Math.PI),
    queueProbability: prng.uniform(0.01, 0.04),
    lossProbability: format === 'ampicmp' ? prng.uniform(0.002, 0.01) : prng.uniform(0.01, 0.04),
    offsetSeconds: prng.int(0, INTERVAL_SECONDS[format] - 1),
  };
}

/** The undisturbed RTT level at a time, in ms: base plus a small daily cycle. */
function levelAt(p: SeriesProfile, timeSeconds: number): number {
  const dayFraction = (timeSeconds % DAY_SECONDS) / DAY_SECONDS;
  return p.baseRttMs * (1 + p.diurnalAmplitude * Math.sin(2 * Math.PI * dayFraction + p.diurnalPhase));
}

/**
 * Generate one series. The background (jitter, queueing, isolated loss) and the anomaly plan
 * come from separate PRNG streams that always consume the same number of draws per row, so
 * the same options with kinds [] give exactly the rows outside the anomaly windows.
 */
export function generateSeries(opts: SeriesOptions): GeneratedSeries {
  const { format, key, seed, samples } = opts;
  const profile = drawProfile(new Prng(deriveSeed(seed, `${format}/${key}/profile`)), format, opts.baseRttMs);
  const background = new Prng(deriveSeed(seed, `${format}/${key}/background`));
  const planPrng = new Prng(deriveSeed(seed, `${format}/${key}/anomalies`));
  const burstPrng = new Prng(deriveSeed(seed, `${format}/${key}/bursts`));
  const plan = planAnomalies(planPrng, format, samples, opts.kinds ?? ANOMALY_KINDS, opts.warmupSamples ?? DEFAULT_WARMUP_SAMPLES);
  const fx = effectsOf(plan, samples);
  const interval = INTERVAL_SECONDS[format];
  const t0 = opts.startSeconds + profile.offsetSeconds;
  const rows: Row[] = [];
  for (let i = 0; i < samples; i++) {
    const time = t0 + i * interval;
    rows.push(format === 'ampicmp'
      ? ampIcmpRow(key, time, i, profile, fx, background)
      : smokepingRow(key, time, i, profile, fx, background, burstPrng));
  }
  const anomalies: Anomaly[] = plan.map((a) => ({
    ...a,
    start: (t0 + a.startIndex * interval) * 1000,
    end: (t0 + a.endIndex * interval) * 1000,
  }));
  return { format, key, rows, anomalies, profile };
}

/** Queueing only ever adds delay: an occasional exponential bump on top of the jitter. */
function jitter(p: SeriesProfile, prng: Prng, sd: number): number {
  const z = prng.normal();
  const u = prng.next();
  const bump = prng.exponential(2 * p.jitterMs);
  return sd * z + (u < p.queueProbability ? bump : 0);
}

function ampIcmpRow(key: string, time: number, i: number, p: SeriesProfile, fx: Effects, prng: Prng): AmpIcmpRow {
  const level = levelAt(p, time) * fx.level[i];
  const noise = jitter(p, prng, p.jitterMs) * fx.noise[i];
  const lossU = prng.next();
  const lossK = prng.next();
  const rttMs = Math.max(level + noise, 0.3 * level) * fx.spike[i];
  const background = lossU < p.lossProbability ? (lossK < 0.8 ? 0.1 : 0.2) : 0;
  const burst = fx.loss[i];
  return {
    format: 'ampicmp',
    key,
    time,
    average: Math.max(1, Math.round(rttMs * 1000)),
    lossrate: Number.isNaN(burst) ? background : burst,
  };
}

function smokepingRow(
  key: string, time: number, i: number, p: SeriesProfile, fx: Effects, prng: Prng, burstPrng: Prng,
): SmokepingRow {
  const level = levelAt(p, time) * fx.level[i];
  // One round's pings share a path state (row jitter) plus their own smaller jitter.
  const round = level + p.jitterMs * prng.normal() * fx.noise[i];
  const pings: number[] = [];
  for (let j = 0; j < SMOKEPING_PINGS; j++) {
    const rttMs = Math.max(round + jitter(p, prng, 0.7 * p.jitterMs) * fx.noise[i], 0.3 * level) * fx.spike[i];
    pings.push(Math.max(1, Math.round(rttMs * 1000)));
  }
  const lossU = prng.next();
  const lossK = prng.next();
  let missing = lossU < p.lossProbability ? (lossK < 0.7 ? 1 : 2) : 0;
  const burst = fx.loss[i];
  if (!Number.isNaN(burst)) {
    missing = Math.min(SMOKEPING_PINGS, Math.max(14, Math.round(burst * SMOKEPING_PINGS) + burstPrng.int(-2, 2)));
  }
  // The pings are i.i.d., so dropping the last ones drops a random subset.
  const rttsUs = pings.slice(0, SMOKEPING_PINGS - missing).sort((a, b) => a - b);
  return { format: 'smokeping', key, time, rttsUs };
}
