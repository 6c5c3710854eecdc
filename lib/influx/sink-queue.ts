/**
 * The write queue behind the InfluxDB sink (data-formats.md §12.2): a bounded buffer written
 * in batches (by size or age), one request at a time, retried with exponential back-off while
 * the server is unreachable, split when the server refuses a batch as too large or rejects
 * some of its lines, with a completion callback per item so that every msg ends in exactly one
 * done() or done(err). Pure: the writer, the failure classifier and the clock are injected.
 */

export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

/**
 * What to do with a batch whose write failed:
 * - retry: the server may come back (5xx, network, timeout): back off, then write again;
 * - split: some lines are bad (400 partial write): write the halves separately to isolate them;
 * - shrink: the body is too large (413): split, and send smaller batches until drained;
 * - fail: nothing will help (401/403/404, a 400 on every line): report every item.
 */
export type FailureAction = 'retry' | 'split' | 'shrink' | 'fail';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Called once per item: without an error once the write containing it succeeded. */
export type Completion = (err?: Error) => void;

export type SinkEvent =
  | { type: 'written'; count: number }
  | { type: 'retrying'; error: Error; delayMs: number; held: number }
  | { type: 'failed'; error: Error; count: number; reason: 'rejected' | 'expired' | 'closed' }
  | { type: 'dropped'; count: number; policy: OverflowPolicy }
  | { type: 'drained' };

export interface SinkQueueOptions<T> {
  /** Most items per write. */
  batchSize: number;
  /** Longest an item waits for its batch to fill (ms). */
  batchIntervalMs: number;
  /** Most items held (queued, waiting for a retry or being written). */
  bufferLimit: number;
  overflow: OverflowPolicy;
  /** First retry delay (ms), doubled per consecutive failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** An item older than this (ms since push) is failed when a retryable write fails. */
  maxRetryAgeMs: number;
  /** An item attempted this many times is failed at the next retryable failure; 0 = no limit. */
  maxAttempts?: number;
  write(items: T[], signal: AbortSignal): Promise<void>;
  classify(err: unknown, count: number): FailureAction;
  clock?: Clock;
  onEvent?(event: SinkEvent): void;
}

/** Longest retry delay while closing: the close deadline is a few seconds away. */
const CLOSING_RETRY_MS = 1000;

export class SinkOverflowError extends Error {
  override readonly name = 'SinkOverflowError';
}

interface Entry<T> {
  item: T;
  pushedAt: number;
  attempts: number;
  done: Completion;
  settled: boolean;
}

export interface SinkStats {
  held: number;
  written: number;
  failed: number;
  dropped: number;
  retrying: boolean;
  lastError: Error | null;
}

