/**
 * A fixed-capacity FIFO of doubles over a Float64Array: push drops the oldest entry once
 * full, with no allocation on the hot path.
 */
export class RingBuffer {
  private readonly buf: Float64Array;
  private start = 0;
  private len = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
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

  /** The i-th entry, oldest first. */
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
