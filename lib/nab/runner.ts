/**
 * Runs our detectors over a NAB corpus (nab-scoring.md §7) and scores the results: a fresh
 * detector per file, every row fed in order as a NabMeasurement, plain keyed mode (no time
 * window, no filters), events mapped to per-row scores, NAB's threshold optimisation over the
 * whole corpus, and normalisation against null and perfect detectors on the same files.
 */
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import type { DetectorDefinition } from '../detectors/definition';
import type { Sample } from '../detectors/types';
import type { DetectorEvent } from '../event';
import { ParamValues, defaultParams, parseParams } from '../params';
import type { CorpusFile } from './corpus';
import { readNabSeries } from './corpus';
import { NAB_KIND } from './files';
import type { NabProfile } from './labels';
import { ScoreMapping, mapEvents } from './mapping';
import { ValueScale, applyScale, fileScale, parseValueScale } from './scale';
import { ScoredFile, ThresholdScore, normalise, nullRaw, optimiseThreshold, perfectRaw, prepareSweep, scoreCorpus } from './scorer';

/** detector name → raw parameter values (a `--params` file). */
export type ParamOverrides = Record<string, Record<string, unknown>>;

/** The validated parameters of one detector: defaults, overridden by `overrides[def.name]`. */
export function detectorParams(def: DetectorDefinition, overrides: ParamOverrides = {}): ParamValues {
  const raw = overrides[def.name];
  if (raw === undefined) return defaultParams(def.paramSet);
  const known = new Set(def.paramSet.specs.map((s) => s.name));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`${def.name}: unknown parameter(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  const { params, errors } = parseParams(def.paramSet, raw);
  if (errors.length) throw new Error(errors.join('; '));
  return params;
}

/** A parameter file: detector parameters, and optionally a value scale per detector. */
export interface NabSettings {
  params: ParamOverrides;
  /** detector name → its value scale (the runner's --scale applies to the others). */
  scales: Record<string, ValueScale>;
}

/** The key in a detector's entry that chooses its value scale rather than a parameter. */
export const VALUE_SCALE_KEY = 'valueScale';

/**
 * Check a parameter file: an object of detector names, each an object of parameters plus an
 * optional "valueScale" ("none", "multiply[:target]", "range[:low:high]"). Keys starting with
 * "_" are comments.
 */
export function parseNabSettings(text: string, known: readonly DetectorDefinition[], what = 'parameter file'): NabSettings {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${what} must be an object: {"<detector>": {"<param>": value}}`);
  const settings: NabSettings = { params: {}, scales: {} };
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name.startsWith('_')) continue;
    const def = known.find((d) => d.name === name);
    if (!def) throw new Error(`${what}: unknown detector ${name}; known: ${known.map((d) => d.name).join(', ')}`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${what}: ${name} must be an object of parameters`);
    const { [VALUE_SCALE_KEY]: scale, ...params } = entry as Record<string, unknown>;
    if (scale !== undefined) {
      const parsed = typeof scale === 'string' ? parseValueScale(scale) : `must be a string (got ${JSON.stringify(scale)})`;
      if (typeof parsed === 'string') throw new Error(`${what}: ${name}.${VALUE_SCALE_KEY} ${parsed}`);
      settings.scales[name] = parsed;
    }
    settings.params[name] = params;
    detectorParams(def, settings.params); // validate now, with D9 messages
  }
  return settings;
}

export interface DetectorRun {
  detector: string;
  params: ParamValues;
  /** Events per file, in corpus order. */
  events: DetectorEvent[][];
  eventCount: number;
  /** Time spent in the detector (ms), all files. */
  ms: number;
}

/** Run one detector over every file, with a fresh instance per file. */
export function runDetector(def: DetectorDefinition, params: ParamValues, files: readonly CorpusFile[], scale: ValueScale): DetectorRun {
  const events: DetectorEvent[][] = [];
  let eventCount = 0;
  let ms = 0;
  for (const f of files) {
    const { times, values, length } = f.series;
    const map = fileScale(values, scale);
    const key = `nab-${f.stream}`;
    const found: DetectorEvent[] = [];
    const detector = def.create(params, { useWindow: false, windowSlide: 1 });
    const t0 = performance.now();
    for (let i = 0; i < length; i++) {
      const sample: Sample = { key, stream: f.stream, kind: NAB_KIND, time: times[i], value: applyScale(values[i], map), lossy: false };
      const out = detector.process(sample);
      for (let j = 0; j < out.length; j++) found.push(out[j]);
    }
    ms += performance.now() - t0;
    eventCount += found.length;
    events.push(found);
  }
  return { detector: def.name, params, events, eventCount, ms };
}

/** Per-file scores of a run under one mapping; an event that matches no row fails the run. */
export function runScores(run: DetectorRun, files: readonly CorpusFile[], mapping: ScoreMapping): Float64Array[] {
  return files.map((f, i) => {
    const { scores, unmatched } = mapEvents(f.series.times, run.events[i], mapping, f.findRow);
    if (unmatched.length) {
      throw new Error(`${run.detector} on ${f.stream}: ${unmatched.length} event(s) at a time that matches no row (first at ${unmatched[0].time}); harness error`);
    }
    return scores;
  });
}

/** A reference detector's published per-row scores, checked against the data rows. */
export async function readReferenceScores(resultsDir: string, detector: string, files: readonly CorpusFile[]): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (const f of files) {
    const [category, name] = f.stream.split('/');
    const file = path.join(resultsDir, detector, category, `${detector}_${name}`);
    const s = await readNabSeries(file, { column: 'anomaly_score' });
    if (s.badCount) throw new Error(`${file}:${s.bad[0].line}: ${s.bad[0].reason}`);
    if (s.length !== f.series.length) throw new Error(`${file} has ${s.length} rows, the data file ${f.series.length}`);
    for (let i = 0; i < s.length; i++) {
      if (s.times[i] !== f.series.times[i]) throw new Error(`${file}: row ${i + 1} has another timestamp than the data file`);
    }
    out.push(Float64Array.from(s.values));
  }
  return out;
}

export interface ProfileOutcome {
  profile: string;
  threshold: number;
  /** Totals at the threshold (raw score, row and window counts). */
  total: ThresholdScore;
  normalised: number;
  nullRaw: number;
  perfectRaw: number;
}

export interface Evaluation {
  profiles: ProfileOutcome[];
  /** The same thresholds applied to a subset of files (null and perfect on that subset). */
  subset?: ProfileOutcome[];
}

export interface EvaluateOptions {
  /** profile → fixed threshold (e.g. NAB's published ones); otherwise optimised on these files. */
  thresholds?: Record<string, number>;
  /** profile → the null detector's threshold; otherwise optimised (it then detects nothing). */
  nullThresholds?: Record<string, number>;
  /** Files to report separately, scored at the corpus threshold. */
  subset?: (stream: string) => boolean;
}

function outcome(scored: readonly ScoredFile[], profile: NabProfile, threshold: number, nullThreshold?: number): ProfileOutcome {
  const labels = scored.map((s) => s.labels);
  const total = scoreCorpus(scored, profile, threshold).total;
  const nul = nullRaw(labels, profile, nullThreshold);
  const perfect = perfectRaw(labels, profile);
  return { profile: profile.name, threshold, total, normalised: normalise(total.score, nul, perfect), nullRaw: nul, perfectRaw: perfect };
}

/** Score per-file anomaly scores (aligned with files) under every profile. */
export function evaluate(files: readonly CorpusFile[], scores: readonly ArrayLike<number>[], profiles: readonly NabProfile[], opts: EvaluateOptions = {}): Evaluation {
  const scored: ScoredFile[] = files.map((f, i) => ({ labels: f.labels, scores: scores[i] }));
  const subsetFiles = opts.subset ? scored.filter((s) => opts.subset?.(s.labels.name)) : [];
  const result: Evaluation = { profiles: [] };
  if (opts.subset && subsetFiles.length) result.subset = [];
  const sweep = profiles.some((p) => opts.thresholds?.[p.name] === undefined) ? prepareSweep(scored) : null;
  for (const p of profiles) {
    const threshold = opts.thresholds?.[p.name] ?? optimiseThreshold(sweep ?? scored, p).threshold;
    const nullT = opts.nullThresholds?.[p.name];
    result.profiles.push(outcome(scored, p, threshold, nullT));
    result.subset?.push(outcome(subsetFiles, p, threshold, nullT));
  }
  return result;
}