function chunks<E>(list: E[], size: number): E[][] {
  const out: E[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export class SinkQueue<T> {
  private readonly clock: Clock;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  /** Items not yet taken into a batch, oldest first. */
  private queue: Entry<T>[] = [];
  /** Batches taken from the queue (halves after a split), written in order; [0] may be in flight. */
  private segments: Entry<T>[][] = [];
  private inFlight: AbortController | null = null;
  private batchTimer: unknown = undefined;
  private backoffTimer: unknown = undefined;
  private failures = 0;
  /** Lowered after a 413 until the backlog is drained. */
  private batchLimit: number;
  private closing = false;
  private closed = false;
  private drainWaiters: Array<() => void> = [];
  private readonly counts = { held: 0, written: 0, failed: 0, dropped: 0 };
  private lastError: Error | null = null;

  constructor(private readonly opts: SinkQueueOptions<T>) {
    if (!(opts.batchSize >= 1)) throw new RangeError('batchSize must be at least 1');
    if (!(opts.bufferLimit >= 1)) throw new RangeError('bufferLimit must be at least 1');
    this.clock = opts.clock ?? systemClock;
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    this.batchLimit = opts.batchSize;
  }

  get stats(): SinkStats {
    return { ...this.counts, retrying: this.backoffTimer !== undefined, lastError: this.lastError };
  }

  /** Items held: queued, waiting for a retry or being written. */
  get size(): number {
    return this.counts.held;
  }

  /**
   * Queue one item. Returns false when it was not accepted (buffer full under drop-newest,
   * or closing): its completion has then been called with the reason.
   */
  push(item: T, done: Completion): boolean {
    const entry: Entry<T> = { item, pushedAt: this.clock.now(), attempts: 0, done, settled: false };
    if (this.closing) {
      this.settle(entry, new Error('the sink is closing: not written'));
      return false;
    }
    if (this.counts.held >= this.opts.bufferLimit) {
      const victim = this.opts.overflow === 'drop-oldest' ? this.takeOldestDroppable() : null;
      if (!victim) {
        this.overflow(entry, 'newest');
        return false;
      }
      this.counts.held--;
      this.overflow(victim, 'oldest');
    }
    this.queue.push(entry);
    this.counts.held++;
    this.pump();
    return true;
  }

  /**
   * Queue items that belong together (e.g. the lines of one msg): all of them are taken, or
   * none. Under drop-oldest, older items not being written are dropped to make room; when that
   * cannot make enough room (or under drop-newest, when they do not fit), all of them are
   * refused, and their completions called with the reason. Returns whether they were taken.
   */
  pushAll(items: readonly T[], done: Completion): boolean {
    if (items.length === 0) return true;
    if (items.length === 1) return this.push(items[0], done);
    const now = this.clock.now();
    const entries: Entry<T>[] = items.map((item) => ({ item, pushedAt: now, attempts: 0, done, settled: false }));
    if (this.closing) {
      const err = new Error('the sink is closing: not written');
      for (const e of entries) this.settle(e, err);
      return false;
    }
    const excess = this.counts.held + entries.length - this.opts.bufferLimit;
    if (excess > 0) {
      if (this.opts.overflow !== 'drop-oldest' || this.droppable() < excess) {
        this.refuseAll(entries);
        return false;
      }
      for (let i = 0; i < excess; i++) {
        const victim = this.takeOldestDroppable() as Entry<T>;
        this.counts.held--;
        this.overflow(victim, 'oldest');
      }
    }
    for (const e of entries) this.queue.push(e);
    this.counts.held += entries.length;
    this.pump();
    return true;
  }

  /**
   * Write what is held, without waiting for batches to fill or back-off to end; resolves when
   * all is written, or after timeoutMs, when whatever is left is failed (and an open request
   * aborted). Later pushes are refused.
   */
  close(timeoutMs: number): Promise<{ unwritten: number }> {
    this.closing = true;
    this.clearTimer('batchTimer');
    if (this.backoffTimer !== undefined) {
      this.clearTimer('backoffTimer');
    }
    this.pump();
    return new Promise((resolve) => {
      const finish = (): void => {
        this.closed = true;
        this.clock.clearTimeout(deadline);
        resolve({ unwritten: 0 });
      };
      const deadline = this.clock.setTimeout(() => {
        this.drainWaiters = this.drainWaiters.filter((w) => w !== finish);
        const left = this.abandonAll();
        resolve({ unwritten: left });
      }, timeoutMs);
      if (this.counts.held === 0) finish();
      else this.drainWaiters.push(finish);
    });
  }

  // ---- writing -------------------------------------------------------------------------

  private pump(): void {
    if (this.closed || this.inFlight || this.backoffTimer !== undefined) return;
    const batch = this.nextBatch();
    if (!batch) {
      this.armBatchTimer();
      return;
    }
    this.clearTimer('batchTimer');
    this.attempt(batch);
  }

  /** The next batch to write, or null when the queue should wait for more items. */
  private nextBatch(): Entry<T>[] | null {
    if (this.segments.length) return this.segments[0];
    if (this.queue.length === 0) return null;
    const due = this.queue.length >= this.batchLimit || this.closing || this.failures > 0
      || this.clock.now() - this.queue[0].pushedAt >= this.opts.batchIntervalMs;
    if (!due) return null;
    const batch = this.queue.splice(0, this.batchLimit);
    this.segments.push(batch);
    return batch;
  }

  private armBatchTimer(): void {
    if (this.batchTimer !== undefined || this.queue.length === 0) return;
    const wait = Math.max(0, this.queue[0].pushedAt + this.opts.batchIntervalMs - this.clock.now());
    this.batchTimer = this.clock.setTimeout(() => {
      this.batchTimer = undefined;
      this.pump();
    }, wait);
  }

  private attempt(batch: Entry<T>[]): void {
    const controller = new AbortController();
    this.inFlight = controller;
    for (const e of batch) e.attempts++;
    let result: Promise<void>;
    try {
      result = this.opts.write(batch.map((e) => e.item), controller.signal);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      () => this.afterWrite(controller, batch, null),
      (err: unknown) => this.afterWrite(controller, batch, asError(err)),
    );
  }

  private afterWrite(controller: AbortController, batch: Entry<T>[], err: Error | null): void {
    if (this.inFlight !== controller) return; // abandoned at close: already settled
    this.inFlight = null;
    // Items dropped by overflow while in flight are settled already; the rest share the outcome.
    if (this.segments[0] === batch) this.segments.shift();
    const live = batch.filter((e) => !e.settled);
    if (!err) this.succeeded(live);
    else this.failed(live, err);
    this.pump();
  }

  private succeeded(batch: Entry<T>[]): void {
    this.failures = 0;
    this.lastError = null;
    this.counts.held -= batch.length;
    this.counts.written += batch.length;
    for (const e of batch) this.settle(e);
    if (batch.length) this.emit({ type: 'written', count: batch.length });
    this.checkDrained();
  }

  private failed(batch: Entry<T>[], err: Error): void {
    if (batch.length === 0) return;
    this.lastError = err;
    const action = this.opts.classify(err, batch.length);
    if (action === 'split' && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      this.segments.unshift(batch.slice(0, half), batch.slice(half));
      return;
    }
    if (action === 'shrink' && batch.length > 1) {
      // Every batch still to go is cut to the new size, so none is refused for its size again.
      this.batchLimit = Math.max(1, Math.min(this.batchLimit, Math.floor(batch.length / 2)));
      this.segments = [batch, ...this.segments].flatMap((seg) => chunks(seg, this.batchLimit));
      return;
    }
    if (action === 'retry') {
      this.scheduleRetry(batch, err);
      return;
    }
    this.fail(batch, err, 'rejected');
  }

  private scheduleRetry(batch: Entry<T>[], err: Error): void {
    // Everything goes back in order: the retry re-forms full batches from the oldest items.
    this.queue = [...batch, ...this.segments.flat(), ...this.queue];
    this.segments = [];
    this.expire(err);
    if (this.counts.held === 0) return;
    this.failures++;
    const backoff = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(this.failures - 1, 30));
    // Closing: keep trying often until the close deadline, in case the server is back.
    const delay = this.closing ? Math.min(backoff, CLOSING_RETRY_MS) : backoff;
    this.backoffTimer = this.clock.setTimeout(() => {
      this.backoffTimer = undefined;
      this.pump();
    }, delay);
    this.emit({ type: 'retrying', error: err, delayMs: delay, held: this.counts.held });
  }

  /** Fail the oldest items that are too old or were tried too often. */
  private expire(err: Error): void {
    const now = this.clock.now();
    const maxAttempts = this.opts.maxAttempts ?? 0;
    let n = 0;
    while (n < this.queue.length) {
      const e = this.queue[n];
      const tooOld = now - e.pushedAt >= this.opts.maxRetryAgeMs;
      const tooOften = maxAttempts > 0 && e.attempts >= maxAttempts;
      if (!tooOld && !tooOften) break;
      n++;
    }
    if (n === 0) return;
    const expired = this.queue.splice(0, n);
    // The cause keeps the server's error (and its code, e.g. ECONNREFUSED, for the status).
    const why = new Error(`not written after retrying for ${Math.round((now - expired[expired.length - 1].pushedAt) / 1000)} s: ${err.message}`, { cause: err });
    this.fail(expired, why, 'expired');
  }

  private fail(entries: Entry<T>[], err: Error, reason: 'rejected' | 'expired' | 'closed'): void {
    if (entries.length === 0) return;
    this.counts.held -= entries.length;
    this.counts.failed += entries.length;
    for (const e of entries) this.settle(e, err);
    this.emit({ type: 'failed', error: err, count: entries.length, reason });
    this.checkDrained();
  }

  // ---- overflow and close ----------------------------------------------------------------

  /** The oldest item not being written right now, removed from where it is held. */
  private takeOldestDroppable(): Entry<T> | null {
    for (let i = this.inFlight ? 1 : 0; i < this.segments.length; i++) {
      const seg = this.segments[i];
      if (seg.length) {
        const victim = seg.shift() as Entry<T>;
        if (seg.length === 0) this.segments.splice(i, 1);
        return victim;
      }
    }
    return this.queue.shift() ?? null;
  }

  /** Items held that could be dropped: all but those being written right now. */
  private droppable(): number {
    let n = this.queue.length;
    for (let i = this.inFlight ? 1 : 0; i < this.segments.length; i++) n += this.segments[i].length;
    return n;
  }

  /** Items pushed together that do not fit: refuse them all, keeping what is held. */
  private refuseAll(entries: Entry<T>[]): void {
    this.counts.dropped += entries.length;
    const room = this.opts.overflow === 'drop-oldest' ? ' even after dropping the older ones not being written' : '';
    const err = new SinkOverflowError(`buffer full (${this.counts.held} held, limit ${this.opts.bufferLimit}): these ${entries.length} items pushed together do not fit${room}, so none of them was taken; the older ones are kept`);
    for (const e of entries) this.settle(e, err);
    this.emit({ type: 'dropped', count: entries.length, policy: this.opts.overflow });
  }

  private overflow(entry: Entry<T>, which: 'oldest' | 'newest'): void {
    this.counts.dropped++;
    const kept = which === 'oldest' ? 'the newest are kept' : 'the older ones are kept';
    this.settle(entry, new SinkOverflowError(`buffer full (${this.opts.bufferLimit} held while the server does not accept writes): dropped this ${which === 'oldest' ? 'oldest' : 'newest'} item; ${kept}`));
    this.emit({ type: 'dropped', count: 1, policy: this.opts.overflow });
  }

  /** At the close deadline: fail everything still held and abort the open request. */
  private abandonAll(): number {
    this.closed = true;
    this.clearTimer('batchTimer');
    this.clearTimer('backoffTimer');
    const left = [...this.segments.flat(), ...this.queue].filter((e) => !e.settled);
    this.segments = [];
    this.queue = [];
    const controller = this.inFlight;
    this.inFlight = null;
    controller?.abort();
    const cause = this.lastError ? `: ${this.lastError.message}` : '';
    this.fail(left, new Error(`not written before the sink closed${cause}`, this.lastError ? { cause: this.lastError } : undefined), 'closed');
    return left.length;
  }

  private checkDrained(): void {
    if (this.counts.held !== 0) return;
    this.batchLimit = this.opts.batchSize;
    this.emit({ type: 'drained' });
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private settle(e: Entry<T>, err?: Error): void {
    if (e.settled) return;
    e.settled = true;
    try {
      e.done(err);
    } catch {
      // A completion that throws must not break the queue.
    }
  }

  private emit(event: SinkEvent): void {
    try {
      this.opts.onEvent?.(event);
    } catch {
      // Listener errors are the listener's business.
    }
  }

  private clearTimer(which: 'batchTimer' | 'backoffTimer'): void {
    if (this[which] !== undefined) this.clock.clearTimeout(this[which]);
    this[which] = undefined;
  }
}
