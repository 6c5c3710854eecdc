/**
 * The string forms of Latency TS I measurements (data-formats.md §5.1, §5.2): the inverse of
 * the line parsers, used to write synthetic series files.
 */
import type { Measurement } from '../measurement';
import { AMPICMP_KIND } from './parse';

function epochSeconds(m: Measurement): number {
  return Math.floor(m.time / 1000);
}

/** `<src>-<dst>-<family>,<epochSec>,<average>,<lossrate with 3 decimals>` */
export function ampIcmpLine(m: Measurement): string {
  const f = m.fields ?? {};
  return `${f.source}-${f.destination}-${f.family},${epochSeconds(m)},${f.average},${Number(f.lossrate).toFixed(3)}`;
}

/** `<dest>,<epochSec>,<median to 3 dp, or empty>,<loss %.3f>[,<each rtt %.3f>]` */
export function smokepingLine(m: Measurement): string {
  const f = m.fields ?? {};
  const median = typeof f.median === 'number' ? f.median.toFixed(3) : '';
  const results = Array.isArray(f.results) ? (f.results as number[]) : [];
  const rtts = results.map((r) => `,${r.toFixed(3)}`).join('');
  return `${f.destination},${epochSeconds(m)},${median},${Number(f.loss).toFixed(3)}${rtts}`;
}

export function seriesLine(m: Measurement): string {
  return m.kind === AMPICMP_KIND ? ampIcmpLine(m) : smokepingLine(m);
}
