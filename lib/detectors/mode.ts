import type { DetectorEvent } from '../event';
import { ParamSet } from '../params';
import { changeMagnitudeSeverity, trunc } from '../severity';
import type { DetectorDefinition } from './definition';
import { KeyedDetector, decode } from './keyed';
import { doubles, smallInt } from './ring';
import { NO_EVENTS, Sample } from './types';

/** Mode detector parameters (detectors.md §3.5, §10.4, D7). */
export interface ModeParams extends Record<string, number> {
  maxHistory: number;
  minFrequency: number;
  minProminence: number;
  threshold: number;
  /** Seconds; 0 disables purging. */
  inactivityPurgeTime: number;
}

export const modeParamSet: ParamSet<ModeParams> = {
  owner: 'mode',
  specs: [
    { name: 'maxHistory', kind: 'int', default: 30, min: 5, max: 600 },
    { name: 'minFrequency', kind: 'int', default: 6, min: 1, max: 600 },
    { name: 'minProminence', kind: 'int', default: 3, min: 1, max: 600 },
    { name: 'threshold', kind: 'number', default: 7.5, min: 0, max: 100 },
    { name: 'inactivityPurgeTime', kind: 'int', default: 60, min: 0, max: 2147483647, unit: 's' },
  ],
  constraints: [
    (p) => (p.minFrequency < p.maxHistory ? null : `minFrequency (${p.minFrequency}) must be less than maxHistory (${p.maxHistory})`),
    (p) => (p.minProminence < p.maxHistory ? null : `minProminence (${p.minProminence}) must be less than maxHistory (${p.maxHistory})`),
  ],
};

/** "No mode yet" sentinel of `last`; it never matches a bucket unless inputs are negative. */
const UNSET_LAST = -5;
const UNSET_LAST_COUNT = -6;
/** Count of the secondary mode when the history holds a single bucket. */
const NO_SECONDARY_COUNT = -2;

const POW10: readonly number[] = Array.from({ length: 17 }, (_, i) => 10 ** i);

/** Decimal digits of an integer, 0 for 0 (exact, unlike log10 near powers of ten). */
export function digits(i: number): number {
  const a = Math.abs(i);
  if (a === 0) return 0;
  let d = 1;
  while (d < POW10.length && a >= POW10[d]) d++;
  return d;
}

/** Round an integer to two significant digits toward −∞ (12345 → 12000, −155 → −160). */
export function bucket(i: number): number {
  const d = digits(i);
  if (d <= 2) return i;
  const p = POW10[d - 2];
  const r = i % p; // exact for integers; sign follows i
  if (r === 0) return i;
  return r > 0 ? i - r : i - r - p;
}

/** Severity of a change between two bucketed modes, with the D7 divisor floor. */
export function modeSeverity(oldMode: number, newMode: number): number {
  const dOld = digits(oldMode);
  const dNew = digits(newMode);
  const sf = dOld === dNew ? dOld - 1 : Math.max(Math.min(dOld, dNew), 1);
  // sf = 0 gives int(0.1) = 0 in Streamevmon, a division by zero; the port floors it at 1 (D7).
  const div = Math.max(1, sf >= 1 ? POW10[sf - 1] : 0);
  return changeMagnitudeSeverity(Math.trunc(oldMode / div), Math.trunc(newMode / div));
}

/** Slots of ModeState.buf before the history ring. */
const LAST_OBSERVED = 0;
/** The mode last reported or adopted: (bucket, count), or the unset sentinel. */
const LAST_VALUE = 1;
const LAST_COUNT = 2;
const HEAD = 3;

/**
 * One stream in one packed double array: three doubles, the ring of raw (not bucketed)
 * integer values, then the bucket counts of that history, kept incrementally so a sample
 * costs O(distinct buckets) without allocation. Distinct buckets never exceed the history
 * length.
 */
class ModeState {
  readonly capacity: number;
  readonly buf: number[];
  /** Ring position of the oldest history value. */
  start = 0;
  len = 0;
  /** Distinct buckets: their values are at buf[valuesBase…], their counts at buf[countsBase…]. */
  size = 0;
  readonly valuesBase: number;
  readonly countsBase: number;
  /** buf[LAST_OBSERVED] holds the newest time seen; false before the first sample. */
  observed = false;

