/**
 * `npm run nab -- [--data DIR] [--labels FILE] [--out DIR] [--detectors a,b] [--params FILE]
 * [--scale none|multiply[:target]|range[:low:high]] [--mapping both|continuous|binary] …`
 *
 * Runs the Streamevmon detectors over a NAB corpus, writes NAB results files (with --out),
 * scores them with NAB's rules (three profiles, corpus-wide threshold optimisation,
 * normalisation against null and perfect on the same files) and prints the tables, with
 * NAB's reference detectors (results/ beside the data) scored on the same files.
 * See docs/nab.md.
 */
import { existsSync, promises as fsp, statSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DetectorDefinition } from '../lib/detectors/definition';
import { streamevmonDetectors } from '../lib/detectors/index';
import { CorpusFile, isLatencyLike, loadCorpus } from '../lib/nab/corpus';
import { NAB_PROFILES, NabProfile, NabThresholds, parseProfiles, parseThresholds, parseWindows } from '../lib/nab/labels';
import { SCORE_MAPPINGS, ScoreMapping, maxScores } from '../lib/nab/mapping';
import { ReportRow, detailTable, summaryTable } from '../lib/nab/report';
import { writeResults } from '../lib/nab/results';
import {
  DetectorRun, NabSettings, ParamOverrides, detectorParams, evaluate, parseNabSettings, readReferenceScores, runDetector, runScores,
} from '../lib/nab/runner';
import { ValueScale, describeValueScale, parseValueScale } from '../lib/nab/scale';
import { defaultParams } from '../lib/params';

const USAGE = `usage: npm run nab -- [options]
  --data DIR          NAB root (with data/) or data directory; default $STREAMEVMON_NAB,
                      else $NAB_DATA, else ../shared/data/nab beside the project, if it exists
  --labels FILE       combined_windows.json (default: found beside the data)
  --profiles FILE     profiles.json (default: found beside the data, else NAB's three)
  --thresholds FILE   thresholds.json for the reference detectors (default: beside the data)
  --reference DIR     NAB results of reference detectors (default: results/ beside the data; none = off)
  --out DIR           write NAB results files <out>/<detector>/<category>/<detector>_<file>.csv
  --detectors a,b     detectors to run (default: ${streamevmonDetectors.map((d) => d.name).join(',')})
  --params FILE       JSON {"<detector>": {"<param>": value, "valueScale": SPEC}} overriding the
                      defaults (bench/nab-params/ has the documented sets)
  --scale SPEC        none (default), multiply[:target] or range[:low:high]: per-file value scaling
                      for the detectors whose parameter file entry has no valueScale
  --mapping M         both (default), continuous or binary: how event severities become scores
  --json FILE         also write the results as JSON
  --no-any            do not score the "any" combination (row-wise max over the detectors)`;

