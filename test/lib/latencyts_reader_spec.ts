import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { globToRegExp, resolveSeriesFiles, splitPathList } from '../../lib/latencyts/files';
import { ReportLimiter } from '../../lib/latencyts/limiter';
import { LatencyTsReader, ReaderOptions, openLatencyTs } from '../../lib/latencyts/reader';
import { Replay, ReplayStats, doneText, progressText } from '../../lib/latencyts/replay';
import type { Measurement } from '../../lib/measurement';
import { FIXTURES, fixture } from '../fixtures/latencyts/locate';

interface Reported { file: string; line: number; reason: string }

async function readAll(reader: LatencyTsReader, max = 1000): Promise<Measurement[]> {
  const all: Measurement[] = [];
  for (let chunk = await reader.next(max); chunk.length; chunk = await reader.next(max)) all.push(...chunk);
  return all;
}

async function open(files: string[], opts: ReaderOptions = {}): Promise<{ reader: LatencyTsReader; bad: Reported[] }> {
  const bad: Reported[] = [];
  const reader = await LatencyTsReader.open(files, { onMalformed: (file, line, reason) => bad.push({ file, line, reason }), ...opts });
  return { reader, bad };
}

function assertNonDecreasing(ms: Measurement[]): void {
  for (let i = 1; i < ms.length; i++) assert.ok(ms[i].time >= ms[i - 1].time, `time goes back at ${i}: ${ms[i - 1].time} → ${ms[i].time}`);
}

let tmp: string;

