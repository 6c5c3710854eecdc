import type { Sample } from '../detectors/types';
import { stateKeyOf } from './groundtruth';
import { smokepingMedianMs } from './lines';
import { Anomaly, AnomalyKind, Row, SMOKEPING_PINGS } from './types';

/**
 * The detector input a row becomes (data-formats.md §5): ampicmp → average µs, lossy when
 * lossrate > 0; smokeping → recomputed median ms, lossy when a ping was lost. For scoring
 * the generator without going through files; the real reader is lib/latencyts.
 */
export function rowToSample(row: Row): Sample {
  if (row.format === 'ampicmp') {
    return {
      key: stateKeyOf('ampicmp', row.key), stream: row.key, kind: 'LatencyTSAmpICMP',
      time: row.time * 1000, value: row.average, lossy: row.lossrate > 0,
    };
  }
  return {
    key: stateKeyOf('smokeping', row.key), stream: row.key, kind: 'LatencyTSSmokeping',
    time: row.time * 1000, value: smokepingMedianMs(row.rttsUs), lossy: row.rttsUs.length < SMOKEPING_PINGS,
  };
}

export interface DetectionScore {
  /** Injected anomalies of the scored kinds. */
  injected: number;
  /** Of those, how many had an event inside [start, end + tolerance]. */
  detected: number;
  /** Events outside every anomaly's [start, end + tolerance] (any kind). */
  falsePositives: number;
  /** Rows outside every anomaly's [start, end + tolerance]. */
  rowsOutside: number;
  /** detected / injected (NaN when none were injected). */
  detectionRate: number;
  falsePositivesPer1000: number;
}

/**
 * Score event times against the ground truth of one series. `toleranceMs` extends every
 * window past its end, where windowed detectors report the return to normal.
 */
export function scoreDetections(
  eventTimes: readonly number[], rowTimes: readonly number[], anomalies: readonly Anomaly[],
  kinds: readonly AnomalyKind[], toleranceMs = 0,
): DetectionScore {
  const inWindow = (t: number, a: Anomaly): boolean => t >= a.start && t <= a.end + toleranceMs;
  const scored = anomalies.filter((a) => kinds.includes(a.kind));
  const detected = scored.filter((a) => eventTimes.some((t) => inWindow(t, a))).length;
  const outside = (t: number): boolean => !anomalies.some((a) => inWindow(t, a));
  const falsePositives = eventTimes.filter(outside).length;
  const rowsOutside = rowTimes.filter(outside).length;
  return {
    injected: scored.length,
    detected,
    falsePositives,
    rowsOutside,
    detectionRate: scored.length === 0 ? NaN : detected / scored.length,
    falsePositivesPer1000: rowsOutside === 0 ? 0 : (1000 * falsePositives) / rowsOutside,
  };
}

/** Sum the scores of several series. */
export function combineScores(scores: readonly DetectionScore[]): DetectionScore {
  const sum = (f: (s: DetectionScore) => number): number => scores.reduce((acc, s) => acc + f(s), 0);
  const injected = sum((s) => s.injected);
  const detected = sum((s) => s.detected);
  const falsePositives = sum((s) => s.falsePositives);
  const rowsOutside = sum((s) => s.rowsOutside);
  return {
    injected, detected, falsePositives, rowsOutside,
    detectionRate: injected === 0 ? NaN : detected / injected,
    falsePositivesPer1000: rowsOutside === 0 ? 0 : (1000 * falsePositives) / rowsOutside,
  };
}
