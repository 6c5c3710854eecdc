/**
 * Per-stream storage helpers. A detector keeps one stream's numbers in a single plain array
 * of doubles (see `doubles`): a Float64Array costs some 150–200 bytes beyond its data
 * (typed array, ArrayBuffer and an off-heap backing store), a packed double array about 50,
 * and it lives in the JS heap next to the stream's other state, which matters for speed when
 * thousands of streams are interleaved.
 */

/** Packed-double templates by length: `slice` copies one much faster than building an array. */
const templates = new Map<number, number[]>();

/**
 * A new array of n zeros whose elements are stored as unboxed doubles (V8's
 * PACKED_DOUBLE_ELEMENTS), as fast to index as a Float64Array. Keep it that way: write only
 * numbers, and only at indices below n (never grow it, never leave holes), or every array
 * of the kind slows down.
 */
export function doubles(n: number): number[] {
  let t = templates.get(n);
  if (t === undefined) {
    t = [];
    // Pushing a non-integer makes the array packed doubles; `new Array(n)` would be holey.
    for (let i = 0; i < n; i++) t.push(0.5);
    t.fill(0);
    templates.set(n, t);
  }
  return t.slice();
}

/**
 * x itself, as a small integer (Smi) when it is an integer. Parameters often arrive as heap
 * doubles (50.0), and every field and index computed from one would then be a boxed double:
 * more memory per stream and slower indexing.
 */
export function smallInt(x: number): number {
  return (x | 0) === x ? x | 0 : x;
}

/**
 * A fixed-capacity FIFO of doubles: push drops the oldest entry once full, with no
 * allocation on the hot path.
 */
export class RingBuffer {
  readonly capacity: number;
  private readonly buf: number[];
  private start = 0;
  private len = 0;

  constructor(capacity: number) {
    this.capacity = smallInt(capacity);
    this.buf = doubles(this.capacity);
  }

  get length(): number {
    return this.len;
  }

  /** Append; returns the dropped oldest value when the buffer was full, else undefined. */
  push(v: number): number | undefined {
    if (this.len < this.capacity) {
      let idx = this.start + this.len;
      if (idx >= this.capacity) idx -= this.capacity;
      this.buf[idx] = v;
      this.len++;
      return undefined;
    }
    const dropped = this.buf[this.start];
    this.buf[this.start] = v;
    this.start = this.start + 1 === this.capacity ? 0 : this.start + 1;
    return dropped;
  }

  /** The i-th entry, oldest first (0 ≤ i < length). */
  at(i: number): number {
    // A conditional subtraction is much cheaper than % on the hot path.
    let idx = this.start + i;
    if (idx >= this.capacity) idx -= this.capacity;
    return this.buf[idx];
  }

  /** The most recently pushed entry (undefined when empty). */
  last(): number | undefined {
    return this.len === 0 ? undefined : this.at(this.len - 1);
  }

  clear(): void {
    this.start = 0;
    this.len = 0;
  }

  toArray(): number[] {
    const out = new Array<number>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.at(i);
    return out;
  }

  /** Build from values (oldest first); keeps the newest `capacity` values. */
  static from(capacity: number, values: readonly number[]): RingBuffer {
    const r = new RingBuffer(capacity);
    for (const v of values) r.push(v);
    return r;
  }
}
