/**
 * The AMP InfluxDB source without Node-RED (data-formats.md §9–§11):
 * - history: the range read by readHistory, merged by time, paced by the consumer;
 * - live: an HTTP listener, a subscription pointing at it (add-or-update, checked every
 *   `checkIntervalMs` and re-created when missing, dropped on stop), POSTed line protocol
 *   parsed into AMP measurements as it comes;
 * - history+live: subscribe first and buffer, read the history with no upper bound, deliver
 *   the buffered points history did not deliver, then pass live points through (CatchUp).
 * InfluxDB failures never end a run that retrying can fix: the state says so, the run
 * retries with back-off and resumes.
 */
import os from 'node:os';
import type { InfluxClient } from '../influx/client';
import { InfluxError } from '../influx/client';
import { parseLines, Point } from '../influx/line-parser';
import { SubscriptionListener, WriteOutcome, WriteRequest } from '../influx/listener';
import { SubscriptionManager } from '../influx/subscription';
import type { Measurement } from '../measurement';
import { CatchUp } from './catchup';
import { Backoff, DEFAULT_RETRY, RetryPolicy, asInfluxError, readHistory, sleep } from './history';
import { parseAmpPoint } from './parse';
import { AmpSourceSchema, TagFilter, tagsMatch } from './source-query';

export type AmpRunMode = 'history' | 'live' | 'history+live';
export type SourcePhase = 'idle' | 'subscribing' | 'history' | 'live' | 'done' | 'stopped' | 'failed';

export interface SourceState {
  phase: SourcePhase;
  /** What the last contact with InfluxDB said. */
  influx: 'unknown' | 'ok' | 'down';
  /** For 'down': the error code (HTTP status or socket error) and text. */
  code?: string;
  message?: string;
  /** For 'down': the InfluxError kind (network, timeout, server: unreachable; others: a refusal). */
  kind?: string;
  retryInMs?: number;
}

export interface SourceCounts {
  /** Measurements delivered from the history, and live. */
  history: number;
  live: number;
  /** Lines or rows that are not valid line protocol or not valid AMP measurements. */
  parseErrors: number;
  /** Listener answers 400 and 413. */
  rejected: number;
  tooLarge: number;
  /** Live points held during catch-up, now. */
  buffered: number;
  /** Live copies of points history delivered (dropped at the seam). */
  duplicates: number;
  /** Live POSTs received. */
  requests: number;
}

export interface ListenSettings {
  /** Bind address (default 127.0.0.1). */
  host: string;
  /** 0 = a free port. */
  port: number;
  /** The host InfluxDB reaches us at; '' = the bind address (or the first external IPv4 when binding to all). */
  advertisedHost: string;
  maxBodyBytes: number;
  subscriptionName: string;
  /** How often the subscription is checked (and InfluxDB with it). */
  checkIntervalMs: number;
}

export interface AmpSourceSettings {
  client: InfluxClient;
  database: string;
  /** '' = the database's default retention policy. */
  retentionPolicy: string;
  schema: AmpSourceSchema;
  measurements: readonly string[];
  tagFilter: TagFilter;
  /** Rows per history chunk. */
  chunkSize: number;
  /** Measurements per delivery (history and catch-up). */
  groupSize: number;
  /** Most live points held during catch-up. */
  bufferLimit: number;
  listen: ListenSettings;
  retry?: RetryPolicy;
  /** Wait after the subscription exists before reading history (InfluxDB applies it asynchronously). */
  settleMs?: number;
  /** History rows this long before the switch start are remembered to drop late live copies. */
  dedupeWindowMs?: number;
  /** How long after the switch late live copies are still looked for. */
  dedupeGraceMs?: number;
}

export interface SourceHandlers {
  /** Measurements in delivery order; a returned promise holds the source back (history) or the listener's answer (live). */
  deliver(ms: Measurement[], phase: 'history' | 'live'): void | Promise<void>;
  state(s: SourceState): void;
  /** One malformed line, row or request (rate-limit on the receiving side). */
  parseError(reason: string): void;
  /** The history part is complete (history: the run is over; history+live: the switch to live). */
  historyDone?(counts: SourceCounts): void;
  /** The run stopped on an error retrying cannot fix. */
  failed(err: Error): void;
  warn?(text: string): void;
}

