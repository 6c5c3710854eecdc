/**
 * Shared severity function (detectors.md §1.3), from netevmon's latency-change
 * magnitude formula. Baseline, changepoint and spike use it directly.
 */

/** Java's (int) cast of a double: truncate toward zero, NaN → 0, clamp to int32. */
export function trunc(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}

export function changeMagnitudeSeverity(old: number, current: number): number {
  const hi = Math.max(old, current);
  const lo = Math.min(old, current);
  let base = lo < 0.1 ? 4.8 : Math.exp(-0.17949 * Math.log(lo) + 1.13489);
  if (base < 1.1) base = 1.1;
  // Operation order kept exactly: it decides truncation at boundaries (1000 → 1100 is 29).
  const raw = 30 * ((hi - lo) / ((base - 1) * lo));
  if (raw < 1) return 1;
  if (raw > 100) return 100;
  return trunc(raw);
}
