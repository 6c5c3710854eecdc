/**
 * Shared by the detector specs: a seeded random mix of awkward samples and a fingerprint of
 * everything a detector outputs and saves while it is repeatedly restored from its own state.
 */
import { createHash } from 'node:crypto';
import type { Detector, Sample } from '../../lib/detectors/types';

/** Deterministic pseudo-random numbers (mulberry32), so failures reproduce. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` samples of three interleaved streams: noisy levels that shift, with rare large
 * outliers (k0, k1), and small values with ties, ±0, negative fractions, NaN and ±Infinity
 * (k2); lossy and missing values, long gaps, repeated and out-of-order times.
 */
export function mixedSamples(seed: number, n: number): Sample[] {
  const next = seeded(seed);
  const time = [1e12, 1e12, 1e12];
  const level = [1000, 225000, 5];
  const out: Sample[] = [];
  for (let i = 0; i < n; i++) {
    const k = Math.floor(next() * 3);
    const u = next();
    time[k] += u < 0.01 ? 5_000_000 : u < 0.03 ? -30_000 : u < 0.05 ? 0 : 60_000;
    if (next() < 0.01) level[k] *= next() < 0.5 ? 3 : 0.25;
    const w = next();
    let value: number | null;
    if (k === 2) {
      value = w < 0.1 ? -0 : w < 0.2 ? 0 : w < 0.23 ? NaN : w < 0.24 ? Infinity : w < 0.25 ? -Infinity
        : Math.floor(next() * 7) - 3 + (next() < 0.1 ? -0.5 : 0);
    } else {
      value = Math.round(level[k] * (1 + (next() - 0.5) * 0.1)) + (next() < 0.005 ? level[k] * 20 : 0);
    }
    const lossy = next() < 0.03;
    if ((lossy && next() < 0.5) || next() < 0.01) value = null;
    out.push({ key: `k${k}`, stream: String(k), kind: 'ICMP', time: time[k], value, lossy });
  }
  return out;
}

/**
 * The first 16 hex digits of a sha256 over every output and periodic saved states (−0, NaN
 * and ±Infinity kept apart), restoring into a fresh detector now and then (without JSON,
 * which would turn −0 into 0).
 */
export function fingerprint(make: () => Detector, samples: readonly Sample[]): string {
  const hash = createHash('sha256');
  const exact = (_key: string, v: unknown): unknown => (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v)) ? `#${Object.is(v, -0) ? '-0' : String(v)}` : v);
  let det = make();
  samples.forEach((s, i) => {
    hash.update(JSON.stringify(det.process(s), exact));
    if (i % 97 === 0) hash.update(JSON.stringify(det.saveState(), exact));
    if (i % 389 === 0) {
      const snap = det.saveState();
      det = make();
      det.loadState(snap);
    }
  });
  hash.update(JSON.stringify(det.saveState(), exact));
  return hash.digest('hex').slice(0, 16);
}
