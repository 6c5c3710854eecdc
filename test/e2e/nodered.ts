/**
 * Real Node-RED, headless, for end-to-end tests (node-red-conventions.md §11): a temporary
 * user directory with this package linked in, a free loopback port, flows deployed through
 * the admin API, stdout captured, and the process stopped by its pid.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The package root: the nearest folder above this file with our package.json. */
function findProjectRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'node-red-contrib-streamevmon') return dir;
  }
  throw new Error(`no node-red-contrib-streamevmon package.json above ${from}`);
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { prepareUserDir } = require(path.join(PROJECT_ROOT, 'scripts', 'start.js')) as {
  prepareUserDir(o: { userDir: string; port: number; flow: string; fresh: boolean }): void;
};

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

export interface NodeRedOptions {
  /** Flow file to start with. */
  flowFile: string;
  /** Reuse an existing user directory (for restart tests). */
  userDir?: string;
}

export class NodeRedProcess {
  private child: ChildProcess | null = null;
  private output = '';
  /** When each chunk of output arrived (ns) and where it ends in `output`. */
  private chunks: Array<{ at: bigint; end: number }> = [];
  private listeners: Array<() => void> = [];

  private constructor(readonly userDir: string, readonly port: number, private readonly ownsDir: boolean) {}

  static async start(opts: NodeRedOptions): Promise<NodeRedProcess> {
    const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-e2e-'));
    const port = await freePort();
    prepareUserDir({ userDir, port, flow: opts.flowFile, fresh: opts.userDir === undefined });
    const nr = new NodeRedProcess(userDir, port, opts.userDir === undefined);
    await nr.launch();
    return nr;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything Node-RED printed so far. */
  get log(): string {
    return this.output;
  }

  private async launch(): Promise<void> {
    const red = require.resolve('node-red/red.js', { paths: [PROJECT_ROOT] });
    const child = spawn(process.execPath, [red, '-u', this.userDir, '-s', path.join(this.userDir, 'settings.js')], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
      this.chunks.push({ at: process.hrtime.bigint(), end: this.output.length });
      this.listeners.forEach((l) => l());
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    await this.waitUntil(async () => {
      if (child.exitCode !== null) throw new Error(`Node-RED exited early:\n${this.output}`);
      try {
        return (await fetch(`${this.url}/settings`)).ok;
      } catch {
        return false;
      }
    }, 30_000, 'Node-RED did not start');
    await this.waitForLog(/Started flows/, 30_000);
  }

  /** Poll until check() is true. */
  async waitUntil(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what} within ${ms} ms. Output:\n${this.output.slice(-4000)}`);
  }

  /** Resolve with the log once it matches. */
  async waitForLog(re: RegExp, ms: number): Promise<string> {
    await this.waitUntil(() => re.test(this.output), ms, `log did not match ${re}`);
    return this.output;
  }

  /** When (process.hrtime.bigint) the output first matched, or undefined. */
  timeOfLog(re: RegExp): bigint | undefined {
    const m = re.exec(this.output);
    if (!m) return undefined;
    const end = m.index + m[0].length;
    return this.chunks.find((c) => c.end >= end)?.at;
  }

  async deploy(flows: unknown[]): Promise<void> {
    const res = await fetch(`${this.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows }),
    });
    if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  }

  /** Stop by pid; Node-RED closes its flows (and saves context) on SIGTERM... wait for exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    this.child = null;
  }

  /** Stop and start again on the same user directory and port. */
  async restart(): Promise<void> {
    await this.stop();
    this.output = '';
    this.chunks = [];
    await this.launch();
  }

  /** Stop and remove the temporary user directory. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}
