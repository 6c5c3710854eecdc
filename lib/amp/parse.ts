/**
 * Line protocol → AMP measurements in one pass: the line parser (data-formats.md §8), then
 * dispatch on the measurement name to the legacy (§2) or AMP2 (§4) parser. Malformed lines
 * and malformed AMP points are both counted failures with line numbers; measurements of
 * other families are ignored silently (§8).
 */
import { LineError, ParseOptions, parseLines } from '../influx/line-parser';
import type { Measurement } from '../measurement';
import { parseAmp2Point } from './amp2';
import { parseLegacyPoint } from './legacy';
import type { AmpParse, PointLike } from './result';

export { parseAmp2Point } from './amp2';
export { parseLegacyPoint, parseRtts } from './legacy';
export type { AmpParse, PointLike } from './result';

/** Which schema a source reads: `http` means AMP2 Http for `amp2`, nothing for `legacy` (Q8). */
export type AmpSchema = 'legacy' | 'amp2' | 'both';

export function parseAmpPoint(point: PointLike, schema: AmpSchema): AmpParse {
  if (schema === 'legacy') return parseLegacyPoint(point);
  if (schema === 'amp2') return parseAmp2Point(point);
  const legacy = parseLegacyPoint(point);
  return legacy.status === 'ignored' ? parseAmp2Point(point) : legacy;
}

export interface AmpTextResult {
  measurements: Measurement[];
  /** Line-protocol and AMP failures, first `maxErrors`, in line order. */
  errors: LineError[];
  errorCount: number;
  /** Points of other measurements. */
  ignored: number;
}

export function parseAmpText(text: string, schema: AmpSchema, opts: ParseOptions = {}): AmpTextResult {
  const maxErrors = opts.maxErrors ?? 100;
  const parsed = parseLines(text, opts);
  const measurements: Measurement[] = [];
  const ampErrors: LineError[] = [];
  let ampErrorCount = 0;
  let ignored = 0;
  for (const p of parsed.points) {
    const r = parseAmpPoint(p, schema);
    if (r.status === 'ok') measurements.push(r.measurement);
    else if (r.status === 'ignored') ignored++;
    else {
      ampErrorCount++;
      if (ampErrors.length < maxErrors) ampErrors.push({ line: p.line ?? 0, reason: r.error, text: '' });
    }
  }
  const errors = [...parsed.errors, ...ampErrors].sort((a, b) => a.line - b.line).slice(0, maxErrors);
  return { measurements, errors, errorCount: parsed.errorCount + ampErrorCount, ignored };
}
