import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main as cliMain, parseArgs } from '../../bench/generate-sample';
import { SpikeDetector, spikeParamSet } from '../../lib/detectors/spike';
import {
  AmpIcmpRow, Anomaly, AnomalyKind, ANOMALY_KINDS, buildSample, combineScores, DEFAULT_SAMPLE_OPTIONS,
  DetectionScore, formatAmpIcmpLine, formatLine, formatSmokepingLine, formatUsAsMs, GeneratedSeries,
  generateSeries, INTERVAL_SECONDS, Prng, deriveSeed, Row, rowToSample, samplesForDays, scoreDetections,
  SeriesFormat, SeriesOptions, SmokepingRow, smokepingMedianMs,
} from '../../lib/generator';
import { LatencyTsReader } from '../../lib/latencyts/reader';
import { parseAmpIcmpLine, parseSmokepingLine } from '../../lib/latencyts/parse';
import { seriesLine } from '../../lib/latencyts/serialize';
import { defaultParams } from '../../lib/params';

const T0 = 1391040000;

/** Format regexes straight from data-formats.md §5 (a local check, independent of the reader). */
const AMPICMP_LINE = /^([^,\-]+)-([^,\-]+)-(ipv4|ipv6),(\d+),(\d+),([01]\.\d{3})$/;
const SMOKEPING_LINE = /^([^,]+),(\d+),(\d+\.\d{3})?,(\d+\.\d{3})((?:,\d+\.\d{3}){0,20})$/;

function series(format: SeriesFormat, key: string, extra: Partial<SeriesOptions> = {}): GeneratedSeries {
  return generateSeries({ format, key, seed: 42, startSeconds: T0, samples: samplesForDays(format, 3), ...extra });
}

const AMP_KEY = 'waikato-xero-ipv4';
const SMOKE_KEY = 'afrinic.net';

function value(r: Row): number {
  return r.format === 'ampicmp' ? r.average : (smokepingMedianMs(r.rttsUs) ?? NaN);
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Population standard deviation of consecutive differences: jitter without the level. */
function diffStd(xs: readonly number[]): number {
  const d = xs.slice(1).map((x, i) => x - xs[i]);
  const m = mean(d);
  return Math.sqrt(mean(d.map((x) => (x - m) ** 2)));
}

function inAnyWindow(i: number, anomalies: readonly Anomaly[]): boolean {
  return anomalies.some((a) => i >= a.startIndex && i <= a.endIndex);
}

/** The package root: where the committed data/ lives, wherever the compiled test runs from. */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'node-red-contrib-streamevmon') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
}

