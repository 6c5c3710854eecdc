/**
 * Per-file value scaling for NAB runs (issue 6, item 4). The detectors' severity formula and
 * distdiff's division by 1000 were designed for latencies in µs; NAB series have arbitrary
 * units (CPU %, byte counts, temperatures). NAB allows a detector to know each file's minimum
 * and maximum in advance, so a file's values may be mapped into a µs-like range first:
 *
 * - `none`: values as they are;
 * - `multiply`: v · target / max|v| (keeps ratios, so relative changes are unchanged; lifts
 *   small values out of the range where the severity formula behaves differently and where
 *   the mode detector's integer truncation erases them);
 * - `range`: min..max → low..high (affine: severity then measures a change as a fraction of
 *   the file's range, whatever its unit or offset; zeros and negatives disappear).
 */

export type ValueScaleMode = 'none' | 'multiply' | 'range';
export const VALUE_SCALE_MODES: readonly ValueScaleMode[] = ['none', 'multiply', 'range'];

export interface ValueScale {
  mode: ValueScaleMode;
  /** multiply: the largest |value| of a file becomes this (default 100000, i.e. 100 ms in µs). */
  target: number;
  /** range: the file's minimum becomes low, its maximum high (default 100000..200000). */
  low: number;
  high: number;
}

export const DEFAULT_VALUE_SCALE: Readonly<ValueScale> = Object.freeze({ mode: 'none', target: 100_000, low: 100_000, high: 200_000 });

/** v' = v · factor + offset. */
export interface LinearMap {
  factor: number;
  offset: number;
}

export const IDENTITY: Readonly<LinearMap> = Object.freeze({ factor: 1, offset: 0 });

/** The map for one file's values, from their minimum and maximum. */
export function fileScale(values: ArrayLike<number>, scale: ValueScale): LinearMap {
  if (scale.mode === 'none' || values.length === 0) return IDENTITY;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (scale.mode === 'multiply') {
    const biggest = Math.max(Math.abs(min), Math.abs(max));
    return biggest > 0 ? { factor: scale.target / biggest, offset: 0 } : IDENTITY;
  }
  // A flat file maps to `low`.
  const factor = max > min ? (scale.high - scale.low) / (max - min) : 0;
  return { factor, offset: scale.low - min * factor };
}

export function applyScale(v: number, map: LinearMap): number {
  return v * map.factor + map.offset;
}

/**
 * Parse `none`, `multiply[:target]` or `range[:low:high]` (command line and JSON settings);
 * returns an error text when it cannot.
 */
export function parseValueScale(text: string): ValueScale | string {
  const [mode, ...args] = text.trim().split(':');
  const nums = args.map(Number);
  const bad = (why: string): string => `value scale ${JSON.stringify(text)}: ${why}; use none, multiply[:target] or range[:low:high]`;
  if (nums.some((n) => !Number.isFinite(n))) return bad('the numbers must be finite');
  if (mode === 'none' && args.length === 0) return { ...DEFAULT_VALUE_SCALE, mode: 'none' };
  if (mode === 'multiply' && args.length <= 1) {
    const target = args.length ? nums[0] : DEFAULT_VALUE_SCALE.target;
    if (!(target > 0)) return bad('the target must be greater than 0');
    return { ...DEFAULT_VALUE_SCALE, mode: 'multiply', target };
  }
  if (mode === 'range' && (args.length === 0 || args.length === 2)) {
    const [low, high] = args.length ? nums : [DEFAULT_VALUE_SCALE.low, DEFAULT_VALUE_SCALE.high];
    if (!(high > low)) return bad('high must be greater than low');
    return { ...DEFAULT_VALUE_SCALE, mode: 'range', low, high };
  }
  return bad('unknown mode or wrong number of arguments');
}

export function describeValueScale(s: ValueScale): string {
  if (s.mode === 'multiply') return `multiply:${s.target}`;
  if (s.mode === 'range') return `range:${s.low}:${s.high}`;
  return 'none';
}
