/**
 * The pure parts of the InfluxDB sink: server configuration, payload → lines, failure
 * classification (data-formats.md §12.2), parameters and the status text.
 */
import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { InfluxError } from '../../lib/influx/client';
import { parseInfluxConfig } from '../../lib/influx/config';
import { classifyWriteFailure, errorCode, linesForPayload, parseOverflow, sinkParamSet, sinkStatus } from '../../lib/influx/events-sink';
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

describe('events sink: values InfluxDB cannot hold are refused before any request', () => {
  const group = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    uid: 'u', start: 1000, end: 2000, eventCount: 1, modeEventType: 'loss_events', meanSeverity: 17, meanDetectionLatency: 4, description: 'G', ...over,
  });
  const refused = (payload: unknown, re: RegExp): void => {
    const r = linesForPayload(payload);
    assert.ok('error' in r, `refused: ${JSON.stringify(payload)?.slice(0, 200)}`);
    assert.match(r.error, re);
  };
  const accepted = (payload: unknown): string[] => {
    const r = linesForPayload(payload);
    assert.ok('lines' in r, 'error' in r ? r.error : '');
    return r.lines;
  };

  it('times outside InfluxDB\'s range (int64 ns: 1677-09-21 to 2262-04-11), naming the field', () => {
    const range = /outside the time range InfluxDB can store \(epoch ms -9223372036854 to 9223372036854, 1677-09-21T00:12:43\.146Z to 2262-04-11T23:47:16\.854Z\)/;
    refused(ev({ time: 1e13 }), /^event time 10000000000000 /);
    refused(ev({ time: 1e13 }), range);
    refused(ev({ time: -1e13, detectionLatency: 0 }), /^event time -10000000000000 is outside the time range/);
    refused(ev({ time: 9223372036855 }), /event time 9223372036855 is outside/);
    refused(group({ start: 1e13 }), /^group start 10000000000000 is outside the time range/);
    refused(group({ end: -1e13 }), /^group end -10000000000000 is outside the time range/);
    // The edges themselves are fine (the node spec writes them to a real influxd).
    assert.match(accepted(ev({ time: 9223372036854 }))[0], / 9223372036854000000$/);
    assert.match(accepted(ev({ time: -9223372036854, detectionLatency: 0 }))[0], / -9223372036854000000$/);
    // Not the payload-shape hint: this is a value, not a missing field.
    const r = linesForPayload(ev({ time: 1e13 }));
    assert.ok('error' in r && !/§12\.1/.test(r.error));
  });

  it('severity: an integer from 0 to 100, never truncated; integer fields beyond int64 never sent', () => {
    refused(ev({ severity: 5.7 }), /^event severity must be an integer from 0 to 100 \(got 5\.7\)/);
    refused(ev({ severity: 1e20 }), /event severity must be an integer from 0 to 100 \(got 100000000000000000000\)/);
    refused(ev({ severity: -1 }), /event severity must be an integer from 0 to 100 \(got -1\)/);
    refused(ev({ severity: 101 }), /got 101/);
    assert.match(accepted(ev({ severity: 0 }))[0], /,severity=0i /);
    assert.match(accepted(ev({ severity: 100 }))[0], /,severity=100i /);
    refused(ev({ detectionLatency: 1e13 }), /^event detectionLatency 10000000000000 ms is more nanoseconds than InfluxDB's 64-bit integers hold/);
    assert.match(accepted(ev({ detectionLatency: 9e12 }))[0], /detection_latency=9000000000000000000i/);
    refused(group({ eventCount: 1e21 }), /^group eventCount must be a whole number of events \(got 1e\+21\)/);
    refused(group({ eventCount: 2.5 }), /group eventCount must be a whole number of events \(got 2\.5\)/);
    refused(group({ eventCount: -1 }), /group eventCount/);
    refused(group({ meanSeverity: 50.5 }), /^group meanSeverity must be an integer from 0 to 100 \(got 50\.5\)/);
    refused(group({ meanDetectionLatency: 1e13 }), /^group meanDetectionLatency 10000000000000 ms is more nanoseconds/);
    refused(group({ events: [ev({ detectionLatency: 1e13 })], meanDetectionLatency: undefined }), /^group mean detection latency of its events is more nanoseconds/);
    assert.match(accepted(group({ eventCount: 9007199254740991 }))[0], /event_count=9007199254740991i/);
  });

  it('stream and tags: no empty stream, no tag "time", no tag named like a field or clashing with a derived tag', () => {
    refused(ev({ stream: '' }), /^event stream is empty: InfluxDB cannot store an empty tag value/);
    refused(ev({ tags: { time: 'x' } }), /^event tag "time" is not allowed: InfluxDB refuses a tag named time/);
    for (const field of ['description', 'detection_latency', 'severity']) {
      refused(ev({ tags: { [field]: 'x' } }), new RegExp(`^event tag "${field}" has the name of a field of the events measurement \\(description, detection_latency, severity\\): InfluxDB would keep both and read the tag back as "${field}_1"`));
    }
    refused(ev({ tags: { stream: 'other' } }), /^event tag "stream" \("other"\) differs from the event's stream \("3"\), which would replace it/);
    refused(ev({ tags: { event_type: 'x' } }), /event tag "event_type" \("x"\) differs from the event's eventType \("loss_events"\)/);
    const amp = 'icmp--src--dst--icmp--84';
    refused(ev({ stream: amp, tags: { source: 'elsewhere' } }), /event tag "source" \("elsewhere"\) differs from the tag derived from the AMP2 stream \("src"\)/);
    refused(ev({ stream: 'icmp----dst--icmp', tags: { source: 'elsewhere' } }), /event tag "source" \("elsewhere"\) differs from the tag derived from the AMP2 stream \(""\)/);
    // The same value changes nothing (e.g. an event read back from InfluxDB), and a non-AMP2
    // stream derives no source tag: both are written as they are.
    assert.deepEqual(accepted(ev({ stream: amp, tags: { stream: amp, event_type: 'loss_events', source: 'src' } })), [eventLine(ev({ stream: amp }))]);
    assert.match(accepted(ev({ tags: { source: 'mine' } }))[0], /,source=mine,stream=3 /);
  });

  it('an empty extra tag value is left out of the line (documented), the rest is written', () => {
    assert.equal(accepted(ev({ tags: { note: '', type: 't' } }))[0], eventLine(ev({ tags: { type: 't' } })));
  });

  it('text UTF-8 cannot carry, and series keys over InfluxDB\'s 64 KB key limit', () => {
    refused(ev({ description: 'a\ud800b' }), /event description contains a lone UTF-16 surrogate/);
    refused(ev({ tags: { k: '\udc00' } }), /event tag "k" contains a lone UTF-16 surrogate/);
    refused(group({ uid: 'x\ud800' }), /group uid contains a lone UTF-16 surrogate/);
    assert.ok(accepted(ev({ description: 'emoji 🚀 fine' })));
    // events,event_type=loss_events,k=…,stream=3: + 4 bytes "#!~#" + "detection_latency" ≤ 65535.
    const fixed = 'events,event_type=loss_events,k=,stream=3'.length;
    const max = 65535 - 4 - 'detection_latency'.length;
    assert.ok(accepted(ev({ tags: { k: 'x'.repeat(max - fixed) } })));
    refused(ev({ tags: { k: 'x'.repeat(max - fixed + 1) } }), new RegExp(`^event tags are too long: the series key \\(measurement and escaped tags\\) is ${max + 1} bytes, InfluxDB takes at most ${max}`));
    refused(ev({ tags: { k: 'é'.repeat(40000) } }), /event tags are too long: the series key .* is \d+ bytes/);
    const gfixed = 'event_groups,endTime=2000000000i,uid='.length;
    const gmax = 65535 - 4 - 'meanDetectionLatency'.length;
    assert.ok(accepted(group({ uid: 'u'.repeat(gmax - gfixed) })));
    refused(group({ uid: 'u'.repeat(gmax - gfixed + 1) }), new RegExp(`^group uid is too long: the series key .* is ${gmax + 1} bytes, InfluxDB takes at most ${gmax}`));
  });

  it('an array of more elements than the buffer limit is refused whole, before rendering any', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ev({ time: 1000000000000 + i }));
    const r = linesForPayload(many, 10_000);
    assert.ok('error' in r);
    assert.equal(r.error, 'msg has 100000 lines, more than the buffer limit of 10000: it could never be held whole, so nothing of it was written (split it into smaller arrays, or raise the buffer limit)');
    assert.equal((linesForPayload(many.slice(0, 10_000), 10_000) as { lines: string[] }).lines.length, 10_000, 'exactly the limit is fine');
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

describe('events sink: status code of an error', () => {
  it('looks through wrapping errors (cause) to the server\'s code', () => {
    const down = new InfluxError('cannot reach the server', 'network', 'ECONNREFUSED');
    assert.equal(errorCode(down), 'ECONNREFUSED');
    assert.equal(errorCode(new Error('not written after retrying for 3 s', { cause: down })), 'ECONNREFUSED');
    assert.equal(errorCode(new Error('outer', { cause: new Error('middle', { cause: down }) })), 'ECONNREFUSED');
    assert.equal(errorCode(Object.assign(new Error('socket'), { code: 'ECONNRESET' })), 'ECONNRESET');
    assert.equal(errorCode(new Error('plain')), 'error');
    assert.equal(errorCode('not even an error'), 'error');
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
