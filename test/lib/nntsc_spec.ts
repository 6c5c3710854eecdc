/**
 * NNTSC metadata against a real private PostgreSQL loaded with nntsc.sql (data-formats.md
 * §3): the rows of every metadata table, the cache (expiry, never caching misses or
 * failures, one query per stream at a time), parameterised queries, and the pool: state,
 * wrong credentials, a server that is down, back-off and recovery, ending the pool.
 * Also the pure parts: configuration parsing, in-order delivery, the error gate.
 */
import { strict as assert } from 'node:assert';
import { MetaEnricher } from '../../lib/amp/enrich';
import { ErrorGate, InOrder } from '../../lib/amp/in-order';
import { NntscMetadata, metaKindOf, parseStreamId, richKindOf } from '../../lib/amp/nntsc';
import { PgDatabase, PgUnavailableError, isConnectionError } from '../../lib/amp/pg-database';
import { POSTGRES_DEFAULTS, PostgresSettings, parsePostgresConfig } from '../../lib/amp/postgres-config';
import type { Measurement } from '../../lib/measurement';
import { freePort } from '../support/influxd';
import { PostgresServer, nntscFixture, requirePostgres } from '../support/postgres';

function settings(port: number, extra: Partial<PostgresSettings> = {}): PostgresSettings {
  return { host: '127.0.0.1', port, database: 'nntsc', poolSize: 3, tls: false, timeoutMs: 5000, ...extra };
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  return assert.fail('expected a rejection');
}

