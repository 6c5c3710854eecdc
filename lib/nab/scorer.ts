/**
 * NAB's scoring (nab-scoring.md §5, §6): the raw score of a detector's anomaly scores at a
 * threshold, the sweep over every threshold (for NAB's corpus-wide threshold optimisation),
 * and normalisation against the null and perfect detectors on the same files.
 */
import type { NabProfile } from './labels';
import { FileLabels, OUTSIDE, TP_SCORE, firstScoredRow } from './sweep';

/** One file's labels with one detector's anomaly score per row. */
export interface ScoredFile {
  labels: FileLabels;
  scores: ArrayLike<number>;
}

/** Outcome at one threshold. Row counts as NAB's scores files give them; windows as its README. */
export interface ThresholdScore {
  threshold: number;
  /** Raw (unnormalised) score. */
  score: number;
  /** Detected rows inside windows. */
  tp: number;
  /** Undetected rows outside windows. */
  tn: number;
  /** Detected rows outside windows: the false positives, each of which costs. */
  fp: number;
  /** Undetected rows inside windows. */
  fn: number;
  /** Windows with at least one detection. */
  windowsHit: number;
  /** Scored windows without a detection. */
  windowsMissed: number;
}

/** The sweep score of row i for this profile. */
function weighted(labels: FileLabels, i: number, profile: NabProfile): number {
  const u = labels.unweighted[i];
  return labels.window[i] === OUTSIDE ? u * profile.fpWeight : (u * profile.tpWeight) / TP_SCORE;
}

function checkLength(f: ScoredFile): void {
  if (f.scores.length !== f.labels.length) {
    throw new Error(`${f.labels.name}: ${f.scores.length} anomaly scores for ${f.labels.length} rows`);
  }
}

/** Score one file at threshold T: a row is a detection iff its score ≥ T. */
export function scoreFile(file: ScoredFile, profile: NabProfile, threshold: number): ThresholdScore {
  checkLength(file);
  const { labels, scores } = file;
  const best = new Float64Array(labels.windowCount).fill(-Infinity);
  let fpScore = 0;
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  for (let i = firstScoredRow(labels); i < labels.length; i++) {
    const w = labels.window[i];
    const detected = scores[i] >= threshold;
    if (w === OUTSIDE) {
      if (detected) {
        fp++;
        fpScore += weighted(labels, i, profile);
      } else tn++;
    } else if (detected) {
      tp++;
      best[w] = Math.max(best[w], weighted(labels, i, profile));
    } else {
      fn++;
    }
  }
  let windowScore = 0;
  let windowsHit = 0;
  const scored = scoredWindowIds(labels);
  for (const w of scored) {
    if (best[w] === -Infinity) windowScore -= profile.fnWeight;
    else {
      windowScore += best[w];
      windowsHit++;
    }
  }
  return { threshold, score: windowScore + fpScore, tp, tn, fp, fn, windowsHit, windowsMissed: scored.length - windowsHit };
}

function scoredWindowIds(labels: FileLabels): number[] {
  const ids: number[] = [];
  for (let i = firstScoredRow(labels); i < labels.length; i++) {
    const w = labels.window[i];
    if (w !== OUTSIDE && (ids.length === 0 || ids[ids.length - 1] !== w)) ids.push(w);
  }
  return ids;
}

/** Sum of per-file outcomes. */
export function addScores(parts: readonly ThresholdScore[], threshold: number): ThresholdScore {
  const total: ThresholdScore = { threshold, score: 0, tp: 0, tn: 0, fp: 0, fn: 0, windowsHit: 0, windowsMissed: 0 };
  for (const p of parts) {
    total.score += p.score;
    total.tp += p.tp;
    total.tn += p.tn;
    total.fp += p.fp;
    total.fn += p.fn;
    total.windowsHit += p.windowsHit;
    total.windowsMissed += p.windowsMissed;
  }
  return total;
}

/** Score every file at one threshold; the total is the corpus raw score. */
export function scoreCorpus(files: readonly ScoredFile[], profile: NabProfile, threshold: number): { total: ThresholdScore; perFile: ThresholdScore[] } {
  const perFile = files.map((f) => scoreFile(f, profile, threshold));
  return { total: addScores(perFile, threshold), perFile };
}

/**
 * The scored rows of several files, concatenated and ordered by score: what the sweep needs,
 * independent of the profile, so it is built (and sorted) once for all profiles.
 */
export interface SweepInput {
  score: Float64Array;
  /** Unweighted sweep score per row. */
  unweighted: Float64Array;
  /** Window id across all files, or OUTSIDE. */
  windowId: Int32Array;
  windows: number;
  scoredWindows: number;
  /** Row indices by score, descending. */
  order: Uint32Array;
}

export function prepareSweep(files: readonly ScoredFile[]): SweepInput {
  let rows = 0;
  let windows = 0;
  for (const f of files) {
    checkLength(f);
    rows += f.labels.length - firstScoredRow(f.labels);
    windows += f.labels.windowCount;
  }
  const score = new Float64Array(rows);
  const unweighted = new Float64Array(rows);
  const windowId = new Int32Array(rows);
  const isScored = new Uint8Array(windows);
  let k = 0;
  let windowBase = 0;
  for (const f of files) {
    const { labels, scores } = f;
    for (let i = firstScoredRow(labels); i < labels.length; i++, k++) {
      score[k] = scores[i];
      unweighted[k] = labels.unweighted[i];
      const w = labels.window[i];
      windowId[k] = w === OUTSIDE ? OUTSIDE : windowBase + w;
      if (w !== OUTSIDE) isScored[windowBase + w] = 1;
    }
    windowBase += labels.windowCount;
  }
  let scoredWindows = 0;
  for (let w = 0; w < windows; w++) scoredWindows += isScored[w];
  return { score, unweighted, windowId, windows, scoredWindows, order: sortDescending(score) };
}

