/**
 * Tumbling event-time windows that batch and reorder samples before a detector
 * (detectors.md §4.3, C8). The detector's own state persists across windows; windows only
 * put each key's samples in time order and delay them until the watermark passes.
 */
import type { Sample } from './detectors/types';

export interface TimeWindowOptions {
  windowDurationMs: number;
  maxLatenessMs: number;
}

export interface TimeWindowSnapshot {
  watermark: number | null;
  late: number;
  /** [windowIndex, key, samples in arrival order][] */
  pending: Array<[number, string, Sample[]]>;
}

export class TimeWindowBuffer {
  /** window index → key → samples in arrival order */
  private readonly buckets = new Map<number, Map<string, Sample[]>>();
  private watermark = -Infinity;
  private pendingSamples = 0;
  /** Samples dropped because their window had already been flushed. */
  late = 0;

  constructor(readonly options: TimeWindowOptions) {}

  get pending(): number {
    return this.pendingSamples;
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  private windowIndex(time: number): number {
    return Math.floor(time / this.options.windowDurationMs);
  }

  /** The last ms of a window; it is flushed once the watermark reaches it. */
  private windowLastMs(index: number): number {
    return (index + 1) * this.options.windowDurationMs - 1;
  }

  /**
   * Add a sample; returns every sample released by the watermark moving, in feed order.
   * A sample whose window was already flushed is counted in `late` and dropped.
   */
  add(sample: Sample): Sample[] {
    const index = this.windowIndex(sample.time);
    if (this.windowLastMs(index) <= this.watermark) {
      this.late++;
      return [];
    }
    let byKey = this.buckets.get(index);
    if (byKey === undefined) {
      byKey = new Map();
      this.buckets.set(index, byKey);
    }
    const list = byKey.get(sample.key);
    if (list === undefined) byKey.set(sample.key, [sample]);
    else list.push(sample);
    this.pendingSamples++;
    return this.advanceWatermark(sample.time - this.options.maxLatenessMs);
  }

  /** Move the watermark forward (it never moves back) and release the windows it passed. */
  advanceWatermark(watermark: number): Sample[] {
    if (!(watermark > this.watermark)) return [];
    this.watermark = watermark;
    return this.release((index) => this.windowLastMs(index) <= watermark);
  }

  /** Release every pending window, e.g. at the end of a replay. */
  flushAll(): Sample[] {
    return this.release(() => true);
  }

  private release(due: (index: number) => boolean): Sample[] {
    const indices: number[] = [];
    for (const index of this.buckets.keys()) if (due(index)) indices.push(index);
    if (indices.length === 0) return [];
    indices.sort((a, b) => a - b);
    const out: Sample[] = [];
    for (const index of indices) {
      const byKey = this.buckets.get(index) as Map<string, Sample[]>;
      const keys = [...byKey.keys()].sort();
      for (const key of keys) {
        const list = byKey.get(key) as Sample[];
        // Array.prototype.sort is stable: equal times keep arrival order.
        list.sort((a, b) => a.time - b.time);
        for (const s of list) out.push(s);
        this.pendingSamples -= list.length;
      }
      this.buckets.delete(index);
    }
    return out;
  }

  /** Drop pending samples of one key, or everything (msg.reset). */
  reset(key?: string): void {
    if (key === undefined) {
      this.buckets.clear();
      this.pendingSamples = 0;
      return;
    }
    for (const [index, byKey] of this.buckets) {
      const list = byKey.get(key);
      if (list) {
        this.pendingSamples -= list.length;
        byKey.delete(key);
        if (byKey.size === 0) this.buckets.delete(index);
      }
    }
  }

  saveState(): TimeWindowSnapshot {
    const pending: Array<[number, string, Sample[]]> = [];
    for (const [index, byKey] of this.buckets) {
      for (const [key, list] of byKey) pending.push([index, key, list.slice()]);
    }
    return { watermark: Number.isFinite(this.watermark) ? this.watermark : null, late: this.late, pending };
  }

  loadState(snap: TimeWindowSnapshot): void {
    if (typeof snap !== 'object' || snap === null || !Array.isArray(snap.pending)) {
      throw new Error('stored window state is malformed');
    }
    this.buckets.clear();
    this.pendingSamples = 0;
    this.watermark = typeof snap.watermark === 'number' ? snap.watermark : -Infinity;
    this.late = typeof snap.late === 'number' ? snap.late : 0;
    for (const [index, key, list] of snap.pending) {
      if (typeof index !== 'number' || typeof key !== 'string' || !Array.isArray(list)) {
        throw new Error('stored window state is malformed');
      }
      let byKey = this.buckets.get(index);
      if (!byKey) {
        byKey = new Map();
        this.buckets.set(index, byKey);
      }
      byKey.set(key, list.slice());
      this.pendingSamples += list.length;
    }
  }
}
