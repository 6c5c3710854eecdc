import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scanNabCsv } from '../../lib/nab/csv';
import { nabStream, resolveNabFiles } from '../../lib/nab/files';
import { NabReader } from '../../lib/nab/reader';
import { formatNabTimestamp, parseNabTimestamp } from '../../lib/nab/timestamp';
import type { Measurement } from '../../lib/measurement';
import { nabFixture } from '../fixtures/nab/locate';

async function readAll(reader: NabReader, chunk = 7): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (let ms = await reader.next(chunk); ms.length; ms = await reader.next(chunk)) out.push(...ms);
  return out;
}

describe('NAB reader (lib)', () => {
  describe('timestamps', () => {
    it('parses YYYY-MM-DD HH:MM:SS as UTC (data-formats §6.1 test vector)', () => {
      assert.equal(parseNabTimestamp('2014-04-01 00:00:00'), 1396310400000);
      assert.equal(parseNabTimestamp('1970-01-01 00:00:00'), 0);
      assert.equal(parseNabTimestamp('2015-09-01 13:45:59'), Date.UTC(2015, 8, 1, 13, 45, 59));
      assert.equal(parseNabTimestamp('1969-12-31 23:59:59'), -1000);
    });

    it('agrees with Date.UTC across 1999–2001 and on leap days', () => {
      for (let t = Date.UTC(1999, 0, 1); t < Date.UTC(2002, 0, 1); t += 86_400_000 + 3_723_000) {
        assert.equal(parseNabTimestamp(formatNabTimestamp(t)), Math.floor(t / 1000) * 1000);
      }
      assert.equal(parseNabTimestamp('2016-02-29 12:00:00'), Date.UTC(2016, 1, 29, 12));
      assert.equal(parseNabTimestamp('2000-02-29 00:00:00'), Date.UTC(2000, 1, 29));
    });

    it('takes the label files\' fractions and a T separator', () => {
      assert.equal(parseNabTimestamp('2014-04-10 07:15:00.000000'), Date.UTC(2014, 3, 10, 7, 15));
      assert.equal(parseNabTimestamp('2014-04-10 07:15:00.250'), Date.UTC(2014, 3, 10, 7, 15) + 250);
      assert.equal(parseNabTimestamp('2014-04-10T07:15:00'), Date.UTC(2014, 3, 10, 7, 15));
    });

    it('rejects impossible or malformed timestamps with NaN', () => {
      for (const bad of ['2014-02-29 00:00:00', '1900-02-29 00:00:00', '2014-04-31 00:00:00', '2014-13-01 00:00:00',
        '2014-00-10 00:00:00', '2014-04-00 00:00:00', '2014-04-01 24:00:00', '2014-04-01 23:60:00',
        '2014-04-01 23:59:60', '2014-04-01', '2014/04/01 00:00:00', '2014-04-01 0a:00:00', '2014-04-01 00:00:00.',
        '2014-04-01 00:00:00Z', ' 2014-04-01 00:00:00', '']) {
        assert.ok(Number.isNaN(parseNabTimestamp(bad)), bad);
      }
    });

    it('parses a slice of a line in place', () => {
      const line = 'x,2014-04-01 00:05:00,3';
      assert.equal(parseNabTimestamp(line, 2, 21), 1396310700000);
    });
  });

  describe('CSV scanner', () => {
    it('reads timestamp,value rows into typed arrays, keeping the text verbatim when asked', () => {
      const s = scanNabCsv('timestamp,value\n2014-04-01 00:00:00,20.0\n2014-04-01 00:05:00,-1.5e-3\n2014-04-01 00:10:00,7\n', { keepText: true });
      assert.equal(s.length, 3);
      assert.deepEqual([...s.times], [1396310400000, 1396310700000, 1396311000000]);
      assert.deepEqual([...s.values], [20, -0.0015, 7]);
      assert.deepEqual(s.stampText, ['2014-04-01 00:00:00', '2014-04-01 00:05:00', '2014-04-01 00:10:00']);
      assert.deepEqual(s.valueText, ['20.0', '-1.5e-3', '7']);
      assert.deepEqual([s.bad, s.skipped, s.outOfOrder], [[], 0, 0]);
    });

    it('records malformed lines with their line number and reason, and keeps going', () => {
      const text = [
        'timestamp,value', '2014-04-01 00:00:00,1', '2014-04-01 00:05:00,2,3', 'garbage', '',
        '2014-02-30 00:10:00,4', '2014-04-01 00:15:00,abc', '2014-04-01 00:20:00,', '2014-04-01 00:20:00, 5',
        '2014-04-01 00:25:00,Infinity', '2014-04-01 00:30:00,6',
      ].join('\r\n');
      const s = scanNabCsv(text);
      assert.deepEqual([...s.values], [1, 6]);
      assert.deepEqual(s.bad.map((b) => b.line), [3, 4, 6, 7, 8, 9, 10]);
      assert.match(s.bad[0].reason, /^expected 2 columns, got 3: "2014-04-01 00:05:00,2,3"$/);
      assert.match(s.bad[1].reason, /^expected 2 columns, got 1: "garbage"$/);
      assert.match(s.bad[2].reason, /^timestamp is not YYYY-MM-DD HH:MM:SS: "2014-02-30 00:10:00"$/);
      assert.match(s.bad[3].reason, /^value is not a number: "abc"$/);
      assert.match(s.bad[4].reason, /^value is not a number: ""$/);
      assert.equal(s.badCount, 7);
      assert.equal(s.skipped, 1);
    });

    it('counts rows older than their predecessor but keeps them in file order', () => {
      const s = scanNabCsv('timestamp,value\n2014-04-01 00:10:00,1\n2014-04-01 00:05:00,2\n2014-04-01 00:15:00,3\n');
      assert.deepEqual([...s.values], [1, 2, 3]);
      assert.equal(s.outOfOrder, 1);
    });

    it('handles a BOM, a missing header, a missing final newline and an empty file', () => {
      assert.equal(scanNabCsv('\ufefftimestamp,value\n2014-04-01 00:00:00,1').length, 1);
      assert.deepEqual([...scanNabCsv('2014-04-01 00:00:00,1\n2014-04-01 00:05:00,2').values], [1, 2]);
      assert.equal(scanNabCsv('').length, 0);
      assert.equal(scanNabCsv('timestamp,value\n').length, 0);
    });

    it('reads a results file by its header (anomaly_score among other columns)', () => {
      const s = scanNabCsv('timestamp,value,anomaly_score,label\n2014-04-01 00:00:00,5,0.25,0\n2014-04-01 00:05:00,6,1.0,1\n', { column: 'anomaly_score' });
      assert.deepEqual([...s.values], [0.25, 1]);
    });

    it('refuses a header without the wanted columns, or a data header with more than two', () => {
      assert.throws(() => scanNabCsv('time,value\n'), /header "time,value" has no timestamp column/);
      assert.throws(() => scanNabCsv('timestamp,value\n', { column: 'anomaly_score' }), /has no anomaly_score column/);
      assert.throws(() => scanNabCsv('timestamp,value,extra\n'), /exactly two columns/);
    });

    it('caps the recorded bad lines but counts them all', () => {
      const s = scanNabCsv(['timestamp,value', ...Array.from({ length: 50 }, () => 'junk')].join('\n'), { maxBadRecorded: 5 });
      assert.equal(s.bad.length, 5);
      assert.equal(s.badCount, 50);
    });
  });

  describe('file selection', () => {
    it('walks a data directory recursively, skipping *.md, and names streams <category>/<file>', async () => {
      const refs = await resolveNabFiles(nabFixture('corpus', 'data'));
      assert.deepEqual(refs.map((r) => r.stream), ['artificialWithAnomaly/tiny_jump.csv', 'realKnownCause/tiny_latency.csv']);
      assert.equal(nabStream('/a/b/realKnownCause/nyc_taxi.csv'), 'realKnownCause/nyc_taxi.csv');
    });

    it('expands globs, resolves relative entries against each base, and names a missing path', async () => {
      const refs = await resolveNabFiles('data/*/tiny_l*.csv', ['/nowhere', nabFixture('corpus')]);
      assert.deepEqual(refs.map((r) => r.stream), ['realKnownCause/tiny_latency.csv']);
      await assert.rejects(resolveNabFiles('no-such-dir', [nabFixture()]), /^Error: path not found: no-such-dir \(looked for .*no-such-dir\)$/);
      await assert.rejects(resolveNabFiles('  '), /no path given/);
    });

    it('refuses two files that would be the same stream', async () => {
      const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nab-files-'));
      try {
        for (const d of ['a/cat', 'b/cat']) {
          await fsp.mkdir(path.join(tmp, d), { recursive: true });
          await fsp.writeFile(path.join(tmp, d, 'x.csv'), 'timestamp,value\n');
        }
        await assert.rejects(resolveNabFiles(tmp), /are both stream cat\/x\.csv/);
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    });
  });

  describe('NabReader (the source node\'s reader)', () => {
    it('merges the files by time as NabMeasurements', async () => {
      const refs = await resolveNabFiles(nabFixture('corpus', 'data'));
      const reader = await NabReader.open(refs);
      const all = await readAll(reader);
      assert.equal(all.length, 400);
      for (let i = 1; i < all.length; i++) assert.ok(all[i].time >= all[i - 1].time);
      assert.deepEqual(all[0], { kind: 'NabMeasurement', stream: 'artificialWithAnomaly/tiny_jump.csv', time: 1396310400000, value: 100, lossy: false });
      assert.equal(all[399].stream, 'realKnownCause/tiny_latency.csv');
      assert.deepEqual(reader.stats, { files: 2, rows: 400, malformed: 0, skipped: 0, outOfOrder: 0, bytesRead: reader.stats.totalBytes, totalBytes: reader.stats.totalBytes, buffered: 0, bufferedChars: 0 });
      assert.equal(reader.progress, 1);
    });

    it('reports malformed lines with file:line and sends the good rows', async () => {
      const bad: string[] = [];
      const refs = await resolveNabFiles(nabFixture('malformed'));
      const reader = await NabReader.open(refs, { onMalformed: (f, l, r) => bad.push(`${path.basename(f)}:${l}: ${r}`) });
      const all = await readAll(reader);
      assert.deepEqual(all.map((m) => m.value), [20, 23, 24, -1500]);
      assert.equal(all[0].stream, 'realBad/mixed.csv');
      assert.deepEqual(bad.map((b) => b.split(':')[0] + ':' + b.split(':')[1]), ['mixed.csv:3', 'mixed.csv:4', 'mixed.csv:6', 'mixed.csv:7', 'mixed.csv:8']);
      assert.equal(reader.stats.malformed, 5);
      assert.equal(reader.stats.skipped, 1);
      assert.equal(reader.stats.outOfOrder, 1);
    });

    it('scales each file\'s values from its own min and max when asked', async () => {
      const refs = await resolveNabFiles(nabFixture('corpus', 'data', 'artificialWithAnomaly'));
      const reader = await NabReader.open(refs, { scale: { mode: 'range', target: 0, low: 1000, high: 2000 } });
      const values = (await readAll(reader)).map((m) => m.value as number);
      assert.equal(Math.min(...values), 1000);
      assert.equal(Math.max(...values), 2000);
    });

    it('stops handing out rows once closed', async () => {
      const reader = await NabReader.open(await resolveNabFiles(nabFixture('corpus', 'data')));
      assert.equal((await reader.next(10)).length, 10);
      await reader.close();
      assert.deepEqual(await reader.next(10), []);
      await assert.rejects(reader.next(0), /max must be at least 1/);
    });

    it('names a file it cannot use', async () => {
      const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nab-reader-'));
      try {
        await fsp.mkdir(path.join(tmp, 'cat'));
        await fsp.writeFile(path.join(tmp, 'cat', 'x.csv'), 'when,what\n1,2\n');
        await assert.rejects(NabReader.open(await resolveNabFiles(tmp)), /x\.csv: header "when,what" has no timestamp column/);
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    });
  });
});
