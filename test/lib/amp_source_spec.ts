/**
 * The AMP InfluxDB source library (lib/amp/source, history, catchup, lib/influx/listener,
 * subscription) against a real private influxd loaded with the real AMP2 export and legacy
 * points: history ranges exact and in time order per measurement type, tag filters, a history
 * read that survives influxd being restarted mid-read, history-then-live with writes during the
 * switch (no gap, no duplicate), the listener's 400/413 answers, the subscription lifecycle.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CatchUp } from '../../lib/amp/catchup';
import { readHistory } from '../../lib/amp/history';
import { parseAmpText } from '../../lib/amp/parse';
import { parseAmpSourceConfig, parseTagFilter, parseTimeSpec } from '../../lib/amp/source-config';
import { AmpSource, AmpSourceSettings, SourceHandlers, SourceState } from '../../lib/amp/source';
import { SCHEMA_MEASUREMENTS, historyQuery } from '../../lib/amp/source-query';
import { InfluxClient } from '../../lib/influx/client';
import { SubscriptionListener } from '../../lib/influx/listener';
import net from 'node:net';
import { Measurement, measurementKey } from '../../lib/measurement';
import { Influxd, requireInfluxd } from '../support/influxd';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'amp', 'amp2.lproto.gz');

const LEGACY_LINES = [
  'data_amp_icmp,stream=3 loss=0i,lossrate=0.0,median=225i,packet_size=520i,results=1i,rtts="[225]" 1563761840000000000',
  'data_amp_icmp,stream=3 loss=1i,lossrate=1.0,packet_size=520i,results=1i,rtts="[None]" 1563761850000000000',
  'data_amp_icmp,stream=4 loss=0i,lossrate=0.0,median=300i,packet_size=84i,results=3i,rtts="[300, 310, None]" 1563761850000000000',
  'data_amp_dns,stream=1 flag_aa=False,flag_ad=False,flag_cd=False,flag_qr=True,flag_ra=True,flag_rd=False,flag_tc=False,lossrate=0.0,opcode=0i,query_len=40i,rcode=0i,requests=1i,response_size=68i,rtt=35799i,total_additional=1i,total_answer=1i,total_authority=0i,ttl=0i 1563761841000000000',
  'data_amp_dns,stream=1 lossrate=1.0,requests=1i 1563761860000000000',
  'data_amp_http,stream=17 bytes=62210i,duration=77i,object_count=8i,server_count=1i 1563761845000000000',
  'data_amp_http,stream=17 object_count=0i,server_count=1i 1563761870000000000',
  'data_amp_tcpping,stream=9 icmperrors=0i,loss=0i,lossrate=0.0,median=189i,packet_size=64i,results=1i,rtts="[189]" 1563761840000000000',
  'data_amp_tcpping,stream=9 loss=1i,lossrate=1.0,packet_size=64i,results=1i,rtts="[None]" 1563761880000000000',
  'data_amp_traceroute_pathlen,stream=5 path_length=12.0 1563761842000000000',
  'data_amp_traceroute_pathlen,stream=5 path_length=12.5 1563761890000000000',
];

/** Sorted by time, then key: the order-independent form of a result. */
function canonical(ms: readonly Measurement[]): Measurement[] {
  return [...ms].sort((a, b) => a.time - b.time || measurementKey(a).localeCompare(measurementKey(b)));
}

