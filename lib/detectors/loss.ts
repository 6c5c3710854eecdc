import type { DetectorEvent } from '../event';
import { fmtInt } from '../format';
import { ParamSet } from '../params';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode } from './keyed';
import { doubles, smallInt } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Loss detector parameters (detectors.md §3.4, §10.4). */
export interface LossParams extends Record<string, number> {
  /** Number of recent measurements remembered per series. */
  maxHistory: number;
  /** Lossy measurements in the window that raise a loss_ratio event; 0 disables. */
  lossCount: number;
  /** Length of a run of lossy measurements that raises a consecutive_loss event; 0 disables. */
  consecutiveCount: number;
}

export const lossParamSet: ParamSet<LossParams> = {
  owner: 'loss',
  specs: [
    { name: 'maxHistory', kind: 'int', default: 30, min: 1, max: 600 },
    { name: 'lossCount', kind: 'int', default: 10, min: 0, max: 600 },
    { name: 'consecutiveCount', kind: 'int', default: 5, min: 0, max: 600 },
  ],
  constraints: [
    (p) => (p.lossCount > p.maxHistory
      ? `lossCount (${p.lossCount}) must be at most maxHistory (${p.maxHistory})` : null),
    (p) => (p.consecutiveCount > p.maxHistory
      ? `consecutiveCount (${p.consecutiveCount}) must be at most maxHistory (${p.maxHistory})` : null),
    // Streamevmon accepted this, but such a detector can never emit (§10.3).
    (p) => (p.lossCount === 0 && p.consecutiveCount === 0
      ? 'lossCount and consecutiveCount must not both be 0 (the detector could never emit)' : null),
  ],
};

/** D3: the percentage of lossy entries in the window, rounded half up, at least 1. */
export function lossSeverity(count: number, len: number): number {
  return Math.max(1, Math.floor((100 * count) / len + 0.5));
}

/**
 * The FIFO of the last `capacity` (time, lossy) entries, with the lossy count and the
 * trailing lossy run kept up to date so that a step is O(1) and allocation-free. One packed
 * double array holds the times, then the lossy flags as bits, 32 per element.
 */
export class LossWindow {
  readonly capacity: number;
  private readonly buf: number[];
  private start = 0;
  private len = 0;
  /** Lossy entries in the window. */
  count = 0;
  /** Trailing lossy entries, counted from the newest backwards. */
  run = 0;

  constructor(capacity: number) {
    this.capacity = smallInt(capacity);
    this.buf = doubles(this.capacity + ((this.capacity + 31) >>> 5));
  }

  get length(): number {
    return this.len;
  }

  push(time: number, lossy: boolean): void {
    const cap = this.capacity;
    const a = this.buf;
    let slot: number;
    let full = false;
    if (this.len < cap) {
      slot = this.start + this.len;
      if (slot >= cap) slot -= cap;
      this.len++;
    } else {
      slot = this.start;
      full = true;
      this.start = slot + 1 === cap ? 0 : slot + 1;
    }
    a[slot] = time;
    const word = cap + (slot >>> 5);
    const bit = 1 << (slot & 31);
    const bits = a[word] | 0;
    // When the window was full, the slot held the dropped oldest entry.
    if (full && (bits & bit) !== 0) this.count--;
    if (lossy) {
      a[word] = bits | bit;
      this.count++;
      // The run can only exceed the window when the dropped oldest entry was part of it.
      this.run = Math.min(this.run + 1, this.len);
    } else {
      a[word] = bits & ~bit;
      this.run = 0;
    }
  }

  private lossySlot(slot: number): boolean {
    return ((this.buf[this.capacity + (slot >>> 5)] >>> (slot & 31)) & 1) === 1;
  }

  private slotOf(i: number): number {
    const idx = this.start + i;
    return idx >= this.capacity ? idx - this.capacity : idx;
  }

  /** Time of the i-th entry, oldest first. */
  timeAt(i: number): number {
    return this.buf[this.slotOf(i)];
  }

  isLossyAt(i: number): boolean {
    return this.lossySlot(this.slotOf(i));
  }

