/**
 * The per-row part of NAB's scoring (nab-scoring.md §3, §4): probationary period, window
 * membership and the scaled-sigmoid sweep score of every row. None of it depends on the
 * detector or the profile, so it is computed once per file and reused.
 */
import type { NabWindow } from './labels';

export const PROBATION_PERCENT = 0.15;
/** Window index of a row outside every window. */
export const OUTSIDE = -1;

/** Rows with index below this are not scored (NAB util.getProbationPeriod). */
export function probationaryLength(rows: number, percent = PROBATION_PERCENT): number {
  return Math.min(Math.floor(percent * rows), percent * 5000);
}

/** NAB's scaledSigmoid: 1 at far left of a window, 0 at its centre line, −1 far away. */
export function scaledSigmoid(y: number): number {
  if (y > 3.0) return -1.0;
  return 2 * (1 / (1 + Math.exp(5 * y))) - 1.0;
}

/** The in-window weight divisor: the earliest row of a window is worth exactly tpWeight. */
export const TP_SCORE = scaledSigmoid(-1.0);

export interface FileLabels {
  /** `<category>/<file>.csv` */
  name: string;
  length: number;
  /** Rows [0, probation) are not scored. */
  probation: number;
  /** Window index (0-based, in this file) per row, or OUTSIDE. */
  window: Int32Array;
  /**
   * Unweighted sweep score per row: inside a window scaledSigmoid(position) (multiply by
   * tpWeight / TP_SCORE), outside it the false-positive penalty (multiply by fpWeight).
   */
  unweighted: Float64Array;
  /** Windows this file has in the label set. */
  windowCount: number;
  /** Windows with at least one row after the probationary period (the ones that are scored). */
  scoredWindows: number;
}

/**
 * Label the rows of one file (times in file order) with its windows, exactly as NAB's
 * Sweeper.calcSweepScore walks them. Throws when a window boundary matches no row.
 */
export function labelRows(name: string, times: ArrayLike<number>, windows: readonly NabWindow[]): FileLabels {
  const n = times.length;
  const probation = probationaryLength(n);
  const window = new Int32Array(n).fill(OUTSIDE);
  const unweighted = new Float64Array(n);

  let next = 0;
  let current = -1;
  let right = 0;
  let width = 0;
  let prevRight = -1;
  let prevWidth = 0;
  for (let i = 0; i < n; i++) {
    const t = times[i];
    if (current < 0 && next < windows.length && t === windows[next].start) {
      const w = windows[next];
      const r = firstIndexOf(times, w.end);
      if (r < i) throw new Error(`${name}: window end ${w.endText} matches no row at or after its start ${w.startText}`);
      current = next++;
      right = r;
      width = right - i + 1;
    }
    if (current >= 0) {
      window[i] = current;
      unweighted[i] = scaledSigmoid(-(right - i + 1) / width);
    } else if (prevRight < 0) {
      unweighted[i] = -1.0;
    } else {
      unweighted[i] = scaledSigmoid(Math.abs(prevRight - i) / (prevWidth - 1));
    }
    if (current >= 0 && t === windows[current].end) {
      prevRight = i;
      prevWidth = width;
      current = -1;
    }
  }
  if (next < windows.length) {
    throw new Error(`${name}: window start ${windows[next].startText} matches no row (windows must start and end on a row's timestamp)`);
  }
  let scoredWindows = 0;
  let last = -1;
  for (let i = Math.ceil(probation); i < n; i++) {
    const w = window[i];
    if (w > last) {
      scoredWindows++;
      last = w;
    }
  }
  return { name, length: n, probation, window, unweighted, windowCount: windows.length, scoredWindows };
}

/** NAB's timestamps.index(t): the first row with time t, or -1. */
function firstIndexOf(times: ArrayLike<number>, t: number): number {
  for (let i = 0; i < times.length; i++) if (times[i] === t) return i;
  return -1;
}

/** The first row that is scored. */
export function firstScoredRow(labels: FileLabels): number {
  return Math.ceil(labels.probation);
}
