import type { DetectorEvent } from '../event';
import { fmtD } from '../format';
import { ParamSet } from '../params';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode } from './keyed';
import { NO_EVENTS, Sample } from './types';

/**
 * Threshold detector parameters (our addition; detectors.md §3.7 is its origin). A bound that
 * is not set is NaN: parseParams turns a blank or missing value into the default, NaN.
 */
export interface ThresholdParams extends Record<string, number | boolean> {
  /** Values above this are reported; NaN = no upper bound. */
  upper: number;
  /** Values below this are reported; NaN = no lower bound. */
  lower: number;
  /** The severity of every event, 0–100. */
  severity: number;
  /** Report every sample beyond a bound, not only the crossings. */
  everySample: boolean;
}

const isSet = (bound: number): boolean => !Number.isNaN(bound);

export const thresholdParamSet: ParamSet<ThresholdParams> = {
  owner: 'threshold',
  specs: [
    { name: 'upper', kind: 'number', default: NaN },
    { name: 'lower', kind: 'number', default: NaN },
    { name: 'severity', kind: 'int', default: 10, min: 0, max: 100 },
    { name: 'everySample', kind: 'boolean', default: false },
  ],
  constraints: [
    (p) => (!isSet(p.upper) && !isSet(p.lower) ? 'set an upper bound, a lower bound or both' : null),
    (p) => (isSet(p.upper) && isSet(p.lower) && !(p.lower < p.upper)
      ? `lower (${fmtD(p.lower)}) must be less than upper (${fmtD(p.upper)})` : null),
  ],
};

/**
 * The parameters as stored with the state: an unset bound is null, because NaN neither survives
 * JSON nor compares equal to itself when a restored state's parameters are checked.
 */
export interface StoredThresholdParams {
  upper: number | null;
  lower: number | null;
  severity: number;
  everySample: boolean;
}

/** Where the series was at its last value: inside the bounds, above upper or below lower. */
const INSIDE = 0;
const ABOVE = 1;
const BELOW = -1;
type Side = typeof INSIDE | typeof ABOVE | typeof BELOW;

interface ThresholdState {
  side: Side;
}

const SIDE_NAMES: Record<Side, string | null> = { [INSIDE]: null, [ABOVE]: 'upper', [BELOW]: 'lower' };

/**
 * Reports values beyond fixed bounds, per series. "Beyond" is strict: a value equal to a bound
 * is inside. In crossing mode (the default) only the sample that leaves the band, or jumps
 * from one side straight to the other, is reported; with everySample, every sample beyond.
 */
export class ThresholdDetector extends KeyedDetector<ThresholdState, StoredThresholdParams> {
  readonly eventType = 'threshold_events';
  protected readonly stateVersion = 1;
  // Unset bounds as ±Infinity, so that the hot path is two plain comparisons.
  private readonly upper: number;
  private readonly lower: number;

  constructor(params: ThresholdParams) {
    super({
      upper: isSet(params.upper) ? params.upper : null,
      lower: isSet(params.lower) ? params.lower : null,
      severity: params.severity,
      everySample: params.everySample,
    });
    this.upper = isSet(params.upper) ? params.upper : Infinity;
    this.lower = isSet(params.lower) ? params.lower : -Infinity;
  }

  protected newState(): ThresholdState {
    return { side: INSIDE };
  }

  protected step(st: ThresholdState, s: Sample): readonly DetectorEvent[] {
    if (s.lossy || s.value === null) return NO_EVENTS;
    const v = s.value;
    const side: Side = v > this.upper ? ABOVE : v < this.lower ? BELOW : INSIDE;
    const crossed = side !== st.side;
    st.side = side;
    if (side === INSIDE || (!crossed && !this.params.everySample)) return NO_EVENTS;
    const description = side === ABOVE
      ? `Value ${fmtD(v)} is above the upper bound ${fmtD(this.upper)}`
      : `Value ${fmtD(v)} is below the lower bound ${fmtD(this.lower)}`;
    return [{
      eventType: this.eventType,
      stream: s.stream,
      severity: this.params.severity,
      time: s.time,
      detectionLatency: 0,
      description,
      tags: { bound: side === ABOVE ? 'upper' : 'lower' },
    }];
  }

  protected encodeState(st: ThresholdState): unknown {
    return { outside: SIDE_NAMES[st.side] };
  }

  protected decodeState(json: unknown): ThresholdState {
    const o = decode.object(json);
    if (o.outside === null) return { side: INSIDE };
    if (o.outside === 'upper') return { side: ABOVE };
    if (o.outside === 'lower') return { side: BELOW };
    throw new Error('outside must be null, "upper" or "lower"');
  }
}

export const thresholdDefinition: DetectorDefinition<ThresholdParams> = {
  name: 'threshold',
  paramSet: thresholdParamSet,
  create: (params) => new ThresholdDetector(params),
};
