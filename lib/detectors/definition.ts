import type { ParamSet, ParamValues } from '../params';
import type { Detector } from './types';

/** Options shared by every detector node that a detector may need at construction. */
export interface CommonDetectorOptions {
  /** The node's "use window" option; distdiff switches to its own count-window variant. */
  useWindow: boolean;
  /** Count-window slide (windowed distdiff only). */
  windowSlide: number;
}

/** Everything the generic node adapter needs to know about one detector. */
export interface DetectorDefinition<P extends ParamValues = ParamValues> {
  /** Short name, e.g. "spike"; the node type is `streamevmon-${name}`. */
  name: string;
  paramSet: ParamSet<P>;
  create(params: P, options: CommonDetectorOptions): Detector;
  /**
   * True when the detector windows by itself (distdiff's count window), so the node must
   * not wrap it in the tumbling time window.
   */
  ownWindowing?: boolean;
}

/** Options every detector node has (detectors.md §10.4, "all detectors"). */
export interface CommonParams extends Record<string, number | boolean> {
  useTimeWindow: boolean;
  /** Seconds. */
  windowDuration: number;
  /** Seconds. */
  maxLateness: number;
  windowSlide: number;
  filterLossy: boolean;
  /** Every value is multiplied by this before detection (1 = as received). */
  valueScale: number;
}

export const commonParamSet: ParamSet<CommonParams> = {
  owner: 'detector',
  specs: [
    { name: 'useTimeWindow', kind: 'boolean', default: false },
    { name: 'windowDuration', kind: 'int', default: 60, min: 1, max: 2147483647, unit: 's' },
    { name: 'maxLateness', kind: 'int', default: 20, min: 0, max: 2147483647, unit: 's' },
    { name: 'windowSlide', kind: 'int', default: 1, min: 1, max: 1200 },
    { name: 'filterLossy', kind: 'boolean', default: false },
    // The detectors' constants suit µs latencies: 1000 brings milliseconds to that scale.
    { name: 'valueScale', kind: 'number', default: 1, min: 0, minExclusive: true, max: 1e9 },
  ],
};
