/**
 * The HTTP listener InfluxDB 1.x subscriptions post to (data-formats.md §9.4, §9.5): a real
 * HTTP server (Content-Length, chunked, gzip, keep-alive), `POST /write` only, a body size
 * cap. The handler parses the body and answers; the response is sent once the handler's
 * work is done, which paces a sender that waits for answers.
 *
 * Answers: 204 = every line parsed; 400 = some lines (or the request) malformed, the good
 * lines of the body still delivered; 413 = body above the cap (nothing delivered, the
 * connection is closed); 404/405 = other paths and methods.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { Precision, parsePrecision } from './line-parser';

export interface WriteRequest {
  body: string;
  precision: Precision;
  db: string | null;
  rp: string | null;
}

/** What the handler made of a body: line failures make the answer a 400. */
export interface WriteOutcome {
  /** Lines that failed to parse; > 0 answers 400 with `error`. */
  failed: number;
  error?: string;
}

export interface ListenerStats {
  requests: number;
  /** 400 answers: malformed bodies, bad parameters, unreadable gzip. */
  rejected: number;
  /** 413 answers. */
  tooLarge: number;
  bytes: number;
}

export interface ListenerOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  maxBodyBytes: number;
  /** When set, a request naming another database is rejected with 400. */
  database?: string;
  backlog?: number;
  handle(req: WriteRequest): WriteOutcome | Promise<WriteOutcome>;
  /** A request was refused (400/413/404/405) before reaching the handler. */
  onReject?(status: number, reason: string): void;
}

export class SubscriptionListener {
  readonly stats: ListenerStats = { requests: 0, rejected: 0, tooLarge: 0, bytes: 0 };
  private server: http.Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: ListenerOptions) {}

  /** Bind; resolves with the bound port. If the configured port is taken, a free one is used. */
  async listen(): Promise<number> {
    const server = http.createServer({ keepAlive: true }, (req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = 65_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server = server;
    const bind = (port: number): Promise<void> => new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host: this.opts.host, port, backlog: this.opts.backlog ?? 30 }, () => {
        server.removeListener('error', onError);
        resolve();
      });
    });
    try {
      await bind(this.opts.port);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (this.opts.port === 0 || code !== 'EADDRINUSE') throw err;
      await bind(0);
    }
    return this.port;
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? (a as AddressInfo).port : 0;
  }

  get listening(): boolean {
    return this.server?.listening === true;
  }

  /** Stop accepting, end keep-alive connections, and resolve when the server is closed. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Requests still in flight get a moment to finish; then every socket goes.
      setTimeout(() => {
        for (const s of this.sockets) s.destroy();
      }, 200).unref();
    });
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private reply(res: http.ServerResponse, status: number, error?: string, close = false): void {
    if (res.headersSent) return;
    const headers: Record<string, string> = { 'X-Influxdb-Version': 'streamevmon-listener' };
    if (close) headers.Connection = 'close';
    if (error === undefined) {
      res.writeHead(status, headers);
      res.end();
    } else {
      const body = JSON.stringify({ error });
      res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    }
  }

  private refuse(res: http.ServerResponse, status: number, reason: string, close = false): void {
    if (status === 413) this.stats.tooLarge++;
    else if (status === 400) this.stats.rejected++;
    this.opts.onReject?.(status, reason);
    this.reply(res, status, reason, close);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.stats.requests++;
    const url = new URL(req.url ?? '/', 'http://listener');
    if (url.pathname !== '/write') {
      req.resume();
      this.refuse(res, 404, `not found: ${url.pathname} (InfluxDB subscriptions post to /write)`);
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      this.refuse(res, 405, `method ${req.method ?? ''} not allowed: POST line protocol to /write`);
      return;
    }
    const precision = parsePrecision(url.searchParams.get('precision') ?? undefined);
    if (precision === null) {
      req.resume();
      this.refuse(res, 400, `invalid precision ${JSON.stringify(url.searchParams.get('precision'))}`);
      return;
    }
    const db = url.searchParams.get('db');
    if (this.opts.database !== undefined && db !== null && db !== '' && db !== this.opts.database) {
      req.resume();
      this.refuse(res, 400, `database ${JSON.stringify(db)} is not the one this listener serves (${JSON.stringify(this.opts.database)})`);
      return;
    }
    const max = this.opts.maxBodyBytes;
    const declared = Number(req.headers['content-length']);
    const tooLarge = (): void => {
      // The rest of the body is not read: close the connection after the answer.
      this.refuse(res, 413, `request body larger than ${max} bytes`, true);
      res.on('finish', () => req.socket.destroy());
    };
    if (Number.isFinite(declared) && declared > max) {
      tooLarge();
      return;
    }
    const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
    let source: NodeJS.ReadableStream = req;
    if (encoding === 'gzip') {
      const gunzip = zlib.createGunzip();
      req.pipe(gunzip);
      source = gunzip;
    } else if (encoding !== '' && encoding !== 'identity') {
      req.resume();
      this.refuse(res, 400, `unsupported Content-Encoding ${JSON.stringify(encoding)}`);
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let over = false;
    source.on('data', (b: Buffer) => {
      if (over) return;
      size += b.length;
      if (size > max) {
        over = true;
        parts.length = 0;
        req.unpipe();
        tooLarge();
        return;
      }
      parts.push(b);
    });
    source.on('error', (err: Error) => {
      if (over) return;
      over = true;
      this.refuse(res, 400, `unreadable body: ${err.message}`, true);
    });
    source.on('end', () => {
      if (over) return;
      this.stats.bytes += size;
      const body = Buffer.concat(parts, size).toString('utf8');
      let outcome: WriteOutcome | Promise<WriteOutcome>;
      try {
        outcome = this.opts.handle({ body, precision, db, rp: url.searchParams.get('rp') });
      } catch (err) {
        this.refuse(res, 400, (err as Error).message ?? String(err));
        return;
      }
      const answer = (o: WriteOutcome): void => {
        if (o.failed > 0) {
          this.stats.rejected++;
          this.reply(res, 400, o.error ?? `partial write: ${o.failed} lines could not be parsed`);
        } else this.reply(res, 204);
      };
      if (outcome instanceof Promise) outcome.then(answer, (err: unknown) => this.refuse(res, 400, (err as Error)?.message ?? String(err)));
      else answer(outcome);
    });
  }
}