  /** Entries oldest first, as plain JSON. */
  toJSON(): { times: number[]; lossy: boolean[] } {
    const times = new Array<number>(this.len);
    const lossy = new Array<boolean>(this.len);
    for (let i = 0; i < this.len; i++) {
      times[i] = this.timeAt(i);
      lossy[i] = this.isLossyAt(i);
    }
    return { times, lossy };
  }

  /** Rebuild from entries (oldest first); the counters are recomputed, not trusted. */
  static from(capacity: number, times: readonly number[], lossy: readonly boolean[]): LossWindow {
    const w = new LossWindow(capacity);
    for (let i = 0; i < times.length; i++) w.push(times[i], lossy[i]);
    return w;
  }
}

/**
 * Streamevmon's loss detector with the port's severity (D3): per series, it watches how many
 * of the last `maxHistory` measurements were lossy and how long the current lossy run is.
 * Events repeat on every further lossy measurement while a threshold is met; there is no
 * "loss ended" event, no purge and no warm-up.
 */
export class LossDetector extends KeyedDetector<LossWindow, LossParams> {
  readonly eventType = 'loss_events';
  protected readonly stateVersion = 1;
  private readonly maxHistory: number;
  private readonly lossCount: number;
  private readonly consecutiveCount: number;

  constructor(params: LossParams) {
    super(params);
    this.maxHistory = smallInt(params.maxHistory);
    this.lossCount = smallInt(params.lossCount);
    this.consecutiveCount = smallInt(params.consecutiveCount);
  }

  protected newState(): LossWindow {
    return new LossWindow(this.maxHistory);
  }

  protected step(w: LossWindow, s: Sample): readonly DetectorEvent[] {
    const before = w.count;
    w.push(s.time, s.lossy);
    const { run, count } = w;
    const len = w.length;
    const consecutive = this.consecutiveCount > 0 && run >= this.consecutiveCount;
    // count can only rise when this measurement itself is lossy.
    const ratio = this.lossCount > 0 && count > before && count >= this.lossCount;
    if (!consecutive && !ratio) return NO_EVENTS;

    const severity = lossSeverity(count, len);
    const events: DetectorEvent[] = [];
    if (consecutive) {
      events.push({
        eventType: this.eventType,
        stream: s.stream,
        severity,
        time: s.time,
        detectionLatency: s.time - w.timeAt(len - run),
        description: `Consecutive loss became worse! ${fmtInt(run)} in a row.`,
        tags: { type: 'consecutive_loss' },
      });
    }
    if (ratio) {
      events.push({
        eventType: this.eventType,
        stream: s.stream,
        severity,
        time: s.time,
        // Measured from the newest lossy entry, which is this measurement.
        detectionLatency: 0,
        description: `Loss ratio became worse! ${fmtInt(before)}/${fmtInt(len)} -> ${fmtInt(count)}/${fmtInt(len)}`,
        tags: { type: 'loss_ratio' },
      });
    }
    return events;
  }

  protected encodeState(w: LossWindow): unknown {
    return w.toJSON();
  }

  protected decodeState(json: unknown): LossWindow {
    const o = decode.object(json);
    if (!Array.isArray(o.times) || !Array.isArray(o.lossy)) throw new Error('times and lossy must be arrays');
    if (o.times.length !== o.lossy.length) throw new Error('times and lossy differ in length');
    if (o.times.length > this.params.maxHistory) throw new Error('more entries than maxHistory');
    const times = o.times.map((t, i) => {
      const n = decode.number(t, `times[${i}]`);
      if (!Number.isFinite(n)) throw new Error(`times[${i}] must be finite`);
      return n;
    });
    const lossy = o.lossy.map((b, i) => decode.boolean(b, `lossy[${i}]`));
    return LossWindow.from(this.maxHistory, times, lossy);
  }
}

export const lossDefinition: DetectorDefinition<LossParams> = {
  name: 'loss',
  paramSet: lossParamSet,
  create: (params) => new LossDetector(params),
};
