/**
 * Paces a replay of Latency TS I files: as fast as the consumer keeps up (yielding to the event
 * loop between chunks), in (scaled) real time, or in batches. Independent of Node-RED: the node
 * adapter supplies a sink that turns measurements into msgs.
 */
import { performance } from 'node:perf_hooks';
import type { Measurement } from '../measurement';
import type { LatencyTsReader, ReaderStats } from './reader';

export type ReplayMode = 'fast' | 'realtime' | 'batch';

export interface ReplayOptions {
  mode: ReplayMode;
  /** Realtime only: 1 = real time, 60 = one minute of data per second. */
  speed: number;
  /** Batch only: measurements per msg. */
  batchSize: number;
  /** Start again from the beginning after the end. */
  loop: boolean;
  /** Measurements sent between two yields in fast and realtime mode (default 200). */
  chunk?: number;
}

/** Reader figures summed over passes; `rows` counts the measurements sent so far. */
export interface ReplayStats extends ReaderStats {
  /** 1 for the first pass over the files; counts go up with each loop. */
  passes: number;
  elapsedMs: number;
  rowsPerSecond: number;
  /** Fraction of the current pass's bytes read, 0..1. */
  progress: number;
}

export interface ReplaySink {
  /** One chunk of measurements, in time order (a whole msg's worth in batch mode). */
  data(measurements: Measurement[]): void;
  /** After each chunk (throttle on the receiving side). */
  progress?(stats: ReplayStats): void;
  /** End of one pass when looping, just before the files are read again. */
  passEnd?(stats: ReplayStats): void;
  complete(stats: ReplayStats): void;
  /** A failure while reading; the replay has stopped. */
  error(err: Error): void;
}

export type ReplayState = 'idle' | 'running' | 'stopped' | 'done' | 'failed';

