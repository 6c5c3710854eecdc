import { AmpIcmpRow, Row, SMOKEPING_PINGS, SmokepingRow } from './types';

/** Integer microseconds as milliseconds with exactly 3 decimals, by integer arithmetic. */
export function formatUsAsMs(us: number): string {
  const whole = Math.floor(us / 1000);
  return `${whole}.${String(us - whole * 1000).padStart(3, '0')}`;
}

/**
 * The median the reader recomputes (data-formats.md §5.2): middle value, or the mean of the
 * two middle ones, rounded half up to 3 decimals with Math.round(x * 1000) / 1000 on the
 * millisecond doubles the reader parses. Null when every ping was lost.
 */
export function smokepingMedianMs(rttsUs: readonly number[]): number | null {
  const n = rttsUs.length;
  if (n === 0) return null;
  const ms = rttsUs.map((us) => us / 1000).sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 === 1 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return Math.round(median * 1000) / 1000;
}

/** `<source>-<destination>-<family>,<epochSeconds>,<average µs>,<lossrate 3 dp>` */
export function formatAmpIcmpLine(row: AmpIcmpRow): string {
  return `${row.key},${row.time},${row.average},${row.lossrate.toFixed(3)}`;
}

/** `<destination>,<epochSeconds>,<median ms 3 dp or empty>,<loss %.3f>[,<rtt ms %.3f>…]` */
export function formatSmokepingLine(row: SmokepingRow): string {
  const median = smokepingMedianMs(row.rttsUs);
  const medianText = median === null ? '' : formatUsAsMs(Math.round(median * 1000));
  const loss = (SMOKEPING_PINGS - row.rttsUs.length).toFixed(3);
  const rtts = row.rttsUs.map((us) => ',' + formatUsAsMs(us)).join('');
  return `${row.key},${row.time},${medianText},${loss}${rtts}`;
}

export function formatLine(row: Row): string {
  return row.format === 'ampicmp' ? formatAmpIcmpLine(row) : formatSmokepingLine(row);
}

/** A whole .series file: one line per row, each ending in a newline. */
export function formatSeriesFile(rows: readonly Row[]): string {
  let out = '';
  for (const row of rows) out += formatLine(row) + '\n';
  return out;
}