describe('NNTSC metadata and the PostgreSQL pool (lib)', () => {
  describe('configuration (pure)', () => {
    it('has the NNTSC defaults', () => {
      const { settings: s, errors } = parsePostgresConfig({});
      assert.deepEqual(errors, []);
      assert.deepEqual(s, { host: 'localhost', port: 5432, database: 'nntsc', poolSize: 5, tls: false, timeoutMs: 10_000 });
      assert.equal(POSTGRES_DEFAULTS.database, 'nntsc');
    });

    it('reads strings (from ${ENV} substitution) and socket directories', () => {
      const { settings: s, errors } = parsePostgresConfig({ host: '/var/run/postgresql', port: '6543', database: 'amp', poolSize: '10', tls: 'true', timeout: '2.5' });
      assert.deepEqual(errors, []);
      assert.deepEqual(s, { host: '/var/run/postgresql', port: 6543, database: 'amp', poolSize: 10, tls: true, timeoutMs: 2500 });
    });

    it('reports every bad field by name, and variables that were not set', () => {
      const { errors } = parsePostgresConfig({ host: 'postgres://db', port: '70000', poolSize: '0', timeout: 'soon', database: '${NNTSC_DB}' });
      assert.equal(errors.length, 5);
      assert.match(errors[0], /^postgres: host must be a host name.*postgres:\/\/db/);
      assert.match(errors[1], /port must be an integer between 1 and 65535 \(got "70000"\)/);
      assert.match(errors[2], /database is \$\{NNTSC_DB\} but the environment variable NNTSC_DB is not set/);
      assert.match(errors[3], /pool size must be an integer between 1 and 100/);
      assert.match(errors[4], /timeout must be a number of seconds/);
      assert.match(parsePostgresConfig({ host: 'amp@db' }).errors[0], /without postgres:\/\/ or user@/);
    });

    it('never lets an unset or odd "Use TLS" mean no TLS quietly', () => {
      assert.deepEqual(parsePostgresConfig({ tls: '${PG_TLS}' }).errors, ['postgres: tls is ${PG_TLS} but the environment variable PG_TLS is not set']);
      assert.deepEqual(parsePostgresConfig({ tls: 'yes' }).errors, ['postgres: tls must be true or false (got "yes")']);
      assert.equal(parsePostgresConfig({ tls: 'false' }).settings.tls, false);
      assert.deepEqual(parsePostgresConfig({ tls: false }).errors, []);
    });
  });

  describe('kinds and stream ids (pure)', () => {
    it('maps plain and Rich legacy kinds to their tables; AMP2 Traceroute has none', () => {
      assert.equal(metaKindOf('ICMP'), 'ICMP');
      assert.equal(metaKindOf('RichDNS'), 'DNS');
      assert.equal(metaKindOf('TraceroutePathlen'), 'TraceroutePathlen');
      assert.equal(metaKindOf('Traceroute', '18'), 'Traceroute');
      assert.equal(metaKindOf('Traceroute', 'traceroute--a--b--traceroute--Default--ipv4--3--60--false'), null);
      assert.equal(metaKindOf('LatencyIcmp'), null);
      assert.equal(metaKindOf('NabMeasurement'), null);
      assert.equal(richKindOf('TCPPing'), 'RichTCPPing');
    });

    it('accepts only integer stream ids within PostgreSQL integer range', () => {
      assert.equal(parseStreamId('3'), 3);
      assert.equal(parseStreamId('03'), 3);
      assert.equal(parseStreamId('2147483647'), 2147483647);
      for (const s of ['2147483648', '-1', '3 OR 1=1', '3; DROP TABLE streams_amp_icmp', '', '1.5', 'abc']) assert.equal(parseStreamId(s), null, s);
    });
  });

  describe('in-order delivery and the error gate (pure)', () => {
    it('delivers in push order although later work finishes first; synchronous values pass at once', async () => {
      const out: number[] = [];
      const q = new InOrder<number>((v) => out.push(v), () => -1);
      q.push(1);
      assert.deepEqual(out, [1], 'nothing pending: delivered synchronously');
      let release2: (v: number) => void = () => undefined;
      q.push(new Promise<number>((r) => { release2 = r; }));
      q.push(3);
      q.push(Promise.resolve(4));
      q.push(Promise.reject(new Error('x')));
      await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(out, [1], 'held back behind 2');
      assert.equal(q.pending, 4);
      const drained = q.drained();
      release2(2);
      await drained;
      assert.deepEqual(out, [1, 2, 3, 4, -1]);
    });

    it('admits a cause once per interval and counts the rest', () => {
      let now = 0;
      const gate = new ErrorGate(10_000, () => now);
      assert.equal(gate.admit('ECONNREFUSED'), true);
      assert.equal(gate.admit('ECONNREFUSED'), false);
      assert.equal(gate.admit('28P01'), true);
      assert.equal(gate.admit('ECONNREFUSED'), false);
      assert.deepEqual(gate.takeHeld(), [{ cause: 'ECONNREFUSED', count: 2 }]);
      assert.deepEqual(gate.takeHeld(), []);
      now = 10_000;
      assert.equal(gate.admit('ECONNREFUSED'), true);
    });
  });

  describe('against a real PostgreSQL with nntsc.sql', function () {
    this.timeout(90_000);
    let server: PostgresServer;
    let db: PgDatabase;

    before(async function () {
      const bin = requirePostgres(this);
      server = await PostgresServer.start(bin);
      await server.loadDump(nntscFixture());
    });
    after(async () => {
      await db?.close();
      await server?.dispose();
    });
    beforeEach(() => {
      db = new PgDatabase(settings(server.port), { user: server.user, password: server.password });
    });
    afterEach(async () => {
      await db.close();
    });

    it('loaded the fixture as data-formats.md §3.4 describes it', async () => {
      const count = async (t: string): Promise<number> => Number((await db.query(`SELECT count(*) AS n FROM ${t}`, [])).rows[0].n);
      assert.equal(await count('collections'), 12);
      assert.equal(await count('streams_amp_icmp'), 7);
      assert.equal(await count('streams_amp_dns'), 4);
      assert.equal(await count('streams_amp_traceroute'), 4);
      assert.equal(await count('data_amp_traceroute_18'), 405);
      assert.equal(await count('data_amp_traceroute_paths_18'), 21);
      assert.equal(await count('data_amp_traceroute_aspaths_18'), 6);
      const first = (await db.query('SELECT * FROM data_amp_traceroute_18 ORDER BY timestamp LIMIT 1', [])).rows[0];
      assert.deepEqual([first.stream_id, first.timestamp, first.path_id, first.aspath_id, first.packet_size, first.error_type, first.error_code],
        [18, 1564373430, 40, 1, 60, null, null]);
      const rtts = first.hop_rtt as Array<number | null>;
      assert.equal(rtts.length, 22);
      assert.deepEqual(rtts.map((v, i) => (v === null ? i + 1 : 0)).filter(Boolean), [9, 18, 19, 20, 21, 22]);
      const lossy19 = (await db.query('SELECT count(*) AS n FROM data_amp_traceroute_19 WHERE error_type = 3 AND error_code = 10', [])).rows[0];
      assert.equal(Number(lossy19.n), 404);
    });

    it('finds the metadata row of every stream in every streams_amp_* table', async () => {
      const meta = new NntscMetadata(db);
      assert.deepEqual(await meta.lookup('ICMP', 3), { source: 'amplet', destination: 'wand.net.nz', family: 'ipv4', packet_size_selection: 'random' });
      assert.deepEqual(await meta.lookup('ICMP', 12), { source: 'amplet', destination: 'www.cloudflare.com', family: 'ipv4', packet_size_selection: '84' });
      const icmp: Record<number, string> = { 3: 'wand.net.nz', 4: 'google.com', 10: 'wand.net.nz', 11: 'cloud.google.com', 12: 'www.cloudflare.com', 13: 'afrinic.net', 14: 'download.microsoft.com' };
      for (const [id, dest] of Object.entries(icmp)) assert.equal((await meta.lookup('ICMP', Number(id)))?.destination, dest, `ICMP ${id}`);
      assert.deepEqual(await meta.lookup('DNS', 15), {
        source: 'amplet', destination: 'ns1.dns.net.nz', instance: 'ns1.dns.net.nz', address: '202.46.190.130', query: 'dns.net.nz',
        query_type: 'NS', query_class: 'IN', udp_payload_size: 4096, recurse: false, dnssec: false, nsid: false,
      });
      assert.deepEqual(await meta.lookup('DNS', 1).then((m) => [m?.destination, m?.address, m?.query, m?.query_type]), ['8.8.8.8', '8.8.8.8', 'wand.net.nz', 'AAAA']);
      assert.deepEqual(await meta.lookup('DNS', 16).then((m) => [m?.destination, m?.address, m?.query]), ['a.root-servers.net', '198.41.0.4', 'example.com']);
      assert.deepEqual(await meta.lookup('HTTP', 17), {
        source: 'amplet', destination: 'https://wand.net.nz/', max_connections: 24, max_connections_per_server: 8,
        max_persistent_connections_per_server: 2, pipelining_max_requests: 4, persist: true, pipelining: false, caching: false,
      });
      assert.deepEqual(await meta.lookup('TCPPing', 9), { source: 'amplet', destination: 'wand.net.nz', port: 443, family: 'ipv4', packet_size_selection: '64' });
      const routes: Record<number, string> = { 5: 'google.com', 6: 'wand.net.nz', 18: 'a.root-servers.net', 19: 'afrinic.net' };
      for (const [id, dest] of Object.entries(routes)) {
        const expected = { source: 'amplet', destination: dest, family: 'ipv4', packet_size_selection: '60' };
        assert.deepEqual(await meta.lookup('TraceroutePathlen', Number(id)), expected, `pathlen ${id}`);
        assert.deepEqual(await meta.lookup('Traceroute', Number(id)), expected, `traceroute ${id}`);
      }
    });

    it('returns null for a stream without a row, in the table of its own kind only', async () => {
      const meta = new NntscMetadata(db);
      assert.equal(await meta.lookup('ICMP', 999), null);
      assert.equal(await meta.lookup('ICMP', 9), null, 'stream 9 is a TCPPing stream');
      assert.equal(await meta.lookup('DNS', 3), null, 'stream 3 is an ICMP stream');
    });

    it('caches found rows for ttl seconds, never misses; 0 = never expires', async () => {
      let now = 1_000_000;
      const meta = new NntscMetadata(db, { ttlSeconds: 30, now: () => now });
      await meta.lookup('ICMP', 3);
      await meta.lookup('ICMP', 3);
      assert.equal(meta.stats.queries, 1);
      assert.equal(meta.stats.hits, 1);
      assert.ok(meta.cached('ICMP', 3));
      assert.equal(meta.cached('DNS', 3), undefined, 'cached per kind and stream');
      now += 29_999;
      await meta.lookup('ICMP', 3);
      assert.equal(meta.stats.queries, 1);
      now += 1;
      await meta.lookup('ICMP', 3);
      assert.equal(meta.stats.queries, 2, 'expired after 30 s');
      await meta.lookup('ICMP', 999);
      await meta.lookup('ICMP', 999);
      assert.equal(meta.stats.queries, 4, 'a stream without a row is asked again');
      assert.equal(meta.stats.notFound, 2);

      const forever = new NntscMetadata(db, { ttlSeconds: 0, now: () => now });
      await forever.lookup('HTTP', 17);
      now += 365 * 86_400_000;
      await forever.lookup('HTTP', 17);
      assert.equal(forever.stats.queries, 1);
    });

    it('shares one query between concurrent lookups of a stream', async () => {
      const meta = new NntscMetadata(db);
      const all = await Promise.all([1, 2, 3, 4, 5].map(() => meta.lookup('DNS', 2)));
      assert.equal(meta.stats.queries, 1);
      assert.ok(all.every((m) => m?.destination === '1.1.1.1'));
    });

    it('binds values as parameters: injected SQL is a value, and a bad value an SQL error (the connection stays up)', async () => {
      const err = await rejection(db.query('SELECT destination FROM streams_amp_icmp WHERE stream_id = $1', ['3 OR 1=1']));
      assert.equal(err.code, '22P02', 'invalid input syntax for type integer');
      assert.equal(isConnectionError(err), false);
      assert.equal(db.state.state, 'connected');
      const none = await db.query('SELECT destination FROM streams_amp_icmp WHERE destination = $1', ["x' OR '1'='1"]);
      assert.equal(none.rows.length, 0);
      assert.equal((await db.query('SELECT count(*) AS n FROM streams_amp_icmp', [])).rows[0].n, '7', 'table intact');
    });

    it('enriches measurements: Rich kind and meta when found, meta null when not; cached ones synchronously', async () => {
      const meta = new NntscMetadata(db);
      const enricher = new MetaEnricher(meta);
      const m = (kind: string, stream: string): Measurement => ({ kind, stream, time: 1, value: 1, lossy: false, fields: { median: 1 } });
      const batch = [m('ICMP', '4'), m('DNS', '16'), m('TraceroutePathlen', '19'), m('ICMP', '404'), m('LatencyIcmp', 'latency--a--b--icmp--Default--ipv4--84--false'), m('HTTP', 'x17')];
      const pending = enricher.enrich(batch);
      assert.ok(pending instanceof Promise);
      const r = await pending;
      assert.deepEqual([r.enriched, r.missing, r.skipped], [3, 2, 1]);
      assert.equal(r.dbError, undefined);
      assert.match(r.dataErrors[0], /HTTP stream "x17" is not an NNTSC stream id/);
      assert.deepEqual(batch.map((x) => x.kind), ['RichICMP', 'RichDNS', 'RichTraceroutePathlen', 'ICMP', 'LatencyIcmp', 'HTTP']);
      assert.equal(batch[0].meta?.destination, 'google.com');
      assert.equal(batch[1].meta?.address, '198.41.0.4');
      assert.equal(batch[3].meta, null);
      assert.equal('meta' in batch[4], false, 'other kinds untouched');
      assert.deepEqual(batch[0].fields, { median: 1 }, 'fields untouched');

      const again = m('RichICMP', '4');
      const sync = enricher.enrich(again);
      assert.ok(!(sync instanceof Promise) && typeof sync !== 'string', 'cached: no promise');
      assert.equal(again.kind, 'RichICMP');
      again.meta!.destination = 'changed';
      assert.equal(meta.cached('ICMP', 4)?.destination, 'google.com', 'each msg gets its own copy of the cached row');
      assert.match(enricher.enrich({ not: 'a measurement' }) as string, /not a streamevmon measurement/);
    });

    it('reports state: connecting → connected on the first check', async () => {
      const states: string[] = [];
      db.onState((s) => states.push(s.state));
      db.register('n1');
      await waitFor(() => db.state.state === 'connected', 5000, 'connected');
      assert.deepEqual(states, ['connecting', 'connected']);
      assert.ok(db.poolCounts.total >= 1);
    });

    it('a wrong password is an error state with SQLSTATE 28P01, and the message never holds the password', async () => {
      const wrong = new PgDatabase(settings(server.port), { user: server.user, password: 'not-the-password' });
      try {
        const err = await rejection(wrong.query('SELECT 1', []));
        assert.ok(err instanceof PgUnavailableError);
        assert.equal(err.code, '28P01');
        assert.match(err.message, /password authentication failed.*check the user and password/);
        assert.doesNotMatch(err.message, /not-the-password/);
        assert.equal(wrong.state.state, 'error');
        assert.equal(wrong.state.code, '28P01');
      } finally {
        await wrong.close();
      }
    });

    it('a database that does not exist is 3D000', async () => {
      const none = new PgDatabase(settings(server.port, { database: 'no_such_db' }), { user: server.user, password: server.password });
      try {
        assert.equal((await rejection(none.query('SELECT 1', []))).code, '3D000');
      } finally {
        await none.close();
      }
    });

    it('a server that is down: ECONNREFUSED, fails fast during the back-off, then is retried', async () => {
      const port = await freePort();
      const down = new PgDatabase(settings(port), { user: 'x', password: 'y' }, { firstRetryMs: 300, maxRetryMs: 1000 });
      try {
        const first = await rejection(down.query('SELECT 1', []));
        assert.equal(first.code, 'ECONNREFUSED');
        assert.match(first.message, /PostgreSQL x@127\.0\.0\.1:\d+\/nntsc: .*ECONNREFUSED.*is PostgreSQL running/);
        const t0 = Date.now();
        const fast = await rejection(down.query('SELECT 1', []));
        assert.ok(Date.now() - t0 < 50, 'no connection attempt during the back-off');
        assert.match(fast.message, /retrying in 1 s/);
        await new Promise((r) => setTimeout(r, 350));
        assert.equal((await rejection(down.query('SELECT 1', []))).code, 'ECONNREFUSED', 'retried after the back-off');
      } finally {
        await down.close();
      }
    });

    it('finds a restarted server again with back-off checks while a node uses it', async () => {
      const own = await PostgresServer.start(server.bin);
      const live = new PgDatabase(settings(own.port), { user: own.user, password: own.password }, { firstRetryMs: 200, maxRetryMs: 800 });
      try {
        live.register('n1');
        await waitFor(() => live.state.state === 'connected', 5000, 'connected');
        await own.stop();
        await rejection(live.query('SELECT 1', []));
        assert.equal(live.state.state, 'error');
        await own.start();
        await waitFor(() => live.state.state === 'connected', 10_000, 'connected again without traffic');
        assert.equal((await live.query('SELECT 1 AS one', [])).rows[0].one, 1);
      } finally {
        await live.close();
        await own.dispose();
      }
    });

    it('close() ends the pool: its connections leave the server', async () => {
      const active = async (): Promise<number> => Number((await server.psql('postgres',
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'node-red-contrib-streamevmon' AND datname = 'nntsc'")).trim());
      const before = await active();
      await Promise.all([1, 2, 3].map(() => db.query('SELECT pg_sleep(0.05)', [])));
      assert.equal(await active(), before + 3, 'pool size 3: three connections open');
      await db.close();
      for (let i = 0; i < 40 && (await active()) !== before; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await active(), before);
      assert.equal(db.state.state, 'closed');
      assert.match((await rejection(db.query('SELECT 1', []))).message, /closed/);
    });
  });
});