describe('generator: PRNG', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number): number[] => { const p = new Prng(seed); return Array.from({ length: 5 }, () => p.next()); };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
  });

  it('gives uniforms in [0, 1) and standard normals (100k draws)', () => {
    const p = new Prng(123);
    let lo = 1;
    let hi = 0;
    let s = 0;
    let s2 = 0;
    const n = 100000;
    for (let i = 0; i < n; i++) {
      const u = p.next();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const z = p.normal();
      s += z;
      s2 += z * z;
    }
    assert.ok(lo >= 0 && lo < 0.001 && hi < 1 && hi > 0.999, `${lo} ${hi}`);
    assert.ok(Math.abs(s / n) < 0.02, `mean ${s / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 0.02, `variance ${s2 / n}`);
  });

  it('derives unrelated seeds from labels', () => {
    assert.equal(deriveSeed(1, 'a'), deriveSeed(1, 'a'));
    assert.notEqual(deriveSeed(1, 'a'), deriveSeed(1, 'b'));
    assert.notEqual(deriveSeed(1, 'a'), deriveSeed(2, 'a'));
  });
});

describe('generator: line writers', () => {
  it('writes ampicmp lines as in data-formats.md §5.1', () => {
    const row: AmpIcmpRow = { format: 'ampicmp', key: 'callplus-afrinic-ipv6', time: 1391079600, average: 462691, lossrate: 0 };
    assert.equal(formatAmpIcmpLine(row), 'callplus-afrinic-ipv6,1391079600,462691,0.000');
    assert.equal(formatAmpIcmpLine({ ...row, lossrate: 0.1 }), 'callplus-afrinic-ipv6,1391079600,462691,0.100');
  });

  it('writes smokeping lines with recomputed median and loss (§5.2 vector with 10 results)', () => {
    const rttsUs = [462022, 462132, 462248, 462318, 462361, 462624, 463236, 463273, 464070, 464380];
    const row: SmokepingRow = { format: 'smokeping', key: 'afrinic.net', time: 1385108700, rttsUs };
    assert.equal(formatSmokepingLine(row),
      'afrinic.net,1385108700,462.493,10.000,462.022,462.132,462.248,462.318,462.361,462.624,463.236,463.273,464.070,464.380');
    assert.equal(formatSmokepingLine({ ...row, rttsUs: [] }), 'afrinic.net,1385108700,,20.000');
  });

  it('formats microseconds as milliseconds exactly', () => {
    assert.equal(formatUsAsMs(5), '0.005');
    assert.equal(formatUsAsMs(452753), '452.753');
    assert.equal(formatUsAsMs(1000), '1.000');
  });
});

describe('generator: determinism', () => {
  const opts = { seed: 7, days: 1, streams: 4 };

  it('gives byte-identical files for the same seed', () => {
    assert.deepEqual(buildSample(opts).files, buildSample(opts).files);
  });

  it('gives different content for every file with a different seed', () => {
    const a = buildSample(opts).files;
    const b = buildSample({ ...opts, seed: 8 }).files;
    assert.deepEqual(a.map((f) => f.path), b.map((f) => f.path));
    a.forEach((f, i) => assert.notEqual(f.content, b[i].content, f.path));
  });

  it('does not change a series when more streams are added', () => {
    const few = buildSample(opts).files;
    const more = buildSample({ ...opts, streams: 6 }).files;
    for (const f of few.filter((x) => x.path.endsWith('.series'))) {
      assert.equal(more.find((m) => m.path === f.path)?.content, f.content, f.path);
    }
  });
});

describe('generator: file format', () => {
  const sample = buildSample({ seed: 3, days: 2, streams: 8 });

  it('alternates formats with realistic keys and lays files out as data-formats.md §5 expects', () => {
    assert.deepEqual(sample.files.map((f) => f.path), [
      'ampicmp/waikato-xero-ipv4.series', 'smokeping/afrinic.net.series',
      'ampicmp/callplus-afrinic-ipv6.series', 'smokeping/ipv6.google.com.series',
      'ampicmp/waikato-arin-ipv6.series', 'smokeping/www.ripe.net.series',
      'ampicmp/vocus-google-ipv4.series', 'smokeping/lacnic.net.series',
      'ground-truth.json',
    ]);
  });

  it('writes every ampicmp line in the §5.1 format, one per minute', () => {
    for (const f of sample.files.filter((x) => x.path.startsWith('ampicmp/'))) {
      const base = path.posix.basename(f.path, '.series');
      const lines = f.content.split('\n');
      assert.equal(lines.pop(), '', 'file ends with a newline');
      assert.equal(lines.length, 2880);
      let prev = -Infinity;
      for (const line of lines) {
        const m = AMPICMP_LINE.exec(line);
        assert.ok(m, `${f.path}: ${line}`);
        assert.equal(`${m[1]}-${m[2]}-${m[3]}`, base);
        const t = Number(m[4]);
        if (prev !== -Infinity) assert.equal(t - prev, INTERVAL_SECONDS.ampicmp);
        prev = t;
        assert.ok(Number(m[5]) > 0);
        assert.ok(Number(m[6]) < 1, 'never a fully lost sample: it would have no average');
      }
    }
  });

  it('writes every smokeping line in the §5.2 format, with loss = 20 − RTTs and the recomputed median', () => {
    for (const f of sample.files.filter((x) => x.path.startsWith('smokeping/'))) {
      const base = path.posix.basename(f.path, '.series');
      const lines = f.content.split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, 576);
      let prev = -Infinity;
      for (const line of lines) {
        const m = SMOKEPING_LINE.exec(line);
        assert.ok(m, `${f.path}: ${line}`);
        assert.equal(m[1], base);
        const t = Number(m[2]);
        if (prev !== -Infinity) assert.equal(t - prev, INTERVAL_SECONDS.smokeping);
        prev = t;
        const rtts = m[5] === '' ? [] : m[5].slice(1).split(',').map(Number);
        assert.equal(Number(m[4]), 20 - rtts.length);
        assert.deepEqual(rtts, [...rtts].sort((a, b) => a - b), 'RTTs ascending, as smokeping stores them');
        if (rtts.length === 0) {
          assert.equal(m[3], undefined);
        } else {
          const mid = rtts.length >> 1;
          const med = rtts.length % 2 ? rtts[mid] : (rtts[mid - 1] + rtts[mid]) / 2;
          assert.equal(Number(m[3]), Math.round(med * 1000) / 1000);
        }
      }
    }
  });

  it('round-trips every line through the Latency TS I parser and serializer', () => {
    for (const s of sample.series) {
      for (const row of s.rows) {
        const line = formatLine(row);
        const parsed = s.format === 'ampicmp' ? parseAmpIcmpLine(line) : parseSmokepingLine(line);
        assert.ok(parsed.ok, line);
        const m = parsed.measurement;
        const expected = rowToSample(row);
        assert.equal(m.stream, s.key);
        assert.equal(m.time, expected.time);
        assert.equal(m.value, expected.value);
        assert.equal(m.lossy, expected.lossy);
        assert.equal(parsed.note, undefined, 'no hyphenated host names');
        if (row.format === 'smokeping') {
          assert.deepEqual(m.fields?.results, row.rttsUs.map((us) => us / 1000));
          assert.equal(m.fields?.family, s.key.includes('v6') ? 'ipv6' : 'ipv4');
        }
        assert.equal(seriesLine(m), line);
      }
    }
  });
});

describe('generator: injected anomalies', () => {
  const cases: Array<[SeriesFormat, string]> = [['ampicmp', AMP_KEY], ['smokeping', SMOKE_KEY]];
  for (const [format, key] of cases) {
    describe(format, () => {
      // Several seeds so that every kind occurs in both formats.
      const runs = [1, 2, 3, 4, 5, 6].map((seed) => ({
        dirty: series(format, key, { seed }),
        clean: series(format, key, { seed, kinds: [] }),
      }));

      it('injects every kind, after a quiet warm-up of at least 200 samples, without overlap', () => {
        const seen = new Set<AnomalyKind>();
        for (const { dirty } of runs) {
          assert.ok(dirty.anomalies.length >= 2);
          let prevEnd = 199;
          for (const a of dirty.anomalies) {
            seen.add(a.kind);
            assert.ok(a.startIndex > prevEnd, 'after the warm-up and the previous anomaly');
            assert.ok(a.endIndex >= a.startIndex && a.endIndex < dirty.rows.length);
            assert.equal(a.start, dirty.rows[a.startIndex].time * 1000);
            assert.equal(a.end, dirty.rows[a.endIndex].time * 1000);
            prevEnd = a.endIndex;
          }
        }
        assert.deepEqual([...seen].sort(), [...ANOMALY_KINDS].sort());
      });

      it('changes rows only inside the labelled windows, and every window changes its rows', () => {
        for (const { dirty, clean } of runs) {
          assert.deepEqual(clean.anomalies, []);
          dirty.rows.forEach((r, i) => {
            const same = formatLine(r) === formatLine(clean.rows[i]);
            if (!inAnyWindow(i, dirty.anomalies)) assert.ok(same, `row ${i} outside every window changed`);
          });
          for (const a of dirty.anomalies) {
            let changed = 0;
            for (let i = a.startIndex; i <= a.endIndex; i++) if (formatLine(dirty.rows[i]) !== formatLine(clean.rows[i])) changed++;
            // Only a noise change may leave a few rows alone (at the clamp or by rounding).
            const needed = a.kind === 'noise_change' ? 0.9 : 1;
            assert.ok(changed >= needed * (a.endIndex - a.startIndex + 1), `${a.kind} changed ${changed} rows`);
            assert.equal(formatLine(dirty.rows[a.startIndex - 1]), formatLine(clean.rows[a.startIndex - 1]));
          }
        }
      });

      it('gives each kind the labelled size of change', () => {
        for (const { dirty, clean } of runs) {
          for (const a of dirty.anomalies) {
            const d = dirty.rows.slice(a.startIndex, a.endIndex + 1);
            const c = clean.rows.slice(a.startIndex, a.endIndex + 1);
            const ratio = mean(d.map(value).filter(Number.isFinite)) / mean(c.map(value).filter(Number.isFinite));
            switch (a.kind) {
              case 'spike':
                assert.ok(a.magnitude >= 3 && a.magnitude <= 6 && d.length <= 3);
                assert.ok(Math.abs(ratio / a.magnitude - 1) < 0.01, `spike ratio ${ratio} vs ${a.magnitude}`);
                break;
              case 'level_shift_up':
              case 'level_shift_down':
              case 'mode_change':
                if (a.kind !== 'mode_change') assert.equal(a.kind === 'level_shift_up', a.magnitude > 1);
                assert.ok(Math.abs(ratio / a.magnitude - 1) < 0.02, `${a.kind} ratio ${ratio} vs ${a.magnitude}`);
                break;
              case 'noise_change': {
                assert.ok(a.magnitude >= 5 && a.magnitude <= 10);
                const k = diffStd(d.map(value)) / diffStd(c.map(value));
                assert.ok(k > 1.6 && k < 4.5, `noise std ratio ${k} for variance factor ${a.magnitude}`);
                break;
              }
              case 'loss_burst':
                for (const r of d) {
                  if (r.format === 'ampicmp') assert.equal(r.lossrate, a.magnitude);
                  else assert.ok(r.rttsUs.length <= 6, 'a smokeping burst row is mostly empty');
                }
                break;
            }
          }
        }
      });
    });
  }

  it('keeps background loss isolated and rare', () => {
    const clean = series('ampicmp', AMP_KEY, { kinds: [], samples: 20000 });
    const lossy = clean.rows.filter((r) => (r as AmpIcmpRow).lossrate > 0).length;
    assert.ok(lossy > 0 && lossy < 0.015 * clean.rows.length, `${lossy} lossy rows`);
    let run = 0;
    for (const r of clean.rows) {
      run = (r as AmpIcmpRow).lossrate > 0 ? run + 1 : 0;
      assert.ok(run < 3, 'no loss runs without a loss_burst');
    }
  });
});

describe('generator: ground truth', () => {
  const sample = buildSample({ seed: 11, days: 2, streams: 5 });
  const gt = sample.groundTruth;

  it('lists every injected anomaly with file, stream, state key, window and magnitude', () => {
    const expected = sample.series.flatMap((s) => s.anomalies.map((a) => ({ s, a })));
    assert.equal(gt.anomalies.length, expected.length);
    gt.anomalies.forEach((g, i) => {
      const { s, a } = expected[i];
      assert.equal(g.file, `${s.format}/${s.key}.series`);
      assert.equal(g.stream, s.key);
      assert.equal(g.stateKey, (s.format === 'ampicmp' ? 'LatencyTSAmpICMP-' : 'LatencyTSSmokeping-') + s.key);
      assert.deepEqual([g.kind, g.start, g.end, g.magnitude], [a.kind, a.start, a.end, a.magnitude]);
      assert.equal(g.samples, a.endIndex - a.startIndex + 1);
      assert.equal(g.endIso, new Date(a.end).toISOString());
    });
    assert.deepEqual(JSON.parse(sample.files[sample.files.length - 1].content), gt);
  });
});

describe('generator: CLI', () => {
  it('parses its options', () => {
    assert.deepEqual(parseArgs([]), { ...DEFAULT_SAMPLE_OPTIONS, out: path.join('data', 'latency-ts-i') });
    assert.deepEqual(parseArgs(['--out', 'x', '--seed', '5', '--days', '3', '--streams', '2']),
      { ...DEFAULT_SAMPLE_OPTIONS, out: 'x', seed: 5, days: 3, streams: 2 });
    assert.throws(() => parseArgs(['--days', '0']), /--days must be an integer between 1 and 366 \(got 0\)/);
    assert.throws(() => parseArgs(['--seed', 'abc']), /--seed/);
    assert.throws(() => parseArgs(['--frobnicate']), /unknown argument/);
  });

  it('writes the sample and removes stale series files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-gen-'));
    try {
      fs.mkdirSync(path.join(dir, 'ampicmp'));
      fs.writeFileSync(path.join(dir, 'ampicmp', 'stale-old-ipv4.series'), 'x');
      const log = console.log;
      console.log = () => undefined;
      try {
        assert.equal(cliMain(['--out', dir, '--seed', '9', '--days', '1', '--streams', '3']), 0);
      } finally {
        console.log = log;
      }
      const expected = buildSample({ seed: 9, days: 1, streams: 3 }).files;
      for (const f of expected) assert.equal(fs.readFileSync(path.join(dir, f.path), 'utf8'), f.content);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'ampicmp')).sort(), ['callplus-afrinic-ipv6.series', 'waikato-xero-ipv4.series']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Scoring: an event inside [start, end + tolerance] of an anomaly counts for it; every other
 * event is a false positive. The tolerance covers the return to the old level after a level
 * shift or mode change, itself a step that detectors rightly report: 50 samples, the spike
 * detector's lag (the history it needs to accept the old level again).
 */
const TOLERANCE_SAMPLES = 50;

function spikeScore(s: GeneratedSeries, toleranceSamples = TOLERANCE_SAMPLES): DetectionScore {
  const det = new SpikeDetector(defaultParams(spikeParamSet));
  const times: number[] = [];
  for (const r of s.rows) for (const e of det.process(rowToSample(r))) times.push(e.time);
  return scoreDetections(times, s.rows.map((r) => r.time * 1000), s.anomalies, ['spike'],
    toleranceSamples * INTERVAL_SECONDS[s.format] * 1000);
}

function show(s: DetectionScore): string {
  return `${s.detected}/${s.injected} spikes detected (${(100 * s.detectionRate).toFixed(1)}%), `
    + `${s.falsePositives} false positives in ${s.rowsOutside} rows (${s.falsePositivesPer1000.toFixed(2)}/1000)`;
}

describe('generator: spike detector on generated ampicmp series (default parameters)', () => {
  it('scores a hand-made case as documented', () => {
    const a: Anomaly = { kind: 'spike', startIndex: 2, endIndex: 3, start: 2000, end: 3000, magnitude: 4 };
    const score = scoreDetections([500, 2500, 9000], [0, 1000, 2000, 3000, 4000, 5000], [a], ['spike'], 1000);
    assert.deepEqual(score, {
      injected: 1, detected: 1, falsePositives: 2, rowsOutside: 3, detectionRate: 1, falsePositivesPer1000: 2000 / 3,
    });
  });

  it('detects at least 80% of spikes with under 2 false positives per 1000 rows (all kinds injected)', () => {
    const scores: DetectionScore[] = [];
    for (let seed = 1; seed <= 6; seed++) {
      for (const s of buildSample({ seed, days: 3, streams: 8 }).series) if (s.format === 'ampicmp') scores.push(spikeScore(s));
    }
    const total = combineScores(scores);
    assert.ok(total.injected >= 40, `${total.injected} spikes`);
    assert.ok(total.detectionRate >= 0.8, show(total));
    assert.ok(total.falsePositivesPer1000 < 2, show(total));
  });

  it('meets the same bar without any tolerance when only spikes are injected', () => {
    const scores = [1, 2, 3].map((seed) => spikeScore(series('ampicmp', AMP_KEY, { seed, kinds: ['spike'] }), 0));
    const total = combineScores(scores);
    assert.ok(total.injected >= 20, `${total.injected} spikes`);
    assert.ok(total.detectionRate >= 0.8, show(total));
    assert.ok(total.falsePositivesPer1000 < 2, show(total));
  });

  it('reports its figures on the bundled sample', () => {
    const amp = buildSample().series.filter((s) => s.format === 'ampicmp');
    const tolerant = combineScores(amp.map((s) => spikeScore(s)));
    const strict = combineScores(amp.map((s) => spikeScore(s, 0)));
    console.log(`      bundled sample, spike detector: ${show(tolerant)}; `
      + `without tolerance ${strict.falsePositivesPer1000.toFixed(2)}/1000 (returns from level shifts and mode changes)`);
    assert.ok(tolerant.detectionRate >= 0.8, show(tolerant));
    assert.ok(tolerant.falsePositivesPer1000 < 2, show(tolerant));
  });
});

describe('generator: the committed sample in data/latency-ts-i', () => {
  const dataDir = path.join(packageRoot(), 'data', 'latency-ts-i');
  const sample = buildSample();

  it('is exactly what the generator produces with the default options', () => {
    for (const f of sample.files) {
      assert.equal(fs.readFileSync(path.join(dataDir, f.path), 'utf8'), f.content, `${f.path} is stale: regenerate it`);
    }
    for (const sub of ['ampicmp', 'smokeping']) {
      const onDisk = fs.readdirSync(path.join(dataDir, sub)).filter((n) => n.endsWith('.series')).sort();
      assert.deepEqual(onDisk, sample.files.filter((f) => f.path.startsWith(`${sub}/`)).map((f) => path.posix.basename(f.path)).sort());
    }
  });

  it('stays under 2 MB, with 4 ampicmp and 3 smokeping series of 2 days', () => {
    const bytes = sample.files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
    assert.ok(bytes < 2 * 1024 * 1024, `${bytes} bytes`);
    assert.deepEqual(sample.series.map((s) => s.format), ['ampicmp', 'smokeping', 'ampicmp', 'smokeping', 'ampicmp', 'smokeping', 'ampicmp']);
  });

  it('reads back through the Latency TS I reader without a malformed line, merged by time', async () => {
    const files = sample.files.filter((f) => f.path.endsWith('.series')).map((f) => path.join(dataDir, f.path));
    const malformed: string[] = [];
    const reader = await LatencyTsReader.open(files, { onMalformed: (f, l, r) => malformed.push(`${f}:${l}: ${r}`) });
    let rows = 0;
    let prev = -Infinity;
    try {
      for (;;) {
        const batch = await reader.next(5000);
        if (batch.length === 0) break;
        for (const m of batch) {
          assert.ok(m.time >= prev);
          prev = m.time;
        }
        rows += batch.length;
      }
    } finally {
      await reader.close();
    }
    assert.deepEqual(malformed, []);
    assert.equal(rows, sample.series.reduce((n, s) => n + s.rows.length, 0));
  });
});