interface Options {
  data?: string;
  labels?: string;
  profiles?: string;
  thresholds?: string;
  reference?: string;
  out?: string;
  detectors?: string;
  params?: string;
  scale: string;
  mapping: string;
  json?: string;
  any: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { scale: 'none', mapping: 'both', any: true };
  const valued = new Set(['data', 'labels', 'profiles', 'thresholds', 'reference', 'out', 'detectors', 'params', 'scale', 'mapping', 'json']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--no-any') {
      opts.any = false;
      continue;
    }
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    if (!m || !valued.has(m[1])) throw new Error(`unknown argument ${arg}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    (opts as unknown as Record<string, unknown>)[m[1]] = value;
  }
  return opts;
}

function projectRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    if (path.dirname(dir) === dir) return process.cwd();
    dir = path.dirname(dir);
  }
  return dir;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** NAB root and data directory from --data, $STREAMEVMON_NAB, $NAB_DATA (as npm run bench reads) or ../shared/data/nab. */
function locateData(arg: string | undefined): { root: string; data: string } {
  const fallback = path.resolve(projectRoot(), '..', 'shared', 'data', 'nab');
  const given = arg ?? process.env.STREAMEVMON_NAB ?? process.env.NAB_DATA ?? (isDir(fallback) ? fallback : undefined);
  if (!given) throw new Error('no NAB data: pass --data DIR or set STREAMEVMON_NAB or NAB_DATA (see docs/nab.md)');
  const dir = path.resolve(given);
  if (!isDir(dir)) throw new Error(`NAB data directory not found: ${dir}`);
  return isDir(path.join(dir, 'data')) ? { root: dir, data: path.join(dir, 'data') } : { root: path.dirname(dir), data: dir };
}

/** The first existing candidate, or undefined. */
function findBeside(root: string, ...names: string[]): string | undefined {
  return names.map((n) => path.join(root, n)).find((p) => existsSync(p));
}

function chooseDetectors(list: string | undefined): DetectorDefinition[] {
  if (!list) return [...streamevmonDetectors];
  return list.split(',').map((n) => n.trim()).filter((n) => n !== '').map((name) => {
    const def = streamevmonDetectors.find((d) => d.name === name);
    if (!def) throw new Error(`unknown detector ${name}; known: ${streamevmonDetectors.map((d) => d.name).join(', ')}`);
    return def;
  });
}

/** Parameters that differ from the defaults, e.g. `spike{inactivityPurgeTime=0}`. */
function describeParams(defs: readonly DetectorDefinition[], overrides: ParamOverrides): string {
  const parts: string[] = [];
  for (const def of defs) {
    const p = detectorParams(def, overrides);
    const d = defaultParams(def.paramSet);
    const changed = Object.keys(p).filter((k) => p[k] !== d[k]).map((k) => `${k}=${p[k]}`);
    if (changed.length) parts.push(`${def.name}{${changed.join(',')}}`);
  }
  return parts.length ? parts.join(' ') : 'defaults';
}

async function referenceDetectors(dir: string, files: readonly CorpusFile[]): Promise<string[]> {
  if (!isDir(dir)) return [];
  const names = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const [category, file] = files[0].stream.split('/');
  return names.filter((n) => existsSync(path.join(dir, n, category, `${n}_${file}`)));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const { root, data } = locateData(opts.data);
  const labelsFile = opts.labels ?? findBeside(root, 'combined_windows.json', 'labels/combined_windows.json');
  if (!labelsFile) throw new Error(`no combined_windows.json beside ${data}; pass --labels FILE`);
  const profilesFile = opts.profiles ?? findBeside(root, 'profiles.json', 'config/profiles.json');
  const thresholdsFile = opts.thresholds ?? findBeside(root, 'thresholds.json', 'config/thresholds.json');
  const referenceDir = opts.reference === 'none' ? undefined : opts.reference ?? findBeside(root, 'results');
  const scale = parseValueScale(opts.scale);
  if (typeof scale === 'string') throw new Error(scale);
  const mappings: ScoreMapping[] = opts.mapping === 'both' ? [...SCORE_MAPPINGS] : [opts.mapping as ScoreMapping];
  if (!mappings.every((m) => SCORE_MAPPINGS.includes(m))) throw new Error(`--mapping must be both, continuous or binary (got ${opts.mapping})`);
  const defs = chooseDetectors(opts.detectors);
  const settings: NabSettings = opts.params
    ? parseNabSettings(await fsp.readFile(opts.params, 'utf8'), streamevmonDetectors, opts.params)
    : { params: {}, scales: {} };
  const overrides = settings.params;
  const scaleOf = (name: string): ValueScale => settings.scales[name] ?? (scale as ValueScale);

  const windows = parseWindows(await fsp.readFile(labelsFile, 'utf8'), labelsFile);
  const profiles: NabProfile[] = profilesFile ? parseProfiles(await fsp.readFile(profilesFile, 'utf8'), profilesFile) : [...NAB_PROFILES];
  const thresholds: NabThresholds = thresholdsFile ? parseThresholds(await fsp.readFile(thresholdsFile, 'utf8'), thresholdsFile) : {};
  const t0 = performance.now();
  const files = await loadCorpus(data, windows, { keepText: opts.out !== undefined });
  const loadMs = performance.now() - t0;
  const rowCount = files.reduce((n, f) => n + f.series.length, 0);
  const windowCount = files.reduce((n, f) => n + f.labels.windowCount, 0);
  const subset = files.filter((f) => isLatencyLike(f.stream));

  console.log(`NAB corpus ${data}: ${files.length} files, ${rowCount} rows, ${windowCount} windows (loaded in ${loadMs.toFixed(0)} ms)`);
  console.log(`labels ${labelsFile}; profiles ${profilesFile ?? 'built in'}`);
  const scales = defs.map((d) => `${d.name}=${describeValueScale(scaleOf(d.name))}`).join(' ');
  console.log(`parameters: ${opts.params ?? ''} ${describeParams(defs, overrides)}`);
  console.log(`value scale: ${scales}`);
  console.log(`thresholds: optimised over all ${files.length} files per detector, mapping and profile (NAB's rule);`
    + ' the parameters were not tuned by search unless the parameter file says so\n');

  const rows: ReportRow[] = [];
  const runs: DetectorRun[] = [];
  let detectorMs = 0;
  const perMapping = new Map<ScoreMapping, Float64Array[][]>();
  for (const def of defs) {
    const run = runDetector(def, detectorParams(def, overrides), files, scaleOf(def.name));
    runs.push(run);
    detectorMs += run.ms;
    for (const mapping of mappings) {
      const scores = runScores(run, files, mapping);
      perMapping.set(mapping, [...(perMapping.get(mapping) ?? []), scores]);
      const name = `streamevmon-${def.name}`;
      rows.push({ detector: name, mapping, runMs: run.ms, events: run.eventCount, evaluation: evaluate(files, scores, profiles, { subset: isLatencyLike }) });
      if (opts.out) await writeAll(opts.out, `${name}-${mapping === 'binary' ? 'bin' : 'cont'}`, files, scores);
    }
  }
  if (opts.any && defs.length > 1) {
    for (const mapping of mappings) {
      const all = perMapping.get(mapping) ?? [];
      const scores = files.map((_, i) => maxScores(all.map((s) => s[i])));
      rows.push({ detector: 'streamevmon-any', mapping, runMs: detectorMs, events: runs.reduce((n, r) => n + r.eventCount, 0), evaluation: evaluate(files, scores, profiles, { subset: isLatencyLike }) });
      if (opts.out) await writeAll(opts.out, `streamevmon-any-${mapping === 'binary' ? 'bin' : 'cont'}`, files, scores);
    }
  }
  if (referenceDir) {
    for (const ref of await referenceDetectors(referenceDir, files)) {
      const scores = await readReferenceScores(referenceDir, ref, files);
      rows.push({ detector: ref, mapping: 'optimised T', evaluation: evaluate(files, scores, profiles, { subset: isLatencyLike }) });
      if (thresholds[ref]) {
        rows.push({ detector: ref, mapping: 'published T', evaluation: evaluate(files, scores, profiles, { subset: isLatencyLike, thresholds: thresholds[ref], nullThresholds: thresholds.null }) });
      }
    }
  }

  console.log(`Normalised scores, all ${files.length} files (100 = perfect, 0 = null detector; run ms = time in the detectors):`);
  console.log(summaryTable(rows));
  if (subset.length) {
    console.log(`\nLatency-like subset (${subset.length} files: ${subset.map((f) => f.stream).join(', ')}), same thresholds:`);
    console.log(summaryTable(rows, 'subset'));
  }
  console.log('\nPer profile (TP = windows detected, FN = windows missed, FP rows = detections outside windows):');
  console.log(detailTable(rows));
  console.log(`\nAll detectors together: ${detectorMs.toFixed(0)} ms for ${rowCount} rows (${(detectorMs * 1e6 / rowCount / Math.max(1, defs.length)).toFixed(0)} ns per row and detector).`);
  if (opts.out) console.log(`Results files written below ${path.resolve(opts.out)}`);
  if (opts.json) {
    const report = {
      data, labels: labelsFile, files: files.length, rows: rowCount, windows: windowCount,
      valueScale: Object.fromEntries(defs.map((d) => [d.name, describeValueScale(scaleOf(d.name))])), params: Object.fromEntries(defs.map((d) => [d.name, detectorParams(d, overrides)])),
      results: rows,
    };
    await fsp.writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  }
}

async function writeAll(out: string, detector: string, files: readonly CorpusFile[], scores: readonly Float64Array[]): Promise<void> {
  for (let i = 0; i < files.length; i++) await writeResults(out, detector, files[i].series, scores[i], files[i].labels);
}

main().catch((err: Error) => {
  console.error(`nab: ${err.message}`);
  process.exitCode = 1;
});
