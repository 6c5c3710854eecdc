/**
 * A private PostgreSQL cluster for integration tests: initdb into a temporary directory, the
 * server on a free 127.0.0.1 port with its Unix socket in that directory, password (SCRAM)
 * authentication over TCP, and an application role and database. As root it runs everything
 * as the `postgres` user (initdb and postgres refuse root). Stopped by the postmaster's pid;
 * start() again reuses the directory and port (outage tests). When the server binaries are
 * missing the tests say so loudly and skip, or fail under CI=true.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './influxd';

const SUPERUSER = 'postgres';

/** The directory holding initdb, pg_ctl, postgres and psql, or null. */
export function findPostgresBin(): string | null {
  const dirs: string[] = [];
  if (process.env.PG_BINDIR) dirs.push(process.env.PG_BINDIR);
  const base = '/usr/lib/postgresql';
  if (fs.existsSync(base)) {
    const versions = fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) dirs.push(path.join(base, v, 'bin'));
  }
  dirs.push('/usr/local/bin', '/usr/bin');
  for (const d of dirs) {
    if (['initdb', 'pg_ctl', 'postgres', 'psql'].every((b) => fs.existsSync(path.join(d, b)))) return d;
  }
  // Debian puts psql in /usr/bin and the server binaries in the versioned directory.
  for (const d of dirs) {
    if (['initdb', 'pg_ctl', 'postgres'].every((b) => fs.existsSync(path.join(d, b))) && fs.existsSync('/usr/bin/psql')) return d;
  }
  return null;
}

/**
 * For a mocha before(): skip the suite loudly when PostgreSQL is missing, or fail under
 * CI=true (CI must install it: apt-get install postgresql).
 */
export function requirePostgres(ctx: Mocha.Context): string {
  const bin = findPostgresBin();
  let problem = bin ? null : 'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found (apt-get install postgresql)';
  if (bin && process.getuid?.() === 0 && osUser(SUPERUSER) === null) problem = 'running as root but there is no "postgres" user to run PostgreSQL as';
  if (!problem) return bin as string;
  const msg = `${problem}: PostgreSQL integration tests cannot run`;
  if (process.env.CI === 'true') throw new Error(`${msg}; failing because CI=true`);
  console.warn(`\n  !!! SKIPPED: ${msg} !!!\n`);
  ctx.skip();
  return '';
}

function osUser(name: string): { uid: number; gid: number } | null {
  try {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

function binary(dir: string, name: string): string {
  const p = path.join(dir, name);
  return fs.existsSync(p) ? p : path.join('/usr/bin', name);
}

export interface PostgresOptions {
  /** The application role and its password (TCP logins need the password). */
  user?: string;
  password?: string;
  /** The application database, owned by the user. */
  database?: string;
}

export class PostgresServer {
  private constructor(
    readonly bin: string, readonly dir: string, readonly port: number,
    readonly user: string, readonly password: string, readonly database: string,
    private readonly runAs: { uid: number; gid: number } | null,
  ) {}

  static async start(bin: string, opts: PostgresOptions = {}): Promise<PostgresServer> {
    const runAs = process.getuid?.() === 0 ? osUser(SUPERUSER) : null;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-pg-'));
    const server = new PostgresServer(bin, dir, await freePort(), opts.user ?? 'amp', opts.password ?? 'amp-secret', opts.database ?? 'nntsc', runAs);
    try {
      if (runAs) fs.chownSync(dir, runAs.uid, runAs.gid);
      await server.initdb();
      await server.start();
      await server.psql('postgres', `CREATE ROLE "${server.user}" LOGIN PASSWORD '${server.password.replace(/'/g, "''")}'`);
      await server.psql('postgres', `CREATE DATABASE "${server.database}" OWNER "${server.user}"`);
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  private get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** Run a PostgreSQL binary as the postgres user when we are root. */
  private run(cmd: string, args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    const [file, argv] = this.runAs ? ['runuser', ['-u', SUPERUSER, '--', cmd, ...args]] : [cmd, args];
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { cwd: this.dir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); });
      child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve({ stdout, stderr });
        else reject(new Error(`${path.basename(cmd)} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-4000)}${stdout.slice(-1000)}`));
      });
      // A command that fails early closes its stdin: its exit code and stderr tell why.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input ?? '');
    });
  }

  private async initdb(): Promise<void> {
    const pwfile = path.join(this.dir, 'pwfile');
    fs.writeFileSync(pwfile, 'unused-superuser-password\n', { mode: 0o600 });
    if (this.runAs) fs.chownSync(pwfile, this.runAs.uid, this.runAs.gid);
    await this.run(binary(this.bin, 'initdb'), [
      '-D', this.dataDir, '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256',
      '--encoding=UTF8', '--locale=C', '--no-sync',
    ]);
    fs.rmSync(pwfile);
  }

  /** Start (again) on the same directory and port; waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.pid() !== null) return;
    await this.run(binary(this.bin, 'pg_ctl'), [
      '-D', this.dataDir, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60', 'start',
      '-o', `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off -c max_connections=50`,
    ]);
  }

  /** The postmaster's pid while it runs, from postmaster.pid. */
  pid(): number | null {
    try {
      const pid = Number(fs.readFileSync(path.join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (!Number.isInteger(pid) || pid <= 0) return null;
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  }

  /** Fast shutdown by pid (SIGINT), SIGKILL after 20 s; resolves once the process is gone. */
  async stop(): Promise<void> {
    const pid = this.pid();
    if (pid === null) return;
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 200));
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** SQL as the superuser over the Unix socket; ON_ERROR_STOP, the output unaligned. */
  async psql(database: string, sql: string): Promise<string> {
    const { stdout } = await this.run(binary(this.bin, 'psql'), [
      '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.dir, '-p', String(this.port), '-U', SUPERUSER, '-d', database, '-At', '-f', '-',
    ], sql);
    return stdout;
  }

  /**
   * Load a plain-SQL pg_dump into the application database, adapted to this server:
   * - objects the dump gives to another owner (`OWNER TO cuz`) go to the application user;
   * - NNTSC's polymorphic helper aggregates (`most`, `smokearray`: STYPE anyarray over
   *   array_append/array_cat) cannot be created on PostgreSQL 14 or later, where those
   *   functions take anycompatiblearray; they are left out (no table or row depends on them).
   */
  async loadDump(sql: string, database = this.database): Promise<void> {
    const skipped = new Set<string>();
    const adapted = sql
      .replace(/^CREATE AGGREGATE (public\.\w+)\((\w+)\) \([^;]*STYPE = anyarray[^;]*\);\n/gm, (_all, name: string, arg: string) => {
        skipped.add(`${name}(${arg})`);
        return '';
      })
      .replace(/^ALTER AGGREGATE (public\.\w+)\((\w+)\) OWNER TO \w+;\n/gm, (all, name: string, arg: string) => (skipped.has(`${name}(${arg})`) ? '' : all))
      .replace(/\bOWNER TO [A-Za-z_][\w$]*;/g, `OWNER TO "${this.user}";`);
    await this.psql(database, adapted);
  }
}

/** The nntsc.sql fixture (data-formats.md §3.4). */
export function nntscFixture(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
  return fs.readFileSync(path.join(dir, 'test', 'fixtures', 'amp', 'nntsc.sql'), 'utf8');
}
