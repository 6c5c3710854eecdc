/**
 * streamevmon-influxdb + streamevmon-influx-events against a real private influxd (no mocks):
 * exactly-once writes read back by InfluxQL, a 30 s outage with 5,000 events, the buffer
 * bound under both overflow policies, 400 and 401 without retry loops, event groups, close.
 */
import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { groupPayload } from '../../lib/events/group';
import { quoteIdent, quoteString } from '../../lib/influx/influxql';
import influxConfigNode = require('../../nodes/streamevmon-influxdb');
import influxEventsNode = require('../../nodes/streamevmon-influx-events');
import fs from 'node:fs';
import path from 'node:path';
import { Influxd, freePort, requireInfluxd } from '../support/influxd';
import { collect, helper, projectRoot, settle } from './helpers';

const NODES = [influxConfigNode, influxEventsNode] as never;
const T0 = 1_700_000_000_000;

function event(i: number, over: Partial<DetectorEvent> = {}): DetectorEvent {
  return {
    eventType: 'changepoint_events', stream: `s${i % 50}`, severity: i % 101, time: T0 + i,
    detectionLatency: 42, description: `event ${i}`, tags: {}, ...over,
  };
}

function eventMsg(e: DetectorEvent): Record<string, unknown> {
  return { topic: e.stream, payload: e };
}

function flow(port: number, db: string, sink: Record<string, unknown> = {}, config: Record<string, unknown> = {}): any[] {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'streamevmon-influxdb', host: '127.0.0.1', port: String(port), database: db, retentionPolicy: 'streamevmondefault', tls: false, ...config },
    {
      id: 'sink', z: 'f1', type: 'streamevmon-influx-events', influxdb: 'cfg', createDatabase: true, batchSize: '500', batchInterval: '0.2',
      bufferLimit: '10000', overflow: 'drop-oldest', maxRetryAge: '300', passthrough: true, wires: [['pass']], ...sink,
    },
    { id: 'pass', z: 'f1', type: 'helper' },
    { id: 'c1', z: 'f1', type: 'catch', scope: ['sink'], uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'f1', type: 'helper' },
    { id: 'k1', z: 'f1', type: 'complete', scope: ['sink'], uncaught: false, wires: [['completed']] },
    { id: 'completed', z: 'f1', type: 'helper' },
  ];
}

async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await settle(50);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

interface Spy { getCalls(): Array<{ args: any[] }> }
const texts = (node: unknown, method: 'status' | 'warn' | 'error'): string[] =>
  ((node as Record<string, Spy>)[method]).getCalls().map((c) => (typeof c.args[0] === 'string' ? c.args[0] : c.args[0]?.text ?? String(c.args[0])));

/** Count every write request the sink's client makes (a spy on the real client). */
function countWrites(): { count: () => number } {
  const client = (helper.getNode('cfg') as any).influx;
  const write = client.write.bind(client);
  let n = 0;
  client.write = (...args: unknown[]) => {
    n++;
    return write(...args);
  };
  return { count: () => n };
}

