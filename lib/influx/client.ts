/**
 * InfluxDB 1.x HTTP API client over the global fetch (data-formats.md §12.2,
 * node-red-conventions.md §6): ping, InfluxQL queries with epoch=ms, line-protocol writes
 * with an explicit precision. Credentials go in a Basic auth header, never in the URL, so
 * they cannot leak into logs; every request has a timeout.
 */

export interface InfluxConnection {
  host: string;
  port: number;
  /** https instead of http (the system CA store applies; NODE_EXTRA_CA_CERTS adds more). */
  tls?: boolean;
  username?: string;
  password?: string;
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number;
}

/** How a failed request failed; decides retry, split or report (data-formats.md §12.2). */
export type InfluxErrorKind =
  | 'bad-request' // 400: bad line protocol, field type conflict, bad query
  | 'auth' // 401/403: credentials
  | 'not-found' // 404 database, or a missing retention policy
  | 'too-large' // 413: split the batch
  | 'server' // 5xx, 429: retry
  | 'network' // connection refused/reset, DNS: retry
  | 'timeout' // no answer in time: retry
  | 'aborted' // cancelled by the caller (e.g. node closing)
  | 'protocol'; // an answer we cannot use

export class InfluxError extends Error {
  override readonly name = 'InfluxError';
  constructor(
    message: string,
    readonly kind: InfluxErrorKind,
    /** Short code for a status text: the HTTP status, or the socket error code. */
    readonly code: string,
    readonly status?: number,
    /** For a 400 "partial write": how many points the server dropped. */
    readonly dropped?: number,
  ) {
    super(message);
  }

  /** Worth trying again later: the server may come back. */
  get retryable(): boolean {
    return this.kind === 'server' || this.kind === 'network' || this.kind === 'timeout';
  }

  /**
   * A 400 that concerns some lines only (a partial write or a parse error): splitting the
   * batch isolates them. Not when the server dropped every point.
   */
  isolatable(lines: number): boolean {
    if (this.kind !== 'bad-request' || lines < 2) return false;
    if (!/partial write|unable to parse/i.test(this.message)) return false;
    return this.dropped === undefined || this.dropped < lines;
  }
}

export interface StatementSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

export interface StatementResult {
  statement_id?: number;
  series?: StatementSeries[];
  /** A statement error; the other statements of the query may still have succeeded. */
  error?: string;
}

export type Precision = 'ns' | 'u' | 'ms' | 's';

export interface WriteOptions {
  db: string;
  /** Omitted or '' = the database's default retention policy. */
  rp?: string;
  /** Always sent explicitly: InfluxDB would read bare ms as ns (node-red-conventions.md §14.2). */
  precision: Precision;
  signal?: AbortSignal;
}