describe('Latency TS I reader (lib)', () => {
  before(async () => { tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'latencyts-')); });
  after(async () => { await fsp.rm(tmp, { recursive: true, force: true }); });

  describe('Latency TS I file selection', () => {
    it('walks a directory recursively for **/*.series, in path order', async () => {
      const files = await resolveSeriesFiles(FIXTURES);
      assert.deepEqual(files.map((f) => path.relative(FIXTURES, f)), [
        'ampicmp/series/callplus-afrinic-ipv6.series',
        'ampicmp/series/waikato-xero-ipv4.series',
        'malformed/empty.series',
        'malformed/junk.series',
        'malformed/mixed.series',
        'smokeping/series/afrinic.net.series',
        'smokeping/series/ipv6.google.com.series',
      ]);
    });

    it('expands globs with *, ? and **', async () => {
      const rel = async (g: string): Promise<string[]> => (await resolveSeriesFiles(g, [FIXTURES])).map((f) => path.relative(FIXTURES, f));
      assert.deepEqual(await rel('ampicmp/series/*.series'), ['ampicmp/series/callplus-afrinic-ipv6.series', 'ampicmp/series/waikato-xero-ipv4.series']);
      assert.deepEqual(await rel('**/afrinic*'), ['smokeping/series/afrinic.net.series']);
      assert.deepEqual(await rel('*/series/ipv?.google.com.series'), ['smokeping/series/ipv6.google.com.series']);
      assert.deepEqual(await rel('malformed/*'), ['malformed/empty.series', 'malformed/junk.series', 'malformed/mixed.series']);
      assert.deepEqual(await rel(`${FIXTURES}/**/mixed.series`), ['malformed/mixed.series'], 'absolute glob');
    });

    it('compiles globs segment-wise', () => {
      const re = globToRegExp('**/*.series');
      assert.ok(re.test('a.series') && re.test('x/y/a.series'));
      assert.ok(!re.test('a.series.bak'));
      assert.ok(globToRegExp('a/*.s').test('a/b.s') && !globToRegExp('a/*.s').test('a/x/b.s'));
      assert.ok(globToRegExp('a/**').test('a/x/y') && globToRegExp('f?.s').test('f1.s') && !globToRegExp('f?.s').test('f/.s'));
      assert.ok(globToRegExp('a+(b).s').test('a+(b).s'), 'regex characters are literal');
    });

    it('takes comma/newline-separated lists, resolves relative entries against each base in turn, and drops duplicates', async () => {
      assert.deepEqual(splitPathList(' a.series, b.series\n\nc.series\r\n'), ['a.series', 'b.series', 'c.series']);
      const files = await resolveSeriesFiles('smokeping/series/afrinic.net.series,\nampicmp\n smokeping/series/afrinic.net.series', [path.join(tmp, 'nowhere'), FIXTURES]);
      assert.deepEqual(files.map((f) => path.relative(FIXTURES, f)), [
        'smokeping/series/afrinic.net.series',
        'ampicmp/series/callplus-afrinic-ipv6.series',
        'ampicmp/series/waikato-xero-ipv4.series',
      ]);
    });

    it('names the missing path in its error', async () => {
      await assert.rejects(resolveSeriesFiles(['no-such-dir'], [FIXTURES]), (e: Error) => {
        assert.match(e.message, /^path not found: no-such-dir \(looked for .*no-such-dir\)$/);
        return true;
      });
      await assert.rejects(resolveSeriesFiles(path.join(tmp, 'missing.series')), /path not found: .*missing\.series$/);
      await assert.rejects(resolveSeriesFiles('nothing/**/*.series', [FIXTURES]), /no files match nothing\/\*\*\/\*\.series/);
      await fsp.mkdir(path.join(tmp, 'empty-dir'), { recursive: true });
      await assert.rejects(resolveSeriesFiles(path.join(tmp, 'empty-dir')), /no \.series files under .*empty-dir/);
      await assert.rejects(resolveSeriesFiles(' , '), /no path given/);
      await assert.rejects(openLatencyTs(['no-such-dir'], [FIXTURES]), /path not found: no-such-dir/);
    });
  });

  describe('LatencyTsReader', () => {
    it('merges files by time; equal times keep file order', async () => {
      const { reader, bad } = await open(await resolveSeriesFiles(fixture('ampicmp')));
      const all = await readAll(reader, 3);
      assert.deepEqual(all.map((m) => `${m.time / 1000} ${m.stream.split('-')[0]}`), [
        '1391079600 callplus', '1391079600 waikato', '1391079750 callplus', '1391079900 waikato',
        '1391080200 callplus', '1391080200 waikato', '1391080500 waikato', '1391080650 callplus', '1391080800 waikato',
      ]);
      assert.equal(bad.length, 0);
      const s = reader.stats;
      assert.deepEqual([s.files, s.rows, s.malformed, s.outOfOrder, s.buffered], [2, 9, 0, 0, 0]);
      assert.equal(s.bytesRead, s.totalBytes);
      assert.equal(reader.progress, 1);
      assert.ok(reader.done);
      assert.deepEqual(await reader.next(), []);
    });

    it('decides each file\'s format: by directory name, else by its first valid line', async () => {
      const { reader } = await open(await resolveSeriesFiles(FIXTURES));
      const all = await readAll(reader);
      assertNonDecreasing(all);
      const formats = Object.fromEntries(reader.files.map((f) => [path.relative(FIXTURES, f.file), f.format]));
      assert.deepEqual(formats, {
        'ampicmp/series/callplus-afrinic-ipv6.series': 'ampicmp',
        'ampicmp/series/waikato-xero-ipv4.series': 'ampicmp',
        'malformed/empty.series': null,
        'malformed/junk.series': null,
        'malformed/mixed.series': 'ampicmp',
        'smokeping/series/afrinic.net.series': 'smokeping',
        'smokeping/series/ipv6.google.com.series': 'smokeping',
      });
      const kinds = new Map(all.map((m) => [m.stream, m.kind]));
      assert.equal(kinds.get('afrinic.net'), 'LatencyTSSmokeping');
      assert.equal(kinds.get('waikato-xero-ipv4'), 'LatencyTSAmpICMP');
      assert.equal(all.length, 9 + 7 + 3, 'ampicmp 9, smokeping 7, 3 good lines in mixed.series');
      // The §5.2 vectors in the fixture come out as specified.
      const afrinic = all.filter((m) => m.stream === 'afrinic.net').map((m) => [m.fields?.median, m.fields?.loss]);
      assert.deepEqual(afrinic, [[452.753, 0], [undefined, 20], [435.374, 0], [462.493, 10], [undefined, 20]]);
    });

    it('counts and reports malformed lines with file and line number, and skips blank lines', async () => {
      const { reader, bad } = await open([fixture('malformed', 'mixed.series'), fixture('malformed', 'junk.series'), fixture('malformed', 'empty.series')]);
      const all = await readAll(reader);
      assert.deepEqual(all.map((m) => m.time / 1000), [1391079600, 1391080500, 1391080800], 'CRLF and a last line without newline are fine');
      const mixed = bad.filter((b) => b.file.endsWith('mixed.series'));
      assert.deepEqual(mixed.map((b) => b.line), [3, 4, 5, 6, 8]);
      assert.match(mixed[0].reason, /expected 4 columns .* got 1/);
      assert.match(mixed[1].reason, /got 2/);
      assert.match(mixed[2].reason, /got 5/);
      assert.match(mixed[3].reason, /averageRtt "abc"/);
      assert.match(mixed[4].reason, /got 3/);
      const junk = bad.filter((b) => b.file.endsWith('junk.series'));
      assert.deepEqual(junk.map((b) => b.line), [1, 2, 3]);
      assert.ok(junk.every((b) => /neither format fits/.test(b.reason)));
      assert.ok(bad.every((b) => b.reason.length < 400), 'reasons stay short');
      const s = reader.stats;
      assert.deepEqual([s.rows, s.malformed, s.skipped, s.files], [3, 8, 2, 3]);
    });

    it('emits lines that go back in time within a file, counting them', async () => {
      const f = path.join(tmp, 'unsorted.series');
      await fsp.writeFile(f, ['a-b-ipv4,100,1,0', 'a-b-ipv4,500,2,0', 'a-b-ipv4,300,3,0', 'a-b-ipv4,700,4,0'].join('\n'));
      const { reader } = await open([f]);
      assert.deepEqual((await readAll(reader)).map((m) => m.value), [1, 2, 3, 4]);
      assert.equal(reader.stats.outOfOrder, 1);
    });

    it('a configured format overrides the directory name', async () => {
      const { reader, bad } = await open([fixture('smokeping', 'series', 'afrinic.net.series')], { format: 'ampicmp' });
      assert.deepEqual(await readAll(reader), []);
      assert.equal(bad.length, 5);
    });

    it('notes a hyphenated ampicmp key once per file', async () => {
      const f = path.join(tmp, 'hyphen.series');
      await fsp.writeFile(f, 'wand-net-nz-xero-ipv4,100,1,0\nwand-net-nz-xero-ipv4,200,1,0\n');
      const notes: string[] = [];
      const reader = await LatencyTsReader.open([f], { onNote: (file, line, msg) => notes.push(`${path.basename(file)}:${line}: ${msg}`) });
      assert.equal((await readAll(reader)).length, 2);
      assert.equal(notes.length, 1);
      assert.match(notes[0], /^hyphen\.series:1: series key "wand-net-nz-xero-ipv4" has 5 hyphen-separated parts/);
    });

    it('splits lines and UTF-8 characters correctly across tiny chunks', async () => {
      const f = path.join(tmp, 'utf8.series');
      await fsp.writeFile(f, 'müller.ünï,1381975500,,,1.5,2.5\r\nmüller.ünï,1381975800,,,3.5\n');
      const { reader, bad } = await open([f], { chunkBytes: 3 });
      const all = await readAll(reader);
      assert.deepEqual(bad, []);
      assert.deepEqual(all.map((m) => [m.stream, m.value]), [['müller.ünï', 2], ['müller.ünï', 3.5]]);
    });

    it('cuts over-long lines (binary files without newlines) and carries on', async () => {
      const f = path.join(tmp, 'long.series');
      await fsp.writeFile(f, `a-b-ipv4,100,1,0\n${'\u0001x'.repeat(5000)}\na-b-ipv4,200,2,0\n${'z'.repeat(3000)}`);
      const { reader, bad } = await open([f], { chunkBytes: 256, maxLineChars: 100 });
      const seen: number[] = [];
      for (let c = await reader.next(1); c.length; c = await reader.next(1)) {
        seen.push(c[0].value as number);
        assert.ok(reader.stats.bufferedChars <= 256 + 100);
      }
      assert.deepEqual(seen, [1, 2]);
      assert.deepEqual(bad.map((b) => [b.line, b.reason]), [[2, 'line longer than 100 characters (binary data?)'], [4, 'line longer than 100 characters (binary data?)']]);
    });

    it('streams a 200k-line file with bounded buffering', async function () {
      this.timeout(20000);
      const big = path.join(tmp, 'big.series');
      const lines: string[] = [];
      for (let i = 0; i < 200_000; i++) lines.push(`big-host-ipv4,${1391079600 + i * 60},${20000 + (i % 97)},${i % 50 === 0 ? '0.100' : '0.000'}`);
      await fsp.writeFile(big, lines.join('\n') + '\n');
      lines.length = 0;
      const small = path.join(tmp, 'small.series');
      await fsp.writeFile(small, Array.from({ length: 1000 }, (_, i) => `small.net,${1391079630 + i * 6000},,,1.0`).join('\n'));

      const { reader } = await open([big, small]);
      const max = 500;
      let total = 0;
      let last = -Infinity;
      let maxChars = 0;
      for (let chunk = await reader.next(max); chunk.length; chunk = await reader.next(max)) {
        assert.ok(chunk.length <= max);
        for (const m of chunk) {
          assert.ok(m.time >= last);
          last = m.time;
        }
        total += chunk.length;
        const s = reader.stats;
        assert.ok(s.buffered <= 2, 'at most one parsed measurement per file waits');
        maxChars = Math.max(maxChars, s.bufferedChars);
      }
      const s = reader.stats;
      assert.equal(total, 201_000);
      assert.equal(s.rows, 201_000);
      assert.equal(s.bytesRead, s.totalBytes);
      assert.ok(s.totalBytes > 7_000_000);
      assert.ok(maxChars <= 2 * (64 * 1024 + 8192), `line buffers held ${maxChars} characters`);
    });

    it('rejects overlapping next() calls and returns nothing after close()', async () => {
      const { reader } = await open(await resolveSeriesFiles(fixture('ampicmp')));
      // Reading to the end needs more file reads, so the first call is still pending.
      const first = reader.next(100);
      await assert.rejects(reader.next(2), /already running/);
      assert.equal((await first).length, 9);
      await assert.rejects(reader.next(0), RangeError);
      await reader.close();
      assert.deepEqual(await reader.next(), []);
      assert.ok(reader.done);
    });

    it('fails to open a file that is not there, naming it', async () => {
      await assert.rejects(LatencyTsReader.open([path.join(tmp, 'gone.series')]), /cannot read .*gone\.series: ENOENT/);
    });
  });

  describe('ReportLimiter', () => {
    it('passes the first N reports, then summarises the rest once per interval', async () => {
      const out: string[] = [];
      const lim = new ReportLimiter((t) => out.push(t), (n, latest) => `${n} more (latest: ${latest})`, 3, 30);
      for (let i = 1; i <= 6; i++) lim.report(`r${i}`);
      assert.deepEqual(out, ['r1', 'r2', 'r3']);
      await new Promise((r) => setTimeout(r, 60));
      assert.deepEqual(out, ['r1', 'r2', 'r3', '3 more (latest: r6)']);
      lim.report('r7');
      lim.flush();
      assert.equal(out[4], '1 more (latest: r7)');
      lim.reset();
      lim.report('again');
      assert.equal(out[5], 'again');
      lim.close();
    });
  });

  describe('Replay pacing', () => {
    const openFixtures = (): Promise<LatencyTsReader> => openLatencyTs([fixture('ampicmp'), fixture('smokeping')], []);

    function recorder() {
      const chunks: Measurement[][] = [];
      const passes: ReplayStats[] = [];
      let resolveDone: (s: ReplayStats) => void = () => undefined;
      const done = new Promise<ReplayStats>((r) => { resolveDone = r; });
      return {
        chunks,
        passes,
        done,
        sink: { data: (ms: Measurement[]) => chunks.push(ms), passEnd: (s: ReplayStats) => passes.push(s), complete: (s: ReplayStats) => resolveDone(s), error: (e: Error) => { throw e; } },
      };
    }

    it('fast: chunks of at most `chunk`, all rows, then complete', async () => {
      const rec = recorder();
      const replay = new Replay(openFixtures, { mode: 'fast', speed: 1, batchSize: 1000, loop: false, chunk: 4 }, rec.sink);
      await replay.start();
      const stats = await rec.done;
      assert.deepEqual(rec.chunks.map((c) => c.length), [4, 4, 4, 4]);
      assert.equal(stats.rows, 16);
      assert.equal(replay.state, 'done');
      assert.equal(doneText(stats), 'done: 16 rows (0 malformed)');
      assert.match(progressText(stats), /^reading: 16 rows · 100% · \d+ rows\/s$/);
    });

    it('batch: one chunk of up to batchSize per send', async () => {
      const rec = recorder();
      const replay = new Replay(openFixtures, { mode: 'batch', speed: 1, batchSize: 10, loop: false }, rec.sink);
      await replay.start();
      await rec.done;
      assert.deepEqual(rec.chunks.map((c) => c.length), [10, 6]);
    });

    it('realtime: waits for the scaled gaps between measurement times', async () => {
      const rec = recorder();
      // ampicmp fixture: 1200 s from first to last measurement; at 12000× that is 100 ms.
      const replay = new Replay(() => openLatencyTs(fixture('ampicmp'), []), { mode: 'realtime', speed: 12000, batchSize: 1, loop: false }, rec.sink);
      const t0 = Date.now();
      await replay.start();
      await rec.done;
      assert.ok(Date.now() - t0 >= 95, `took ${Date.now() - t0} ms`);
      // The two measurements at the first time travel together; later gaps are slept.
      assert.equal(rec.chunks[0].length, 2);
      assert.ok(rec.chunks.length > 2);
      assert.equal(rec.chunks.flat().length, 9);
    });

    it('loop: reads the files again, counting passes, until stopped', async () => {
      const rec = recorder();
      const replay = new Replay(openFixtures, { mode: 'fast', speed: 1, batchSize: 1, loop: true }, rec.sink);
      await replay.start();
      while (rec.passes.length < 3) await new Promise((r) => setImmediate(r));
      await replay.stop();
      assert.equal(replay.state, 'stopped');
      assert.deepEqual(rec.passes.slice(0, 3).map((s) => [s.passes, s.rows]), [[1, 16], [2, 32], [3, 48]]);
      const n = rec.chunks.length;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(rec.chunks.length, n, 'nothing is sent after stop()');
    });

    it('stop() cancels a realtime wait at once', async () => {
      const rec = recorder();
      const replay = new Replay(() => openLatencyTs(fixture('ampicmp'), []), { mode: 'realtime', speed: 1, batchSize: 1, loop: false }, rec.sink);
      await replay.start();
      await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      await replay.stop();
      assert.ok(Date.now() - t0 < 1000);
      assert.deepEqual(rec.chunks.map((c) => c.length), [2], 'only the first time step was due');
      assert.equal(replay.state, 'stopped');
    });

    it('start() rejects when the files cannot be opened', async () => {
      const rec = recorder();
      const replay = new Replay(() => openLatencyTs('no-such-dir', [tmp]), { mode: 'fast', speed: 1, batchSize: 1, loop: false }, rec.sink);
      await assert.rejects(replay.start(), /path not found: no-such-dir/);
      assert.equal(replay.state, 'failed');
    });
  });
});
