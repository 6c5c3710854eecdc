/**
 * The package as a user gets it: `npm pack` of the built tree, the tarball installed with npm
 * into a fresh Node-RED user directory (runtime dependencies from the registry), and real
 * Node-RED started on it. Unlike NodeRedProcess (which links the working tree), nothing here
 * can see files that the tarball leaves out.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT, freePort } from './nodered';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
export const PACKAGE_NAME = 'node-red-contrib-streamevmon';

export interface Installed {
  /** Scratch folder holding the tarball and the user directory. */
  dir: string;
  userDir: string;
  tarball: string;
  /** Paths inside the tarball, as npm pack lists them. */
  files: string[];
  /** Where the package landed: userDir/node_modules/<name>. */
  packageDir: string;
}

/** Pack the working tree (dist/ must be built) and install the tarball into a new user dir. */
export async function packAndInstall(): Promise<Installed> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-pack-'));
  const { stdout } = await run(NPM, ['pack', '--json', '--pack-destination', dir], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = path.join(dir, packed.filename);
  const userDir = path.join(dir, 'user');
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ private: true }));
  await run(NPM, ['install', '--no-audit', '--no-fund', tarball], { cwd: userDir, maxBuffer: 16 << 20 });
  return { dir, userDir, tarball, files: packed.files.map((f) => f.path), packageDir: path.join(userDir, 'node_modules', PACKAGE_NAME) };
}

/** Real Node-RED (this project's dev dependency) on an existing user directory. */
export class InstalledNodeRed {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(readonly userDir: string, readonly port: number) {}

  static async start(userDir: string): Promise<InstalledNodeRed> {
    const port = await freePort();
    fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify({
      uiHost: '127.0.0.1',
      uiPort: port,
      flowFile: 'flows.json',
      credentialSecret: false,
      telemetry: { enabled: false },
      diagnostics: { enabled: false },
      editorTheme: { tours: false, projects: { enabled: false }, palette: { catalogues: [] } },
      logging: { console: { level: 'info', metrics: false, audit: false } },
    }, null, 2)};\n`);
    const nr = new InstalledNodeRed(userDir, port);
    await nr.launch();
    return nr;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.output;
  }

  private async launch(): Promise<void> {
    const red = require.resolve('node-red/red.js', { paths: [PROJECT_ROOT] });
    // cwd is the user directory, so relative paths cannot fall back on the working tree.
    const child = spawn(process.execPath, [red, '-u', this.userDir, '-s', path.join(this.userDir, 'settings.js')], {
      cwd: this.userDir,
      env: { ...process.env, NODE_RED_DISABLE_TELEMETRY: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer): void => {
      this.output += chunk.toString('utf8');
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
    await this.waitUntil(() => /Started flows/.test(this.output), 30_000, 'Node-RED did not start its flows');
  }

  async waitUntil(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what} within ${ms} ms. Output:\n${this.output.slice(-4000)}`);
  }

  /** GET an admin API path as JSON; throws on a non-2xx answer. */
  async getJson<T>(urlPath: string): Promise<T> {
    const res = await fetch(`${this.url}${urlPath}`, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`GET ${urlPath}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async deploy(flows: unknown[]): Promise<void> {
    const res = await fetch(`${this.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ flows }),
    });
    if (!res.ok) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  }

  /** Stop by pid (SIGTERM, SIGKILL after 20 s). */
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
}