/**
 * NAB's efficient sweep over the scored rows of all files together (Sweeper.calcScoreByThreshold):
 * one entry per distinct anomaly score, descending, starting at 1.1 (no detections); the entry
 * for T counts exactly the rows with score ≥ T.
 */
export function sweepThresholds(input: readonly ScoredFile[] | SweepInput, profile: NabProfile): ThresholdScore[] {
  const { score, unweighted, windowId, windows, scoredWindows, order } = Array.isArray(input) ? prepareSweep(input) : (input as SweepInput);
  const rows = score.length;
  const best = new Float64Array(windows).fill(-Infinity);
  let windowScore = -profile.fnWeight * scoredWindows;
  let fpScore = 0;
  let tp = 0;
  let fp = 0;
  let windowsHit = 0;
  let fnRows = 0;
  for (let j = 0; j < rows; j++) if (windowId[j] !== OUTSIDE) fnRows++;
  const tnRows = rows - fnRows;

  const out: ThresholdScore[] = [];
  const record = (threshold: number): void => {
    out.push({
      threshold, score: windowScore + fpScore, tp, tn: tnRows - fp, fp, fn: fnRows - tp,
      windowsHit, windowsMissed: scoredWindows - windowsHit,
    });
  };
  let current = 1.1;
  for (let j = 0; j < rows; j++) {
    const r = order[j];
    const s = score[r];
    if (s !== current) {
      record(current);
      current = s;
    }
    const w = windowId[r];
    if (w === OUTSIDE) {
      fp++;
      fpScore += unweighted[r] * profile.fpWeight;
    } else {
      // the same operations as weighted(), so both paths give identical numbers
      const weight = (unweighted[r] * profile.tpWeight) / TP_SCORE;
      tp++;
      if (best[w] === -Infinity) {
        windowsHit++;
        windowScore += weight + profile.fnWeight;
        best[w] = weight;
      } else if (weight > best[w]) {
        windowScore += weight - best[w];
        best[w] = weight;
      }
    }
  }
  record(current);
  return out;
}

/**
 * Row indices by score, descending (ties in row order). A counting sort over the distinct
 * scores: most rows share a few values (0 above all), and a native numeric sort of the values
 * is several times faster than sorting indices with a comparator.
 */
function sortDescending(score: Float64Array): Uint32Array {
  const n = score.length;
  const values = Float64Array.from(score).sort();
  if (n > 0 && Number.isNaN(values[n - 1])) throw new Error('an anomaly score is not a number');
  let m = 0;
  for (let i = 0; i < n; i++) if (m === 0 || values[i] !== values[m - 1]) values[m++] = values[i];
  // bucket b holds the rows with the b-th largest score
  const bucketOf = new Uint32Array(n);
  const counts = new Uint32Array(m + 1);
  for (let i = 0; i < n; i++) {
    let lo = 0;
    let hi = m - 1;
    const v = score[i];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (values[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const b = m - 1 - lo;
    bucketOf[i] = b;
    counts[b + 1]++;
  }
  for (let b = 1; b <= m; b++) counts[b] += counts[b - 1];
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[counts[bucketOf[i]]++] = i;
  return order;
}

/**
 * NAB's threshold optimisation: the entry with the highest raw score over all files
 * together (the first, i.e. highest threshold, among equals).
 */
export function optimiseThreshold(files: readonly ScoredFile[] | SweepInput, profile: NabProfile): ThresholdScore {
  const entries = sweepThresholds(files, profile);
  let best = entries[0];
  for (const e of entries) if (e.score > best.score) best = e;
  return best;
}

/** 100 · (raw − null) / (perfect − null). */
export function normalise(raw: number, nullRaw: number, perfectRaw: number): number {
  return (100 * (raw - nullRaw)) / (perfectRaw - nullRaw);
}

/** A perfect detector's raw score: every window of these files, each worth tpWeight. */
export function perfectRaw(labels: readonly FileLabels[], profile: NabProfile): number {
  let windows = 0;
  for (const l of labels) windows += l.windowCount;
  return windows * profile.tpWeight;
}

/** NAB's null detector: a constant 0.5 on every row. */
export function nullScores(labels: readonly FileLabels[]): ScoredFile[] {
  return labels.map((l) => ({ labels: l, scores: new Float64Array(l.length).fill(0.5) }));
}

/**
 * The null detector's raw score on these files: at the given threshold (NAB's thresholds.json
 * has 0.625 for it), or at its optimised threshold. A constant score has only two sweep
 * entries, "nothing" (1.1) and "everything" (0.5); the first of equals wins, as in the sweep.
 */
export function nullRaw(labels: readonly FileLabels[], profile: NabProfile, threshold?: number): number {
  const files = nullScores(labels);
  if (threshold !== undefined) return scoreCorpus(files, profile, threshold).total.score;
  const nothing = scoreCorpus(files, profile, 1.1).total.score;
  const everything = scoreCorpus(files, profile, 0.5).total.score;
  return everything > nothing ? everything : nothing;
}
