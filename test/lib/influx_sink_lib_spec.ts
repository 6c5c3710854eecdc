/**
 * The pure parts of the InfluxDB sink: server configuration, payload → lines, failure
 * classification (data-formats.md §12.2), parameters and the status text.
 */
import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { InfluxError } from '../../lib/influx/client';
import { parseInfluxConfig } from '../../lib/influx/config';
import { classifyWriteFailure, linesForPayload, parseOverflow, sinkParamSet, sinkStatus } from '../../lib/influx/events-sink';
import { eventLine } from '../../lib/influx/event-line';
import { defaultParams, parseParams } from '../../lib/params';

function ev(over: Partial<DetectorEvent> = {}): DetectorEvent {
  return { eventType: 'loss_events', stream: '3', severity: 17, time: 1000000000035, detectionLatency: 4, description: 'd', tags: {}, ...over };
}

describe('InfluxDB server configuration', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(parseInfluxConfig({}), {
      config: { host: 'localhost', port: 8086, tls: false, database: 'streamevmon', retentionPolicy: 'streamevmondefault', timeoutMs: 10_000 },
      errors: [],
    });
  });

  it('accepts values as strings (as ${ENV} substitution gives them) and an empty policy', () => {
    const { config, errors } = parseInfluxConfig({ host: ' db.example ', port: '8087', tls: 'true', database: 'amp', retentionPolicy: '', timeout: '2.5' });
    assert.deepEqual(errors, []);
    assert.deepEqual(config, { host: 'db.example', port: 8087, tls: true, database: 'amp', retentionPolicy: '', timeoutMs: 2500 });
  });

  it('names every bad field', () => {
    const { errors } = parseInfluxConfig({ host: 'http://x:8086', port: '99999', database: 'a/b', retentionPolicy: 'r\\p', timeout: '0' });
    assert.equal(errors.length, 5);
    assert.match(errors[0], /^influxdb: host must be a host name or address without http:\/\//);
    assert.match(errors[1], /port must be an integer between 1 and 65535 \(got "99999"\)/);
    assert.match(errors[2], /database "a\/b" is not a valid InfluxDB name/);
    assert.match(errors[3], /retentionPolicy "r\\\\p" is not a valid InfluxDB name/);
    assert.match(errors[4], /timeout must be a number of seconds greater than 0/);
  });

  it('never lets an unset or odd "Use TLS" mean no TLS quietly', () => {
    assert.equal(parseInfluxConfig({ tls: '${INFLUX_TLS}' }).errors.length, 1);
    assert.match(parseInfluxConfig({ tls: '${INFLUX_TLS}' }).errors[0], /INFLUX_TLS is not set/);
    assert.deepEqual(parseInfluxConfig({ tls: 'yes' }).errors, ['influxdb: tls must be true or false (got "yes")']);
    assert.deepEqual(parseInfluxConfig({ tls: 'false' }).errors, []);
  });
});

describe('events sink: payload → lines', () => {
  it('an event is one events line', () => {
    assert.deepEqual(linesForPayload(ev()), { lines: [eventLine(ev())] });
  });

  it('a group payload is one event_groups line, an array gives one line per element', () => {
    const group = { uid: 'u', start: 1000, end: 2000, events: [ev()], eventCount: 1, streams: ['3'], modeEventType: 'loss_events', meanSeverity: 17, meanDetectionLatency: 4, description: 'G' };
    const r = linesForPayload([ev(), group]);
    assert.ok('lines' in r);
    assert.equal(r.lines.length, 2);
    assert.match(r.lines[1], /^event_groups,endTime=2000000000i,uid=u meanDetectionLatency=4000000i,meanSeverity=17i,modeEventType="loss_events",event_count=1i,description="G" 1000000000$/);
  });

  it('refuses what cannot be stored, naming it, and nothing of an array with a bad element', () => {
    const bad: Array<[unknown, RegExp]> = [
      [42, /payload is not an event object \(got 42\)/],
      [null, /payload is not an event object/],
      [ev({ severity: Number.NaN }), /severity is not a number/],
      [ev({ stream: 'a\nb' }), /stream contains a line break/],
      [ev({ stream: 'ends\\' }), /stream ends with a backslash/],
      [ev({ tags: { '': 'x' } }), /empty key/],
      [ev({ tags: { n: 5 as unknown as string } }), /tag "n" is not a string/],
      [ev({ tags: { t: 'x\\' } }), /tag "t" ends with a backslash/],
      [ev({ stream: 'http--x--y\\--icmp' }), /tag "destination" ends with a backslash/],
      [[], /empty array/],
      [[ev(), 'x'], /element 1 of 2: .*nothing of this msg was written/],
      [{ start: 'then', uid: 'u' }, /group start is not epoch milliseconds/],
      [{ start: 1, end: 2, uid: 'u\\', eventCount: 1, meanDetectionLatency: 0, meanSeverity: 1, modeEventType: 'x', description: '' }, /uid .*backslash/],
      [{ start: 1, end: 2, uid: 'u', events: [{}], modeEventType: 'x', meanSeverity: 1, description: '' }, /group event 0: event has no eventType/],
    ];
    for (const [payload, re] of bad) {
      const r = linesForPayload(payload);
      assert.ok('error' in r, JSON.stringify(payload));
      assert.match(r.error, re);
    }
  });
});

