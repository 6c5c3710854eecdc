import { strict as assert } from 'node:assert';
import {
  LineParse, formatFromPath, parseAmpIcmpLine, parseDecimal, parseSmokepingLine, round3, smokepingMedian, sniffLine,
} from '../../lib/latencyts/parse';
import { ampIcmpLine, smokepingLine } from '../../lib/latencyts/serialize';
import { Measurement, measurementKey } from '../../lib/measurement';

function ok(r: LineParse): Measurement {
  if (!r.ok) assert.fail(`expected a measurement, got: ${r.reason}`);
  return r.measurement;
}

function reason(r: LineParse): string {
  if (r.ok) assert.fail(`expected a parse error, got ${JSON.stringify(r.measurement)}`);
  return r.reason;
}

// The 20-value vectors of data-formats.md §5.2 elide their middle values; these keep the given
// first and last values and put the middle pair where the stated median requires.
const R20_452 = '451.013,451.2,451.5,451.8,452.0,452.1,452.3,452.5,452.6,452.75,452.756,452.9,453.1,453.4,453.8,454.2,454.9,455.3,455.9,456.526';
const R20_435 = '433.1,433.4,433.9,434.2,434.5,434.8,435.0,435.1,435.2,435.367,435.381,435.5,436.0,437.2,440.1,450.3,470.8,502.4,540.9,588.667';
const TEN = 'afrinic.net,1385108700,462.624,10,462.022,462.132,462.248,462.318,462.361,462.624,463.236,463.273,464.07,464.38';

describe('Latency TS I ampicmp lines (data-formats.md §5.1)', () => {
  it('parses the spec example callplus-afrinic-ipv6,1391079600,462691,0.000', () => {
    const m = ok(parseAmpIcmpLine('callplus-afrinic-ipv6,1391079600,462691,0.000'));
    assert.deepEqual(m, {
      kind: 'LatencyTSAmpICMP',
      stream: 'callplus-afrinic-ipv6',
      time: Date.parse('2014-01-30T11:00:00Z'),
      value: 462691,
      lossy: false,
      fields: { source: 'callplus', destination: 'afrinic', family: 'ipv6', average: 462691, lossrate: 0 },
    });
    assert.equal(measurementKey(m), 'LatencyTSAmpICMP-callplus-afrinic-ipv6');
  });

  it('is lossy exactly when lossrate > 0', () => {
    assert.equal(ok(parseAmpIcmpLine('a-b-ipv4,1391079600,100,0.001')).lossy, true);
    assert.equal(ok(parseAmpIcmpLine('a-b-ipv4,1391079600,100,1.000')).lossy, true);
    assert.equal(ok(parseAmpIcmpLine('a-b-ipv4,1391079600,100,0')).lossy, false);
  });

  it('uses parts 0-2 of a hyphenated key and adds a note', () => {
    const r = parseAmpIcmpLine('wand-net-nz-xero-ipv4,1391079600,100,0.000');
    const m = ok(r);
    assert.equal(m.stream, 'wand-net-nz-xero-ipv4');
    assert.deepEqual([m.fields?.source, m.fields?.destination, m.fields?.family], ['wand', 'net', 'nz']);
    assert.ok(r.ok && r.note && /5 hyphen-separated parts/.test(r.note));
    const plain = parseAmpIcmpLine('a-b-ipv4,1391079600,100,0.000');
    assert.ok(plain.ok && plain.note === undefined);
  });

  it('keeps keys apart when lines of different series alternate', () => {
    const a = ok(parseAmpIcmpLine('a-b-ipv4,1,1,0'));
    const c = ok(parseAmpIcmpLine('c-d-ipv6,1,1,0'));
    const a2 = ok(parseAmpIcmpLine('a-b-ipv4,2,1,0'));
    assert.deepEqual([a.fields?.source, c.fields?.source, c.fields?.family, a2.fields?.destination], ['a', 'c', 'ipv6', 'b']);
  });

  it('tolerates CRLF and a BOM, and keeps the String form (round trip)', () => {
    const line = 'callplus-afrinic-ipv6,1391079600,462691,0.000';
    assert.equal(ampIcmpLine(ok(parseAmpIcmpLine(`\uFEFF${line}\r`))), line);
    assert.equal(ampIcmpLine(ok(parseAmpIcmpLine('a-b-ipv4,1391079600,5,0.25'))), 'a-b-ipv4,1391079600,5,0.250');
  });

  it('rejects malformed lines with a reason', () => {
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,100')), /expected 4 columns .* got 3/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,100,0.0,7')), /got 5/);
    assert.match(reason(parseAmpIcmpLine('hello world')), /got 1/);
    assert.match(reason(parseAmpIcmpLine('afrinic,1391079600,100,0.0')), /series key "afrinic" is not <source>-<destination>-<family>/);
    assert.match(reason(parseAmpIcmpLine('a--ipv4,1391079600,100,0.0')), /is not <source>/);
    assert.match(reason(parseAmpIcmpLine(',1391079600,100,0.0')), /series key \(column 1\) is empty/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,2014-01-30,100,0.0')), /epochSeconds "2014-01-30" is not a whole number/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,,100,0.0')), /epochSeconds "" /);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,462.5,0.0')), /averageRtt "462.5" is not an integer/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,abc,0.0')), /averageRtt "abc"/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,100,')), /lossrate "" is not a number/);
    assert.match(reason(parseAmpIcmpLine('a-b-ipv4,1391079600,100,NaN')), /lossrate "NaN"/);
    assert.match(reason(parseAmpIcmpLine('\u0000\u0001-b-c,1391079600,100,0.0')), /contains binary data/);
  });
});

