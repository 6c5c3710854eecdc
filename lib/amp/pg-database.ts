/**
 * One PostgreSQL connection pool, owned by a configuration node and shared by the nodes that
 * use it (node-red-conventions.md §6, §14.2 #10): created lazily, clients released in
 * `finally`, connection state reported as events, failures retried with back-off (queries in
 * between fail fast instead of piling up), and ended on close.
 */
import { EventEmitter } from 'node:events';
import { Pool, PoolClient, PoolConfig } from 'pg';
import type { PostgresSettings } from './postgres-config';

export interface PgCredentials {
  user?: string;
  password?: string;
}

export type PgStateName = 'idle' | 'connecting' | 'connected' | 'error' | 'closed';

export interface PgState {
  state: PgStateName;
  /** For errors: SQLSTATE (e.g. 28P01, 3D000) or socket error code (ECONNREFUSED). */
  code?: string;
  message?: string;
}

export interface BackoffOptions {
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/** The connection is unusable (server down, wrong credentials, no such database, …). */
export class PgUnavailableError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PgUnavailableError';
  }
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT']);

/**
 * Connection-level failures: socket errors, SQLSTATE classes 08 (connection), 28 (auth),
 * 3D (no such database), 53 (too many connections), 57P (shutdown), and pg's own timeouts.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (SOCKET_CODES.has(code)) return true;
  if (/^(08|28|3D|53|57P)/.test(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout/i.test(message);
}

/** A short code for status texts: SQLSTATE, socket code, or `timeout`. */
export function errorCode(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && e.code !== '') return e.code;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (/timeout/i.test(message)) return 'timeout';
  if (/Connection terminated/i.test(message)) return 'terminated';
  return 'error';
}

/** What failed, in words, with the server named; never includes the password. */
function describeFailure(err: unknown, target: string): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const hint = code === 'ECONNREFUSED' ? ' (is PostgreSQL running and listening there?)'
    : code === '28P01' || code === '28000' ? ' (check the user and password of the postgres configuration node)'
      : code === '3D000' ? ' (check the database name)' : '';
  return `PostgreSQL ${target}: ${message}${hint}`;
}

export class PgDatabase extends EventEmitter {
  private pool: Pool | null = null;
  private current: PgState = { state: 'idle' };
  private failures = 0;
  private retryAt = 0;
  private lastError: PgUnavailableError | null = null;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private closed = false;
  private readonly users = new Set<string>();
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;
  /** `user@host:port/database`, for messages. */
  readonly target: string;

  constructor(readonly settings: PostgresSettings, private readonly credentials: PgCredentials = {}, backoff: BackoffOptions = {}) {
    super();
    this.firstRetryMs = backoff.firstRetryMs ?? 500;
    this.maxRetryMs = backoff.maxRetryMs ?? 30_000;
    const user = credentials.user ? `${credentials.user}@` : '';
    this.target = `${user}${settings.host}:${settings.port}/${settings.database}`;
  }

  get state(): PgState {
    return this.current;
  }

  private buildPoolConfig(): PoolConfig {
    const s = this.settings;
    return {
      host: s.host,
      port: s.port,
      database: s.database,
      user: this.credentials.user || undefined,
      password: this.credentials.password || undefined,
      max: s.poolSize,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: s.timeoutMs,
      query_timeout: s.timeoutMs,
      ssl: s.tls ? { rejectUnauthorized: true } : false,
      application_name: 'node-red-contrib-streamevmon',
    };
  }

  private getPool(): Pool {
    if (this.pool) return this.pool;
    const pool = new Pool(this.buildPoolConfig());
    // An idle client losing its connection (server restart) is emitted here; without a
    // listener it would crash Node-RED.
    pool.on('error', (err) => this.failed(err));
    this.pool = pool;
    return pool;
  }

  private setState(s: PgState): void {
    const prev = this.current;
    this.current = s;
    if (prev.state !== s.state || prev.code !== s.code) this.emit('state', s);
  }

