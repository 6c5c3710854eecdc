/**
 * streamevmon-amp-meta and its streamevmon-postgres configuration node against a real private
 * PostgreSQL loaded with nntsc.sql: enrichment matches the rows, unknown streams and a
 * database that is down pass msgs on marked (never dropped), errors reach Catch nodes
 * (rate-limited), the status follows, credentials and ${ENV} work, msgs keep their order, and
 * redeploys end the pool. Also the AMP legacy example flow.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import ampMetaNode = require('../../nodes/streamevmon-amp-meta');
import postgresNode = require('../../nodes/streamevmon-postgres');
import { freePort } from '../support/influxd';
import { PostgresServer, nntscFixture, requirePostgres } from '../support/postgres';
import { collect, helper, lastStatus, projectRoot, settle } from './helpers';

const NODES = [postgresNode, ampMetaNode] as never;

type FlowNode = Record<string, any>;

interface FlowOptions {
  port: number;
  requireMeta?: boolean;
  ttl?: number | string;
  cfg?: Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function flow(o: FlowOptions): any[] {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'streamevmon-postgres', host: '127.0.0.1', port: String(o.port), database: 'nntsc', poolSize: '3', timeout: '5', ...o.cfg },
    {
      id: 'meta', z: 'f1', type: 'streamevmon-amp-meta', postgres: 'cfg', ttl: String(o.ttl ?? 30), requireMeta: o.requireMeta ?? false,
      outputs: o.requireMeta ? 2 : 1, wires: o.requireMeta ? [['out'], ['out2']] : [['out']],
    },
    { id: 'out', z: 'f1', type: 'helper' },
    { id: 'out2', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: ['meta'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
  ];
}

function icmp(stream: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    topic: `ICMP-${stream}`,
    payload: {
      kind: 'ICMP', stream, time: 1563761840000, value: 225, lossy: false,
      fields: { loss: 0, lossrate: 0, median: 225, packet_size: 520, results: 1, rtts: [225] },
    },
    ...extra,
  };
}

function measurementMsg(kind: string, stream: string): Record<string, unknown> {
  return { topic: `${kind}-${stream}`, payload: { kind, stream, time: 1, value: 1, lossy: false, fields: {} } };
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(50);
  }
}

function statusText(id: string): string {
  return lastStatus(helper.getNode(id)).text;
}

async function activeConnections(server: PostgresServer): Promise<number> {
  const out = await server.psql('postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'node-red-contrib-streamevmon' AND datname = 'nntsc'");
  return Number(out.trim());
}

describe('streamevmon-amp-meta with streamevmon-postgres (real PostgreSQL)', function () {
  this.timeout(90_000);
  let server: PostgresServer;
  let creds: Record<string, { user: string; password: string }>;

  before(async function () {
    const bin = requirePostgres(this);
    server = await PostgresServer.start(bin);
    await server.loadDump(nntscFixture());
    creds = { cfg: { user: server.user, password: server.password } };
  });
  after(async () => {
    await server?.dispose();
  });
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('enriches every legacy kind with its row from nntsc.sql; topic, fields and _msgid unchanged', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const meta = helper.getNode('meta');
    meta.receive(icmp('3', { _msgid: 'm-3' }));
    meta.receive(measurementMsg('DNS', '15'));
    meta.receive(measurementMsg('HTTP', '17'));
    meta.receive(measurementMsg('TCPPing', '9'));
    meta.receive(measurementMsg('TraceroutePathlen', '18'));
    const msgs = await out.waitFor(5, 5000);
    assert.deepEqual(msgs.map((m) => [m.topic, m.payload.kind]), [
      ['ICMP-3', 'RichICMP'], ['DNS-15', 'RichDNS'], ['HTTP-17', 'RichHTTP'], ['TCPPing-9', 'RichTCPPing'], ['TraceroutePathlen-18', 'RichTraceroutePathlen'],
    ]);
    assert.equal(msgs[0]._msgid, 'm-3');
    assert.deepEqual(msgs[0].payload, {
      kind: 'RichICMP', stream: '3', time: 1563761840000, value: 225, lossy: false,
      fields: { loss: 0, lossrate: 0, median: 225, packet_size: 520, results: 1, rtts: [225] },
      meta: { source: 'amplet', destination: 'wand.net.nz', family: 'ipv4', packet_size_selection: 'random' },
    });
    assert.deepEqual(msgs[1].payload.meta, {
      source: 'amplet', destination: 'ns1.dns.net.nz', instance: 'ns1.dns.net.nz', address: '202.46.190.130', query: 'dns.net.nz',
      query_type: 'NS', query_class: 'IN', udp_payload_size: 4096, recurse: false, dnssec: false, nsid: false,
    });
    assert.deepEqual([msgs[2].payload.meta.destination, msgs[2].payload.meta.max_connections, msgs[2].payload.meta.persist], ['https://wand.net.nz/', 24, true]);
    assert.deepEqual(msgs[3].payload.meta, { source: 'amplet', destination: 'wand.net.nz', port: 443, family: 'ipv4', packet_size_selection: '64' });
    assert.deepEqual(msgs[4].payload.meta, { source: 'amplet', destination: 'a.root-servers.net', family: 'ipv4', packet_size_selection: '60' });
    assert.ok(msgs.every((m) => m.ampMetaMissing === undefined && m.ampMetaError === undefined));
    await waitUntil(() => statusText('meta') === '5 enriched · 0 without meta', 3000, 'the status');
    assert.equal(lastStatus(helper.getNode('meta')).fill, 'green');
  });

  it('keeps the arrival order: a cached stream does not overtake one waiting for its query', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const meta = helper.getNode('meta');
    meta.receive(icmp('3'));
    await out.waitFor(1, 5000);
    meta.receive(icmp('4'));
    meta.receive(icmp('3'));
    meta.receive(icmp('10'));
    meta.receive(icmp('3'));
    const msgs = await out.waitFor(5, 5000);
    assert.deepEqual(msgs.slice(1).map((m) => [m.payload.stream, m.payload.meta.destination]), [
      ['4', 'google.com'], ['3', 'wand.net.nz'], ['10', 'wand.net.nz'], ['3', 'wand.net.nz'],
    ]);
  });

  it('passes an unknown stream on with meta null and ampMetaMissing, and counts it', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const caught = collect('caught');
    helper.getNode('meta').receive(icmp('999'));
    const [msg] = await out.waitFor(1, 5000);
    assert.equal(msg.payload.kind, 'ICMP');
    assert.equal(msg.payload.meta, null);
    assert.equal(msg.ampMetaMissing, true);
    assert.equal(msg.ampMetaError, undefined);
    await waitUntil(() => statusText('meta') === '0 enriched · 1 without meta', 3000, 'the status');
    assert.equal(lastStatus(helper.getNode('meta')).fill, 'yellow');
    await settle(100);
    assert.equal(caught.msgs.length, 0, 'an unknown stream is not an error');
  });

  it('with "second output", sends msgs without metadata to output 2', async () => {
    await helper.load(NODES, flow({ port: server.port, requireMeta: true }), creds);
    const out = collect('out');
    const out2 = collect('out2');
    const meta = helper.getNode('meta');
    meta.receive(icmp('999'));
    meta.receive(icmp('13'));
    const [found] = await out.waitFor(1, 5000);
    const [missing] = await out2.waitFor(1, 5000);
    assert.equal(found.payload.meta.destination, 'afrinic.net');
    assert.deepEqual([missing.payload.stream, missing.payload.meta, missing.ampMetaMissing], ['999', null, true]);
    await settle(100);
    assert.equal(out.msgs.length + out2.msgs.length, 2);
  });

  it('passes other kinds through untouched and enriches arrays element by element', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const meta = helper.getNode('meta');
    const amp2 = { kind: 'Traceroute', stream: 'traceroute--a--b--traceroute--Default--ipv4--3--60--false', time: 1, value: null, lossy: true, fields: {} };
    meta.receive({ topic: amp2.stream, payload: amp2 });
    meta.receive({ topic: 'batch', payload: [icmp('11').payload, icmp('998').payload, { kind: 'NabMeasurement', stream: 'x', time: 1, value: 2, lossy: false }] });
    const [passed, batch] = await out.waitFor(2, 5000);
    assert.deepEqual(passed.payload, amp2);
    assert.equal(passed.ampMetaMissing, undefined);
    assert.deepEqual(batch.payload.map((m: any) => [m.kind, m.meta?.destination ?? m.meta]), [['RichICMP', 'cloud.google.com'], ['ICMP', null], ['NabMeasurement', undefined]]);
    assert.equal(batch.ampMetaMissing, true);
  });

  it('treats kinds named like built-in properties ("constructor", "__proto__") as kinds without metadata', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const caught = collect('caught');
    const meta = helper.getNode('meta');
    for (const kind of ['constructor', 'toString', '__proto__']) {
      meta.receive({ topic: kind, payload: { kind, stream: '3', time: 1, value: 1, lossy: false } });
    }
    const msgs = await out.waitFor(3, 5000);
    assert.deepEqual(msgs.map((m) => [m.payload.kind, m.payload.meta, m.ampMetaMissing]), [
      ['constructor', undefined, undefined], ['toString', undefined, undefined], ['__proto__', undefined, undefined],
    ]);
    await settle(100);
    assert.equal(caught.msgs.length, 0);
  });

  it('an array of 20,000 measurements of 10,001 streams on a pool of 3 with a 1 s timeout: every one answered, no database error', async () => {
    await helper.load(NODES, flow({ port: server.port, cfg: { timeout: '1' } }), creds);
    const out = collect('out');
    const caught = collect('caught');
    const meta = helper.getNode('meta');
    const batch = Array.from({ length: 20_000 }, (_, i) => icmp(String(i % 2 === 0 ? 3 : 100_000 + i)).payload);
    meta.receive({ topic: 'batch', payload: batch });
    const [msg] = await out.waitFor(1, 60_000);
    assert.equal(msg.payload.filter((m: any) => m.kind === 'RichICMP').length, 10_000, 'stream 3 enriched every time');
    assert.equal(msg.payload.filter((m: any) => m.meta === null).length, 10_000, 'the unknown streams marked');
    assert.equal(msg.ampMetaError, undefined, 'no database error');
    await settle(100);
    assert.equal(caught.msgs.length, 0);
  });

  it('rejects a payload that is not a measurement; reports a non-integer stream id and passes it on', async () => {
    await helper.load(NODES, flow({ port: server.port }), creds);
    const out = collect('out');
    const caught = collect('caught');
    const meta = helper.getNode('meta');
    meta.receive({ payload: 42 });
    const [notMeasurement] = await caught.waitFor(1, 3000);
    assert.match(notMeasurement.error.message, /amp-meta: payload is not a streamevmon measurement/);
    assert.equal(notMeasurement.error.source.id, 'meta');
    meta.receive(icmp('3 OR 1=1'));
    const [badId] = await caught.waitFor(2, 3000).then((m) => m.slice(1));
    assert.match(badId.error.message, /ICMP stream "3 OR 1=1" is not an NNTSC stream id/);
    const msgs = await out.waitFor(1, 3000);
    assert.deepEqual([msgs[0].payload.stream, msgs[0].payload.meta, msgs[0].ampMetaMissing], ['3 OR 1=1', null, true]);
    await settle(100);
    assert.equal(out.msgs.length, 1, 'the non-measurement was not passed on');
    await waitUntil(() => /2 bad/.test(statusText('meta')), 3000, 'bad msgs in the status');
  });

  it('database down: msgs pass on marked, the error reaches Catch once per 10 s, the status is red', async () => {
    const port = await freePort();
    await helper.load(NODES, flow({ port }), { cfg: { user: 'amp', password: 'secret-never-logged' } });
    const out = collect('out');
    const caught = collect('caught');
    const meta = helper.getNode('meta');
    for (const s of ['3', '4', '3']) meta.receive(icmp(s));
    const msgs = await out.waitFor(3, 8000);
    assert.deepEqual(msgs.map((m) => [m.payload.stream, m.payload.kind, m.payload.meta, m.ampMetaMissing]), [
      ['3', 'ICMP', null, true], ['4', 'ICMP', null, true], ['3', 'ICMP', null, true],
    ]);
    for (const m of msgs) assert.match(m.ampMetaError, /ECONNREFUSED/);
    const [err] = await caught.waitFor(1, 3000);
    assert.match(err.error.message, /amp-meta: no metadata, passed on unenriched: PostgreSQL amp@127\.0\.0\.1:\d+\/nntsc: .*ECONNREFUSED/);
    await settle(300);
    assert.equal(caught.msgs.length, 1, 'the same cause is reported once per 10 s');
    await waitUntil(() => statusText('meta').startsWith('db error: ECONNREFUSED'), 3000, 'the red status');
    assert.equal(lastStatus(helper.getNode('meta')).fill, 'red');
    assert.match(statusText('meta'), /0 enriched · 3 without meta/);
    const logged = ['warn', 'error', 'log'].flatMap((level) => ((helper.getNode('cfg') as any)[level].getCalls() as Array<{ args: unknown[] }>).map((c) => JSON.stringify(c.args)))
      .concat(((meta as any).error.getCalls() as Array<{ args: unknown[] }>).map((c) => JSON.stringify(c.args[0] instanceof Error ? c.args[0].message : c.args)));
    assert.ok(logged.length > 0);
    assert.ok(logged.every((l) => !l.includes('secret-never-logged')), 'the password is never logged');
  });

  it('finds the database again after an outage and enriches again', async () => {
    const own = await PostgresServer.start(server.bin);
    try {
      await own.loadDump(nntscFixture());
      await own.stop();
      await helper.load(NODES, flow({ port: own.port }), { cfg: { user: own.user, password: own.password } });
      const out = collect('out');
      const meta = helper.getNode('meta');
      meta.receive(icmp('3'));
      const [first] = await out.waitFor(1, 8000);
      assert.equal(first.ampMetaMissing, true);
      await own.start();
      const cfg = helper.getNode('cfg') as any;
      await waitUntil(() => cfg.postgres.state.state === 'connected', 20_000, 'the database back, found by the back-off checks');
      await waitUntil(() => statusText('meta') === '0 enriched · 1 without meta', 3000, 'the status back from red');
      meta.receive(icmp('3'));
      const msgs = await out.waitFor(2, 5000);
      assert.equal(msgs[1].payload.kind, 'RichICMP');
      assert.equal(msgs[1].ampMetaMissing, undefined);
      assert.equal(msgs[1].ampMetaError, undefined);
    } finally {
      await helper.unload();
      await own.dispose();
    }
  });

  it('a database without the NNTSC tables: msgs pass on marked, the SQL error (42P01) reaches Catch', async () => {
    await server.psql('postgres', `CREATE DATABASE empty_nntsc OWNER "${server.user}"`);
    await helper.load(NODES, flow({ port: server.port, cfg: { database: 'empty_nntsc' } }), creds);
    const out = collect('out');
    const caught = collect('caught');
    helper.getNode('meta').receive(icmp('3'));
    helper.getNode('meta').receive(icmp('4'));
    const msgs = await out.waitFor(2, 5000);
    assert.ok(msgs.every((m) => m.ampMetaMissing === true && /relation "streams_amp_icmp" does not exist/.test(m.ampMetaError)));
    const [err] = await caught.waitFor(1, 3000);
    assert.match(err.error.message, /streams_amp_icmp/);
    await settle(200);
    assert.equal(caught.msgs.length, 1, 'once per 10 s per cause');
    assert.equal((helper.getNode('cfg') as any).postgres.state.state, 'connected', 'an SQL error is not a connection failure');
  });

  it('a wrong password shows db error: 28P01', async () => {
    await helper.load(NODES, flow({ port: server.port }), { cfg: { user: server.user, password: 'wrong' } });
    await waitUntil(() => statusText('meta').startsWith('db error: 28P01'), 5000, 'the auth error');
    const warned = ((helper.getNode('cfg') as any).warn.getCalls() as Array<{ args: unknown[] }>).map((c) => String(c.args[0]));
    assert.ok(warned.some((w) => /password authentication failed.*check the user and password/.test(w)), warned.join('\n'));
  });

  it('reads ${ENV} in settings and credentials', async () => {
    process.env.STREAMEVMON_TEST_PG_PORT = String(server.port);
    process.env.STREAMEVMON_TEST_PG_USER = server.user;
    process.env.STREAMEVMON_TEST_PG_PASSWORD = server.password;
    try {
      await helper.load(NODES, flow({ port: 0, cfg: { port: '${STREAMEVMON_TEST_PG_PORT}' } }),
        { cfg: { user: '${STREAMEVMON_TEST_PG_USER}', password: '${STREAMEVMON_TEST_PG_PASSWORD}' } });
      const cfg = helper.getNode('cfg') as any;
      assert.equal(cfg.settings.port, server.port);
      assert.equal(cfg.credentials.password, server.password);
      const out = collect('out');
      helper.getNode('meta').receive(icmp('14'));
      const [msg] = await out.waitFor(1, 5000);
      assert.equal(msg.payload.meta.destination, 'download.microsoft.com');
    } finally {
      delete process.env.STREAMEVMON_TEST_PG_PORT;
      delete process.env.STREAMEVMON_TEST_PG_USER;
      delete process.env.STREAMEVMON_TEST_PG_PASSWORD;
    }
  });

  it('redeploys end the pool: connections never pile up, and removal leaves none', async () => {
    const baseline = await activeConnections(server);
    for (let round = 0; round < 4; round++) {
      const f = flow({ port: server.port, cfg: { name: `round ${round}` } });
      if (round === 0) await helper.load(NODES, f, creds);
      else await helper.setFlows(f, 'full', creds as never);
      const out = collect('out');
      helper.getNode('meta').receive(icmp('3'));
      await out.waitFor(1, 5000);
      assert.ok(await activeConnections(server) - baseline <= 3, `round ${round}: at most one pool of 3`);
    }
    await helper.setFlows([{ id: 'f1', type: 'tab' }], 'full');
    let now = -1;
    for (let i = 0; i < 40; i++) {
      now = await activeConnections(server);
      if (now === baseline) break;
      await settle(50);
    }
    assert.equal(now, baseline, 'the removed configuration node ended its pool');
  });

  it('without a server configuration: an error, a red status, and msgs rejected with done(err)', async () => {
    const f = flow({ port: server.port }).filter((n) => n.id !== 'cfg');
    await helper.load(NODES, f);
    const meta = helper.getNode('meta') as any;
    assert.match(String(meta.error.firstCall.args[0]), /amp-meta: no PostgreSQL server: choose a streamevmon-postgres configuration node/);
    assert.equal(lastStatus(meta).fill, 'red');
    const caught = collect('caught');
    meta.receive(icmp('3'));
    const [err] = await caught.waitFor(1, 3000);
    assert.match(err.error.message, /amp-meta is not running/);
  });

  it('an invalid server configuration or cache time is reported by name', async () => {
    await helper.load(NODES, flow({ port: 70000, ttl: 'soon' }), creds);
    const meta = helper.getNode('meta') as any;
    const errors = (meta.error.getCalls() as Array<{ args: unknown[] }>).map((c) => String(c.args[0]));
    assert.ok(errors.some((e) => /amp-meta: ttl must be a number between 0 and 604800 \(got soon\)/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /the PostgreSQL configuration is invalid: postgres: port must be an integer between 1 and 65535/.test(e)), errors.join('\n'));
  });

  describe('example amp/02 - AMP legacy with PostgreSQL enrichment', () => {
    const file = path.join(projectRoot(), 'examples', 'amp', '02 - AMP legacy with PostgreSQL enrichment.json');

    it('explains the configuration and wires function → amp meta → debug', () => {
      const nodes: FlowNode[] = JSON.parse(fs.readFileSync(file, 'utf8'));
      const byType = (t: string): FlowNode[] => nodes.filter((n) => n.type === t);
      assert.equal(byType('comment').length, 1);
      assert.match(byType('comment')[0].info, /postgres server.*credentials/s);
      const [fn] = byType('function');
      const [meta] = byType('streamevmon-amp-meta');
      const [cfg] = byType('streamevmon-postgres');
      assert.deepEqual(fn.wires, [[meta.id]]);
      assert.equal(meta.postgres, cfg.id);
      assert.equal(byType('debug').find((d) => d.id === meta.wires[0][0])?.type, 'debug');
      assert.equal(cfg.credentials, undefined, 'no credentials in the example');
      assert.equal(cfg.z, undefined, 'config nodes are global');
    });

    it('enriches streams 3 and 4 and marks 999 against the NNTSC sample', async () => {
      const nodes: FlowNode[] = JSON.parse(fs.readFileSync(file, 'utf8'));
      const debugs = new Set(nodes.filter((n) => n.type === 'debug').map((n) => n.id));
      const loaded = nodes
        .filter((n) => !['inject', 'comment'].includes(n.type))
        .map((n) => {
          if (n.type === 'debug') return { id: n.id, z: 'tab', type: 'helper' };
          if (n.type === 'streamevmon-postgres') return { ...n, host: '127.0.0.1', port: String(server.port) };
          return { ...n, z: 'tab', wires: (n.wires ?? []).map((p: string[]) => p.filter((id) => debugs.has(id) || nodes.some((x) => x.id === id && x.type !== 'inject'))) };
        });
      const cfg = nodes.find((n) => n.type === 'streamevmon-postgres') as FlowNode;
      const fnNode = require(require.resolve('@node-red/nodes/core/function/10-function.js', { paths: [require.resolve('node-red')] }));
      await helper.load([fnNode, postgresNode, ampMetaNode] as never, [{ id: 'tab', type: 'tab' }, ...loaded] as never,
        { [cfg.id]: { user: server.user, password: server.password } } as never);
      const metaNode = nodes.find((n) => n.type === 'streamevmon-amp-meta') as FlowNode;
      const out = collect(metaNode.wires[0][0]);
      const fn = helper.getNode(nodes.find((n) => n.type === 'function')!.id);
      for (let i = 0; i < 3; i++) fn.receive({ payload: Date.now() });
      const msgs = await out.waitFor(3, 5000);
      assert.deepEqual(msgs.map((m) => [m.topic, m.payload.kind, m.payload.meta?.destination ?? null, m.ampMetaMissing ?? false]), [
        ['ICMP-3', 'RichICMP', 'wand.net.nz', false], ['ICMP-4', 'RichICMP', 'google.com', false], ['ICMP-999', 'ICMP', null, true],
      ]);
    });
  });
});
