/**
 * History reads (data-formats.md §10): one chunked InfluxQL query per measurement, read a
 * chunk at a time and merged by time across measurements, delivered in groups whose
 * delivery the consumer may make wait (the pace of the flow). A query that fails with a
 * retryable error (server down, timeout) is resumed after a back-off from the last time
 * delivered, skipping the rows of that millisecond already delivered: nothing is lost or
 * repeated.
 */
import type { InfluxClient, StatementResult } from '../influx/client';
import { InfluxError } from '../influx/client';
import type { Measurement } from '../measurement';
import { parseAmpPoint } from './parse';
import type { PointLike } from './result';
import { AmpSourceSchema, HistoryRange, RowDecoder, TagFilter, historyQuery } from './source-query';

export interface RetryPolicy {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { firstMs: 1000, maxMs: 30_000 };

/** Exponential back-off: first, doubling, capped. */
export class Backoff {
  private failures = 0;
  constructor(private readonly policy: RetryPolicy = DEFAULT_RETRY) {}
  next(): number {
    const ms = Math.min(this.policy.maxMs, this.policy.firstMs * 2 ** Math.min(this.failures, 20));
    this.failures++;
    return ms;
  }
  reset(): void {
    this.failures = 0;
  }
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function asInfluxError(err: unknown): InfluxError {
  if (err instanceof InfluxError) return err;
  const e = err as { message?: string };
  return new InfluxError(e?.message ?? String(err), 'protocol', 'error');
}

export interface HistoryOptions {
  client: InfluxClient;
  database: string;
  retentionPolicy: string;
  schema: AmpSourceSchema;
  measurements: readonly string[];
  filter: TagFilter;
  range: Pick<HistoryRange, 'after' | 'until'>;
  /** Rows per chunk of the answer (chunk_size). */
  chunkSize: number;
  /** Measurements per delivery. */
  groupSize: number;
  retry?: RetryPolicy;
  signal: AbortSignal;
  /** Idle timeout per chunk (default: the client's). */
  idleTimeoutMs?: number;
}

export interface HistoryHandlers {
  /** In time order; the read waits for a returned promise before going on. */
  deliver(ms: Measurement[]): void | Promise<void>;
  /** A row that is not a valid AMP measurement (counted, skipped). */
  parseError(reason: string): void;
  /** A retryable failure: the read waits `retryInMs` and resumes. */
  failing(err: InfluxError, retryInMs: number): void;
  /** The server answers again after a failure. */
  recovered(): void;
}

export interface HistoryStats {
  rows: number;
  delivered: number;
  parseErrors: number;
  retries: number;
}

/** A row's identity for resuming: measurement, tags and time. */
function rowId(p: PointLike): string {
  let id = `${p.measurement}\u0000${p.time}`;
  for (const k of Object.keys(p.tags).sort()) id += `\u0000${k}=${p.tags[k]}`;
  return id;
}

class Cursor {
  private iter: AsyncGenerator<StatementResult> | null = null;
  private readonly decoder: RowDecoder;
  private buf: Measurement[] = [];
  private pos = 0;
  done = false;
  /** Time of the last row taken from the answer, and the ids of the rows at that time. */
  private lastTime: number | undefined;
  private idsAtLast = new Set<string>();
  private resumeFrom: number | undefined;
  private readonly backoff: Backoff;

  constructor(private readonly measurement: string, private readonly o: HistoryOptions, private readonly h: HistoryHandlers, private readonly stats: HistoryStats) {
    this.decoder = new RowDecoder(measurement);
    this.backoff = new Backoff(o.retry);
  }

  head(): Measurement | undefined {
    return this.pos < this.buf.length ? this.buf[this.pos] : undefined;
  }

  take(): Measurement {
    return this.buf[this.pos++];
  }

  async close(): Promise<void> {
    const it = this.iter;
    this.iter = null;
    if (it) await it.return(undefined).catch(() => undefined);
  }

  private open(): AsyncGenerator<StatementResult> {
    const { o } = this;
    const range: HistoryRange = this.resumeFrom !== undefined
      ? { from: this.resumeFrom, until: o.range.until }
      : { after: o.range.after, until: o.range.until };
    const q = historyQuery(o.database, o.retentionPolicy, this.measurement, range, o.filter);
    return o.client.queryChunks(q, { db: o.database, chunkSize: o.chunkSize, signal: o.signal, idleTimeoutMs: o.idleTimeoutMs });
  }

  /** Make head() defined, or done true. Throws non-retryable failures. */
  async fill(): Promise<void> {
    let failing = false;
    while (!this.done && this.pos >= this.buf.length && !this.o.signal.aborted) {
      this.iter ??= this.open();
      let r: IteratorResult<StatementResult>;
      try {
        r = await this.iter.next();
      } catch (err) {
        const e = asInfluxError(err);
        this.iter = null;
        if (this.o.signal.aborted) return;
        if (!e.retryable) throw e;
        // Resume at the last millisecond read, skipping the rows of it already taken.
        this.resumeFrom = this.lastTime;
        const wait = this.backoff.next();
        this.stats.retries++;
        failing = true;
        this.h.failing(e, wait);
        await sleep(wait, this.o.signal);
        continue;
      }
      if (failing) {
        failing = false;
        this.backoff.reset();
        this.h.recovered();
      }
      if (r.done) {
        this.done = true;
        this.iter = null;
        return;
      }
      this.buf = this.measurements(this.decoder.decode(r.value));
      this.pos = 0;
    }
  }

  private measurements(points: PointLike[]): Measurement[] {
    const out: Measurement[] = [];
    for (const p of points) {
      const id = rowId(p);
      if (p.time === this.lastTime) {
        if (this.idsAtLast.has(id)) continue; // already taken before a resume
        this.idsAtLast.add(id);
      } else {
        this.lastTime = p.time;
        this.idsAtLast = new Set([id]);
      }
      this.stats.rows++;
      const parsed = parseAmpPoint(p, this.o.schema);
      if (parsed.status === 'ok') out.push(parsed.measurement);
      else if (parsed.status === 'failed') {
        this.stats.parseErrors++;
        this.h.parseError(parsed.error);
      }
    }
    return out;
  }
}

/**
 * Read the range of every measurement, merged by time (ties: in the order of `measurements`).
 * Resolves when all is delivered or the signal aborted; rejects on a failure that retrying
 * cannot fix (bad query, missing database, credentials).
 */
export async function readHistory(o: HistoryOptions, h: HistoryHandlers): Promise<HistoryStats> {
  const stats: HistoryStats = { rows: 0, delivered: 0, parseErrors: 0, retries: 0 };
  const cursors = o.measurements.map((m) => new Cursor(m, o, h, stats));
  try {
    await Promise.all(cursors.map((c) => c.fill()));
    let group: Measurement[] = [];
    for (;;) {
      if (o.signal.aborted) return stats;
      let best: Cursor | null = null;
      let bestTime = Infinity;
      for (const c of cursors) {
        const m = c.head();
        if (m !== undefined && m.time < bestTime) {
          best = c;
          bestTime = m.time;
        }
      }
      if (best === null) break;
      group.push(best.take());
      if (best.head() === undefined) await best.fill();
      if (group.length >= o.groupSize) {
        const g = group;
        group = [];
        stats.delivered += g.length;
        await h.deliver(g);
      }
    }
    if (group.length && !o.signal.aborted) {
      stats.delivered += group.length;
      await h.deliver(group);
    }
    return stats;
  } finally {
    await Promise.all(cursors.map((c) => c.close()));
  }
}
