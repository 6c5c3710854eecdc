import { Prng } from './prng';
import { AMPICMP_PROBES, Anomaly, AnomalyKind, SeriesFormat } from './types';

interface Range {
  min: number;
  max: number;
}

interface KindShape {
  /** Length in samples. */
  samples: Range;
  /** Magnitude range; see MAGNITUDE_MEANING. */
  magnitude: Range;
}

interface FormatPlan {
  kinds: Readonly<Record<AnomalyKind, KindShape>>;
  /** Quiet samples between two anomalies, so windowed detectors settle again. */
  gap: Range;
}

/**
 * Shapes per format, in samples rather than minutes: with 5-minute smokeping rounds a
 * 30-minute shift would be 6 samples, too short for any detector's default window. The
 * level shifts last longer than changepoint's triggerCount (40) and mode changes long enough
 * to dominate mode's 30-value window.
 */
const PLANS: Readonly<Record<SeriesFormat, FormatPlan>> = {
  ampicmp: {
    kinds: {
      spike: { samples: { min: 1, max: 3 }, magnitude: { min: 3, max: 6 } },
      level_shift_up: { samples: { min: 45, max: 180 }, magnitude: { min: 1.25, max: 2 } },
      level_shift_down: { samples: { min: 45, max: 180 }, magnitude: { min: 0.55, max: 0.8 } },
      mode_change: { samples: { min: 120, max: 360 }, magnitude: { min: 1.2, max: 1.6 } },
      noise_change: { samples: { min: 60, max: 180 }, magnitude: { min: 5, max: 10 } },
      loss_burst: { samples: { min: 5, max: 20 }, magnitude: { min: 0.5, max: 0.9 } },
    },
    gap: { min: 150, max: 400 },
  },
  smokeping: {
    kinds: {
      spike: { samples: { min: 1, max: 3 }, magnitude: { min: 3, max: 6 } },
      level_shift_up: { samples: { min: 40, max: 72 }, magnitude: { min: 1.25, max: 2 } },
      level_shift_down: { samples: { min: 40, max: 72 }, magnitude: { min: 0.55, max: 0.8 } },
      mode_change: { samples: { min: 60, max: 96 }, magnitude: { min: 1.2, max: 1.6 } },
      noise_change: { samples: { min: 40, max: 72 }, magnitude: { min: 5, max: 10 } },
      loss_burst: { samples: { min: 3, max: 12 }, magnitude: { min: 0.8, max: 1 } },
    },
    gap: { min: 60, max: 120 },
  },
};

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function drawMagnitude(prng: Prng, format: SeriesFormat, kind: AnomalyKind): number {
  const r = PLANS[format].kinds[kind].magnitude;
  if (kind === 'loss_burst' && format === 'ampicmp') {
    // Whole probes lost, never all of them: a fully lost ampicmp sample has no average to write.
    return prng.int(Math.round(r.min * AMPICMP_PROBES), Math.round(r.max * AMPICMP_PROBES)) / AMPICMP_PROBES;
  }
  const m = round3(prng.uniform(r.min, r.max));
  if (kind === 'mode_change' && prng.next() < 0.5) return round3(1 / m); // the new mode may be lower
  return m;
}

/**
 * Place non-overlapping anomalies after the warm-up, cycling through shuffled bags of the
 * requested kinds (spikes twice per bag, as they are the shortest) for a balanced mix.
 */
export function planAnomalies(
  prng: Prng, format: SeriesFormat, samples: number, kinds: readonly AnomalyKind[], warmup: number,
): Omit<Anomaly, 'start' | 'end'>[] {
  const plan = PLANS[format];
  const out: Omit<Anomaly, 'start' | 'end'>[] = [];
  if (kinds.length === 0) return out;
  const bagTemplate = kinds.flatMap((k) => (k === 'spike' ? [k, k] : [k]));
  let bag: AnomalyKind[] = [];
  // Leave half a gap after the last anomaly so its end (the return to normal) is visible.
  const lastUsable = samples - Math.ceil(plan.gap.min / 2);
  let next = warmup + prng.int(0, plan.gap.min);
  for (;;) {
    if (bag.length === 0) bag = prng.shuffle([...bagTemplate]);
    const kind = bag.pop() as AnomalyKind;
    const shape = plan.kinds[kind];
    const length = prng.int(shape.samples.min, shape.samples.max);
    if (next + length > lastUsable) break;
    out.push({ kind, startIndex: next, endIndex: next + length - 1, magnitude: drawMagnitude(prng, format, kind) });
    next += length + prng.int(plan.gap.min, plan.gap.max);
  }
  return out;
}

/** Per-sample modifiers that the anomalies impose on the background model. */
export interface Effects {
  /** Multiplies the RTT level (level shifts, mode changes). */
  level: Float64Array;
  /** Multiplies the jitter (noise changes: sqrt of the variance factor). */
  noise: Float64Array;
  /** Multiplies the whole RTT (spikes). */
  spike: Float64Array;
  /** Loss fraction forced by a loss burst, or NaN. */
  loss: Float64Array;
}

export function effectsOf(anomalies: readonly Omit<Anomaly, 'start' | 'end'>[], samples: number): Effects {
  const fx: Effects = {
    level: new Float64Array(samples).fill(1),
    noise: new Float64Array(samples).fill(1),
    spike: new Float64Array(samples).fill(1),
    loss: new Float64Array(samples).fill(NaN),
  };
  for (const a of anomalies) {
    for (let i = a.startIndex; i <= a.endIndex; i++) {
      switch (a.kind) {
        case 'level_shift_up':
        case 'level_shift_down':
        case 'mode_change':
          fx.level[i] = a.magnitude;
          break;
        case 'noise_change':
          fx.noise[i] = Math.sqrt(a.magnitude);
          break;
        case 'spike':
          fx.spike[i] = a.magnitude;
          break;
        case 'loss_burst':
          fx.loss[i] = a.magnitude;
          break;
      }
    }
  }
  return fx;
}
