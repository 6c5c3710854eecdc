/**
 * Server settings and credentials of the configuration nodes from the environment: every
 * field of streamevmon-postgres and streamevmon-influxdb may be `${NAME}` (Node-RED replaces it
 * with the environment variable NAME when the flow starts). PostgreSQL runs for real, on a
 * private server loaded with nntsc.sql, and a streamevmon-amp-meta node must enrich through
 * the pool built only from environment values.
 */
import { strict as assert } from 'node:assert';
import ampMetaNode = require('../../nodes/streamevmon-amp-meta');
import influxdbNode = require('../../nodes/streamevmon-influxdb');
import postgresNode = require('../../nodes/streamevmon-postgres');
import { PostgresServer, nntscFixture, requirePostgres } from '../support/postgres';
import { collect, helper } from './helpers';

/** Set the variables for the duration of fn, then remove them again. */
async function withEnv(vars: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function icmp(stream: string): Record<string, unknown> {
  return {
    topic: `ICMP-${stream}`,
    payload: {
      kind: 'ICMP', stream, time: 1563761840000, value: 225, lossy: false,
      fields: { loss: 0, lossrate: 0, median: 225, packet_size: 520, results: 1, rtts: [225] },
    },
  };
}

describe('configuration from ${ENV} variables', function () {
  this.timeout(90_000);

  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  describe('streamevmon-postgres (real PostgreSQL)', () => {
    let server: PostgresServer;

    before(async function () {
      const bin = requirePostgres(this);
      server = await PostgresServer.start(bin, { user: 'env_reader', password: 'p@ss ${not-a-var} w0rd', database: 'nntsc_env' });
      await server.loadDump(nntscFixture());
    });
    after(async () => {
      await server?.dispose();
    });

    const flow = (cfg: Record<string, unknown>): unknown[] => [
      { id: 'f1', type: 'tab' },
      { id: 'cfg', type: 'streamevmon-postgres', ...cfg },
      { id: 'meta', z: 'f1', type: 'streamevmon-amp-meta', postgres: 'cfg', ttl: '30', requireMeta: false, outputs: 1, wires: [['out']] },
      { id: 'out', z: 'f1', type: 'helper' },
    ];

    it('takes host, port, database, pool size, timeout, TLS, user and password from the environment', async () => {
      await withEnv({
        STREAMEVMON_TEST_PG_HOST: '127.0.0.1',
        STREAMEVMON_TEST_PG_PORT: String(server.port),
        STREAMEVMON_TEST_PG_DATABASE: server.database,
        STREAMEVMON_TEST_PG_POOL: '2',
        STREAMEVMON_TEST_PG_TIMEOUT: '7',
        STREAMEVMON_TEST_PG_TLS: 'false',
        STREAMEVMON_TEST_PG_USER: server.user,
        STREAMEVMON_TEST_PG_PASSWORD: server.password,
      }, async () => {
        await helper.load([postgresNode, ampMetaNode] as never, flow({
          host: '${STREAMEVMON_TEST_PG_HOST}', port: '${STREAMEVMON_TEST_PG_PORT}', database: '${STREAMEVMON_TEST_PG_DATABASE}',
          poolSize: '${STREAMEVMON_TEST_PG_POOL}', timeout: '${STREAMEVMON_TEST_PG_TIMEOUT}', tls: '${STREAMEVMON_TEST_PG_TLS}',
        }) as never, { cfg: { user: '${STREAMEVMON_TEST_PG_USER}', password: '${STREAMEVMON_TEST_PG_PASSWORD}' } } as never);
        const cfg = helper.getNode('cfg') as any;
        assert.deepEqual(cfg.configErrors, []);
        assert.deepEqual(cfg.settings, { host: '127.0.0.1', port: server.port, database: server.database, poolSize: 2, tls: false, timeoutMs: 7000 });
        assert.equal(cfg.credentials.user, server.user);
        assert.equal(cfg.credentials.password, server.password);

        // The pool built from these values reaches the database: the msg is enriched.
        const out = collect('out');
        helper.getNode('meta').receive(icmp('14'));
        const [msg] = await out.waitFor(1, 10_000);
        assert.equal(msg.payload.meta.destination, 'download.microsoft.com');
        assert.equal(msg.ampMetaMissing, undefined);
      });
    });

    it('a variable that is not set stops the node with a message naming it, and no connection is tried', async () => {
      delete process.env.STREAMEVMON_TEST_PG_UNSET;
      await helper.load([postgresNode, ampMetaNode] as never, flow({ host: '127.0.0.1', port: '${STREAMEVMON_TEST_PG_UNSET}', database: 'nntsc_env' }) as never,
        { cfg: { user: server.user, password: server.password } } as never);
      const cfg = helper.getNode('cfg') as any;
      assert.equal(cfg.postgres, null, 'no pool for a configuration with problems');
      assert.ok(cfg.configErrors.length > 0);
      assert.match(cfg.configErrors.join('\n'), /port .*STREAMEVMON_TEST_PG_UNSET.*not set/);
    });

    it('an unset variable in the credentials is reported too, instead of a failed login', async () => {
      delete process.env.STREAMEVMON_TEST_PG_UNSET_PASSWORD;
      await helper.load([postgresNode, ampMetaNode] as never, flow({ host: '127.0.0.1', port: String(server.port), database: server.database }) as never,
        { cfg: { user: server.user, password: '${STREAMEVMON_TEST_PG_UNSET_PASSWORD}' } } as never);
      const cfg = helper.getNode('cfg') as any;
      assert.equal(cfg.postgres, null);
      assert.deepEqual(cfg.configErrors, ['postgres: password is ${STREAMEVMON_TEST_PG_UNSET_PASSWORD} but the environment variable STREAMEVMON_TEST_PG_UNSET_PASSWORD is not set']);
      // The amp-meta node using it refuses to start and names the problem.
      const meta = helper.getNode('meta') as any;
      const statusCalls = meta.status.args as Array<[{ text?: string }]>;
      assert.match(statusCalls.at(-1)?.[0].text ?? '', /STREAMEVMON_TEST_PG_UNSET_PASSWORD/);
    });
  });

  describe('streamevmon-influxdb', () => {
    it('takes host, port, TLS, database, retention policy, timeout, user and password from the environment', async () => {
      await withEnv({
        STREAMEVMON_TEST_INFLUX_HOST: 'influx.example.net',
        STREAMEVMON_TEST_INFLUX_PORT: '8087',
        STREAMEVMON_TEST_INFLUX_TLS: 'true',
        STREAMEVMON_TEST_INFLUX_DB: 'nntsc',
        STREAMEVMON_TEST_INFLUX_RP: 'nntscdefault',
        STREAMEVMON_TEST_INFLUX_TIMEOUT: '4',
        STREAMEVMON_TEST_INFLUX_USER: 'reader',
        STREAMEVMON_TEST_INFLUX_PASSWORD: 'from env',
      }, async () => {
        await helper.load([influxdbNode] as never, [{
          id: 'cfg', type: 'streamevmon-influxdb', host: '${STREAMEVMON_TEST_INFLUX_HOST}', port: '${STREAMEVMON_TEST_INFLUX_PORT}',
          tls: '${STREAMEVMON_TEST_INFLUX_TLS}', database: '${STREAMEVMON_TEST_INFLUX_DB}', retentionPolicy: '${STREAMEVMON_TEST_INFLUX_RP}',
          timeout: '${STREAMEVMON_TEST_INFLUX_TIMEOUT}',
        }] as never, { cfg: { user: '${STREAMEVMON_TEST_INFLUX_USER}', password: '${STREAMEVMON_TEST_INFLUX_PASSWORD}' } } as never);
        const cfg = helper.getNode('cfg') as any;
        assert.deepEqual(cfg.configErrors, []);
        assert.equal(cfg.settings.host, 'influx.example.net');
        assert.equal(cfg.settings.port, 8087);
        assert.equal(cfg.settings.tls, true);
        assert.equal(cfg.settings.database, 'nntsc');
        assert.equal(cfg.settings.retentionPolicy, 'nntscdefault');
        assert.equal(cfg.settings.timeoutMs, 4000);
        assert.equal(cfg.influx.baseUrl, 'https://influx.example.net:8087');
        assert.equal(cfg.credentials.user, 'reader');
        assert.equal(cfg.credentials.password, 'from env');
      });
    });

    it('names every variable that is not set, settings and credentials alike', async () => {
      for (const k of ['HOST', 'PORT', 'DB', 'RP', 'TIMEOUT', 'USER']) delete process.env[`STREAMEVMON_TEST_INFLUX_UNSET_${k}`];
      await helper.load([influxdbNode] as never, [{
        id: 'cfg', type: 'streamevmon-influxdb', host: '${STREAMEVMON_TEST_INFLUX_UNSET_HOST}', port: '${STREAMEVMON_TEST_INFLUX_UNSET_PORT}',
        database: '${STREAMEVMON_TEST_INFLUX_UNSET_DB}', retentionPolicy: '${STREAMEVMON_TEST_INFLUX_UNSET_RP}', timeout: '${STREAMEVMON_TEST_INFLUX_UNSET_TIMEOUT}',
      }] as never, { cfg: { user: '${STREAMEVMON_TEST_INFLUX_UNSET_USER}', password: 'set' } } as never);
      const cfg = helper.getNode('cfg') as any;
      assert.equal(cfg.influx, null, 'no client for a configuration with problems');
      assert.deepEqual(cfg.configErrors, ['host', 'port', 'database', 'retentionPolicy', 'timeout', 'user'].map((field, i) => {
        const name = `STREAMEVMON_TEST_INFLUX_UNSET_${['HOST', 'PORT', 'DB', 'RP', 'TIMEOUT', 'USER'][i]}`;
        return `influxdb: ${field} is \${${name}} but the environment variable ${name} is not set`;
      }));
    });
  });
});