function assertTimeOrder(ms: readonly Measurement[]): void {
  for (let i = 1; i < ms.length; i++) assert.ok(ms[i - 1].time <= ms[i].time, `time order broken at ${i}: ${ms[i - 1].time} > ${ms[i].time}`);
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Run {
  source: AmpSource;
  got: Measurement[];
  phases: Array<'history' | 'live'>;
  states: SourceState[];
  problems: string[];
  failures: Error[];
  done: Promise<void>;
}

function run(server: Influxd, over: Partial<AmpSourceSettings>, handlers: Partial<SourceHandlers> = {}): Run {
  const got: Measurement[] = [];
  const phases: Array<'history' | 'live'> = [];
  const states: SourceState[] = [];
  const problems: string[] = [];
  const failures: Error[] = [];
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => { finish = r; });
  const source = new AmpSource({
    client: new InfluxClient({ host: '127.0.0.1', port: server.port, timeoutMs: 5000 }),
    database: 'amp',
    retentionPolicy: '',
    schema: 'amp2',
    measurements: SCHEMA_MEASUREMENTS.amp2,
    tagFilter: {},
    chunkSize: 1000,
    groupSize: 200,
    bufferLimit: 100_000,
    retry: { firstMs: 200, maxMs: 1000 },
    settleMs: 300,
    listen: { host: '127.0.0.1', port: 0, advertisedHost: '', maxBodyBytes: 1 << 20, subscriptionName: 'amp_source_spec', checkIntervalMs: 500 },
    ...over,
  }, {
    deliver: (ms, phase) => {
      got.push(...ms);
      for (let i = 0; i < ms.length; i++) phases.push(phase);
      return new Promise((r) => setImmediate(r));
    },
    state: (s) => states.push(s),
    parseError: (r) => problems.push(r),
    failed: (e) => {
      failures.push(e);
      finish();
    },
    historyDone: () => finish(),
    ...handlers,
  });
  return { source, got, phases, states, problems, failures, done };
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/write?db=amp&precision=ns`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });
  return { status: res.status, text: await res.text() };
}

describe('AMP source library: parsing its configuration', () => {
  it('reads time expressions: epoch ms, ISO 8601, now and relative', () => {
    const now = 1_700_000_000_000;
    assert.equal(parseTimeSpec('1622678400000', now), 1622678400000);
    assert.equal(parseTimeSpec('2021-06-03T00:00:00Z', now), 1622678400000);
    assert.equal(parseTimeSpec('now', now), now);
    assert.equal(parseTimeSpec('-2h', now), now - 7_200_000);
    assert.equal(parseTimeSpec('now-30m', now), now - 1_800_000);
    assert.equal(parseTimeSpec('', now), undefined);
    assert.equal(parseTimeSpec(new Date(5), now), 5);
    assert.ok(typeof parseTimeSpec('yesterday', now) === 'object');
  });

  it('reads tag filters, measurements, and names every bad parameter', () => {
    assert.deepEqual(parseTagFilter('test=icmp, test=dns\nsource=a.b').filter, { test: ['icmp', 'dns'], source: ['a.b'] });
    assert.deepEqual(parseTagFilter('destination=https://h/?q=1').filter, { destination: ['https://h/?q=1'] });
    assert.match(parseTagFilter('nokey').error ?? '', /key=value/);
    const ok = parseAmpSourceConfig({ schema: 'legacy', measurements: 'data_amp_dns,data_amp_icmp', mode: 'history+live' });
    assert.deepEqual(ok.errors, []);
    assert.deepEqual(ok.config.measurements, ['data_amp_icmp', 'data_amp_dns']);
    assert.deepEqual(parseAmpSourceConfig({ schema: 'amp2' }).config.measurements, SCHEMA_MEASUREMENTS.amp2);
    const bad = parseAmpSourceConfig({ schema: 'amp2', measurements: 'data_amp_icmp', mode: 'sometimes', port: '70000', start: 'soon', chunkSize: '1' });
    assert.equal(bad.errors.length, 5, bad.errors.join('\n'));
    assert.ok(bad.errors.some((e) => /measurements data_amp_icmp are not AMP2/.test(e)));
    assert.ok(bad.errors.some((e) => /^amp: mode must be one of/.test(e)));
    assert.ok(bad.errors.some((e) => /^amp: port must be an integer between 0 and 65535/.test(e)));
  });

  it('quotes every name and value in the history query', () => {
    assert.equal(historyQuery('amp', 'grafana', 'latency', { after: 1000, until: 2000 }, { test: ['icmp', "it's"], source: ['a"b'] }),
      'SELECT * FROM "amp"."grafana"."latency" WHERE time > 1000000000 AND time <= 2000000000 AND "source" = \'a"b\' AND ("test" = \'icmp\' OR "test" = \'it\\\'s\')');
  });

  it('catch-up: a buffered point that history delivers is delivered once; late copies are dropped', () => {
    const m = (stream: string, time: number): Measurement => ({ kind: 'ICMP', stream, time, value: 1, lossy: false });
    const c = new CatchUp(3, 100);
    assert.equal(c.live(m('1', 150)), 'buffered');
    assert.equal(c.live(m('2', 150)), 'buffered');
    c.history(m('1', 150));
    c.history(m('3', 160));
    assert.equal(c.live(m('3', 160)), 'duplicate', 'history delivered it before its live copy came');
    assert.equal(c.live(m('4', 170)), 'buffered');
    assert.equal(c.live(m('5', 170)), 'buffered');
    assert.equal(c.live(m('6', 170)), 'full');
    assert.deepEqual(c.drain().map((x) => x.stream), ['2', '4', '5']);
    assert.equal(c.isDuplicate(m('3', 160)), true);
    assert.equal(c.isDuplicate(m('9', 160)), false);
  });
});

describe('AMP source library: the subscription listener alone', () => {
  it('falls back to a free port when the configured one is taken, answers 204 in body order, closes keep-alive sockets', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const bodies: string[] = [];
    const l = new SubscriptionListener({ host: '127.0.0.1', port: taken, maxBodyBytes: 1000, database: 'amp', handle: (req) => { bodies.push(`${req.precision}:${req.body}`); return { failed: 0 }; } });
    try {
      const port = await l.listen();
      assert.notEqual(port, taken);
      const url = `http://127.0.0.1:${port}/write`;
      assert.equal((await fetch(`${url}?db=amp&precision=ms`, { method: 'POST', body: 'a x=1 1' })).status, 204);
      assert.equal((await fetch(`${url}?db=amp`, { method: 'POST', body: 'b x=1 2' })).status, 204);
      assert.equal((await fetch(`${url}?db=other`, { method: 'POST', body: 'c x=1 3' })).status, 400, 'another database');
      assert.equal((await fetch(`${url}?precision=fortnight`, { method: 'POST', body: 'c x=1 3' })).status, 400, 'a bad precision');
      assert.equal((await fetch(url, { method: 'POST', body: 'x', headers: { 'Content-Encoding': 'br' } })).status, 400);
      assert.equal((await fetch(url, { method: 'POST', body: 'not gzip', headers: { 'Content-Encoding': 'gzip' } })).status, 400);
      assert.deepEqual(bodies, ['ms:a x=1 1', 'ns:b x=1 2']);
      assert.deepEqual({ ...l.stats, bytes: undefined }, { requests: 6, rejected: 4, tooLarge: 0, bytes: undefined });
    } finally {
      await l.close();
      blocker.close();
    }
    assert.equal(l.listening, false);
  });
});

