/**
 * Configuration node streamevmon-postgres: one PostgreSQL (NNTSC) database and the single
 * connection pool every node using it shares (node-red-conventions.md §6). It reports the
 * connection state ('state' events on its PgDatabase) and ends the pool when it closes,
 * so redeploys never leave connections behind (§14.2 #10).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { PgCredentials, PgDatabase } from '../lib/amp/pg-database';
import { PostgresSettings, parsePostgresConfig } from '../lib/amp/postgres-config';
import { translator } from './common/i18n';

const TYPE = 'streamevmon-postgres';
/** Close must finish well within Node-RED's 15 s nodeCloseTimeout. */
const CLOSE_LIMIT_MS = 12_000;

interface PostgresDef extends NodeDef {
  host?: string;
  port?: string | number;
  database?: string;
  poolSize?: string | number;
  tls?: boolean | string;
  timeout?: string | number;
}

/**
 * What nodes using this configuration see through RED.nodes.getNode(id): `postgres` and
 * `configErrors` (a node module can only `export =` its registration function).
 */
interface PostgresConfigNode extends Node<PgCredentials> {
  /** Null when the configuration is invalid (see configErrors). */
  postgres: PgDatabase | null;
  settings: PostgresSettings;
  configErrors: string[];
}

export = function (RED: NodeAPI): void {
  function PostgresConfig(this: PostgresConfigNode, def: PostgresDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED, TYPE);
    const { settings, errors } = parsePostgresConfig(def as unknown as Record<string, unknown>);
    const creds = node.credentials ?? {};
    // A credential still of the form ${NAME}: the variable is not set (the login would fail confusingly).
    for (const field of ['user', 'password'] as const) {
      const m = /^\$\{(\S+)\}$/.exec((creds[field] ?? '').trim());
      if (m) errors.push(t('streamevmon.error.unsetEnv', { field, value: creds[field] ?? '', name: m[1] }));
    }
    node.settings = settings;
    node.configErrors = errors;
    node.postgres = errors.length ? null : new PgDatabase(settings, { user: creds.user, password: creds.password });
    for (const e of errors) node.error(e);

    const db = node.postgres;
    if (db) {
      let lastLogged = '';
      db.onState((s) => {
        // Each change is logged once; repeated identical failures are not (no log flooding).
        const text = s.state === 'error' ? s.message ?? t('streamevmon.warn.error', { code: s.code ?? 'error' }) : '';
        if (s.state === 'error' && text !== lastLogged) node.warn(text);
        if (s.state === 'connected' && lastLogged) node.log(t('streamevmon.log.reachable', { target: db.target }));
        lastLogged = s.state === 'error' ? text : s.state === 'connected' ? '' : lastLogged;
      });
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!db) {
        done();
        return;
      }
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(limit);
        done();
      };
      const limit = setTimeout(() => {
        node.warn(t('streamevmon.warn.closeTimeout', { target: db.target, seconds: CLOSE_LIMIT_MS / 1000 }));
        finish();
      }, CLOSE_LIMIT_MS);
      db.close().catch((err: Error) => node.warn(t('streamevmon.warn.closeFailed', { target: db.target, error: err.message }))).finally(finish);
    });
  }

  RED.nodes.registerType<PostgresConfigNode, PostgresDef, unknown, PgCredentials>(TYPE, PostgresConfig, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
