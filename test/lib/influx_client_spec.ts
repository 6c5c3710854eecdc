/**
 * The InfluxDB 1.x client against a real private influxd (no mocks): ping, queries with
 * epoch=ms and bind parameters, hostile names, writes and every response class of
 * data-formats.md §12.2, credentials, timeouts; events and event groups read back.
 */
import { strict as assert } from 'node:assert';
import net from 'node:net';
import type { DetectorEvent } from '../../lib/event';
import { groupPayload } from '../../lib/events/group';
import { InfluxClient, InfluxError, MAX_ERROR_TEXT, clipText, statementError } from '../../lib/influx/client';
import { classifyWriteFailure, linesForPayload } from '../../lib/influx/events-sink';
import {
  EVENT_FIELD_KEYS, INFLUX_MAX_TIME_MS, INFLUX_MIN_TIME_MS, eventGroupLine, eventLine, fitsInt64, maxSeriesKeyBytes,
} from '../../lib/influx/event-line';
import { createDatabase, createRetentionPolicy, quoteIdent, quoteString } from '../../lib/influx/influxql';
import { Influxd, freePort, requireInfluxd } from '../support/influxd';

async function rejection(p: Promise<unknown>): Promise<InfluxError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof InfluxError, `an InfluxError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected a rejection');
}

function ev(over: Partial<DetectorEvent>): DetectorEvent {
  return { eventType: 'spike_events', stream: 's1', severity: 50, time: 1_700_000_000_000, detectionLatency: 0, description: 'Positive', tags: {}, ...over };
}

describe('InfluxDB client (real influxd)', function () {
  this.timeout(60_000);
  let bin = '';
  let server: Influxd;
  let client: InfluxClient;

  before(async function () {
    bin = requireInfluxd(this);
    server = await Influxd.start(bin);
    client = new InfluxClient({ host: '127.0.0.1', port: server.port });
  });
  after(async () => {
    await server?.dispose();
  });

  it('pings (204) and tells the server version', async () => {
    const { version } = await client.ping();
    assert.match(version, /^1\./);
    assert.equal(client.baseUrl, `http://127.0.0.1:${server.port}`);
  });

  it('writes with an explicit precision and reads times back as epoch ms', async () => {
    await client.query(createDatabase('prec'));
    await client.write(['m v=1i 1700000000123000000', 'm v=2i 1700000000456000000'], { db: 'prec', precision: 'ns' });
    await client.write('m v=3i 1700000000789', { db: 'prec', precision: 'ms' });
    const [r] = await client.query('SELECT v FROM m', { db: 'prec' });
    assert.deepEqual(r.series?.[0].values, [[1700000000123, 1], [1700000000456, 2], [1700000000789, 3]]);
  });

  it('creates the database and the default retention policy of §12.2; "already exists" is a statement result', async () => {
    for (const q of [createDatabase('streamevmon'), createRetentionPolicy('streamevmondefault', 'streamevmon')]) {
      assert.equal(statementError(await client.query(q)), null);
      assert.equal(statementError(await client.query(q)), null, 'same settings again: no error');
    }
    const other = await client.query(createRetentionPolicy('streamevmondefault', 'streamevmon', { duration: '1h' }));
    assert.match(statementError(other) ?? '', /already exists/);
    const [r] = await client.query(`SHOW RETENTION POLICIES ON ${quoteIdent('streamevmon')}`);
    const row = r.series?.[0].values.find((v) => v[0] === 'streamevmondefault');
    assert.ok(row, 'policy exists');
    assert.equal(row[row.length - 1], true, 'and is the default');
  });

  it('hostile names stay inside their quotes (identifiers and literals)', async () => {
    const db = `we"ird db'; DROP DATABASE "prec`;
    assert.equal(statementError(await client.query(createDatabase(db))), null);
    const [dbs] = await client.query('SHOW DATABASES');
    const names = (dbs.series?.[0].values ?? []).map((v) => v[0]);
    assert.ok(names.includes(db), `created exactly ${db}: ${JSON.stringify(names)}`);
    assert.ok(names.includes('prec'), 'the other database is untouched');

    const stream = `O'Brien "x" \\ y, z=1 ' OR ''='`;
    await client.write([eventLine(ev({ stream, time: 1 })), eventLine(ev({ stream: 'other', time: 2 }))], { db, precision: 'ns' });
    const byLiteral = await client.query(`SELECT severity, stream FROM events WHERE stream = ${quoteString(stream)}`, { db });
    assert.deepEqual(byLiteral[0].series?.[0].values, [[1, 50, stream]]);
    const byParam = await client.query('SELECT severity, stream FROM events WHERE stream = $s', { db, params: { s: stream } });
    assert.deepEqual(byParam[0].series?.[0].values, [[1, 50, stream]]);
  });

  it('a query the server cannot parse is a 400 bad-request error', async () => {
    const e = await rejection(client.query('SELEC nothing'));
    assert.equal(e.kind, 'bad-request');
    assert.equal(e.status, 400);
    assert.match(e.message, /error parsing query/);
  });

  it('a field type conflict is a 400 partial write: not retried, isolatable when some lines pass', async () => {
    await client.query(createDatabase('conflict'));
    await client.write('events,stream=a,event_type=x description="pre",severity="high" 1', { db: 'conflict', precision: 'ns' });
    const e = await rejection(client.write([eventLine(ev({ stream: 'a', time: 2 })), 'other v=1i 3'], { db: 'conflict', precision: 'ns' }));
    assert.equal(e.kind, 'bad-request');
    assert.equal(e.code, '400');
    assert.match(e.message, /field type conflict/);
    assert.equal(e.dropped, 1);
    assert.equal(e.retryable, false);
    assert.equal(classifyWriteFailure(e, 2), 'split');
    assert.equal(classifyWriteFailure(e, 1), 'fail');
  });

  it('a missing database is 404, a missing retention policy is not retried either', async () => {
    const e404 = await rejection(client.write('m v=1i 1', { db: 'nosuchdb', precision: 'ns' }));
    assert.deepEqual([e404.kind, e404.status], ['not-found', 404]);
    assert.match(e404.message, /database not found/);
    assert.equal(classifyWriteFailure(e404, 5), 'fail');
    const rp = await rejection(client.write('m v=1i 1', { db: 'prec', rp: 'nosuchrp', precision: 'ns' }));
    assert.equal(rp.kind, 'not-found');
    assert.match(rp.message, /retention policy not found/);
    assert.equal(classifyWriteFailure(rp, 5), 'fail');
  });

  it('a stopped server is a retryable network error (ECONNREFUSED)', async () => {
    const port = await freePort();
    const down = new InfluxClient({ host: '127.0.0.1', port });
    const e = await rejection(down.write('m v=1i 1', { db: 'x', precision: 'ns' }));
    assert.equal(e.kind, 'network');
    assert.equal(e.code, 'ECONNREFUSED');
    assert.equal(e.retryable, true);
    assert.equal(classifyWriteFailure(e, 10), 'retry');
    await rejection(down.ping());
  });

  it('a server that never answers times out (retryable); a caller abort is not retried', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const slow = new InfluxClient({ host: '127.0.0.1', port, timeoutMs: 300 });
      const t0 = Date.now();
      const e = await rejection(slow.write('m v=1i 1', { db: 'x', precision: 'ns' }));
      assert.deepEqual([e.kind, e.code, e.retryable], ['timeout', 'timeout', true]);
      assert.ok(Date.now() - t0 < 5000);
      const ac = new AbortController();
      const pending = slow.ping(ac.signal);
      ac.abort();
      const a = await rejection(pending);
      assert.deepEqual([a.kind, a.retryable], ['aborted', false]);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });

  it('events are read back once with the tags and fields of the schema, hostile text included', async () => {
    const db = 'readback';
    await client.query(createDatabase(db));
    const descriptions = [
      'He said "hi" \\o/',
      'a, b, c',
      'key=value with spaces',
      'two\nlines\r\nhere',
      'ünïcödé ✓ 日本語 🚀',
      "single 'quotes'",
    ];
    const events = descriptions.map((description, i) => ev({
      description, stream: `str eam,${i}=x`, time: 1_700_000_000_000 + i, detectionLatency: 1500 + i, severity: 10 + i,
      tags: { type: 'test case', in_group: 'g-1' },
    }));
    await client.write(events.map(eventLine), { db, precision: 'ns' });
    const [r] = await client.query('SELECT * FROM events', { db });
    const s = r.series?.[0];
    assert.ok(s);
    const rows = s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    assert.equal(rows.length, events.length, 'each event once');
    rows.forEach((row, i) => {
      assert.deepEqual(row, {
        time: events[i].time,
        description: descriptions[i].replace(/\r\n|[\r\n]/g, ' '),
        detection_latency: (1500 + i) * 1e6,
        event_type: 'spike_events',
        in_group: 'g-1',
        severity: 10 + i,
        stream: `str eam,${i}=x`,
        type: 'test case',
      });
    });
    const [types] = await client.query('SHOW FIELD KEYS FROM events', { db });
    assert.deepEqual(types.series?.[0].values, [['description', 'string'], ['detection_latency', 'integer'], ['severity', 'integer']]);
  });

  it('event groups are written as §13 (endTime tag with its i, integer fields)', async () => {
    const db = 'groups';
    await client.query(createDatabase(db));
    const loss = (time: number, detectionLatency: number, severity: number): DetectorEvent =>
      ev({ eventType: 'loss_events', stream: '3', time, detectionLatency, severity });
    const g = groupPayload({ uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11', start: 1564713040000, end: 1564713044000, events: [loss(1564713040000, 0, 40), loss(1564713045000, 1000, 61)] });
    await client.write(eventGroupLine(g), { db, precision: 'ns' });
    const [r] = await client.query('SELECT * FROM event_groups', { db });
    const s = r.series?.[0];
    assert.ok(s);
    assert.deepEqual(Object.fromEntries(s.columns.map((c, i) => [c, s.values[0][i]])), {
      time: 1564713040000,
      description: g.description,
      endTime: '1564713044000000000i',
      event_count: 2,
      meanDetectionLatency: 500_000_000,
      meanSeverity: 50,
      modeEventType: 'loss_events',
      uid: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11',
    });
  });

  it('the limits the sink checks up front are InfluxDB\'s own: just inside is stored, just outside is a 400', async () => {
    const db = 'limits';
    await client.query(createDatabase(db));
    const write = async (line: string): Promise<InfluxError | null> => client.write(line, { db, precision: 'ns' }).then(() => null, (e: InfluxError) => e);
    const sinkAccepts = (payload: unknown): boolean => 'lines' in linesForPayload(payload);
    // Times: the whole milliseconds of ±(2^63 − 2) ns.
    for (const [time, ok] of [[INFLUX_MAX_TIME_MS, true], [INFLUX_MAX_TIME_MS + 1, false], [INFLUX_MIN_TIME_MS, true], [INFLUX_MIN_TIME_MS - 1, false]] as const) {
      const e = ev({ time, stream: `t${time}` });
      const err = await write(eventLine(e));
      assert.equal(err === null, ok, `time ${time}: ${err?.message}`);
      if (err) assert.match(err.message, /400 unable to parse .*(time outside range|value out of range)/);
      assert.equal(sinkAccepts(e), ok, `the sink agrees on time ${time}`);
    }
    assert.equal(await write('events,stream=ns description="d" 9223372036854775806'), null);
    assert.match((await write('events,stream=ns description="d" 9223372036854775807'))?.message ?? '', /time outside range -9223372036854775806 - 9223372036854775806/);
    // Integer fields: int64.
    assert.equal(await write('events,stream=i description="d",severity=9223372036854775807i 1'), null);
    assert.match((await write('events,stream=i description="d",severity=9223372036854775808i 2'))?.message ?? '', /value out of range/);
    assert.deepEqual([fitsInt64('9223372036854775807'), fitsInt64('9223372036854775808'), fitsInt64('-9223372036854775808')], [true, false, true]);
    // A group with eventCount 1e21 renders "1e+21i": InfluxDB refuses it; the sink refuses it first.
    const group = { uid: 'u', start: 1000, end: 2000, eventCount: 1e21, modeEventType: 'x', meanSeverity: 1, meanDetectionLatency: 0, description: 'd' };
    assert.match(eventGroupLine(group), /event_count=1e\+21i/);
    assert.equal((await write(eventGroupLine(group)))?.code, '400');
    assert.equal(sinkAccepts(group), false);
    // A tag named time.
    const timeTag = ev({ tags: { time: 'x' } });
    assert.match((await write(eventLine(timeTag)))?.message ?? '', /invalid tag key: input tag "time"/);
    assert.equal(sinkAccepts(timeTag), false);
    // The series key plus "#!~#" and the longest field key: at most 65535 bytes.
    const max = maxSeriesKeyBytes(EVENT_FIELD_KEYS);
    const fixed = 'events,event_type=spike_events,k=,stream=s1'.length;
    const fits = ev({ tags: { k: 'x'.repeat(max - fixed) } });
    const over = ev({ tags: { k: 'x'.repeat(max - fixed + 1) } });
    assert.equal(await write(eventLine(fits)), null);
    assert.match((await write(eventLine(over)))?.message ?? '', /max key length exceeded: 65536 > 65535/);
    assert.deepEqual([sinkAccepts(fits), sinkAccepts(over)], [true, false]);
    // A tag named like a field is stored, but reads back renamed: the sink refuses it.
    await write(eventLine(ev({ stream: 'renamed', tags: { severity: 'high' } })));
    const [r] = await client.query('SELECT * FROM events WHERE stream = \'renamed\'', { db });
    assert.ok(r.series?.[0].columns.includes('severity_1'));
    assert.equal(sinkAccepts(ev({ tags: { severity: 'high' } })), false);
  });

  it('error texts echoing a huge line are cut to a few hundred characters, keeping the reason and saying how long they were', async () => {
    const db = 'echo';
    await client.query(createDatabase(db));
    const huge = ev({ description: 'x'.repeat(1_000_000), time: 1e13 });
    const e = await rejection(client.write(eventLine(huge), { db, precision: 'ns' }));
    assert.equal(e.code, '400');
    assert.ok(e.message.length < MAX_ERROR_TEXT + 300, `message of ${e.message.length} characters`);
    assert.match(e.message, /^influxdb write to database "echo" at .* failed: 400 unable to parse 'events,event_type=spike_events,stream=s1 description="xxx/);
    assert.match(e.message, /…\[\d+ of 100\d{4} characters cut\]…/);
    assert.match(e.message, /: strconv\.ParseInt: parsing "10000000000000000000": value out of range$/, 'the reason, at the end, is kept');
    // Still classified from the whole text: a parse error among good lines is split.
    const two = await rejection(client.write([eventLine(huge), eventLine(ev({}))], { db, precision: 'ns' }));
    assert.ok(two.message.length < MAX_ERROR_TEXT + 300);
    assert.equal(classifyWriteFailure(two, 2), 'split');
    // clipText itself: short texts unchanged, pairs never cut in two.
    assert.equal(clipText('short'), 'short');
    const emoji = clipText('🚀'.repeat(1000), 11);
    assert.doesNotMatch(emoji, /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    assert.match(emoji, /^(🚀)+…\[\d+ of 2000 characters cut\]…(🚀)+$/);
  });

  describe('with a small max-body-size', () => {
    let small: Influxd;
    before(async () => {
      small = await Influxd.start(bin, { maxBodySize: 2000 });
    });
    after(async () => {
      await small?.dispose();
    });

    it('a body over the limit is 413 too-large: the queue shrinks the batch', async () => {
      const c = new InfluxClient({ host: '127.0.0.1', port: small.port });
      await c.query(createDatabase('big'));
      const lines = Array.from({ length: 40 }, (_, i) => eventLine(ev({ time: i })));
      const e = await rejection(c.write(lines, { db: 'big', precision: 'ns' }));
      assert.deepEqual([e.kind, e.status], ['too-large', 413]);
      assert.equal(classifyWriteFailure(e, 40), 'shrink');
      await c.write(lines.slice(0, 5), { db: 'big', precision: 'ns' });
    });
  });

  describe('with authentication enabled', () => {
    let secured: Influxd;
    const admin = { user: 'admin', password: 's3cret pass' };
    before(async () => {
      secured = await Influxd.start(bin, { auth: true });
      // With auth on and no user yet, influxd accepts creating the first admin.
      await secured.query(`CREATE USER ${quoteIdent(admin.user)} WITH PASSWORD ${quoteString(admin.password)} WITH ALL PRIVILEGES`);
      await secured.query(createDatabase('sec'), undefined, admin);
    });
    after(async () => {
      await secured?.dispose();
    });

    it('right credentials write and query', async () => {
      const c = new InfluxClient({ host: '127.0.0.1', port: secured.port, username: admin.user, password: admin.password });
      await c.write('m v=1i 1', { db: 'sec', precision: 'ns' });
      const [r] = await c.query('SELECT count(v) FROM m', { db: 'sec' });
      assert.equal(r.series?.[0].values[0][1], 1);
    });

    it('a wrong password or an unknown user is a clear 401, not retried, without the password in it', async () => {
      for (const creds of [{ username: admin.user, password: 'wrong-pw' }, { username: 'nobody', password: 'whatever-pw' }, {}]) {
        const c = new InfluxClient({ host: '127.0.0.1', port: secured.port, ...creds });
        const e = await rejection(c.write('m v=1i 2', { db: 'sec', precision: 'ns' }));
        assert.deepEqual([e.kind, e.status, e.retryable], ['auth', 401, false]);
        assert.match(e.message, /401 .*check the user and password/);
        assert.doesNotMatch(e.message, /wrong-pw|whatever-pw/);
        assert.equal(classifyWriteFailure(e, 3), 'fail');
        const q = await rejection(c.query('SHOW DATABASES'));
        assert.equal(q.kind, 'auth');
      }
      // Ping needs no credentials in InfluxDB 1.x.
      await new InfluxClient({ host: '127.0.0.1', port: secured.port, username: 'nobody', password: 'x' }).ping();
    });
  });
});