export interface RunRange {
  /** Exclusive lower bound, epoch ms. */
  start?: number;
  /** Inclusive upper bound, epoch ms (history mode only). */
  end?: number;
}

/** The first non-internal IPv4 address, preferring a public one; else localhost (§9.1). */
export function externalAddress(): string {
  const candidates: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) candidates.push(a.address);
  }
  const isPrivate = (ip: string): boolean => /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(ip);
  return candidates.find((ip) => !isPrivate(ip)) ?? candidates[0] ?? 'localhost';
}

function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export class AmpSource {
  readonly counts: SourceCounts = { history: 0, live: 0, parseErrors: 0, rejected: 0, tooLarge: 0, buffered: 0, duplicates: 0, requests: 0 };
  state: SourceState = { phase: 'idle', influx: 'unknown' };
  /** The URL the subscription points at, once listening. */
  destination = '';
  private listener: SubscriptionListener | null = null;
  private subscription: SubscriptionManager | null = null;
  private subscribed = false;
  private readonly aborter = new AbortController();
  private catchUp: CatchUp | null = null;
  private graceUntil = 0;
  private tasks: Array<Promise<unknown>> = [];
  private readonly measurements: ReadonlySet<string>;
  private readonly hasFilter: boolean;
  private stopping = false;

  constructor(private readonly s: AmpSourceSettings, private readonly h: SourceHandlers) {
    this.measurements = new Set(s.measurements);
    this.hasFilter = Object.keys(s.tagFilter).length > 0;
  }

  get port(): number {
    return this.listener?.port ?? 0;
  }

  private setState(patch: Partial<SourceState>): void {
    const next: SourceState = { ...this.state, ...patch };
    if (patch.influx === 'ok') {
      delete next.code;
      delete next.message;
      delete next.kind;
      delete next.retryInMs;
    }
    this.state = next;
    this.h.state(next);
  }

  private down(err: InfluxError, retryInMs?: number): void {
    this.setState({ influx: 'down', code: err.code, message: err.message, kind: err.kind, retryInMs });
  }

  /**
   * Start a run. Resolves once it is under way (live: listening); rejects when it cannot
   * start at all (the listener cannot bind). Further progress comes through the handlers.
   */
  async start(mode: AmpRunMode, range: RunRange = {}): Promise<void> {
    if (this.state.phase !== 'idle') throw new Error(`amp: source already ${this.state.phase}`);
    if (mode === 'history') {
      this.setState({ phase: 'history' });
      this.track(this.history({ after: range.start, until: range.end ?? Date.now() }, false));
      return;
    }
    await this.listen();
    this.setState({ phase: 'subscribing' });
    if (mode === 'history+live') this.catchUp = new CatchUp(this.s.bufferLimit, Date.now() - (this.s.dedupeWindowMs ?? 600_000));
    const subscribed = this.maintainSubscription();
    this.track(subscribed.then(async () => {
      if (this.aborter.signal.aborted) return;
      if (mode === 'live') {
        this.setState({ phase: 'live' });
        return;
      }
      await sleep(this.s.settleMs ?? 1000, this.aborter.signal);
      if (this.aborter.signal.aborted) return;
      this.setState({ phase: 'history' });
      await this.history({ after: range.start }, true);
    }));
  }

  /** Stop: no more deliveries, drop the subscription, close the listener (keep-alive sockets too). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.aborter.abort();
    await Promise.allSettled(this.tasks);
    const sub = this.subscription;
    if (sub && this.subscribed) {
      try {
        await sub.drop(AbortSignal.timeout(5000));
      } catch (err) {
        this.h.warn?.(`amp: could not drop the subscription ${JSON.stringify(this.s.listen.subscriptionName)} (the next start replaces it): ${asInfluxError(err).message}`);
      }
    }
    await this.listener?.close();
    this.listener = null;
    this.catchUp = null;
    if (this.state.phase !== 'done' && this.state.phase !== 'failed') this.setState({ phase: 'stopped' });
  }

  private track(p: Promise<unknown>): void {
    this.tasks.push(p.catch((err: unknown) => this.fail(err)));
  }

  private fail(err: unknown): void {
    if (this.aborter.signal.aborted) return;
    const e = err instanceof Error ? err : new Error(String(err));
    if (err instanceof InfluxError) this.setState({ influx: err.retryable ? 'down' : this.state.influx, code: err.code, message: err.message });
    this.setState({ phase: 'failed' });
    this.h.failed(e);
    void this.stop();
  }

  private async listen(): Promise<void> {
    const l = this.s.listen;
    const listener = new SubscriptionListener({
      host: l.host,
      port: l.port,
      maxBodyBytes: l.maxBodyBytes,
      database: this.s.database,
      handle: (req) => this.onWrite(req),
      onReject: (status, reason) => {
        if (status === 413) this.counts.tooLarge++;
        else if (status === 400) this.counts.rejected++;
        this.h.parseError(`amp: listener answered ${status}: ${reason}`);
      },
    });
    await listener.listen();
    this.listener = listener;
    const bindAll = l.host === '0.0.0.0' || l.host === '::' || l.host === '';
    const host = l.advertisedHost || (bindAll ? externalAddress() : l.host);
    this.destination = `http://${urlHost(host)}:${listener.port}`;
    // §9.1 falls back to a free port; say so, since a firewall or port mapping made for the
    // configured one will not let InfluxDB through.
    if (l.port !== 0 && listener.port !== l.port) {
      this.h.warn?.(`amp: listen port ${l.port} is in use; listening on ${listener.port} instead (the subscription points to ${this.destination})`);
    }
  }

  /**
   * Add-or-update the subscription, retrying with back-off; then check it every
   * checkIntervalMs (re-creating it if it went missing). Resolves once it first exists.
   */
  private maintainSubscription(): Promise<void> {
    const sub = new SubscriptionManager(this.s.client, { name: this.s.listen.subscriptionName, database: this.s.database, retentionPolicy: this.s.retentionPolicy });
    this.subscription = sub;
    const signal = this.aborter.signal;
    let first: () => void = () => undefined;
    const firstTime = new Promise<void>((resolve) => { first = resolve; });
    const loop = async (): Promise<void> => {
      const backoff = new Backoff(this.s.retry ?? DEFAULT_RETRY);
      while (!signal.aborted) {
        let wait: number;
        try {
          if (!this.subscribed || !(await sub.exists(this.destination, signal))) {
            if (signal.aborted) return;
            await sub.addOrUpdate(this.destination, signal);
            this.subscribed = true;
          }
          backoff.reset();
          if (this.state.influx !== 'ok') this.setState({ influx: 'ok' });
          first();
          wait = this.s.listen.checkIntervalMs;
        } catch (err) {
          if (signal.aborted) return;
          wait = backoff.next();
          this.down(asInfluxError(err), wait);
        }
        await sleep(wait, signal);
      }
    };
    this.tasks.push(loop().catch((err: unknown) => this.fail(err)));
    // Stopping before the first success must not leave the run waiting.
    signal.addEventListener('abort', () => first(), { once: true });
    return firstTime;
  }

  private async history(range: { after?: number; until?: number }, thenLive: boolean): Promise<void> {
    const signal = this.aborter.signal;
    const rp = this.s.retentionPolicy || (this.subscription ? await this.subscription.retentionPolicy(signal) : await this.defaultRp(signal));
    const catchUp = this.catchUp;
    let wasDown = false;
    await readHistory({
      client: this.s.client,
      database: this.s.database,
      retentionPolicy: rp,
      schema: this.s.schema,
      measurements: this.s.measurements,
      filter: this.s.tagFilter,
      range,
      chunkSize: this.s.chunkSize,
      groupSize: this.s.groupSize,
      retry: this.s.retry,
      signal,
    }, {
      deliver: (ms) => {
        if (signal.aborted) return undefined;
        if (catchUp) for (const m of ms) catchUp.history(m);
        this.counts.history += ms.length;
        if (catchUp) this.counts.buffered = catchUp.size;
        if (!wasDown && this.state.influx !== 'ok') this.setState({ influx: 'ok' });
        return this.h.deliver(ms, 'history');
      },
      parseError: (reason) => {
        this.counts.parseErrors++;
        this.h.parseError(reason);
      },
      failing: (err, wait) => {
        wasDown = true;
        this.down(err, wait);
      },
      recovered: () => {
        wasDown = false;
        this.setState({ influx: 'ok' });
      },
    });
    if (signal.aborted) return;
    if (!thenLive) {
      this.setState({ phase: 'done' });
      this.h.historyDone?.(this.counts);
      return;
    }
    // The switch: buffered points history did not deliver, then pass-through.
    const rest = catchUp ? catchUp.drain() : [];
    this.catchUp = null;
    this.graceUntil = Date.now() + (this.s.dedupeGraceMs ?? 10_000);
    this.lateCopies = catchUp;
    this.counts.buffered = 0;
    this.setState({ phase: 'live' });
    // All in one go, without yielding: a live POST arriving now must come after these.
    let last: void | Promise<void> = undefined;
    for (let i = 0; i < rest.length; i += this.s.groupSize) {
      const g = rest.slice(i, i + this.s.groupSize);
      this.counts.live += g.length;
      last = this.h.deliver(g, 'live');
    }
    this.h.historyDone?.(this.counts);
    await last;
  }

  /** After the switch, for a while: history's identities, to drop late live copies. */
  private lateCopies: CatchUp | null = null;

  private async defaultRp(signal: AbortSignal): Promise<string> {
    const sub = new SubscriptionManager(this.s.client, { name: '-', database: this.s.database, retentionPolicy: '' });
    const backoff = new Backoff(this.s.retry ?? DEFAULT_RETRY);
    for (;;) {
      try {
        return await sub.retentionPolicy(signal);
      } catch (err) {
        const e = asInfluxError(err);
        if (!e.retryable || signal.aborted) throw e;
        const wait = backoff.next();
        this.down(e, wait);
        await sleep(wait, signal);
      }
    }
  }

  /** The measurements of one POSTed body, filtered. */
  private measurementsOf(points: readonly Point[]): Measurement[] {
    const out: Measurement[] = [];
    for (const p of points) {
      if (!this.measurements.has(p.measurement)) continue;
      if (this.hasFilter && !tagsMatch(p.tags, this.s.tagFilter)) continue;
      const r = parseAmpPoint(p, this.s.schema);
      if (r.status === 'ok') out.push(r.measurement);
      else if (r.status === 'failed') {
        this.counts.parseErrors++;
        this.h.parseError(`amp: live point: ${r.error}`);
      }
    }
    return out;
  }

  private onWrite(req: WriteRequest): WriteOutcome | Promise<WriteOutcome> {
    this.counts.requests++;
    const parsed = parseLines(req.body, { precision: req.precision, maxErrors: 3 });
    let outcome: WriteOutcome = { failed: 0 };
    if (parsed.errorCount > 0) {
      this.counts.parseErrors += parsed.errorCount;
      this.counts.rejected++;
      const first = parsed.errors[0];
      const text = `unable to parse ${parsed.errorCount} of ${parsed.lines} lines (line ${first.line}: ${first.reason})`;
      this.h.parseError(`amp: listener: ${text}`);
      outcome = { failed: parsed.errorCount, error: `partial write: ${text}; the other lines were accepted` };
    }
    if (this.aborter.signal.aborted) return outcome;
    let ms = this.measurementsOf(parsed.points);
    if (ms.length === 0) return outcome;
    const catchUp = this.catchUp;
    if (catchUp) {
      for (const m of ms) {
        const verdict = catchUp.live(m);
        if (verdict === 'full') {
          this.fail(new Error(`amp: more than ${this.s.bufferLimit} live points arrived while the history was read (buffer limit); the run stopped rather than drop any: raise the buffer limit or narrow the time range`));
          return outcome;
        }
      }
      this.counts.buffered = catchUp.size;
      this.counts.duplicates = catchUp.duplicates;
      return outcome;
    }
    const late = this.lateCopies;
    if (late) {
      if (Date.now() > this.graceUntil) {
        late.forget();
        this.lateCopies = null;
      } else {
        ms = ms.filter((m) => !late.isDuplicate(m));
        this.counts.duplicates = late.duplicates;
        if (ms.length === 0) return outcome;
      }
    }
    if (this.state.phase !== 'live') {
      // Subscribed but not yet switched (live mode before the first check finished).
      if (this.state.phase !== 'subscribing') return outcome;
    }
    this.counts.live += ms.length;
    const p = this.h.deliver(ms, 'live');
    return p instanceof Promise ? p.then(() => outcome) : outcome;
  }

  /** Listener figures (requests, bytes). */
  get listenerStats(): { requests: number; bytes: number } {
    return { requests: this.listener?.stats.requests ?? 0, bytes: this.listener?.stats.bytes ?? 0 };
  }
}
