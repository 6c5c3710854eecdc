/**
 * The InfluxDB 1.x line-protocol parser (data-formats.md §8): escapes, quoted strings, value
 * types, timestamps (exact, every precision), line ends and comments, and failures counted
 * with their line numbers instead of thrown.
 */
import { strict as assert } from 'node:assert';
import { gunzipSync } from 'node:zlib';
import fs from 'node:fs';
import path from 'node:path';
import { Point, parseLine, parseLines, parsePrecision, splitCompleteLines } from '../../lib/influx/line-parser';
import { eventGroupLine, eventLine } from '../../lib/influx/event-line';
import { projectRoot } from '../nodes/helpers';

function ok(line: string, opts = {}): Point {
  const p = parseLine(line, opts);
  if (typeof p === 'string') assert.fail(`expected ${JSON.stringify(line)} to parse, got: ${p}`);
  return p;
}

function bad(line: string): string {
  const p = parseLine(line);
  assert.equal(typeof p, 'string', `expected ${JSON.stringify(line)} to fail, got ${JSON.stringify(p)}`);
  return p as string;
}

describe('line-protocol parser (lib)', () => {
  describe('structure', () => {
    it('parses measurement, tags, fields and an ns timestamp into epoch ms', () => {
      const p = ok('data_amp_icmp,stream=3 loss=0i,lossrate=0.0,median=225i,packet_size=520i,results=1i,rtts="[225]" 1563761840000000000');
      assert.deepEqual(p, {
        measurement: 'data_amp_icmp',
        tags: { stream: '3' },
        fields: { loss: 0, lossrate: 0, median: 225, packet_size: 520, results: 1, rtts: '[225]' },
        time: 1563761840000,
      });
    });

    it('keeps tags in any order, and several fields', () => {
      const p = ok('latency,test=icmp,random=False,source=ns4b.amp.wand.net.nz,family=ipv4,destination=j.root-servers.net,packet_size=84,dscp=Default count=1i,error_type=0i,rtt=23884i,loss=0i,error_code=0i 1622678400000000000');
      assert.deepEqual(p.tags, {
        test: 'icmp', random: 'False', source: 'ns4b.amp.wand.net.nz', family: 'ipv4', destination: 'j.root-servers.net', packet_size: '84', dscp: 'Default',
      });
      assert.deepEqual(p.fields, { count: 1, error_type: 0, rtt: 23884, loss: 0, error_code: 0 });
      assert.equal(p.time, 1622678400000);
    });

    it('accepts a line without tags, and several spaces between the parts', () => {
      const p = ok('cpu   value=1.5    1000000');
      assert.equal(p.measurement, 'cpu');
      assert.deepEqual(p.tags, {});
      assert.deepEqual(p.fields, { value: 1.5 });
      assert.equal(p.time, 1);
    });

    it('uses the given time when there is no timestamp', () => {
      assert.equal(ok('cpu value=1', { now: 42 }).time, 42);
      assert.equal(ok('cpu value=1 ', { now: 43 }).time, 43);
      const before = Date.now();
      const t = ok('cpu value=1').time;
      assert.ok(t >= before && t <= Date.now());
    });

    it('keeps tag values with an unescaped "=" (URLs) and a URL destination', () => {
      const p = ok('http,caching=False,destination=https://wand.net.nz/?a=b,source=catalyst.amp.wand.net.nz,test=http bytes=66289i 1622329235000000000');
      assert.equal(p.tags.destination, 'https://wand.net.nz/?a=b');
    });

    it('does not let a key named __proto__ touch the prototype', () => {
      const p = ok('m,__proto__=x __proto__=1i 1');
      assert.equal(Object.getPrototypeOf(p.tags), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(p.tags, '__proto__')?.value, 'x');
      assert.equal(Object.getOwnPropertyDescriptor(p.fields, '__proto__')?.value, 1);
    });
  });

  describe('escapes', () => {
    it('unescapes "\\," and "\\ " in measurement names', () => {
      assert.equal(ok('my\\ meas\\,ure value=1 1').measurement, 'my meas,ure');
    });

    it('unescapes "\\,", "\\=" and "\\ " in tag keys, tag values and field keys', () => {
      const p = ok('m,ta\\=g\\ 1=va\\,l\\ ue\\=x fi\\,eld\\ k\\=ey=1i 1');
      assert.deepEqual(p.tags, { 'ta=g 1': 'va,l ue=x' });
      assert.deepEqual(p.fields, { 'fi,eld k=ey': 1 });
    });

    it('keeps other backslashes literally', () => {
      const p = ok('m\\x,t=a\\b f="c\\d" 1');
      assert.equal(p.measurement, 'm\\x');
      assert.equal(p.tags.t, 'a\\b');
      assert.equal(p.fields.f, 'c\\d');
    });

    it('unescapes \\" and \\\\ in string fields, and keeps separators inside quotes literally', () => {
      const p = ok('m s="a \\"quoted\\" \\\\ path, with=commas and spaces",n=2i 5000000');
      assert.equal(p.fields.s, 'a "quoted" \\ path, with=commas and spaces');
      assert.equal(p.fields.n, 2);
      assert.equal(p.time, 5);
    });

    it('reads back what our event writer escapes', () => {
      const line = eventLine({
        eventType: 'spike_events', stream: 'a b,c=d', severity: 7, time: 1700000000123, detectionLatency: 1500,
        description: 'He said "hi" \\ bye', tags: { 'k ey': 'v,a=l' },
      });
      const p = ok(line);
      assert.equal(p.measurement, 'events');
      assert.equal(p.tags.stream, 'a b,c=d');
      assert.equal(p.tags['k ey'], 'v,a=l');
      assert.equal(p.fields.description, 'He said "hi" \\ bye');
      assert.equal(p.fields.detection_latency, 1_500_000_000);
      assert.equal(p.fields.severity, 7);
      assert.equal(p.time, 1700000000123);
      const g = ok(eventGroupLine({
        uid: 'g 1', start: 1700000000000, end: 1700000060000, eventCount: 2, modeEventType: 'spike_events', meanSeverity: 5,
        meanDetectionLatency: 0, description: 'two "events"',
      }));
      assert.equal(g.tags.endTime, '1700000060000000000i');
      assert.equal(g.fields.description, 'two "events"');
    });
  });

  describe('values', () => {
    it('reads integers (i), unsigned integers (u) and floats, signed and in scientific notation', () => {
      const p = ok('m a=-12i,b=7u,c=1.5,d=-0.25,e=1e3,f=2.5E-2,g=0,h=.5,i=+3i,j=1.');
      assert.deepEqual(p.fields, { a: -12, b: 7, c: 1.5, d: -0.25, e: 1000, f: 0.025, g: 0, h: 0.5, i: 3, j: 1 });
    });

    it('reads every boolean spelling', () => {
      const p = ok('m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE');
      assert.deepEqual(Object.values(p.fields), [true, true, true, true, true, false, false, false, false, false]);
    });

    it('reads empty strings and strings with only spaces', () => {
      assert.deepEqual(ok('m a="",b="  " 1').fields, { a: '', b: '  ' });
    });

    it('rejects values that are not numbers, booleans or quoted strings', () => {
      for (const v of ['abc', 'yes', '1.2.3', '12x', 'NaN', 'Infinity', '0x10', '1e', '-', 'tRUE', '1i2', '-5u', '1e999']) {
        assert.match(bad(`m v=${v} 1`), /invalid value/, v);
      }
    });

    it('rejects integers beyond 64 bits', () => {
      assert.match(bad('m v=123456789012345678901i'), /out of range/);
    });
  });

  describe('timestamps', () => {
    it('converts ns to ms by exact integer division (no floating point)', () => {
      // 2^53 + 1 ns does not fit a double; the ms must still be exact.
      for (const ns of ['1622678400000000000', '1622678400999999999', '9007199254740993', '1', '999999', '1000000', '9223372036854775806']) {
        assert.equal(ok(`m v=1 ${ns}`).time, Number(BigInt(ns) / 1000000n), ns);
      }
    });

    it('truncates negative timestamps towards zero, as BigInt division does', () => {
      for (const ns of ['-1', '-1500000', '-1622678400999999999']) {
        assert.equal(ok(`m v=1 ${ns}`).time, Number(BigInt(ns) / 1000000n), ns);
      }
    });

    it('honours the precision parameter', () => {
      assert.equal(ok('m v=1 1622678400123456', { precision: 'us' }).time, 1622678400123);
      assert.equal(ok('m v=1 1622678400123', { precision: 'ms' }).time, 1622678400123);
      assert.equal(ok('m v=1 1622678400', { precision: 's' }).time, 1622678400000);
      assert.equal(ok('m v=1 27044640', { precision: 'm' }).time, 1622678400000);
      assert.equal(ok('m v=1 450744', { precision: 'h' }).time, 1622678400000);
    });

    it('maps the precision spellings InfluxDB accepts', () => {
      assert.equal(parsePrecision(undefined), 'ns');
      assert.equal(parsePrecision(''), 'ns');
      assert.equal(parsePrecision('n'), 'ns');
      assert.equal(parsePrecision('u'), 'us');
      assert.equal(parsePrecision('ms'), 'ms');
      assert.equal(parsePrecision('h'), 'h');
      assert.equal(parsePrecision('seconds'), null);
      assert.equal(parsePrecision(5), null);
    });

    it('rejects timestamps that are not integers or outside the int64 ns range', () => {
      assert.match(bad('m v=1 12.5'), /not an integer/);
      assert.match(bad('m v=1 abc'), /not an integer/);
      assert.match(bad('m v=1 9223372036854775807'), /outside the range/);
      assert.match(bad('m v=1 99999999999999999999'), /outside the range/);
      assert.match(parseLine('m v=1 9223372037', { precision: 's' }) as string, /outside the range/);
      assert.match(bad('m v=1 1 2'), /unexpected text/);
    });
  });

  describe('malformed lines', () => {
    const cases: Array<[string, RegExp]> = [
      ['m', /no fields/],
      ['m,t=1', /no fields/],
      ['m ', /no fields/],
      [',t=1 v=1', /missing measurement/],
      ['m,t v=1', /tag key "t" has no "="/],
      ['m,=x v=1', /empty tag key/],
      ['m,t= v=1', /tag "t" has an empty value/],
      ['m v', /field key "v" has no "="/],
      ['m v=', /field "v" has no value/],
      ['m v=1,', /empty field key/],
      ['m =1', /empty field key/],
      ['m s="unterminated 1', /no closing quote/],
      ['m v=1,w=2 x 1', /not an integer/],
    ];
    for (const [line, reason] of cases) {
      it(`rejects ${JSON.stringify(line)}`, () => assert.match(bad(line), reason));
    }
  });

  describe('bodies', () => {
    it('accepts \\n and \\r\\n, skips empty lines, blank lines and # comments, and numbers lines', () => {
      const text = '# a comment\r\nm v=1i 1000000\r\n\r\n   \n  # indented comment\nm v=2i 2000000\nm v=3i 3000000';
      const r = parseLines(text);
      assert.equal(r.errorCount, 0);
      assert.equal(r.lines, 3);
      assert.deepEqual(r.points.map((p) => [p.line, p.fields.v, p.time]), [[2, 1, 1], [6, 2, 2], [7, 3, 3]]);
    });

    it('counts failures with line numbers and the line text, and goes on', () => {
      const text = ['m v=1 1', 'garbage', 'm v=2 2', 'm v="open 3', 'm v=4 4', ''].join('\n');
      const r = parseLines(text);
      assert.equal(r.points.length, 3);
      assert.equal(r.errorCount, 2);
      assert.deepEqual(r.errors.map((e) => [e.line, e.text]), [[2, 'garbage'], [4, 'm v="open 3']]);
      assert.match(r.errors[0].reason, /no fields/);
    });

    it('keeps at most maxErrors error texts but counts them all', () => {
      const r = parseLines(Array.from({ length: 50 }, () => 'bad').join('\n'), { maxErrors: 5 });
      assert.equal(r.errorCount, 50);
      assert.equal(r.errors.length, 5);
    });

    it('a string field cannot hide the next line: an unclosed quote fails its own line only', () => {
      const r = parseLines('m s="a\nm v=1i 1');
      assert.equal(r.errorCount, 1);
      assert.equal(r.points.length, 1);
      assert.equal(r.points[0].line, 2);
    });

    it('continues line numbers across chunks (firstLine) and splits chunks at line ends', () => {
      const { complete, rest } = splitCompleteLines('m v=1 1\nm v=2 2\nm v=');
      assert.equal(rest, 'm v=');
      const r = parseLines(complete, { firstLine: 10 });
      assert.deepEqual(r.points.map((p) => p.line), [10, 11]);
      assert.deepEqual(splitCompleteLines('no newline'), { complete: '', rest: 'no newline' });
    });

    it('parses every line of the real AMP2 export (132,173 lines)', function () {
      this.timeout(30_000);
      const text = gunzipSync(fs.readFileSync(path.join(projectRoot(), 'test', 'fixtures', 'amp', 'amp2.lproto.gz'))).toString('utf8');
      const r = parseLines(text);
      assert.equal(r.errorCount, 0, JSON.stringify(r.errors.slice(0, 3)));
      assert.equal(r.points.length, 132_173);
      assert.equal(r.lines, 132_173);
      const unsorted = r.points.filter((p) => {
        const keys = Object.keys(p.tags);
        return keys.some((k, i) => i > 0 && keys[i - 1] > k);
      }).length;
      assert.equal(unsorted, 39_902, 'lines with unsorted tag keys (data-formats.md §4.4)');
    });
  });
});
