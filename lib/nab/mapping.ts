/**
 * From our events to NAB's per-row anomaly scores (nab-scoring.md §7): every event maps to
 * the row with its time; a row's score is the maximum over its events. The whole array is
 * built before anything is written, so several events on one row, or events out of time
 * order, are handled (Streamevmon's writer zeroed the rest of the file in those cases).
 */
import type { DetectorEvent } from '../event';

export type ScoreMapping = 'binary' | 'continuous';
export const SCORE_MAPPINGS: readonly ScoreMapping[] = ['continuous', 'binary'];

/** binary: severity 0 → 0, anything else → 1; continuous: severity / 100, clamped to [0, 1]. */
export function eventScore(severity: number, mapping: ScoreMapping): number {
  if (mapping === 'binary') return severity === 0 ? 0 : 1;
  const s = severity / 100;
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

export interface MappedScores {
  /** Per-row anomaly score. */
  scores: Float64Array;
  /** Events whose time matches no row: a harness error, the run must fail. */
  unmatched: DetectorEvent[];
}

/** Finds the row of a time: the first row with that time (as NAB's timestamps.index), or -1. */
export type RowFinder = (time: number) => number;

/** Binary search when the times are in order (NAB's are), a map otherwise. */
export function rowFinder(times: ArrayLike<number>): RowFinder {
  let sorted = true;
  for (let i = 1; i < times.length && sorted; i++) sorted = times[i] >= times[i - 1];
  if (sorted) {
    return (t) => {
      let lo = 0;
      let hi = times.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (times[mid] < t) lo = mid + 1;
        else hi = mid;
      }
      return lo < times.length && times[lo] === t ? lo : -1;
    };
  }
  const index = new Map<number, number>();
  for (let i = 0; i < times.length; i++) if (!index.has(times[i])) index.set(times[i], i);
  return (t) => index.get(t) ?? -1;
}

export function mapEvents(
  times: ArrayLike<number>,
  events: readonly DetectorEvent[],
  mapping: ScoreMapping,
  findRow: RowFinder = rowFinder(times),
): MappedScores {
  const scores = new Float64Array(times.length);
  const unmatched: DetectorEvent[] = [];
  for (const e of events) {
    const row = findRow(e.time);
    if (row < 0) {
      unmatched.push(e);
      continue;
    }
    const s = eventScore(e.severity, mapping);
    if (s > scores[row]) scores[row] = s;
  }
  return { scores, unmatched };
}

/** Row-wise maximum of several detectors' scores (the "any" combination). */
export function maxScores(all: readonly ArrayLike<number>[]): Float64Array {
  const n = all.length ? all[0].length : 0;
  const out = new Float64Array(n);
  for (const s of all) {
    if (s.length !== n) throw new Error(`cannot combine score arrays of lengths ${n} and ${s.length}`);
    for (let i = 0; i < n; i++) if (s[i] > out[i]) out[i] = s[i];
  }
  return out;
}
