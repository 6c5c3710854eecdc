/** Plain-text tables of NAB results for the runner's console output. */
import type { Evaluation, ProfileOutcome } from './runner';

export interface ReportRow {
  /** e.g. streamevmon-baseline, streamevmon-any, numenta. */
  detector: string;
  /** continuous, binary, or for reference detectors how their threshold was chosen. */
  mapping: string;
  evaluation: Evaluation;
  /** Time in the detector over all files (ms); absent for reference detectors. */
  runMs?: number;
  events?: number;
}

const SHORT: Record<string, string> = { standard: 'standard', reward_low_FP_rate: 'low FP', reward_low_FN_rate: 'low FN' };

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function table(header: string[], rows: string[][], rightFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i], i >= rightFrom)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function profileNames(rows: readonly ReportRow[]): string[] {
  return rows.length ? rows[0].evaluation.profiles.map((p) => p.profile) : [];
}

/** detector × profile: normalised scores, run time and event count. */
export function summaryTable(rows: readonly ReportRow[], which: 'profiles' | 'subset' = 'profiles'): string {
  const profiles = profileNames(rows);
  const header = ['detector', 'mapping', ...profiles.map((p) => SHORT[p] ?? p), 'run ms', 'events'];
  const body = rows.map((r) => {
    const outcomes = (which === 'subset' ? r.evaluation.subset : r.evaluation.profiles) ?? [];
    return [
      r.detector, r.mapping,
      ...profiles.map((p) => {
        const o = outcomes.find((x) => x.profile === p);
        return o ? o.normalised.toFixed(2) : '–';
      }),
      r.runMs === undefined ? '' : r.runMs.toFixed(1),
      r.events === undefined ? '' : String(r.events),
    ];
  });
  return table(header, body, 2);
}

function thresholdText(t: number): string {
  return t > 1 ? 'none' : Number(t.toPrecision(6)).toString();
}

/** detector × profile, one line each: threshold, normalised and raw score, TP/FN windows, FP rows. */
export function detailTable(rows: readonly ReportRow[]): string {
  const header = ['detector', 'mapping', 'profile', 'threshold', 'score', 'raw', 'TP', 'FN', 'FP rows'];
  const body: string[][] = [];
  for (const r of rows) {
    for (const o of r.evaluation.profiles) body.push(detailCells(r, o));
  }
  return table(header, body, 3);
}

function detailCells(r: ReportRow, o: ProfileOutcome): string[] {
  return [
    r.detector, r.mapping, o.profile, thresholdText(o.threshold), o.normalised.toFixed(2), o.total.score.toFixed(2),
    String(o.total.windowsHit), String(o.total.windowsMissed), String(o.total.fp),
  ];
}
