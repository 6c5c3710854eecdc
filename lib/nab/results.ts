/**
 * NAB results files (data-formats.md §6.3): `<out>/<detector>/<category>/<detector>_<file>.csv`
 * with `timestamp,value,anomaly_score,label`, one row per data row, timestamp and value copied
 * verbatim. Detector names must not contain `_`: NAB's normaliser reads the name from the
 * file name up to the first underscore.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { NabSeries } from './csv';
import { FileLabels, OUTSIDE } from './sweep';

/** A score as a plain decimal that parses back to the same double (`1.0`, `0.25`, `0.0`). */
export function formatScore(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

export function checkDetectorName(name: string): void {
  if (name === '' || name.includes('_') || /[\\/]/.test(name)) {
    throw new Error(`detector name ${JSON.stringify(name)} must be non-empty, without "_" (NAB reads the name up to the first underscore) and without slashes`);
  }
}

/** The relative path of a results file. */
export function resultsPath(detector: string, stream: string): string {
  const category = path.posix.dirname(stream);
  const file = path.posix.basename(stream);
  return path.join(detector, category, `${detector}_${file}`);
}

/** The text of one results file. */
export function formatResults(series: NabSeries, scores: ArrayLike<number>, labels: FileLabels): string {
  const { stampText, valueText, length } = series;
  if (!stampText || !valueText) throw new Error(`${labels.name}: the data was read without its text (keepText)`);
  if (scores.length !== length || labels.length !== length) throw new Error(`${labels.name}: ${scores.length} scores and ${labels.length} labels for ${length} rows`);
  const lines = new Array<string>(length + 1);
  lines[0] = 'timestamp,value,anomaly_score,label';
  for (let i = 0; i < length; i++) {
    lines[i + 1] = `${stampText[i]},${valueText[i]},${formatScore(scores[i])},${labels.window[i] === OUTSIDE ? 0 : 1}`;
  }
  return `${lines.join('\n')}\n`;
}

/** Write one results file below outDir; returns its path. */
export async function writeResults(outDir: string, detector: string, series: NabSeries, scores: ArrayLike<number>, labels: FileLabels): Promise<string> {
  checkDetectorName(detector);
  const file = path.join(outDir, resultsPath(detector, labels.name));
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, formatResults(series, scores, labels));
  return file;
}