describe('streamevmon-influx-events node (real influxd)', function () {
  this.timeout(180_000);
  let bin = '';
  let server: Influxd;

  before(async function () {
    bin = requireInfluxd(this);
    server = await Influxd.start(bin);
  });
  after(async () => {
    await server?.dispose();
  });
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('creates database and default policy, writes each event once with the schema\'s tags and fields', async () => {
    const db = 'once';
    await helper.load(NODES, flow(server.port, db));
    const completed = collect('completed');
    const pass = collect('pass');
    const caught = collect('caught');
    const descriptions = ['He said "hi" \\o/', 'a, b, c', 'key=value with spaces', 'two\nlines', 'ünïcödé ✓ 日本語 🚀', "it's"];
    const events = descriptions.map((description, i) => event(i, { description, stream: `link ${i},x=y`, tags: { in_group: 'g-1', type: 'a b' } }));
    const sink = helper.getNode('sink');
    events.forEach((e) => sink.receive(eventMsg(e)));
    await completed.waitFor(events.length, 10_000);
    await settle(300);
    assert.equal(completed.msgs.length, events.length, 'done() once per msg');
    assert.equal(caught.msgs.length, 0);
    assert.equal(pass.msgs.length, events.length);
    assert.deepEqual(pass.msgs[0].influx, { database: db, retentionPolicy: 'streamevmondefault', lines: 1 });
    assert.equal(pass.msgs[0].payload.description, descriptions[0], 'the passthrough is the input msg');

    const rows = await server.rows('SELECT * FROM events', db);
    assert.equal(rows.length, events.length);
    rows.forEach((row, i) => assert.deepEqual(row, {
      time: T0 + i, description: descriptions[i].replace('\n', ' '), detection_latency: 42_000_000, event_type: 'changepoint_events',
      in_group: 'g-1', severity: i, stream: `link ${i},x=y`, type: 'a b',
    }));
    const [rps] = await server.query(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`);
    const rp = rps.series?.[0].values.find((v) => v[0] === 'streamevmondefault');
    assert.ok(rp && rp[rp.length - 1] === true, 'the retention policy was created as the default');
    await waitUntil(() => /^written 6$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status "written 6"');
  });

  it('writes event groups as §13 and event arrays as one msg', async () => {
    const db = 'groups';
    await helper.load(NODES, flow(server.port, db));
    const completed = collect('completed');
    const loss = (time: number, detectionLatency: number, severity: number): DetectorEvent =>
      ({ eventType: 'loss_events', stream: '3', time, detectionLatency, severity, description: 'Consecutive loss', tags: {} });
    const group = groupPayload({ uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11', start: 1564713040000, end: 1564713044000, events: [loss(1564713040000, 0, 40), loss(1564713045000, 1000, 61)] });
    const sink = helper.getNode('sink');
    sink.receive({ topic: 'event_group', payload: group });
    sink.receive({ topic: '3', payload: group.events });
    await completed.waitFor(2, 10_000);
    const [g] = await server.rows('SELECT * FROM event_groups', db);
    assert.deepEqual(g, {
      time: 1564713040000, description: group.description, endTime: '1564713044000000000i', event_count: 2,
      meanDetectionLatency: 500_000_000, meanSeverity: 50, modeEventType: 'loss_events', uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11',
    });
    const events = await server.rows('SELECT severity FROM events', db);
    assert.deepEqual(events.map((r) => r.severity), [40, 61]);
  });

  it('rejects bad input at once through done(err), writing nothing of it', async () => {
    await helper.load(NODES, flow(server.port, 'bad'));
    const caught = collect('caught');
    const sink = helper.getNode('sink');
    sink.receive({ payload: 'junk' });
    sink.receive({ payload: { eventType: 'x', stream: 's' } });
    sink.receive({ payload: [event(1), { nope: true }] });
    sink.receive({ payload: event(2, { stream: 'ends with \\' }) });
    sink.receive({ payload: { start: 1, end: null, uid: 'u', description: 'd', modeEventType: 'x', eventCount: 1, meanDetectionLatency: 0, meanSeverity: 'high' } });
    const errors = await caught.waitFor(5, 5000);
    assert.match(errors[0].error.message, /influx-events: payload is not an event object \(got "junk"\).*§12\.1.*§13/);
    assert.match(errors[1].error.message, /severity is not a number/);
    assert.match(errors[2].error.message, /element 1 of 2: .*nothing of this msg was written/);
    assert.match(errors[3].error.message, /stream ends with a backslash/);
    assert.match(errors[4].error.message, /group meanSeverity is not a number/);
    assert.equal(errors[0].error.source.id, 'sink');
    await settle(500);
    const [r] = await server.query('SHOW MEASUREMENTS', 'bad');
    assert.equal(r.series, undefined, 'nothing written');
    await waitUntil(() => /bad 5/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status counting bad msgs');
  });

  it('values InfluxDB cannot hold are bad msgs, named, refused before any request; the status is not "error: 400"', async () => {
    const db = 'limits';
    await helper.load(NODES, flow(server.port, db));
    const writes = countWrites();
    const caught = collect('caught');
    const completed = collect('completed');
    const sink = helper.getNode('sink');
    const groupMsg = (over: Record<string, unknown>) => ({ payload: { uid: 'u', start: T0, end: T0 + 1, eventCount: 1, modeEventType: 'x', meanSeverity: 1, meanDetectionLatency: 0, description: 'd', ...over } });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [eventMsg(event(1, { time: 1e13 })), /^Error: influx-events: event time 10000000000000 is outside the time range InfluxDB can store \(epoch ms -9223372036854 to 9223372036854, 1677-09-21T00:12:43\.146Z to 2262-04-11T23:47:16\.854Z\)$/],
      [eventMsg(event(2, { time: -1e13, detectionLatency: 0 })), /^Error: influx-events: event time -10000000000000 is outside the time range/],
      [eventMsg(event(3, { severity: 1e20 })), /^Error: influx-events: event severity must be an integer from 0 to 100 \(got 100000000000000000000\)$/],
      [eventMsg(event(4, { severity: 5.7 })), /^Error: influx-events: event severity must be an integer from 0 to 100 \(got 5\.7\)$/],
      [eventMsg(event(5, { detectionLatency: 1e13 })), /^Error: influx-events: event detectionLatency 10000000000000 ms is more nanoseconds than InfluxDB's 64-bit integers hold/],
      [groupMsg({ eventCount: 1e21 }), /^Error: influx-events: group eventCount must be a whole number of events \(got 1e\+21\)$/],
      [eventMsg(event(6, { tags: { time: 'x' } })), /^Error: influx-events: event tag "time" is not allowed: InfluxDB refuses a tag named time$/],
      [eventMsg(event(7, { stream: '' })), /^Error: influx-events: event stream is empty: InfluxDB cannot store an empty tag value$/],
      [eventMsg(event(8, { tags: { severity: 'high' } })), /^Error: influx-events: event tag "severity" has the name of a field .* read the tag back as "severity_1"$/],
      [eventMsg(event(9, { tags: { stream: 'other' } })), /^Error: influx-events: event tag "stream" \("other"\) differs from the event's stream \("s9"\), which would replace it$/],
    ];
    for (const [msg] of cases) sink.receive(msg);
    const errors = await caught.waitFor(cases.length, 5000);
    cases.forEach(([, re], i) => assert.match(errors[i].error.message, re));
    await settle(500);
    assert.equal(writes.count(), 0, 'no request for any of them');
    const [r] = await server.query('SHOW MEASUREMENTS', db).catch(() => [{ series: undefined }]);
    assert.equal(r.series, undefined, 'nothing written');
    await waitUntil(() => new RegExp(`bad ${cases.length}$`).test(texts(sink, 'status').at(-1) ?? ''), 3000, `status counting ${cases.length} bad msgs`);
    assert.ok(texts(sink, 'status').every((t) => !/error|failed/.test(t)), 'counted as bad, never as a failure of the server');

    // The edges of InfluxDB's range are written and read back as they were sent.
    const edges = [event(10, { time: 9223372036854, severity: 100 }), event(11, { time: -9223372036854, detectionLatency: 0, severity: 0 }), event(12, { tags: { note: '' } })];
    edges.forEach((e) => sink.receive(eventMsg(e)));
    await completed.waitFor(3, 10_000);
    const rows = await server.rows('SELECT severity, stream FROM events', db);
    assert.deepEqual(rows.map((x) => [x.time, x.severity]), [[-9223372036854, 0], [T0 + 12, 12], [9223372036854, 100]]);
    const [keys] = await server.query('SHOW TAG KEYS FROM events', db);
    assert.deepEqual(keys.series?.[0].values.flat(), ['event_type', 'stream'], 'the empty tag was left out, as the help says');
    await waitUntil(() => /^written 3 · bad 10$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status "written 3 · bad 10"');
  });

  it('a msg of more lines than the buffer limit is a bad msg, nothing of it written; one of exactly the limit is written whole', async () => {
    const db = 'toolong';
    await helper.load(NODES, flow(server.port, db, { passthrough: false }));
    const writes = countWrites();
    const caught = collect('caught');
    const completed = collect('completed');
    const sink = helper.getNode('sink');
    const many = Array.from({ length: 100_000 }, (_, i) => event(i));
    sink.receive({ payload: many });
    const [m] = await caught.waitFor(1, 10_000);
    assert.equal(m.error.message, 'Error: influx-events: msg has 100000 lines, more than the buffer limit of 10000: it could never be held whole, so nothing of it was written (split it into smaller arrays, or raise the buffer limit)');
    await settle(500);
    assert.equal(writes.count(), 0);
    assert.equal(texts(sink, 'warn').filter((w) => /BUFFER FULL/.test(w)).length, 0, 'no warning blaming a slow server');
    await waitUntil(() => /bad 1$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status "bad 1"');
    sink.receive({ payload: many.slice(0, 10_000) });
    await completed.waitFor(1, 30_000);
    const [count] = await server.rows('SELECT count(severity) FROM events', db);
    assert.equal(count.count, 10_000);
    assert.equal(caught.msgs.length, 1);
  });

  it('when the retries run out, the status keeps the server\'s code (error: ECONNREFUSED), not "error: error"', async () => {
    const port = await freePort();
    await helper.load(NODES, flow(port, 'nowhere', { maxRetryAge: '1' }));
    const caught = collect('caught');
    const sink = helper.getNode('sink');
    sink.receive(eventMsg(event(1)));
    const [m] = await caught.waitFor(1, 10_000);
    assert.match(m.error.message, /^Error: influx-events: not written: not written after retrying for \d+ s: influxdb .*cannot reach the server .*ECONNREFUSED/);
    await waitUntil(() => /^error: ECONNREFUSED · written 0 · failed 1$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status "error: ECONNREFUSED · written 0 · failed 1"');
    assert.ok(texts(sink, 'status').every((t) => !/error: error/.test(t)));
  });

  it('a 400 field type conflict is reported per msg without retry loops; good lines of the batch are written', async () => {
    const db = 'conflict';
    await server.query(`CREATE DATABASE ${quoteIdent(db)}`);
    await server.query(`CREATE RETENTION POLICY "streamevmondefault" ON ${quoteIdent(db)} DURATION 0s REPLICATION 1 DEFAULT`);
    // Field types are kept per shard: the conflicting point shares the events' time range.
    assert.equal(await server.write(db, `events,event_type=x,stream=pre description="pre",severity="high",detection_latency=0i ${T0}000000`), 204);
    await helper.load(NODES, flow(server.port, db, { batchInterval: '0.5' }));
    const writes = countWrites();
    const caught = collect('caught');
    const completed = collect('completed');
    const sink = helper.getNode('sink');
    const group = groupPayload({ uid: 'u-1', start: T0, end: T0 + 1, events: [event(1)] });
    sink.receive(eventMsg(event(1)));
    sink.receive(eventMsg(event(2)));
    sink.receive({ payload: group });
    sink.receive(eventMsg(event(3)));
    const errors = await caught.waitFor(3, 10_000);
    await completed.waitFor(1, 5000);
    for (const e of errors) assert.match(e.error.message, /influx-events: not written: influxdb write .* 400 partial write: field type conflict/);
    assert.deepEqual(errors.map((e) => e.payload.time).sort(), [T0 + 1, T0 + 2, T0 + 3]);
    assert.equal(completed.msgs[0].payload.uid, 'u-1', 'the group in the same batch was written');
    const used = writes.count();
    assert.ok(used <= 6, `the bad lines were isolated in a few requests (${used})`);
    await settle(3000);
    assert.equal(writes.count(), used, 'no retries afterwards');
    assert.match(texts(sink, 'status').at(-1) ?? '', /^error: 400 · written 1 · failed 3/);
  });

  it('bound reached under drop-oldest: the newest are kept and written, each dropped msg is reported', async () => {
    await boundTest('drop-oldest');
  });

  it('bound reached under drop-newest: the oldest are kept and written, each refused msg is reported', async () => {
    await boundTest('drop-newest');
  });

  async function boundTest(policy: 'drop-oldest' | 'drop-newest'): Promise<void> {
    const outage = await Influxd.start(bin);
    try {
      const db = `bound_${policy.replace('-', '_')}`;
      await helper.load(NODES, flow(outage.port, db, { bufferLimit: '50', overflow: policy, batchSize: '20', batchInterval: '0.1' }));
      const caught = collect('caught');
      const completed = collect('completed');
      const sink = helper.getNode('sink');
      sink.receive(eventMsg(event(0)));
      await completed.waitFor(1, 10_000);
      await outage.stop();
      const events = Array.from({ length: 200 }, (_, i) => event(i + 1));
      // The first one fails and waits for its retry (0.5 s), so none is in flight when the rest come.
      sink.receive(eventMsg(events[0]));
      await waitUntil(() => texts(sink, 'warn').some((w) => /cannot write .*ECONNREFUSED.* retrying in 0.5 s/.test(w)), 5000, 'the first retry');
      events.slice(1).forEach((e) => sink.receive(eventMsg(e)));
      const dropped = await caught.waitFor(150, 10_000);
      await waitUntil(() => /^error: ECONNREFUSED · queued 50 · dropped 150$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status showing the loss');
      await outage.start();
      await completed.waitFor(51, 60_000);
      await settle(300);
      assert.equal(caught.msgs.length, 150);
      assert.equal(completed.msgs.length, 51);
      const kept = policy === 'drop-oldest' ? events.slice(150) : events.slice(0, 50);
      const lost = policy === 'drop-oldest' ? events.slice(0, 150) : events.slice(50);
      assert.deepEqual(dropped.map((m) => m.payload.time).sort(), lost.map((e) => e.time));
      for (const m of dropped) assert.match(m.error.message, /buffer full \(50 held/);
      const rows = await outage.rows('SELECT severity FROM events', db);
      assert.deepEqual(rows.map((r) => r.time), [T0, ...kept.map((e) => e.time)]);
      const warns = texts(sink, 'warn').filter((w) => /BUFFER FULL/.test(w));
      assert.ok(warns.length >= 1 && warns.length <= 3, `a loud warning, rate-limited (${warns.length})`);
      assert.match(warns[0], new RegExp(`policy ${policy}.*queue node`));
    } finally {
      await outage.dispose();
    }
  }

  it('wrong credentials give a clear 401 for each msg, no retries, and a red status', async () => {
    const secured = await Influxd.start(bin, { auth: true });
    try {
      await secured.query(`CREATE USER "admin" WITH PASSWORD ${quoteString('right')} WITH ALL PRIVILEGES`);
      await helper.load(NODES, flow(secured.port, 'sec'), { cfg: { user: 'nobody', password: 'wrong-secret' } });
      const writes = countWrites();
      const caught = collect('caught');
      const cfg = helper.getNode('cfg') as any;
      await waitUntil(() => cfg.influxState.state === 'error', 5000, 'the configuration to see the bad credentials');
      assert.equal(cfg.influxState.code, '401');
      const sink = helper.getNode('sink');
      sink.receive(eventMsg(event(1)));
      sink.receive(eventMsg(event(2)));
      const errors = await caught.waitFor(2, 10_000);
      for (const e of errors) {
        assert.match(e.error.message, /401 .*check the user and password/);
        assert.doesNotMatch(e.error.message, /wrong-secret/);
      }
      await settle(2000);
      assert.equal(writes.count(), 1, 'one request for the batch, not retried');
      assert.match(texts(sink, 'status').at(-1) ?? '', /^error: 401/);
      for (const t of [...texts(sink, 'warn'), ...texts(sink, 'error'), ...texts(cfg, 'warn')]) assert.doesNotMatch(t, /wrong-secret/);
    } finally {
      await secured.dispose();
    }
  });

  it('takes host, port and credentials from ${ENV} variables', async () => {
    const secured = await Influxd.start(bin, { auth: true });
    const env = { STREAMEVMON_TEST_INFLUX_PORT: String(secured.port), STREAMEVMON_TEST_INFLUX_USER: 'admin', STREAMEVMON_TEST_INFLUX_PASSWORD: 'from env' };
    Object.assign(process.env, env);
    try {
      await secured.query(`CREATE USER "admin" WITH PASSWORD ${quoteString('from env')} WITH ALL PRIVILEGES`);
      await helper.load(NODES, flow(0, 'envdb', {}, { port: '${STREAMEVMON_TEST_INFLUX_PORT}' }), {
        cfg: { user: '${STREAMEVMON_TEST_INFLUX_USER}', password: '${STREAMEVMON_TEST_INFLUX_PASSWORD}' },
      });
      const completed = collect('completed');
      helper.getNode('sink').receive(eventMsg(event(7)));
      await completed.waitFor(1, 10_000);
      const rows = await secured.rows('SELECT severity FROM events', 'envdb').catch(() => []);
      assert.equal(rows.length, 0, 'the read-back needs credentials too');
      const [r] = await secured.query('SELECT severity FROM events', 'envdb', { user: 'admin', password: 'from env' });
      assert.deepEqual(r.series?.[0].values, [[T0 + 7, 7]]);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      await secured.dispose();
    }
  });

  it('a bad configuration writes nothing and says why', async () => {
    await helper.load(NODES, flow(server.port, 'x', { batchSize: '0', overflow: 'drop-all' }, { host: 'http://127.0.0.1' }));
    const caught = collect('caught');
    const sink = helper.getNode('sink');
    const errs = texts(sink, 'error');
    assert.ok(errs.some((e) => /batchSize must be an integer between 1 and 10000 \(got 0\)/.test(e)), errs.join('\n'));
    assert.ok(errs.some((e) => /overflow must be drop-oldest or drop-newest/.test(e)));
    assert.ok(errs.some((e) => /host must be a host name or address without http:\/\//.test(e)));
    assert.equal(texts(sink, 'status').at(-1)?.startsWith('influx-events:'), true);
    sink.receive(eventMsg(event(1)));
    const [m] = await caught.waitFor(1);
    assert.match(m.error.message, /streamevmon-influx-events is not running/);
  });

  it('without a configuration node: a clear error', async () => {
    await helper.load(NODES, [{ id: 'sink', type: 'streamevmon-influx-events', wires: [] }]);
    assert.ok(texts(helper.getNode('sink'), 'error').some((e) => /no InfluxDB server configured/.test(e)));
  });

  it('on redeploy, flushes what is waiting before closing', async () => {
    await helper.load(NODES, flow(server.port, 'flush', { batchInterval: '60' }));
    const sink = helper.getNode('sink');
    for (let i = 0; i < 10; i++) sink.receive(eventMsg(event(i)));
    await settle(200);
    assert.equal((await server.rows('SELECT count(severity) FROM events', 'flush').catch(() => [])).length, 0, 'still waiting for the interval');
    const t0 = Date.now();
    await helper.unload();
    assert.ok(Date.now() - t0 < 5000);
    const [row] = await server.rows('SELECT count(severity) FROM events', 'flush');
    assert.equal(row.count, 10);
  });

  it('on close with the server down, gives up within the close timeout and reports what was not written', async () => {
    const outage = await Influxd.start(bin);
    try {
      await helper.load(NODES, flow(outage.port, 'gone'));
      const sink = helper.getNode('sink');
      const completed = collect('completed');
      sink.receive(eventMsg(event(0)));
      await completed.waitFor(1, 10_000);
      await outage.stop();
      for (let i = 1; i <= 10; i++) sink.receive(eventMsg(event(i)));
      await settle(500);
      // The test helper restores its spies before closing the flows: keep our own record.
      const warned: string[] = [];
      sink.warn = (m: unknown) => { warned.push(String(m)); };
      const caught = collect('caught');
      const completed2 = collect('completed');
      const t0 = Date.now();
      await helper.unload();
      const took = Date.now() - t0;
      assert.ok(took >= 4000 && took < 8000, `close waited for the flush window, no longer (${took} ms)`);
      assert.ok(warned.some((w) => /10 lines could not be written before closing \(ECONNREFUSED\) and are lost/.test(w)), warned.join('\n'));
      // The msgs were ended with done(err), but Node-RED does not pass that on from a closing
      // node: no Catch (or Complete) node gets them. The help says so, and names the warning.
      await settle(500);
      assert.equal(caught.msgs.length, 0);
      assert.equal(completed2.msgs.length, 0);
      const help = fs.readFileSync(path.join(projectRoot(), 'nodes', 'streamevmon-influx-events.html'), 'utf8').replace(/\s+/g, ' ');
      assert.match(help, /Node-RED does not pass that on to Catch or Complete nodes while the flow is closing, so in practice the node's warning \(<i>N lines could not be written before closing<\/i>, with the cause\) is the only report of them/);
    } finally {
      await outage.dispose();
    }
  });

  it('outage: 5,000 events sent while influxd is down for 30 s are all written exactly once afterwards', async function () {
    this.timeout(240_000);
    const outage = await Influxd.start(bin);
    try {
      const db = 'outage';
      await helper.load(NODES, flow(outage.port, db, { passthrough: false }));
      const completed = collect('completed');
      const caught = collect('caught');
      const sink = helper.getNode('sink');
      const before = Array.from({ length: 100 }, (_, i) => event(i));
      before.forEach((e) => sink.receive(eventMsg(e)));
      await completed.waitFor(100, 10_000);

      await outage.stop();
      const downAt = Date.now();
      const during = Array.from({ length: 5000 }, (_, i) => event(100 + i));
      // Spread over the outage: 250 msgs every second for 20 s.
      for (let k = 0; k < 20; k++) {
        during.slice(k * 250, (k + 1) * 250).forEach((e) => sink.receive(eventMsg(e)));
        await settle(1000);
      }
      await settle(Math.max(0, 30_000 - (Date.now() - downAt)));
      assert.equal(completed.msgs.length, 100, 'no done() while nothing could be written');
      assert.equal(caught.msgs.length, 0, 'and no msg given up on');
      const statuses = texts(sink, 'status');
      assert.ok(statuses.some((t) => /^error: ECONNREFUSED · queued (4\d{3}|5000)/.test(t)), `the backlog was shown: ${statuses.slice(-3).join(' | ')}`);

      await outage.start();
      await completed.waitFor(5100, 90_000);
      await settle(500);
      assert.equal(completed.msgs.length, 5100, 'done() once per msg');
      assert.equal(caught.msgs.length, 0);
      const rows = await outage.rows('SELECT severity, stream FROM events', db);
      assert.equal(rows.length, 5100, 'every event is in the database');
      const keys = new Set(rows.map((r) => `${r.stream}@${r.time}`));
      assert.equal(keys.size, 5100, 'exactly once: distinct streams and times');
      for (const e of [...before, ...during]) assert.ok(keys.has(`${e.stream}@${e.time}`), `${e.stream}@${e.time} written`);
      const [count] = await outage.rows('SELECT count(severity) FROM events', db);
      assert.equal(count.count, 5100);
      await waitUntil(() => /^written 5100$/.test(texts(sink, 'status').at(-1) ?? ''), 3000, 'status "written 5100"');
    } finally {
      await outage.dispose();
    }
  });
});