  constructor(capacity: number) {
    this.capacity = smallInt(capacity);
    this.buf = doubles(HEAD + 3 * this.capacity);
    this.valuesBase = HEAD + this.capacity;
    this.countsBase = HEAD + 2 * this.capacity;
    this.buf[LAST_VALUE] = UNSET_LAST;
    this.buf[LAST_COUNT] = UNSET_LAST_COUNT;
  }

  /** Append a raw value; returns the dropped oldest one when the history was full, else NaN. */
  pushHistory(v: number): number {
    const cap = this.capacity;
    if (this.len < cap) {
      let idx = this.start + this.len;
      if (idx >= cap) idx -= cap;
      this.buf[HEAD + idx] = v;
      this.len++;
      return NaN;
    }
    const slot = HEAD + this.start;
    const dropped = this.buf[slot];
    this.buf[slot] = v;
    this.start = this.start + 1 === cap ? 0 : this.start + 1;
    return dropped;
  }

  history(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) {
      let idx = this.start + i;
      if (idx >= this.capacity) idx -= this.capacity;
      out[i] = this.buf[HEAD + idx];
    }
    return out;
  }

  /** buf index of bucket b's value, or -1. */
  private indexOf(b: number): number {
    const a = this.buf;
    const end = this.valuesBase + this.size;
    for (let i = this.valuesBase; i < end; i++) if (a[i] === b) return i;
    return -1;
  }

  addBucket(b: number): void {
    const a = this.buf;
    const i = this.indexOf(b);
    if (i >= 0) {
      a[i + this.capacity]++;
    } else {
      a[this.valuesBase + this.size] = b;
      a[this.countsBase + this.size] = 1;
      this.size++;
    }
  }

  removeBucket(b: number): void {
    const a = this.buf;
    const i = this.indexOf(b);
    if (i < 0) return;
    const c = i + this.capacity;
    if (--a[c] === 0) {
      // Order is irrelevant: only a unique top bucket can pass the prominence gate.
      this.size--;
      a[i] = a[this.valuesBase + this.size];
      a[c] = a[this.countsBase + this.size];
    }
  }

  hasBucket(b: number): boolean {
    return this.indexOf(b) >= 0;
  }

  reset(time: number): void {
    this.observed = true;
    this.buf[LAST_OBSERVED] = time;
    this.start = 0;
    this.len = 0;
    this.size = 0;
    this.buf[LAST_VALUE] = UNSET_LAST;
    this.buf[LAST_COUNT] = UNSET_LAST_COUNT;
  }
}

export class ModeDetector extends KeyedDetector<ModeState, ModeParams> {
  readonly eventType = 'mode_events';
  protected readonly stateVersion = 1;
  private readonly purgeMs: number;
  private readonly maxHistory: number;
  private readonly minFrequency: number;
  private readonly minProminence: number;
  private readonly threshold: number;

  constructor(params: ModeParams) {
    super(params);
    this.purgeMs = params.inactivityPurgeTime * 1000;
    this.maxHistory = smallInt(params.maxHistory);
    this.minFrequency = smallInt(params.minFrequency);
    this.minProminence = smallInt(params.minProminence);
    this.threshold = params.threshold;
  }

  protected newState(): ModeState {
    return new ModeState(this.maxHistory);
  }

