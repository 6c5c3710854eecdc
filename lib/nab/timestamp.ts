/**
 * NAB timestamps (data-formats.md §6): `YYYY-MM-DD HH:MM:SS`, in UTC, optionally with a
 * fraction (`.000000` in the label files). Parsed by hand: digits to days-from-civil
 * arithmetic, several times faster than Date.parse and with no time-zone surprises.
 */

const MS_PER_DAY = 86_400_000;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

function two(s: string, i: number): number {
  return digit(s, i) * 10 + digit(s, i + 1);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Epoch ms of the timestamp in s[start, end), or NaN when it is not a valid
 * `YYYY-MM-DD HH:MM:SS[.fraction]` (a `T` is accepted in place of the space).
 */
export function parseNabTimestamp(s: string, start = 0, end = s.length): number {
  if (end - start < 19) return NaN;
  const c4 = s.charCodeAt(start + 4);
  const c7 = s.charCodeAt(start + 7);
  const c10 = s.charCodeAt(start + 10);
  const c13 = s.charCodeAt(start + 13);
  const c16 = s.charCodeAt(start + 16);
  if (c4 !== 45 || c7 !== 45 || (c10 !== 32 && c10 !== 84) || c13 !== 58 || c16 !== 58) return NaN;
  const year = two(s, start) * 100 + two(s, start + 2);
  const month = two(s, start + 5);
  const day = two(s, start + 8);
  const hour = two(s, start + 11);
  const minute = two(s, start + 14);
  const second = two(s, start + 17);
  // NaN fails every comparison, so a non-digit anywhere lands here too.
  if (!(month >= 1 && month <= 12 && day >= 1 && hour <= 23 && minute <= 59 && second <= 59)) return NaN;
  const monthDays = month === 2 && isLeap(year) ? 29 : DAYS_IN_MONTH[month - 1];
  if (day > monthDays) return NaN;
  let ms = 0;
  if (end > start + 19) {
    if (s.charCodeAt(start + 19) !== 46 || end === start + 20) return NaN;
    // Fraction of a second: keep milliseconds exactly, finer digits as a fraction of a ms.
    let scale = 100;
    for (let i = start + 20; i < end; i++) {
      const d = digit(s, i);
      if (Number.isNaN(d)) return NaN;
      ms += d * scale;
      scale /= 10;
    }
  }
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + ms;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD HH:MM:SS` of an epoch-ms time (whole seconds; used for messages and tests). */
export function formatNabTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} `
    + `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}
