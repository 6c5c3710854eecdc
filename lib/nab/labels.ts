/**
 * NAB's label and configuration files (nab-scoring.md §1, §5, §6): the anomaly windows
 * (`combined_windows.json`), the cost profiles (`profiles.json`) and published thresholds
 * (`thresholds.json`). Every loader validates the shape and names what is wrong.
 */
import { parseNabTimestamp } from './timestamp';

/** One labelled window, inclusive at both ends (epoch ms). */
export interface NabWindow {
  start: number;
  end: number;
  /** The label file's text, for messages. */
  startText: string;
  endText: string;
}

/** `<category>/<file>.csv` → its windows, in time order. */
export type NabWindows = Map<string, NabWindow[]>;

export interface NabProfile {
  name: string;
  tpWeight: number;
  fnWeight: number;
  fpWeight: number;
}

/** The three NAB profiles (config/profiles.json); tnWeight is unused by NAB and omitted. */
export const NAB_PROFILES: readonly NabProfile[] = Object.freeze([
  { name: 'standard', tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.11 },
  { name: 'reward_low_FP_rate', tpWeight: 1.0, fnWeight: 1.0, fpWeight: 0.22 },
  { name: 'reward_low_FN_rate', tpWeight: 1.0, fnWeight: 2.0, fpWeight: 0.11 },
]);

/** detector → profile → threshold. */
export type NabThresholds = Record<string, Record<string, number>>;

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Parse `combined_windows.json`; throws naming the file entry and window at fault. */
export function parseWindows(text: string, what = 'windows file'): NabWindows {
  const json = parseJson(text, what);
  if (!isRecord(json)) throw new Error(`${what} must be an object of "<category>/<file>.csv": [[start, end], …]`);
  const out: NabWindows = new Map();
  for (const [file, list] of Object.entries(json)) {
    if (!Array.isArray(list)) throw new Error(`${what}: ${file} must be a list of [start, end] pairs`);
    const windows: NabWindow[] = list.map((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw new Error(`${what}: ${file} window ${i + 1} must be a pair of timestamp strings`);
      }
      const start = parseNabTimestamp(pair[0]);
      const end = parseNabTimestamp(pair[1]);
      if (Number.isNaN(start) || Number.isNaN(end)) {
        throw new Error(`${what}: ${file} window ${i + 1} has a timestamp that is not YYYY-MM-DD HH:MM:SS[.ffffff]: ${JSON.stringify(pair)}`);
      }
      if (end < start) throw new Error(`${what}: ${file} window ${i + 1} ends before it starts: ${JSON.stringify(pair)}`);
      return { start, end, startText: pair[0], endText: pair[1] };
    });
    windows.sort((a, b) => a.start - b.start);
    for (let i = 1; i < windows.length; i++) {
      if (windows[i].start <= windows[i - 1].end) {
        throw new Error(`${what}: ${file} windows ${windows[i - 1].startText}… and ${windows[i].startText}… overlap`);
      }
    }
    out.set(file, windows);
  }
  return out;
}

function weight(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(`${what} must be a number of at least 0 (got ${JSON.stringify(x)})`);
  return x;
}

/** Parse NAB's `profiles.json` (`{name: {CostMatrix: {tpWeight, fnWeight, fpWeight}}}`). */
export function parseProfiles(text: string, what = 'profiles file'): NabProfile[] {
  const json = parseJson(text, what);
  if (!isRecord(json)) throw new Error(`${what} must be an object of profiles`);
  return Object.entries(json).map(([name, p]) => {
    const m = isRecord(p) && isRecord(p.CostMatrix) ? p.CostMatrix : null;
    if (!m) throw new Error(`${what}: profile ${name} has no CostMatrix`);
    return {
      name,
      tpWeight: weight(m.tpWeight, `${what}: ${name}.tpWeight`),
      fnWeight: weight(m.fnWeight, `${what}: ${name}.fnWeight`),
      fpWeight: weight(m.fpWeight, `${what}: ${name}.fpWeight`),
    };
  });
}

/** Parse NAB's `thresholds.json` (`{detector: {profile: {threshold, score}}}`). */
export function parseThresholds(text: string, what = 'thresholds file'): NabThresholds {
  const json = parseJson(text, what);
  if (!isRecord(json)) throw new Error(`${what} must be an object of detectors`);
  const out: NabThresholds = {};
  for (const [detector, profiles] of Object.entries(json)) {
    if (!isRecord(profiles)) throw new Error(`${what}: ${detector} must be an object of profiles`);
    out[detector] = {};
    for (const [profile, entry] of Object.entries(profiles)) {
      const t = isRecord(entry) ? entry.threshold : undefined;
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new Error(`${what}: ${detector}.${profile}.threshold must be a number`);
      out[detector][profile] = t;
    }
  }
  return out;
}