/** setTimeout cannot wait longer than 2^31-1 ms; longer gaps are slept in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_CHUNK = 200;

type Counts = Pick<ReaderStats, 'malformed' | 'skipped' | 'outOfOrder'>;

export class Replay {
  state: ReplayState = 'idle';
  private reader: LatencyTsReader | null = null;
  private cancelled = false;
  private running: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private passes = 1;
  /** Counts of the passes before the current one. */
  private carried: Counts = { malformed: 0, skipped: 0, outOfOrder: 0 };
  /** Measurements handed to the sink, over all passes (the reader may have read ahead). */
  private sent = 0;
  private startedAt = 0;
  private readonly chunk: number;

  constructor(
    private readonly openReader: () => Promise<LatencyTsReader>,
    private readonly opts: ReplayOptions,
    private readonly sink: ReplaySink,
  ) {
    this.chunk = opts.chunk ?? DEFAULT_CHUNK;
  }

  /** Open the files and start sending; resolves once reading has begun, rejects if it cannot. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`replay already ${this.state}`);
    this.state = 'running';
    this.startedAt = performance.now();
    try {
      this.reader = await this.openReader();
    } catch (err) {
      this.state = 'failed';
      throw err;
    }
    if (this.cancelled) {
      await this.reader.close();
      return;
    }
    this.running = this.run(this.reader);
  }

  /** Stop sending, cancel timers and close the files; resolves when all is released. */
  async stop(): Promise<void> {
    this.cancelled = true;
    this.wake?.();
    await this.running;
    if (this.state === 'running') this.state = 'stopped';
  }

  get stats(): ReplayStats {
    const base = this.reader?.stats ?? { files: 0, rows: 0, malformed: 0, skipped: 0, outOfOrder: 0, bytesRead: 0, totalBytes: 0, buffered: 0, bufferedChars: 0 };
    const elapsedMs = this.startedAt ? performance.now() - this.startedAt : 0;
    const rows = this.sent;
    return {
      ...base,
      rows,
      malformed: this.carried.malformed + base.malformed,
      skipped: this.carried.skipped + base.skipped,
      outOfOrder: this.carried.outOfOrder + base.outOfOrder,
      passes: this.passes,
      elapsedMs,
      rowsPerSecond: elapsedMs > 0 ? (rows * 1000) / elapsedMs : 0,
      progress: this.reader?.progress ?? 0,
    };
  }

  private async run(first: LatencyTsReader): Promise<void> {
    let reader = first;
    try {
      for (;;) {
        await (this.opts.mode === 'realtime' ? this.pumpRealtime(reader) : this.pumpFast(reader));
        if (this.cancelled) return;
        if (!this.opts.loop) {
          this.state = 'done';
          this.sink.complete(this.stats);
          return;
        }
        this.sink.passEnd?.(this.stats);
        const s = reader.stats;
        this.carried = {
          malformed: this.carried.malformed + s.malformed,
          skipped: this.carried.skipped + s.skipped,
          outOfOrder: this.carried.outOfOrder + s.outOfOrder,
        };
        await reader.close();
        this.reader = null;
        reader = await this.openReader();
        this.reader = reader;
        this.passes++;
        if (this.cancelled) return;
      }
    } catch (err) {
      if (!this.cancelled) {
        this.state = 'failed';
        this.sink.error(err instanceof Error ? err : new Error(String(err)));
      }
    } finally {
      await reader.close();
    }
  }

  /** Fast and batch: a chunk, then a turn of the event loop so the flow can drain it. */
  private async pumpFast(reader: LatencyTsReader): Promise<void> {
    const size = this.opts.mode === 'batch' ? this.opts.batchSize : this.chunk;
    for (;;) {
      const ms = await reader.next(size);
      if (this.cancelled || ms.length === 0) return;
      this.send(ms);
      this.sink.progress?.(this.stats);
      await this.pause(null);
      if (this.cancelled) return;
    }
  }

  /**
   * Realtime: measurement t is due at wallStart + (t - firstTime) / speed. Measurements that
   * are due are sent together; before a gap the replay sleeps on a timer.
   */
  private async pumpRealtime(reader: LatencyTsReader): Promise<void> {
    let dataStart: number | null = null;
    let wallStart = 0;
    const group: Measurement[] = [];
    const flush = (): void => {
      if (group.length === 0) return;
      this.send(group.splice(0));
      this.sink.progress?.(this.stats);
    };
    for (;;) {
      const ms = await reader.next(this.chunk);
      if (this.cancelled) return;
      if (ms.length === 0) break;
      let slept = false;
      for (const m of ms) {
        if (dataStart === null) {
          dataStart = m.time;
          wallStart = performance.now();
        }
        const due = wallStart + (m.time - dataStart) / this.opts.speed;
        for (let wait = due - performance.now(); wait >= 1; wait = due - performance.now()) {
          flush();
          await this.pause(Math.min(wait, MAX_TIMER_MS));
          if (this.cancelled) return;
          slept = true;
        }
        group.push(m);
      }
      flush();
      if (!slept) {
        await this.pause(null);
        if (this.cancelled) return;
      }
    }
    flush();
  }

  private send(ms: Measurement[]): void {
    this.sent += ms.length;
    this.sink.data(ms);
  }

  /** Sleep for ms (null = until the next turn of the event loop); stop() wakes it early. */
  private pause(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === null ? setImmediate(() => done()) : setTimeout(() => done(), ms);
      const done = (): void => {
        if (ms === null) clearImmediate(timer as NodeJS.Immediate);
        else clearTimeout(timer as NodeJS.Timeout);
        this.wake = null;
        resolve();
      };
      this.wake = done;
    });
  }
}

/** Status text while reading, e.g. `reading: 1200 rows · 42% · 8100 rows/s`. */
export function progressText(s: ReplayStats): string {
  const parts = [`reading: ${s.rows} rows`, `${Math.floor(s.progress * 100)}%`, `${Math.round(s.rowsPerSecond)} rows/s`];
  if (s.malformed) parts.push(`${s.malformed} malformed`);
  if (s.passes > 1) parts.push(`pass ${s.passes}`);
  return parts.join(' · ');
}

/** Status text at the end, e.g. `done: 1200 rows (3 malformed)`. */
export function doneText(s: ReplayStats): string {
  return `done: ${s.rows} rows (${s.malformed} malformed)`;
}
