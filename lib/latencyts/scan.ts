/**
 * A hand-written scanner for comma-separated numeric lines: finds the columns in one pass and
 * reads numbers in place, without splitting the line into substrings (the reader's hot path).
 */

/** Exact powers of ten: mantissa / 10^k is then correctly rounded, i.e. equal to Number(). */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Below 2^53 any run of this many digits is an exact integer. */
const MAX_FAST_DIGITS = 15;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * The plain decimal in s[start, end) (`0.000`, `-1.5`, `.5`, `4.`, `4.6e2`), or NaN. Stricter
 * than Number(), which would also take '', ' 1', '0x10' and 'Infinity'.
 */
export function decimalAt(s: string, start: number, end: number): number {
  let i = start;
  let c = s.charCodeAt(i);
  const negative = c === 45;
  if (negative || c === 43) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  let dot = false;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (isDigit(c)) {
      mantissa = mantissa * 10 + (c - 48);
      digits++;
      if (dot) fraction++;
    } else if (c === 46 && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (digits === 0) return NaN;
  if (i < end) {
    // Only an exponent may follow; Number() then does the (rare) exact conversion.
    if ((c | 32) !== 101) return NaN;
    i++;
    c = s.charCodeAt(i);
    if (c === 43 || c === 45) i++;
    const expStart = i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    if (i === expStart || i !== end) return NaN;
    const v = Number(s.slice(start, end));
    return Number.isFinite(v) ? v : NaN;
  }
  if (digits > MAX_FAST_DIGITS) {
    const exact = Number(s.slice(start, end));
    return Number.isFinite(exact) ? exact : NaN;
  }
  const v = mantissa / POW10[fraction];
  return negative ? -v : v;
}

/** The whole number in s[start, end) (digits, and a leading minus when signed), or NaN. */
export function integerAt(s: string, start: number, end: number, signed: boolean): number {
  const negative = signed && s.charCodeAt(start) === 45;
  const first = negative ? start + 1 : start;
  if (first >= end || end - first > MAX_FAST_DIGITS) return NaN;
  let v = 0;
  for (let i = first; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return NaN;
    v = v * 10 + (c - 48);
  }
  return negative ? -v : v;
}

/** Column positions of one line. One instance is reused for every line (no allocation). */
export class Columns {
  line = '';
  count = 0;
  /** ends[i] = index just past column i. */
  private ends = new Int32Array(32);

  /** Scan a line; returns the number of columns (empty trailing columns count). */
  split(line: string): number {
    this.line = line;
    let n = 0;
    for (let from = 0; ;) {
      const comma = line.indexOf(',', from);
      if (n === this.ends.length) {
        const grown = new Int32Array(this.ends.length * 2);
        grown.set(this.ends);
        this.ends = grown;
      }
      if (comma < 0) {
        this.ends[n++] = line.length;
        break;
      }
      this.ends[n++] = comma;
      from = comma + 1;
    }
    this.count = n;
    return n;
  }

  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1] + 1;
  }

  end(i: number): number {
    return this.ends[i];
  }

  isEmpty(i: number): boolean {
    return this.start(i) === this.end(i);
  }

  text(i: number): string {
    return this.line.slice(this.start(i), this.end(i));
  }

  decimal(i: number): number {
    return decimalAt(this.line, this.start(i), this.end(i));
  }

  integer(i: number, signed: boolean): number {
    return integerAt(this.line, this.start(i), this.end(i), signed);
  }
}
