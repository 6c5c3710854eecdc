import type { DetectorEvent } from '../event';
import {
  Detector, DetectorSnapshot, SNAPSHOT_FORMAT, Sample, StateError,
} from './types';

/**
 * Base class for detectors that keep independent state per key. Subclasses supply the
 * per-stream step and the (de)serialisation of one stream's state.
 */
export abstract class KeyedDetector<S, P extends object> implements Detector {
  abstract readonly eventType: string;
  /** Bump when the layout of one stream's encoded state changes. */
  protected abstract readonly stateVersion: number;
  protected readonly states = new Map<string, S>();

  constructor(readonly params: Readonly<P>) {}

  protected abstract newState(): S;
  protected abstract step(state: S, sample: Sample): readonly DetectorEvent[];
  /** One stream's state as plain JSON. */
  protected abstract encodeState(state: S): unknown;
  /** The inverse of encodeState; throws (any error) on malformed input. */
  protected abstract decodeState(json: unknown): S;

  process(sample: Sample): readonly DetectorEvent[] {
    let state = this.states.get(sample.key);
    if (state === undefined) {
      state = this.newState();
      this.states.set(sample.key, state);
    }
    return this.step(state, sample);
  }

  reset(key?: string): void {
    if (key === undefined) this.states.clear();
    else this.states.delete(key);
  }

  get streamCount(): number {
    return this.states.size;
  }

  saveState(): DetectorSnapshot {
    const streams: Record<string, unknown> = {};
    for (const [key, state] of this.states) streams[key] = this.encodeState(state);
    return {
      format: SNAPSHOT_FORMAT,
      version: this.stateVersion,
      detector: this.eventType,
      params: { ...this.params },
      streams,
    };
  }

  loadState(snapshot: unknown): void {
    const snap = snapshot as Partial<DetectorSnapshot> | null;
    if (typeof snap !== 'object' || snap === null || snap.format !== SNAPSHOT_FORMAT) {
      throw new StateError('stored state is not a streamevmon detector state');
    }
    if (snap.detector !== this.eventType) {
      throw new StateError(`stored state belongs to ${String(snap.detector)}, not ${this.eventType}`);
    }
    if (snap.version !== this.stateVersion) {
      throw new StateError(`stored state has version ${String(snap.version)}, this detector reads version ${this.stateVersion}`);
    }
    if (!sameParams(snap.params, this.params)) {
      throw new StateError('the detector parameters changed since the state was stored');
    }
    if (typeof snap.streams !== 'object' || snap.streams === null) {
      throw new StateError('stored state has no streams');
    }
    const decoded = new Map<string, S>();
    for (const [key, json] of Object.entries(snap.streams)) {
      try {
        decoded.set(key, this.decodeState(json));
      } catch (err) {
        throw new StateError(`stored state of stream "${key}" is corrupt: ${(err as Error).message}`);
      }
    }
    this.states.clear();
    for (const [key, state] of decoded) this.states.set(key, state);
  }
}

function sameParams(a: unknown, b: object): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (ra[k] !== rb[k]) return false;
  return true;
}

/** Helpers for decodeState implementations: fail loudly on anything unexpected. */
export const decode = {
  object(x: unknown): Record<string, unknown> {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new Error('expected an object');
    return x as Record<string, unknown>;
  },
  number(x: unknown, name: string): number {
    if (typeof x !== 'number') throw new Error(`${name} must be a number`);
    return x;
  },
  /** JSON turns NaN and ±Infinity into null; encode them as strings instead. */
  double(x: unknown, name: string): number {
    if (typeof x === 'number') return x;
    if (x === 'NaN') return NaN;
    if (x === 'Infinity') return Infinity;
    if (x === '-Infinity') return -Infinity;
    throw new Error(`${name} must be a number`);
  },
  nullableNumber(x: unknown, name: string): number | null {
    if (x === null) return null;
    return decode.double(x, name);
  },
  numberArray(x: unknown, name: string): number[] {
    if (!Array.isArray(x)) throw new Error(`${name} must be an array`);
    return x.map((v, i) => decode.double(v, `${name}[${i}]`));
  },
  boolean(x: unknown, name: string): boolean {
    if (typeof x !== 'boolean') throw new Error(`${name} must be a boolean`);
    return x;
  },
};

/** Encode a double so that NaN and ±Infinity survive JSON. */
export function encodeDouble(x: number): number | string {
  return Number.isFinite(x) ? x : String(x);
}