describe('Latency TS I smokeping lines (data-formats.md §5.2)', () => {
  it('20 results: median 452.753, loss 0', () => {
    const m = ok(parseSmokepingLine(`afrinic.net,1380538800,452.753,0.000,${R20_452}`));
    assert.equal(m.kind, 'LatencyTSSmokeping');
    assert.equal(m.stream, 'afrinic.net');
    assert.equal(m.time, 1380538800000);
    assert.equal(m.value, 452.753);
    assert.equal(m.lossy, false);
    assert.equal(m.fields?.median, 452.753);
    assert.equal(m.fields?.loss, 0);
    assert.equal((m.fields?.results as number[]).length, 20);
    assert.equal(measurementKey(m), 'LatencyTSSmokeping-afrinic.net');
  });

  it('10 results: loss 10, median (462.361 + 462.624)/2 rounded to 462.493; the recorded median is ignored', () => {
    const m = ok(parseSmokepingLine(TEN));
    assert.deepEqual(m.fields, {
      destination: 'afrinic.net',
      family: 'ipv4',
      loss: 10,
      median: 462.493,
      results: [462.022, 462.132, 462.248, 462.318, 462.361, 462.624, 463.236, 463.273, 464.07, 464.38],
    });
    assert.equal(m.value, 462.493);
    assert.equal(m.lossy, true);
  });

  for (const line of ['afrinic.net,1381975500,,20', 'afrinic.net,1385428200,,']) {
    it(`no results (${line}): loss 20, median absent`, () => {
      const m = ok(parseSmokepingLine(line));
      assert.deepEqual(m.fields, { destination: 'afrinic.net', family: 'ipv4', loss: 20, results: [] });
      assert.equal('median' in (m.fields ?? {}), false);
      assert.equal(m.value, null);
      assert.equal(m.lossy, true);
    });
  }

  it('20 results with a recorded loss of 7: loss 0, median 435.374', () => {
    const m = ok(parseSmokepingLine(`afrinic.net,1384488300,435.381,7.000,${R20_435}`));
    assert.equal(m.fields?.loss, 0);
    assert.equal(m.fields?.median, 435.374);
    assert.equal(m.lossy, false);
  });

  it('clamps loss at 0 with more than 20 results', () => {
    const rtts = Array.from({ length: 23 }, (_, i) => (10 + i).toFixed(3)).join(',');
    const m = ok(parseSmokepingLine(`x.net,1384488300,,,${rtts}`));
    assert.equal(m.fields?.loss, 0);
    assert.equal(m.fields?.median, 21);
  });

  it('skips empty result fields, sorts numerically, and takes the middle value for an odd count', () => {
    const m = ok(parseSmokepingLine('x.net,1384488300,,,100.5,,9.25,20,'));
    assert.deepEqual(m.fields?.results, [100.5, 9.25, 20]);
    assert.equal(m.fields?.loss, 17);
    assert.equal(m.fields?.median, 20);
  });

  it('rounds with Math.round(x * 1000) / 1000, not by the decimal string', () => {
    // 1.0005 is stored just below 1.0005: (1.0005).toFixed(3) is "1.000", Java/JS Math.round gives 1.001.
    assert.equal(smokepingMedian([1.0005]), 1.001);
    assert.equal(round3(462.4925), 462.493);
    assert.equal(smokepingMedian([]), undefined);
  });

  it('family is ipv6 when the destination contains "v6"', () => {
    assert.equal(ok(parseSmokepingLine('ipv6.google.com,1381975500,,')).fields?.family, 'ipv6');
    assert.equal(ok(parseSmokepingLine('www.v6.example,1381975500,,')).fields?.family, 'ipv6');
    assert.equal(ok(parseSmokepingLine('google.com,1381975500,,')).fields?.family, 'ipv4');
  });

  it('has the String form <dest>,<epochSec>,<median 3dp or empty>,<loss %.3f>[,<rtt %.3f>…]', () => {
    assert.equal(smokepingLine(ok(parseSmokepingLine(TEN))),
      'afrinic.net,1385108700,462.493,10.000,462.022,462.132,462.248,462.318,462.361,462.624,463.236,463.273,464.070,464.380');
    assert.equal(smokepingLine(ok(parseSmokepingLine('afrinic.net,1381975500,,20'))), 'afrinic.net,1381975500,,20.000');
  });

  it('rejects malformed lines with a reason', () => {
    assert.match(reason(parseSmokepingLine('afrinic.net,1381975500,452.1')), /at least 4 columns .* got 3/);
    assert.match(reason(parseSmokepingLine('afrinic.net,now,,')), /epochSeconds "now"/);
    assert.match(reason(parseSmokepingLine('afrinic.net,1381975500,,,451.0,4x2.1')), /rtt in column 6 "4x2.1" is not a number/);
    assert.match(reason(parseSmokepingLine(',1381975500,,')), /series key \(column 1\) is empty/);
    assert.match(reason(parseSmokepingLine('\u0000\uFFFD,1381975500,,')), /binary data/);
  });
});

