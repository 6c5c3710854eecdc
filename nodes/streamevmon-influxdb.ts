/**
 * Configuration node streamevmon-influxdb: one InfluxDB 1.x server (host, port, TLS,
 * database, retention policy, credentials) and the client every node using it shares
 * (node-red-conventions.md §6). While a node uses it, it checks the server (ping, and the
 * credentials when set) with back-off, and emits 'state' events: connecting, connected, error.
 */
import { EventEmitter } from 'node:events';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { InfluxClient, InfluxError } from '../lib/influx/client';
import { parseInfluxConfig } from '../lib/influx/config';
import type { InfluxConfigNode, InfluxCredentials, InfluxState } from './streamevmon-influxdb-api';
import { translator } from './common/i18n';

const TYPE = 'streamevmon-influxdb';
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;
/** The same failure is logged at most this often (node-red-conventions.md §14.2 #8). */
const LOG_INTERVAL_MS = 10_000;

interface InfluxConfigDef extends NodeDef {
  host?: string;
  port?: string | number;
  tls?: boolean | string;
  database?: string;
  retentionPolicy?: string;
  timeout?: string | number;
}

export = function (RED: NodeAPI): void {
  function InfluxConfig(this: InfluxConfigNode, def: InfluxConfigDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED, TYPE);
    const { config, errors } = parseInfluxConfig(def as unknown as Record<string, unknown>);
    const creds = node.credentials ?? {};
    // A credential still of the form ${NAME}: the variable is not set (the login would fail confusingly).
    for (const field of ['user', 'password'] as const) {
      const m = /^\$\{(\S+)\}$/.exec((creds[field] ?? '').trim());
      if (m) errors.push(t('streamevmon.error.unsetEnv', { field, value: creds[field] ?? '', name: m[1] }));
    }
    node.settings = config;
    node.configErrors = errors;
    node.influxState = { state: 'idle' };
    node.influx = errors.length ? null : new InfluxClient({
      host: config.host, port: config.port, tls: config.tls, timeoutMs: config.timeoutMs,
      username: creds.user || undefined, password: creds.password || undefined,
    });
    for (const e of errors) node.error(e);

    const users = new Set<string>();
    const aborter = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let failures = 0;
    let checking = false;
    let closed = false;
    let lastLogged = { code: '', at: 0 };

    const setState = (s: InfluxState): void => {
      const prev = node.influxState;
      node.influxState = s;
      if (prev.state === s.state && prev.code === s.code) return;
      if (s.state === 'connected' && prev.state === 'error') node.log(t('streamevmon.log.reachable', { url: node.influx?.baseUrl ?? '' }));
      node.emit('state', s);
    };

    const logFailure = (s: InfluxState): void => {
      const now = Date.now();
      if (s.code === lastLogged.code && now - lastLogged.at < LOG_INTERVAL_MS) return;
      lastLogged = { code: s.code ?? '', at: now };
      node.warn(s.message ?? t('streamevmon.warn.error', { code: s.code ?? 'error' }));
    };

    const schedule = (): void => {
      if (closed || timer || checking || users.size === 0) return;
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(failures - 1, 20));
      timer = setTimeout(() => {
        timer = undefined;
        void check();
      }, Math.max(0, delay));
    };

    const check = async (): Promise<void> => {
      const client = node.influx;
      if (!client || closed || checking || users.size === 0) return;
      checking = true;
      if (node.influxState.state !== 'connected') setState({ state: 'connecting' });
      try {
        const { version } = await client.ping(aborter.signal);
        // /ping needs no credentials: a cheap authenticated query finds a wrong password now.
        if (creds.user) await client.query('SHOW DATABASES', { signal: aborter.signal });
        failures = 0;
        setState({ state: 'connected', version });
      } catch (err) {
        if (closed) return;
        failures++;
        const s = failureState(err);
        setState(s);
        logFailure(s);
      } finally {
        checking = false;
      }
      if (node.influxState.state === 'error') schedule();
    };

    node.register = (user: Node): void => {
      users.add(user.id);
      if (users.size === 1 && node.influx) void check();
    };

    node.deregister = (user: Node): void => {
      users.delete(user.id);
      if (users.size === 0 && timer) {
        clearTimeout(timer);
        timer = undefined;
      }
    };

    node.reportResult = (err?: unknown): void => {
      if (closed) return;
      if (err === undefined) {
        if (node.influxState.state !== 'connected') {
          failures = 0;
          setState({ state: 'connected', version: node.influxState.version });
        }
        return;
      }
      // Only failures of the server or the credentials say something about the connection.
      if (!(err instanceof InfluxError) || !(err.retryable || err.kind === 'auth')) return;
      if (node.influxState.state === 'connected') failures = 0;
      failures = Math.max(failures, 1);
      setState(failureState(err));
      schedule();
    };

    node.onState = (listener) => {
      // Node's typings only know 'input' and 'close'; it is an EventEmitter all the same.
      const emitter = node as unknown as EventEmitter;
      emitter.on('state', listener);
      return () => emitter.removeListener('state', listener);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      aborter.abort();
      users.clear();
      done();
    });
  }

  function failureState(err: unknown): InfluxState {
    if (err instanceof InfluxError) return { state: 'error', code: err.code, message: err.message };
    const e = err as { message?: string };
    return { state: 'error', code: 'error', message: e?.message ?? String(err) };
  }

  RED.nodes.registerType<InfluxConfigNode, InfluxConfigDef, unknown, InfluxCredentials>(TYPE, InfluxConfig, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