  protected step(st: ModeState, s: Sample): readonly DetectorEvent[] {
    const buf = st.buf;
    // 1. Reset on first sight or after more than the purge time of silence; the sample is not kept.
    if (!st.observed || (this.purgeMs !== 0 && s.time - buf[LAST_OBSERVED] > this.purgeMs)) {
      st.reset(s.time);
      return NO_EVENTS;
    }
    // 2. lastObserved only moves forward.
    if (s.time >= buf[LAST_OBSERVED]) buf[LAST_OBSERVED] = s.time;
    // 3. Lossy samples (with or without a value) are skipped.
    if (s.lossy || s.value === null) return NO_EVENTS;
    // 4. History keeps raw integers; buckets follow incrementally.
    const v = trunc(s.value);
    const wasFull = st.len === this.maxHistory;
    const dropped = st.pushHistory(v);
    if (wasFull) st.removeBucket(bucket(dropped));
    st.addBucket(bucket(v));
    // 6. Modes are only used once the history is full, so compute them only then.
    if (st.len < this.maxHistory) return NO_EVENTS;
    // 5. Primary = top (bucket, count); secondary count = runner-up, or −2 with a single bucket.
    const vb = st.valuesBase;
    const cb = st.countsBase;
    let primary = buf[vb];
    let primaryCount = buf[cb];
    let secondaryCount = NO_SECONDARY_COUNT;
    for (let i = 1; i < st.size; i++) {
      const c = buf[cb + i];
      if (c > primaryCount) {
        secondaryCount = primaryCount;
        primaryCount = c;
        primary = buf[vb + i];
      } else if (c > secondaryCount) {
        secondaryCount = c;
      }
    }
    // 7–9. Same mode as before, or not frequent / prominent enough.
    const old = buf[LAST_VALUE];
    if (old === primary) return NO_EVENTS;
    if (primaryCount < this.minFrequency) return NO_EVENTS;
    if (primaryCount - secondaryCount < this.minProminence) return NO_EVENTS;
    buf[LAST_VALUE] = primary;
    buf[LAST_COUNT] = primaryCount;
    // 10. The old mode has left the window (or there was none): adopt silently.
    if (!st.hasBucket(old)) return NO_EVENTS;
    // 11–12. The change must reach max(threshold, old / ln old); NaN (negative old) always passes.
    const calc = old / Math.log(old);
    const thresh = calc < this.threshold ? this.threshold : calc;
    if (Math.abs(old - primary) < thresh) return NO_EVENTS;
    // 13. A genuine change from a real previous mode.
    if (old === UNSET_LAST) return NO_EVENTS;
    return [{
      eventType: this.eventType,
      stream: s.stream,
      severity: modeSeverity(old, primary),
      time: s.time,
      detectionLatency: 0,
      description: `Mode changed from ${old} to ${primary}!`,
      tags: {},
    }];
  }

  // Primary and secondary are recomputed before every use, so only `last` is stored.
  protected encodeState(st: ModeState): unknown {
    return {
      lastObserved: st.observed ? st.buf[LAST_OBSERVED] : null,
      history: st.history(),
      last: [st.buf[LAST_VALUE], st.buf[LAST_COUNT]],
    };
  }

  protected decodeState(json: unknown): ModeState {
    const o = decode.object(json);
    const history = decode.numberArray(o.history, 'history');
    if (history.length > this.params.maxHistory) throw new Error('history is longer than maxHistory');
    if (!history.every(isInt32)) throw new Error('history must hold 32-bit integers');
    if (!Array.isArray(o.last) || o.last.length !== 2) throw new Error('last must be a [value, count] pair');
    const lastValue = decode.number(o.last[0], 'last value');
    const lastCount = decode.number(o.last[1], 'last count');
    // A bucket may leave the int32 range (bucket(−2³¹) = −2.2e9), so only integrality is checked.
    if (!Number.isSafeInteger(lastValue) || !Number.isSafeInteger(lastCount)) throw new Error('last must hold integers');
    const lastObserved = o.lastObserved === null ? null : decode.number(o.lastObserved, 'lastObserved');
    if (lastObserved !== null && !Number.isFinite(lastObserved)) throw new Error('lastObserved must be finite');
    const st = this.newState();
    for (const v of history) {
      st.pushHistory(v);
      st.addBucket(bucket(v));
    }
    if (lastObserved !== null) {
      st.observed = true;
      st.buf[LAST_OBSERVED] = lastObserved;
    }
    st.buf[LAST_VALUE] = lastValue;
    st.buf[LAST_COUNT] = lastCount;
    return st;
  }
}

function isInt32(x: number): boolean {
  return Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;
}

export const modeDefinition: DetectorDefinition<ModeParams> = {
  name: 'mode',
  paramSet: modeParamSet,
  create: (params) => new ModeDetector(params),
};