describe('Latency TS I format detection', () => {
  it('takes the deepest directory named ampicmp or smokeping', () => {
    assert.equal(formatFromPath('/data/latency-ts-i/ampicmp/series/waikato-xero-ipv4.series'), 'ampicmp');
    assert.equal(formatFromPath('/data/latency-ts-i/smokeping/series/afrinic.net.series'), 'smokeping');
    assert.equal(formatFromPath('/data/smokeping/ampicmp/x.series'), 'ampicmp');
    assert.equal(formatFromPath('/data/ampicmp.series'), null, 'the file name does not count');
    assert.equal(formatFromPath('/data/ampicmp-old/x.series'), null);
  });

  it('otherwise decides by the first valid line', () => {
    assert.equal(sniffLine('callplus-afrinic-ipv6,1391079600,462691,0.000').format, 'ampicmp');
    assert.equal(sniffLine('afrinic.net,1381975500,,20').format, 'smokeping');
    assert.equal(sniffLine(TEN).format, 'smokeping');
    // 4 columns with an integer 3rd column, but no <src>-<dst>-<family> key: smokeping.
    assert.equal(sniffLine('afrinic.net,1381975500,452,0').format, 'smokeping');
    const junk = sniffLine('hello world');
    assert.equal(junk.format, null);
    assert.match(reason(junk.result), /neither format fits \(ampicmp: .*; smokeping: .*\)/);
  });
});

describe('parseDecimal', () => {
  it('accepts plain decimals only', () => {
    for (const [s, v] of [['0.000', 0], ['-1.5', -1.5], ['.5', 0.5], ['4.', 4], ['+2', 2], ['4.6e2', 460], ['1E-3', 0.001]] as const) {
      assert.equal(parseDecimal(s), v, s);
    }
    for (const s of ['', ' 1', '1 ', '0x10', 'Infinity', 'NaN', '.', '-', '1e', '1.2.3', '1,5', '1e999', '9'.repeat(400)]) {
      assert.ok(Number.isNaN(parseDecimal(s)), JSON.stringify(s));
    }
  });

  it('gives exactly Number() for any decimal (hand-written fast path and long-digit fallback)', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let i = 0; i < 20000; i++) {
      const intDigits = Math.floor(rand() * 10);
      const fracDigits = Math.floor(rand() * 12);
      let s = rand() < 0.2 ? '-' : '';
      for (let d = 0; d < intDigits; d++) s += Math.floor(rand() * 10);
      if (fracDigits || !intDigits) s += '.';
      for (let d = 0; d < Math.max(fracDigits, intDigits ? 0 : 1); d++) s += Math.floor(rand() * 10);
      assert.ok(Object.is(parseDecimal(s), Number(s)), `${s}: ${parseDecimal(s)} vs ${Number(s)}`);
    }
    assert.equal(parseDecimal('0.1234567890123456789'), 0.1234567890123456789);
    assert.ok(Object.is(parseDecimal('-0.0'), -0));
  });
});
