/**
 * A private InfluxDB 1.x server for integration tests (node-red-conventions.md §11): its own
 * temporary meta/data/wal directories, HTTP and RPC bound to free 127.0.0.1 ports, reporting
 * off, started and stopped by pid. restart() reuses the directories and ports (outage tests).
 * When influxd is missing the tests say so loudly and skip, or fail under CI=true.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CANDIDATES = [process.env.INFLUXD, '/usr/bin/influxd', '/usr/local/bin/influxd'];

/** The influxd binary, or null when it is not installed. */
export function findInfluxd(): string | null {
  for (const c of CANDIDATES) if (c && fs.existsSync(c)) return c;
  return null;
}

/**
 * For a mocha before(): skip the suite loudly when influxd is missing, or fail under CI=true
 * (CI must install it: apt-get install influxdb).
 */
export function requireInfluxd(ctx: Mocha.Context): string {
  const bin = findInfluxd();
  if (bin) return bin;
  const msg = 'influxd not found (apt-get install influxdb): InfluxDB integration tests cannot run';
  if (process.env.CI === 'true') throw new Error(`${msg}; failing because CI=true`);
  console.warn(`\n  !!! SKIPPED: ${msg} !!!\n`);
  ctx.skip();
  return '';
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface InfluxdOptions {
  /** [http] auth-enabled: the first user must then be created as admin (createAdmin). */
  auth?: boolean;
  /** [http] max-body-size in bytes (25 MB by default in influxd): small values provoke 413. */
  maxBodySize?: number;
}

export class Influxd {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(readonly bin: string, readonly dir: string, readonly port: number, readonly rpcPort: number, private readonly opts: InfluxdOptions) {}

  static async start(bin: string, opts: InfluxdOptions = {}): Promise<Influxd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-influxd-'));
    const port = await freePort();
    let rpcPort = await freePort();
    while (rpcPort === port) rpcPort = await freePort();
    const server = new Influxd(bin, dir, port, rpcPort, opts);
    fs.writeFileSync(server.configFile, server.config());
    try {
      await server.launch();
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null;
  }

  /** What influxd printed (for failure messages). */
  get log(): string {
    return this.output;
  }

  private get configFile(): string {
    return path.join(this.dir, 'influxdb.conf');
  }

  private config(): string {
    const d = (sub: string): string => JSON.stringify(path.join(this.dir, sub));
    return [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${this.rpcPort}"`,
      '[meta]', `  dir = ${d('meta')}`, '  logging-enabled = false',
      '[data]', `  dir = ${d('data')}`, `  wal-dir = ${d('wal')}`, '  query-log-enabled = false',
      '[monitor]', '  store-enabled = false',
      '[subscriber]', '  enabled = true',
      '[continuous_queries]', '  enabled = false',
      '[http]', `  bind-address = "127.0.0.1:${this.port}"`, `  auth-enabled = ${this.opts.auth === true}`,
      '  log-enabled = false', '  pprof-enabled = false',
      ...(this.opts.maxBodySize ? [`  max-body-size = ${this.opts.maxBodySize}`] : []),
      '[logging]', '  level = "warn"', '  suppress-logo = true',
      '',
    ].join('\n');
  }

  private async launch(): Promise<void> {
    this.output = '';
    const child = spawn(this.bin, ['-config', this.configFile], {
      env: { ...process.env, INFLUXDB_REPORTING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`influxd exited early (${child.exitCode}):\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`influxd did not answer /ping within 30 s:\n${this.output}`);
  }

  /** Stop by pid: SIGTERM, then SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  /** Start again on the same directories and ports. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.launch();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stop and remove the temporary directory. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Run InfluxQL directly (test set-up and read-back), POST, epoch=ms. */
  async query(q: string, db?: string, auth?: { user: string; password: string }): Promise<InfluxdResult[]> {
    const params = new URLSearchParams({ q, epoch: 'ms' });
    if (db) params.set('db', db);
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
    if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    const res = await fetch(`${this.url}/query`, { method: 'POST', headers, body: params.toString() });
    const body = (await res.json()) as { results?: InfluxdResult[]; error?: string };
    if (!res.ok || body.error) throw new Error(`influxd query ${JSON.stringify(q)}: ${res.status} ${body.error ?? ''}`);
    return body.results ?? [];
  }

  /** Rows of the first series of the first statement, as objects keyed by column. */
  async rows(q: string, db: string): Promise<Array<Record<string, unknown>>> {
    const [result] = await this.query(q, db);
    if (result?.error) throw new Error(`influxd: ${result.error}`);
    const out: Array<Record<string, unknown>> = [];
    for (const s of result?.series ?? []) {
      for (const v of s.values) {
        const row: Record<string, unknown> = { ...(s.tags ?? {}) };
        s.columns.forEach((c, i) => { row[c] = v[i]; });
        out.push(row);
      }
    }
    return out;
  }

  /** Write line protocol directly (test set-up), precision ns. */
  async write(db: string, lines: string, auth?: { user: string; password: string }): Promise<number> {
    const headers: Record<string, string> = {};
    if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    const res = await fetch(`${this.url}/write?db=${encodeURIComponent(db)}&precision=ns`, { method: 'POST', headers, body: lines });
    await res.arrayBuffer();
    return res.status;
  }
}

export interface InfluxdResult {
  statement_id?: number;
  error?: string;
  series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
}
