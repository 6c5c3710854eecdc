/**
 * fmtD: format a double as Java's Double.toString does (detectors.md §1.5), so that
 * event descriptions are byte-identical with Streamevmon's.
 */
export function fmtD(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(x);
    // String() may still use exponent form for tiny values near 1e-7; not in this range.
    return s.includes('.') ? s : s + '.0';
  }
  const [mantissa, exponent] = x.toExponential().split('e');
  const m = mantissa.includes('.') ? mantissa : mantissa + '.0';
  const e = exponent.startsWith('+') ? exponent.slice(1) : exponent;
  return `${m}E${e}`;
}

/** Integers in descriptions are printed in plain decimal. */
export function fmtInt(x: number): string {
  return String(Math.trunc(x));
}