export interface QueryOptions {
  db?: string;
  /** Default: GET for SELECT/SHOW, POST for everything else (CREATE, DROP, …). */
  method?: 'GET' | 'POST';
  /** Bind parameters, referred to as $name in the query: user values never enter its text. */
  params?: Record<string, string | number | boolean>;
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** `host:port` for a URL, bracketing a bare IPv6 address. */
function hostPort(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${h}:${port}`;
}

/**
 * Most characters of a server's error text kept in an error message: InfluxDB echoes the
 * offending line (which may hold a 1 MB description) before saying what is wrong with it.
 */
export const MAX_ERROR_TEXT = 400;

/**
 * A server text cut to about `max` characters: its start and its end (where InfluxDB puts
 * the reason), saying how much was cut and how long it was.
 */
export function clipText(s: string, max = MAX_ERROR_TEXT): string {
  if (s.length <= max) return s;
  let head = Math.ceil(max * 0.6);
  let tail = s.length - (max - head);
  // Never cut a surrogate pair in two.
  if (/[\udc00-\udfff]/.test(s[head] ?? '')) head--;
  if (/[\udc00-\udfff]/.test(s[tail] ?? '')) tail++;
  return `${s.slice(0, head)}…[${tail - head} of ${s.length} characters cut]…${s.slice(tail)}`;
}

/** The server's error text from a JSON `{"error": …}` body, else the raw text; not cut. */
function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON
  }
  return body.trim();
}

function kindOfStatus(status: number, text: string): InfluxErrorKind {
  if (status === 400) return 'bad-request';
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not-found';
  if (status === 413) return 'too-large';
  // InfluxDB 1.x answers a write to a missing retention policy with 500: retrying cannot help.
  if (status === 500 && /retention policy not found/i.test(text)) return 'not-found';
  if (status >= 500 || status === 429) return 'server';
  return 'protocol';
}

export class InfluxClient {
  readonly baseUrl: string;
  private readonly auth: string | undefined;
  private readonly timeoutMs: number;

  constructor(conn: InfluxConnection) {
    this.baseUrl = `${conn.tls ? 'https' : 'http'}://${hostPort(conn.host, conn.port)}`;
    this.auth = conn.username
      ? `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`
      : undefined;
    this.timeoutMs = conn.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** GET /ping → 204; resolves with the server's version. (Ping needs no credentials.) */
  async ping(signal?: AbortSignal): Promise<{ version: string }> {
    const res = await this.request('GET', '/ping', undefined, undefined, signal, 'ping');
    await res.arrayBuffer();
    if (res.status !== 204 && res.status !== 200) {
      throw this.statusError('ping', res.status, '');
    }
    return { version: res.headers.get('x-influxdb-version') ?? 'unknown' };
  }

  /** Run InfluxQL; times come back as epoch ms. HTTP-level failures throw; statement errors are in the results. */
  async query(q: string, opts: QueryOptions = {}): Promise<StatementResult[]> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (opts.db) params.set('db', opts.db);
    if (opts.params) params.set('params', JSON.stringify(opts.params));
    const method = opts.method ?? (/^\s*(SELECT|SHOW)\b/i.test(q) && !/\bINTO\b/i.test(q) ? 'GET' : 'POST');
    const what = `query ${JSON.stringify(q.length > 80 ? `${q.slice(0, 80)}…` : q)}`;
    const res = method === 'GET'
      ? await this.request('GET', `/query?${params}`, undefined, undefined, opts.signal, what)
      : await this.request('POST', '/query', params.toString(), 'application/x-www-form-urlencoded', opts.signal, what);
    const text = await this.readBody(res, what);
    if (res.status !== 200) throw this.statusError(what, res.status, text);
    let body: { results?: StatementResult[]; error?: string };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new InfluxError(`influxdb ${what} at ${this.baseUrl}: answer is not JSON: ${text.slice(0, 200)}`, 'protocol', 'bad-json', res.status);
    }
    if (body.error) throw new InfluxError(`influxdb ${what} at ${this.baseUrl}: ${clipText(body.error)}`, 'bad-request', String(res.status), res.status);
    return body.results ?? [];
  }

  /** POST /write; resolves on 204, throws a classified InfluxError otherwise. */
  async write(lines: string | readonly string[], opts: WriteOptions): Promise<void> {
    const params = new URLSearchParams({ db: opts.db, precision: opts.precision });
    if (opts.rp) params.set('rp', opts.rp);
    const body = typeof lines === 'string' ? lines : lines.join('\n');
    const what = `write to database ${JSON.stringify(opts.db)}`;
    const res = await this.request('POST', `/write?${params}`, body, 'text/plain; charset=utf-8', opts.signal, what);
    const text = await this.readBody(res, what);
    if (res.status === 204 || res.status === 200) return;
    throw this.statusError(what, res.status, text);
  }

  /**
   * A SELECT with `chunked=true`: yields each statement result of the newline-delimited JSON
   * answer as it arrives (at most `chunkSize` rows each), so a long range never sits in
   * memory, and the server is read no faster than the caller pulls (TCP back-pressure).
   * `idleTimeoutMs` bounds the wait for the answer and for each following chunk (default:
   * the connection's timeout). HTTP failures and statement errors throw an InfluxError.
   */
  async *queryChunks(q: string, opts: { db?: string; chunkSize?: number; signal?: AbortSignal; idleTimeoutMs?: number } = {}): AsyncGenerator<StatementResult> {
    const params = new URLSearchParams({ q, epoch: 'ms', chunked: 'true', chunk_size: String(opts.chunkSize ?? 1000) });
    if (opts.db) params.set('db', opts.db);
    const what = `query ${JSON.stringify(q.length > 80 ? `${q.slice(0, 80)}…` : q)}`;
    const idleMs = opts.idleTimeoutMs ?? this.timeoutMs;
    const ctl = new AbortController();
    let idle = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        ctl.abort();
      }, idleMs);
    };
    const onAbort = (): void => ctl.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = {};
    if (this.auth) headers.Authorization = this.auth;
    const fail = (err: unknown): InfluxError => {
      if (err instanceof InfluxError) return err;
      if (idle) return new InfluxError(`influxdb ${what} at ${this.baseUrl}: no data within ${idleMs} ms`, 'timeout', 'timeout');
      if (opts.signal?.aborted) return new InfluxError(`influxdb ${what} at ${this.baseUrl}: cancelled`, 'aborted', 'aborted');
      return this.transportError(err, what);
    };
    arm();
    try {
      let res: Response;
      try {
        res = await fetch(`${this.baseUrl}/query?${params}`, { method: 'GET', headers, signal: ctl.signal });
      } catch (err) {
        throw fail(err);
      }
      if (res.status !== 200 || !res.body) {
        const text = await this.readBody(res, what).catch(() => '');
        throw this.statusError(what, res.status, text);
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let pending = '';
      const parse = (line: string): StatementResult[] => {
        let body: { results?: StatementResult[]; error?: string };
        try {
          body = JSON.parse(line) as typeof body;
        } catch {
          throw new InfluxError(`influxdb ${what} at ${this.baseUrl}: answer is not JSON: ${line.slice(0, 200)}`, 'protocol', 'bad-json', res.status);
        }
        if (body.error) throw new InfluxError(`influxdb ${what} at ${this.baseUrl}: ${clipText(body.error)}`, 'bad-request', String(res.status), res.status);
        for (const r of body.results ?? []) {
          if (r.error) {
            const kind: InfluxErrorKind = /not found/i.test(r.error) ? 'not-found' : 'bad-request';
            throw new InfluxError(`influxdb ${what} at ${this.baseUrl}: ${clipText(r.error)}`, kind, kind === 'not-found' ? '404' : '400', res.status);
          }
        }
        return body.results ?? [];
      };
      try {
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (err) {
            throw fail(err);
          }
          if (chunk.done) break;
          pending += decoder.decode(chunk.value, { stream: true });
          let nl = pending.indexOf('\n');
          while (nl >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.trim() !== '') {
              if (timer) clearTimeout(timer);
              timer = undefined;
              yield* parse(line);
              arm();
            }
            nl = pending.indexOf('\n');
          }
        }
        pending += decoder.decode();
        if (pending.trim() !== '') yield* parse(pending);
      } finally {
        reader.cancel().catch(() => undefined);
      }
    } finally {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      ctl.abort();
    }
  }

  private async request(method: string, pathAndQuery: string, body: string | undefined, contentType: string | undefined, signal: AbortSignal | undefined, what: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (contentType) headers['Content-Type'] = contentType;
    if (this.auth) headers.Authorization = this.auth;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      return await fetch(`${this.baseUrl}${pathAndQuery}`, {
        method, headers, body, signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      throw this.transportError(err, what, timeout, signal);
    }
  }

  private async readBody(res: Response, what: string): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw this.transportError(err, what);
    }
  }

  private statusError(what: string, status: number, body: string): InfluxError {
    const text = errorText(body);
    const kind = kindOfStatus(status, text);
    // Read from the whole text: the count comes last, after the echoed line.
    const dropped = /dropped=(\d+)\s*$/.exec(text) ?? /dropped=(\d+)/.exec(text);
    const hint = kind === 'auth' ? ' (check the user and password of the InfluxDB configuration node)' : '';
    return new InfluxError(
      `influxdb ${what} at ${this.baseUrl} failed: ${status}${text ? ` ${clipText(text)}` : ''}${hint}`,
      kind, String(status), status, dropped ? Number(dropped[1]) : undefined,
    );
  }

  private transportError(err: unknown, what: string, timeout?: AbortSignal, signal?: AbortSignal): InfluxError {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (timeout?.aborted && !signal?.aborted) {
      return new InfluxError(`influxdb ${what} at ${this.baseUrl}: no answer within ${this.timeoutMs} ms`, 'timeout', 'timeout');
    }
    if (signal?.aborted || e.name === 'AbortError') {
      return new InfluxError(`influxdb ${what} at ${this.baseUrl}: cancelled`, 'aborted', 'aborted');
    }
    const code = e.cause?.code ?? 'network';
    const detail = e.cause?.message ?? e.message ?? String(err);
    return new InfluxError(`influxdb ${what} at ${this.baseUrl}: cannot reach the server (${detail})`, 'network', code);
  }
}

/** The first statement error of a query's results, or null. */
export function statementError(results: readonly StatementResult[]): string | null {
  for (const r of results) if (r.error) return r.error;
  return null;
}