describe('AMP source library with a real influxd', function () {
  this.timeout(120_000);
  let server: Influxd;
  let amp2: Measurement[];

  before(async function () {
    server = await Influxd.start(requireInfluxd(this));
    await server.query('CREATE DATABASE amp');
    await server.query('CREATE DATABASE nntsc');
    await server.query('CREATE RETENTION POLICY "nntscdefault" ON "nntsc" DURATION 0s REPLICATION 1 DEFAULT');
    const text = zlib.gunzipSync(fs.readFileSync(FIXTURE)).toString('utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    for (let i = 0; i < lines.length; i += 10_000) assert.equal(await server.write('amp', lines.slice(i, i + 10_000).join('\n')), 204);
    assert.equal(await server.write('nntsc', LEGACY_LINES.join('\n')), 204);
    const parsed = parseAmpText(text, 'amp2');
    assert.equal(parsed.errorCount, 0);
    amp2 = parsed.measurements;
  });
  after(async () => {
    await server?.dispose();
  });

  it('history: exactly the AMP2 points in (start, end], in time order, for every measurement type', async () => {
    const start = Date.parse('2021-05-30T00:00:00Z'); // an external and a fastping point sit exactly here: excluded
    const end = Date.parse('2021-06-03T02:25:00Z');
    const r = run(server, { chunkSize: 500 });
    await r.source.start('history', { start, end });
    await r.done;
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.problems, []);
    assertTimeOrder(r.got);
    const expected = amp2.filter((m) => m.time > start && m.time <= end);
    assert.ok(amp2.some((m) => m.time === start), 'the fixture has points at the start');
    assert.equal(r.got.length, expected.length);
    assert.deepEqual(canonical(r.got), canonical(expected));
    const kinds = new Map<string, number>();
    for (const m of r.got) kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
    for (const kind of ['External', 'Fastping', 'Http', 'LatencyDns', 'LatencyIcmp', 'LatencyTcpping', 'Pathlen', 'Sip', 'Throughput', 'Traceroute', 'Udpstream', 'Video']) {
      assert.equal(kinds.get(kind), expected.filter((m) => m.kind === kind).length, kind);
      assert.ok((kinds.get(kind) ?? 0) > 0, `${kind} is in the range`);
    }
    assert.equal(r.source.state.phase, 'done');
    assert.equal(r.source.counts.history, expected.length);
  });

  it('history: the legacy schema on its own retention policy, with lossy rules and float path lengths', async () => {
    const r = run(server, { database: 'nntsc', schema: 'legacy', measurements: SCHEMA_MEASUREMENTS.legacy });
    await r.source.start('history', {});
    await r.done;
    assert.deepEqual(r.failures, []);
    const expected = parseAmpText(LEGACY_LINES.join('\n'), 'legacy').measurements;
    assert.equal(expected.length, LEGACY_LINES.length);
    assertTimeOrder(r.got);
    assert.deepEqual(canonical(r.got), canonical(expected));
    assert.deepEqual(r.got.map((m) => measurementKey(m)).slice(0, 3), ['ICMP-3', 'TCPPing-9', 'DNS-1']);
    assert.equal(r.got.find((m) => m.kind === 'DNS' && m.time === 1563761860000)?.lossy, true);
    assert.equal(r.got.find((m) => m.kind === 'TraceroutePathlen' && m.time === 1563761890000)?.value, 12.5);
  });

  it('history: a tag filter and a measurement choice narrow the query', async () => {
    const r = run(server, { measurements: ['latency'], tagFilter: { test: ['icmp'], family: ['ipv6'] } });
    await r.source.start('history', {});
    await r.done;
    const expected = amp2.filter((m) => m.kind === 'LatencyIcmp' && (m.fields as Record<string, unknown>).family === 'ipv6');
    assert.ok(expected.length > 100);
    assert.deepEqual(canonical(r.got), canonical(expected));
  });

  it('history: influxd restarted in the middle of a read: reported, retried, resumed with nothing lost or repeated', async () => {
    let slow = true;
    const r = run(server, { chunkSize: 200, groupSize: 100, measurements: ['traceroute', 'pathlen'] }, {});
    const deliver = (r.source as unknown as { h: SourceHandlers }).h.deliver;
    (r.source as unknown as { h: SourceHandlers }).h.deliver = (ms, phase) => {
      deliver(ms, phase);
      return new Promise((res) => setTimeout(res, slow ? 5 : 0));
    };
    await r.source.start('history', {});
    await waitUntil(() => r.got.length > 2000, 20_000, 'the read to be under way');
    await server.stop();
    await waitUntil(() => r.states.some((s) => s.influx === 'down'), 20_000, 'the state to say InfluxDB is down');
    const down = r.states.find((s) => s.influx === 'down');
    assert.ok(down && down.code && down.retryInMs !== undefined, JSON.stringify(down));
    await server.start();
    slow = false;
    await r.done;
    assert.deepEqual(r.failures, []);
    assert.equal(r.source.state.influx, 'ok');
    const expected = amp2.filter((m) => m.kind === 'Traceroute' || m.kind === 'Pathlen');
    assert.equal(r.got.length, expected.length, 'every row once');
    assert.deepEqual(canonical(r.got), canonical(expected));
    assertTimeOrder(r.got);
  });

  it('history then live: points written during the switch arrive exactly once, history first, in time order', async () => {
    const base = Date.now() - 60_000;
    const line = (i: number): string => `latency,destination=d${i % 13},dscp=Default,family=ipv4,packet_size=84,random=False,source=switch,test=icmp count=1i,rtt=${i}i ${(BigInt(base + i) * 1_000_000n).toString()}`;
    let next = 0;
    const writeSome = async (n: number): Promise<void> => {
      const lines = [];
      for (let k = 0; k < n; k++) lines.push(line(next++));
      assert.equal(await server.write('amp', lines.join('\n')), 204);
    };
    await writeSome(2000); // history before the start
    const r = run(server, { measurements: ['latency'], tagFilter: { source: ['switch'] }, listen: { host: '127.0.0.1', port: 0, advertisedHost: '', maxBodyBytes: 1 << 20, subscriptionName: 'switch_spec', checkIntervalMs: 500 } });
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await writeSome(50);
        await new Promise((res) => setTimeout(res, 10));
      }
    })();
    await r.source.start('history+live', { start: base - 1 });
    await r.done;
    const atSwitch = next;
    await new Promise((res) => setTimeout(res, 500));
    writing = false;
    await writer;
    await writeSome(100); // after the switch
    await waitUntil(() => r.got.length >= next, 10_000, `all ${next} points (got ${r.got.length})`);
    await new Promise((res) => setTimeout(res, 300));
    await r.source.stop();
    assert.deepEqual(r.failures, []);
    const rtts = r.got.map((m) => m.value);
    assert.equal(new Set(rtts).size, rtts.length, 'no duplicate');
    assert.equal(rtts.length, next, 'no gap');
    const firstLive = r.phases.indexOf('live');
    assert.ok(firstLive > 2000, 'the history came first');
    assertTimeOrder(r.got.slice(0, firstLive));
    assert.ok(r.phases.slice(firstLive).every((p) => p === 'live'));
    assert.ok(atSwitch > 2000, 'points were written while the history was read');
    assert.ok(r.got.some((m, i) => r.phases[i] === 'live' && (m.value as number) >= 2000 && (m.value as number) < atSwitch), 'some came through the buffer');
  });

  it('listener: malformed lines get 400 with the good lines delivered; oversized bodies 413; then it works on', async () => {
    const r = run(server, { measurements: ['latency'], listen: { host: '127.0.0.1', port: 0, advertisedHost: '', maxBodyBytes: 4096, subscriptionName: 'listener_spec', checkIntervalMs: 500 } });
    await r.source.start('live');
    await waitUntil(() => r.source.state.phase === 'live', 10_000, 'live');
    const url = r.source.destination;
    const good = (i: number): string => `latency,destination=x,dscp=Default,family=ipv4,packet_size=84,random=False,source=lst,test=icmp rtt=${i}i ${1_622_678_400_000_000_000 + i * 1_000_000}`;
    const mixed = [good(1), 'latency,test=icmp rtt=', 'garbage without fields', good(2), 'latency,source=a,destination=b rtt=1i', good(3)].join('\n');
    const a = await post(url, mixed);
    assert.equal(a.status, 400);
    assert.match(JSON.parse(a.text).error, /unable to parse 2 of 6 lines/);
    assert.deepEqual(r.got.map((m) => m.value), [1, 2, 3]);
    assert.equal(r.source.counts.parseErrors, 3, 'two syntax errors and one point without its test tag');
    const big = Array.from({ length: 200 }, (_, i) => good(10 + i)).join('\n');
    assert.equal((await post(url, big)).status, 413);
    const gz = zlib.gzipSync(big);
    assert.ok(gz.length < 4096);
    assert.equal((await post(url, gz, { 'Content-Encoding': 'gzip' })).status, 413, 'the cap applies to the unpacked body');
    assert.equal(r.source.counts.tooLarge, 2);
    assert.equal((await fetch(`${url}/query`)).status, 404);
    assert.equal((await fetch(`${url}/write`)).status, 405);
    const ok = await post(url, zlib.gzipSync(good(500)), { 'Content-Encoding': 'gzip' });
    assert.equal(ok.status, 204);
    assert.equal(r.got.at(-1)?.value, 500);
    assert.equal(r.got.length, 4);
    await r.source.stop();
  });

  it('subscription: a stale one of the same name is replaced on start, and dropped on stop with the listener closed', async () => {
    await server.query('CREATE SUBSCRIPTION "lifecycle_spec" ON "amp"."autogen" DESTINATIONS ALL \'http://127.0.0.1:9\'');
    const r = run(server, { listen: { host: '127.0.0.1', port: 0, advertisedHost: 'localhost', maxBodyBytes: 1 << 20, subscriptionName: 'lifecycle_spec', checkIntervalMs: 200 } });
    await r.source.start('live');
    await waitUntil(() => r.source.state.phase === 'live', 10_000, 'live');
    const subs = async (): Promise<unknown[][]> => ((await server.query('SHOW SUBSCRIPTIONS'))[0].series ?? []).flatMap((s) => s.values).filter((v) => v[1] === 'lifecycle_spec');
    assert.deepEqual(await subs(), [['autogen', 'lifecycle_spec', 'ALL', [`http://localhost:${r.source.port}`]]]);
    // Removed behind our back: re-created at the next check.
    await server.query('DROP SUBSCRIPTION "lifecycle_spec" ON "amp"."autogen"');
    const deadline = Date.now() + 5000;
    while ((await subs()).length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.equal((await subs()).length, 1, 're-created');
    const port = r.source.port;
    // A keep-alive connection stays open until stop.
    await fetch(`http://127.0.0.1:${port}/write?db=amp`, { method: 'POST', body: '' });
    await r.source.stop();
    assert.deepEqual(await subs(), []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/write?db=amp`, { method: 'POST', body: '' }), 'the listener is closed');
  });

  it('listener: a configured port that is taken is replaced by a free one, with a warning naming both', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const taken = (blocker.address() as net.AddressInfo).port;
    const warnings: string[] = [];
    const r = run(server, { listen: { host: '127.0.0.1', port: taken, advertisedHost: '', maxBodyBytes: 1 << 20, subscriptionName: 'port_taken_spec', checkIntervalMs: 500 } },
      { warn: (text) => warnings.push(text) });
    try {
      await r.source.start('live');
      await waitUntil(() => r.source.state.phase === 'live', 10_000, 'live');
      assert.notEqual(r.source.port, taken);
      assert.deepEqual(warnings, [`amp: listen port ${taken} is in use; listening on ${r.source.port} instead (the subscription points to http://127.0.0.1:${r.source.port})`]);
    } finally {
      await r.source.stop();
      await new Promise((res) => blocker.close(res));
    }
  });

  it('readHistory alone: an empty range and a missing measurement give nothing, a missing database fails clearly', async () => {
    const client = new InfluxClient({ host: '127.0.0.1', port: server.port });
    const got: Measurement[] = [];
    const base = {
      client, database: 'amp', retentionPolicy: 'autogen', schema: 'amp2' as const, filter: {}, chunkSize: 100, groupSize: 10, signal: new AbortController().signal,
    };
    const handlers = { deliver: (ms: Measurement[]) => { got.push(...ms); }, parseError: () => undefined, failing: () => undefined, recovered: () => undefined };
    const stats = await readHistory({ ...base, measurements: ['video', 'sip'], range: { after: 0, until: 1000 } }, handlers);
    assert.equal(stats.rows, 0);
    assert.equal(got.length, 0);
    await assert.rejects(readHistory({ ...base, database: 'nope', measurements: ['video'], range: {} }, handlers), /database not found: nope/);
  });
});