  private failed(err: unknown): PgUnavailableError {
    if (this.closed) return new PgUnavailableError('closed', `PostgreSQL ${this.target}: the configuration node is closed`);
    const code = errorCode(err);
    // Queries that were already under way when the connection failed do not lengthen the back-off.
    if (this.lastError && Date.now() < this.retryAt) return new PgUnavailableError(code, describeFailure(err, this.target));
    this.failures++;
    const delay = Math.min(this.maxRetryMs, this.firstRetryMs * 2 ** Math.min(this.failures - 1, 20));
    this.retryAt = Date.now() + delay;
    const error = new PgUnavailableError(code, describeFailure(err, this.target));
    this.lastError = error;
    this.setState({ state: 'error', code, message: error.message });
    this.schedule(delay);
    return error;
  }

  private succeeded(): void {
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = null;
    if (this.current.state !== 'connected') this.setState({ state: 'connected' });
  }

  /** While nodes use the database, a failed connection is checked again after the back-off. */
  private schedule(delay: number): void {
    if (this.closed || this.timer || this.users.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, delay);
  }

  /** `SELECT 1` through the pool: the connection state without waiting for traffic. */
  async check(): Promise<void> {
    if (this.closed || this.checking) return;
    this.checking = true;
    // Retries keep the error state until one succeeds: no flapping status.
    if (this.current.state === 'idle') this.setState({ state: 'connecting' });
    try {
      await this.run('SELECT 1', []);
    } catch {
      // run() has recorded the failure and scheduled the next check.
    } finally {
      this.checking = false;
    }
  }

  /** Start checking the connection while at least one node uses it. */
  register(userId: string): void {
    this.users.add(userId);
    if (this.users.size === 1 && this.current.state === 'idle') void this.check();
    else if (this.current.state === 'error') this.schedule(Math.max(0, this.retryAt - Date.now()));
  }

  deregister(userId: string): void {
    this.users.delete(userId);
    if (this.users.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * A parameterised query (never build SQL from user text). While the connection is failing
   * and the back-off has not elapsed, rejects at once with the last failure.
   */
  async query(text: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> {
    if (this.closed) throw new PgUnavailableError('closed', `PostgreSQL ${this.target}: the configuration node is closed`);
    if (this.lastError && Date.now() < this.retryAt) {
      const wait = Math.ceil((this.retryAt - Date.now()) / 1000);
      throw new PgUnavailableError(this.lastError.code, `${this.lastError.message}; retrying in ${wait} s`);
    }
    return this.run(text, params);
  }

  private async run(text: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }> {
    let client: PoolClient;
    try {
      client = await this.getPool().connect();
    } catch (err) {
      throw this.failed(err);
    }
    let broken: Error | undefined;
    try {
      const result = await client.query(text, params);
      this.succeeded();
      return { rows: result.rows as Array<Record<string, unknown>> };
    } catch (err) {
      if (isConnectionError(err)) {
        broken = err as Error;
        throw this.failed(err);
      }
      // An SQL error (missing table, permission): the connection itself is fine.
      this.succeeded();
      throw err;
    } finally {
      // A broken client is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  /** End the pool: waits for checked-out clients (bounded by the query timeout). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.users.clear();
    const pool = this.pool;
    this.pool = null;
    this.setState({ state: 'closed' });
    this.removeAllListeners('state');
    if (pool) await pool.end();
  }

  /** Follow the state; returns the function that stops following. */
  onState(listener: (s: PgState) => void): () => void {
    this.on('state', listener);
    return () => this.removeListener('state', listener);
  }

  /** Number of clients in the pool (total, idle, waiting), for status and tests. */
  get poolCounts(): { total: number; idle: number; waiting: number } {
    const p = this.pool;
    return p ? { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount } : { total: 0, idle: 0, waiting: 0 };
  }
}
