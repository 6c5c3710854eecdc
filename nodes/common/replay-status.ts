/** Status texts of the file sources (latencyts, nab) from their catalogues (streamevmon.status.*). */
import type { ReplayStats } from '../../lib/latencyts/replay';
import type { Translate } from './i18n';

/** While reading, e.g. `reading: 1200 rows · 45% · 9000 rows/s · 3 malformed · pass 2`. */
export function progressStatus(t: Translate, s: ReplayStats): string {
  const parts = [t('streamevmon.status.reading', { rows: s.rows, percent: Math.floor(s.progress * 100), rate: Math.round(s.rowsPerSecond) })];
  if (s.malformed) parts.push(t('streamevmon.status.malformed', { count: s.malformed }));
  if (s.passes > 1) parts.push(t('streamevmon.status.pass', { pass: s.passes }));
  return parts.join(' · ');
}

/** At the end, e.g. `done: 1200 rows (3 malformed)`. */
export function doneStatus(t: Translate, s: ReplayStats): string {
  return t('streamevmon.status.done', { rows: s.rows, malformed: s.malformed });
}
