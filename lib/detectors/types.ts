import type { DetectorEvent } from '../event';

/**
 * What a detector sees of one measurement, whatever its origin (a streamevmon source or a
 * plain Node-RED msg): detectors.md §1.6, "turned into (key, time, value, lossy)".
 */
export interface Sample {
  /** Per-series state key (msg.topic, or the measurement's key). */
  key: string;
  /** The stream id reported in events. */
  stream: string;
  /** Measurement kind name, used in some descriptions (distdiff). */
  kind: string;
  /** Epoch milliseconds. */
  time: number;
  /** The value, or null when the measurement has none. */
  value: number | null;
  lossy: boolean;
}

/** The one contract every detector implements. */
export interface Detector {
  /** The event type this detector emits, e.g. "spike_events". */
  readonly eventType: string;
  /** Feed one sample; returns the events it produced (often the shared empty array). */
  process(sample: Sample): readonly DetectorEvent[];
  /** Forget one stream's state, or every stream's when key is undefined. */
  reset(key?: string): void;
  /** Number of streams with state. */
  readonly streamCount: number;
  /** A JSON-serialisable, versioned snapshot of all per-stream state. */
  saveState(): DetectorSnapshot;
  /** Replace all state with a snapshot's; throws StateError when it cannot be used. */
  loadState(snapshot: unknown): void;
}

export interface DetectorSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  /** Version of this detector's per-stream state layout. */
  version: number;
  detector: string;
  /** The parameters the state was built with; state is only reused under the same ones. */
  params: Record<string, unknown>;
  streams: Record<string, unknown>;
}

export const SNAPSHOT_FORMAT = 'streamevmon-detector-state';

/** A stored state that is corrupt, from another detector, version or configuration. */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateError';
  }
}

/** Shared, frozen "no events" result: most samples produce none, so avoid allocating. */
export const NO_EVENTS: readonly DetectorEvent[] = Object.freeze([]);