describe('events sink: failure classification (§12.2)', () => {
  const err = (kind: ConstructorParameters<typeof InfluxError>[1], status?: number, message = 'x', dropped?: number) =>
    new InfluxError(message, kind, String(status ?? kind), status, dropped);

  it('retries the server and network, reports credentials and missing databases, splits size and partial writes', () => {
    assert.equal(classifyWriteFailure(err('network'), 10), 'retry');
    assert.equal(classifyWriteFailure(err('timeout'), 10), 'retry');
    assert.equal(classifyWriteFailure(err('server', 503), 10), 'retry');
    assert.equal(classifyWriteFailure(err('auth', 401), 10), 'fail');
    assert.equal(classifyWriteFailure(err('auth', 403), 10), 'fail');
    assert.equal(classifyWriteFailure(err('not-found', 404), 10), 'fail');
    assert.equal(classifyWriteFailure(err('too-large', 413), 10), 'shrink');
    assert.equal(classifyWriteFailure(err('bad-request', 400, 'partial write: field type conflict dropped=3', 3), 10), 'split');
    assert.equal(classifyWriteFailure(err('bad-request', 400, 'partial write: field type conflict dropped=10', 10), 10), 'fail');
    assert.equal(classifyWriteFailure(err('bad-request', 400, 'unable to parse \'x\': missing fields'), 10), 'split');
    assert.equal(classifyWriteFailure(err('bad-request', 400, 'something else'), 10), 'fail');
    assert.equal(classifyWriteFailure(err('aborted'), 10), 'fail');
    assert.equal(classifyWriteFailure(new Error('not influx'), 10), 'fail');
  });
});

describe('events sink: parameters and status', () => {
  it('defaults: batches of 500 or 1 s, 10,000 held, give up after 300 s, drop the oldest', () => {
    assert.deepEqual(defaultParams(sinkParamSet), { batchSize: 500, batchInterval: 1, bufferLimit: 10_000, maxRetryAge: 300, createDatabase: true, passthrough: false });
    assert.deepEqual(parseOverflow(undefined), { overflow: 'drop-oldest' });
    assert.deepEqual(parseOverflow('drop-newest'), { overflow: 'drop-newest' });
    assert.match(parseOverflow('drop-all').error ?? '', /drop-oldest or drop-newest/);
    const { errors } = parseParams(sinkParamSet, { batchSize: '0', batchInterval: '-1', bufferLimit: '1.5', maxRetryAge: 'x' });
    assert.equal(errors.length, 4);
  });

  it('status: queued n / written n / error: <code>, with dropped and failed counts', () => {
    const base = { held: 0, written: 0, failed: 0, dropped: 0, errorCode: null };
    assert.deepEqual(sinkStatus({ ...base, written: 12 }), { fill: 'green', shape: 'dot', text: 'written 12' });
    assert.deepEqual(sinkStatus({ ...base, held: 3, written: 12 }), { fill: 'blue', shape: 'dot', text: 'queued 3 · written 12' });
    assert.deepEqual(sinkStatus({ ...base, held: 4000, errorCode: 'ECONNREFUSED' }), { fill: 'red', shape: 'ring', text: 'error: ECONNREFUSED · queued 4000' });
    assert.deepEqual(sinkStatus({ ...base, written: 1, failed: 3, errorCode: '400' }), { fill: 'red', shape: 'ring', text: 'error: 400 · written 1 · failed 3' });
    assert.deepEqual(sinkStatus({ ...base, written: 5, dropped: 2 }), { fill: 'yellow', shape: 'dot', text: 'written 5 · dropped 2' });
  });
});
