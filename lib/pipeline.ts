/**
 * What one detector node does to a sample, without Node-RED: optional lossy filter, optional
 * tumbling time window, the detector, and counters for the node status. Its state (detector
 * plus pending window contents) is saved and restored as one versioned snapshot.
 */
import type { DetectorEvent } from './event';
import { Detector, StateError } from './detectors/types';
import type { Sample } from './detectors/types';
import { TimeWindowBuffer, TimeWindowOptions, TimeWindowSnapshot } from './windowing';

export interface PipelineOptions {
  /** Drop lossy samples before the detector sees them. */
  filterLossy?: boolean;
  /** Reorder through tumbling event-time windows (off by default, D12). */
  window?: TimeWindowOptions;
  /** Added to every event's tags as `instance`, to tell two detectors of one type apart. */
  instanceTag?: string;
  /** Multiply every value by this before the detector sees it (default 1). */
  valueScale?: number;
}

export interface PipelineSnapshot {
  format: typeof PIPELINE_FORMAT;
  version: 1;
  detector: unknown;
  window: TimeWindowSnapshot | null;
  /** The value scale the state was built with; absent in older snapshots, meaning 1. */
  valueScale?: number;
}

export const PIPELINE_FORMAT = 'streamevmon-node-state';

export class DetectorPipeline {
  readonly window: TimeWindowBuffer | null;
  samples = 0;
  events = 0;
  filtered = 0;

  private readonly scale: number;

  constructor(readonly detector: Detector, readonly options: PipelineOptions = {}) {
    this.window = options.window ? new TimeWindowBuffer(options.window) : null;
    this.scale = options.valueScale ?? 1;
  }

  get late(): number {
    return this.window ? this.window.late : 0;
  }

  /**
   * Feed one sample; events are appended to `out`. Returns an error text, and leaves every
   * state alone, when the sample cannot be used (a value the scale makes infinite).
   */
  feed(sample: Sample, out: DetectorEvent[]): string | undefined {
    if (this.scale !== 1 && sample.value !== null) {
      const value = sample.value * this.scale;
      if (!Number.isFinite(value)) return `value ${sample.value} × value scale ${this.scale} is not a finite number`;
      sample = { ...sample, value };
    }
    this.samples++;
    if (this.options.filterLossy && sample.lossy) {
      this.filtered++;
      return undefined;
    }
    if (this.window) this.run(this.window.add(sample), out);
    else this.emit(this.detector.process(sample), out);
    return undefined;
  }

  /** Advance the window watermark (msg.watermark); no-op without a window. */
  advanceWatermark(watermark: number, out: DetectorEvent[]): void {
    if (this.window) this.run(this.window.advanceWatermark(watermark), out);
  }

  /** Release every pending window (end of a replay, or on demand). */
  flush(out: DetectorEvent[]): void {
    if (this.window) this.run(this.window.flushAll(), out);
  }

  reset(key?: string): void {
    this.detector.reset(key);
    this.window?.reset(key);
  }

  private run(samples: Sample[], out: DetectorEvent[]): void {
    for (const s of samples) this.emit(this.detector.process(s), out);
  }

  private emit(events: readonly DetectorEvent[], out: DetectorEvent[]): void {
    if (events.length === 0) return;
    const instance = this.options.instanceTag;
    for (const e of events) {
      out.push(instance ? { ...e, tags: { ...e.tags, instance } } : e);
    }
    this.events += events.length;
  }

  saveState(): PipelineSnapshot {
    return {
      format: PIPELINE_FORMAT,
      version: 1,
      detector: this.detector.saveState(),
      window: this.window ? this.window.saveState() : null,
      ...(this.scale !== 1 ? { valueScale: this.scale } : {}),
    };
  }

  /** Restore; throws StateError and leaves the current state untouched when unusable. */
  loadState(snapshot: unknown): void {
    const snap = snapshot as Partial<PipelineSnapshot> | null;
    if (typeof snap !== 'object' || snap === null || snap.format !== PIPELINE_FORMAT) {
      throw new StateError('stored state is not a streamevmon node state');
    }
    if (snap.version !== 1) throw new StateError(`stored node state has unknown version ${String(snap.version)}`);
    // A state built on values of another scale would make every next value look anomalous.
    const storedScale = snap.valueScale ?? 1;
    if (storedScale !== this.scale) throw new StateError(`stored node state was built with value scale ${String(storedScale)}, not ${this.scale}`);
    const windowState = snap.window ?? null;
    if (this.window && windowState) {
      // Validate the window part on a scratch buffer before touching anything.
      const scratch = new TimeWindowBuffer(this.window.options);
      try {
        scratch.loadState(windowState);
      } catch (err) {
        throw new StateError((err as Error).message);
      }
    }
    this.detector.loadState(snap.detector);
    if (this.window && windowState) this.window.loadState(windowState);
  }
}
