import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { streamevmonDetectors } from '../../lib/detectors/index';
import type { DetectorEvent } from '../../lib/event';
import { CorpusFile, isLatencyLike, loadCorpus } from '../../lib/nab/corpus';
import { scanNabCsv } from '../../lib/nab/csv';
import { NAB_PROFILES, parseWindows } from '../../lib/nab/labels';
import { eventScore, mapEvents, maxScores } from '../../lib/nab/mapping';
import { checkDetectorName, formatResults, formatScore, resultsPath, writeResults } from '../../lib/nab/results';
import { detectorParams, evaluate, parseNabSettings, readReferenceScores, runDetector, runScores } from '../../lib/nab/runner';
import { DEFAULT_VALUE_SCALE, applyScale, fileScale, parseValueScale } from '../../lib/nab/scale';
import { ROOT, nabFixture } from '../fixtures/nab/locate';

const CORPUS = nabFixture('corpus');
const spike = streamevmonDetectors.find((d) => d.name === 'spike');
const NONE = DEFAULT_VALUE_SCALE;

function event(time: number, severity: number): DetectorEvent {
  return { eventType: 'x_events', stream: 's', severity, time, detectionLatency: 0, description: '', tags: {} };
}

async function fixtureCorpus(keepText = false): Promise<CorpusFile[]> {
  const windows = parseWindows(await fsp.readFile(path.join(CORPUS, 'combined_windows.json'), 'utf8'));
  return loadCorpus(path.join(CORPUS, 'data'), windows, { keepText });
}

/** The compiled CLI beside the compiled tests (dist/ or .build/<name>/). */
const CLI = path.resolve(__dirname, '..', '..', 'bench', 'nab.js');

function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, STREAMEVMON_NAB: undefined, NAB_DATA: undefined, ...env }, cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('NAB runner (lib)', () => {
  let tmp: string;
  before(async () => { tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'nab-runner-')); });
  after(async () => { await fsp.rm(tmp, { recursive: true, force: true }); });

  describe('events → per-row scores', () => {
    const times = [1000, 2000, 3000, 4000];

    it('maps severity to 0..1 (continuous) or 0/1 (binary)', () => {
      assert.deepEqual([0, 1, 37, 100, 250].map((s) => eventScore(s, 'continuous')), [0, 0.01, 0.37, 1, 1]);
      assert.deepEqual([0, 1, 37, 100].map((s) => eventScore(s, 'binary')), [0, 1, 1, 1]);
    });

    it('takes the maximum over several events on a row, in any order, and reports events that match no row', () => {
      const { scores, unmatched } = mapEvents(times, [event(3000, 40), event(1000, 10), event(3000, 70), event(3000, 20), event(2500, 99)], 'continuous');
      assert.deepEqual([...scores], [0.1, 0, 0.7, 0]);
      assert.deepEqual(unmatched.map((e) => e.time), [2500]);
      assert.deepEqual([...mapEvents(times, [event(4000, 0), event(2000, 5)], 'binary').scores], [0, 1, 0, 0]);
    });

    it('finds rows in unsorted times too (first row with that time)', () => {
      const { scores } = mapEvents([3000, 1000, 2000, 1000], [event(1000, 50)], 'continuous');
      assert.deepEqual([...scores], [0, 0.5, 0, 0]);
    });

    it('combines detectors with a row-wise maximum', () => {
      assert.deepEqual([...maxScores([[0, 0.5, 1], [0.2, 0.1, 0]])], [0.2, 0.5, 1]);
      assert.throws(() => maxScores([[0], [0, 1]]), /lengths 1 and 2/);
    });
  });

  describe('value scaling', () => {
    it('multiplies so that the largest |value| becomes the target, or maps min..max onto low..high', () => {
      const values = [-2, 0.5, 4];
      const m = fileScale(values, { ...NONE, mode: 'multiply', target: 1000 });
      assert.deepEqual(values.map((v) => applyScale(v, m)), [-500, 125, 1000]);
      const r = fileScale(values, { ...NONE, mode: 'range', low: 100, high: 700 });
      assert.deepEqual(values.map((v) => applyScale(v, r)), [100, 350, 700]);
      assert.deepEqual(fileScale(values, NONE), { factor: 1, offset: 0 });
      assert.equal(applyScale(5, fileScale([5, 5], { ...NONE, mode: 'range', low: 10, high: 20 })), 10, 'a flat file maps to low');
      assert.equal(applyScale(0, fileScale([0, 0], { ...NONE, mode: 'multiply', target: 10 })), 0, 'an all-zero file stays');
    });

    it('parses none, multiply[:target] and range[:low:high], naming mistakes', () => {
      assert.deepEqual(parseValueScale('multiply'), { ...NONE, mode: 'multiply' });
      assert.deepEqual(parseValueScale('range:1:2'), { ...NONE, mode: 'range', low: 1, high: 2 });
      assert.equal((parseValueScale('multiply:5') as { target: number }).target, 5);
      assert.match(parseValueScale('range:2:1') as string, /high must be greater than low/);
      assert.match(parseValueScale('multiply:-1') as string, /target must be greater than 0/);
      assert.match(parseValueScale('log') as string, /unknown mode/);
      assert.match(parseValueScale('range:a:b') as string, /must be finite/);
    });
  });

  describe('results files', () => {
    it('formats scores as decimals that parse back to the same number', () => {
      assert.deepEqual([0, 1, 0.25, 0.07].map(formatScore), ['0.0', '1.0', '0.25', '0.07']);
      for (const x of [0.1 + 0.2, 1 / 3, 0.29]) assert.equal(Number(formatScore(x)), x);
    });

    it('puts each file at <detector>/<category>/<detector>_<file> and refuses names with "_"', () => {
      assert.equal(resultsPath('streamevmon-spike-cont', 'realKnownCause/nyc_taxi.csv'), path.join('streamevmon-spike-cont', 'realKnownCause', 'streamevmon-spike-cont_nyc_taxi.csv'));
      assert.throws(() => checkDetectorName('streamevmon_spike'), /without "_"/);
      assert.throws(() => checkDetectorName('a/b'), /without "_".*slashes/);
    });

    it('copies timestamp and value verbatim and labels the window rows', async () => {
      const [jump] = await fixtureCorpus(true);
      const scores = new Float64Array(jump.series.length);
      scores[115] = 0.5;
      const text = formatResults(jump.series, scores, jump.labels);
      const lines = text.trimEnd().split('\n');
      assert.equal(lines.length, 201);
      assert.equal(lines[0], 'timestamp,value,anomaly_score,label');
      assert.equal(lines[1], '2014-04-01 00:00:00,100.0,0.0,0');
      assert.equal(lines[2], '2014-04-01 00:05:00,101.5,0.0,0');
      assert.equal(lines[111], '2014-04-01 09:10:00,100,0.0,1', 'row 110 opens the window');
      assert.equal(lines[116], '2014-04-01 09:35:00,100,0.5,1');
      assert.equal(lines[131].endsWith(',1'), true, 'row 130 closes it');
      assert.equal(lines[132].endsWith(',0'), true);
      const file = await writeResults(tmp, 'mine', jump.series, scores, jump.labels);
      assert.equal(file, path.join(tmp, 'mine', 'artificialWithAnomaly', 'mine_tiny_jump.csv'));
      const back = scanNabCsv(await fsp.readFile(file, 'utf8'), { column: 'anomaly_score' });
      assert.deepEqual([...back.values], [...scores]);
    });
  });

  describe('running detectors', () => {
    it('starts a fresh detector per file, feeding NabMeasurements keyed nab-<stream>', async () => {
      assert.ok(spike);
      const files = await fixtureCorpus();
      const seen: string[] = [];
      let created = 0;
      const spy = { ...spike, create: (p: never, o: never) => {
        created++;
        const d = spike.create(p, o);
        return { ...d, eventType: d.eventType, process: (s: { key: string; kind: string; lossy: boolean }) => { seen.push(`${s.key}|${s.kind}|${s.lossy}`); return d.process(s as never); } } as never;
      } };
      runDetector(spy, detectorParams(spike), files, NONE);
      assert.equal(created, 2);
      assert.equal(seen.length, 400);
      assert.deepEqual([...new Set(seen)], ['nab-artificialWithAnomaly/tiny_jump.csv|NabMeasurement|false', 'nab-realKnownCause/tiny_latency.csv|NabMeasurement|false']);
    });

    it('spike with its 60 s default purge never warms up on 30-minute rows; without purging it finds the spike', async () => {
      assert.ok(spike);
      const files = await fixtureCorpus();
      const defaults = runDetector(spike, detectorParams(spike), files, NONE);
      assert.equal(defaults.events[1].length, 0);
      const params = detectorParams(spike, { spike: { inactivityPurgeTime: 0 } });
      const run = runDetector(spike, params, files, NONE);
      const latency = files[1];
      assert.deepEqual(run.events[1].map((e) => latency.findRow(e.time)), [150]);
      const [, scores] = runScores(run, files, 'continuous');
      assert.equal(scores[150], 1);
      const ev = evaluate([latency], [scores], NAB_PROFILES);
      assert.equal(ev.profiles[0].total.windowsHit, 1);
      assert.equal(ev.profiles[0].threshold, 1);
    });

    it('fails the run when an event matches no row (a harness error)', async () => {
      const files = await fixtureCorpus();
      const run = { detector: 'x', params: {}, eventCount: 1, ms: 0, events: [[event(12345, 50)], []] };
      assert.throws(() => runScores(run, files, 'binary'), /x on artificialWithAnomaly\/tiny_jump\.csv: 1 event\(s\) at a time that matches no row/);
    });

    it('scores a reference detector\'s results files, checking them against the data', async () => {
      const files = await fixtureCorpus();
      const scores = await readReferenceScores(path.join(CORPUS, 'results'), 'handmade', files);
      const ev = evaluate(files, scores, NAB_PROFILES, { thresholds: { standard: 0.5, reward_low_FP_rate: 0.5, reward_low_FN_rate: 0.5 }, subset: (s) => s.startsWith('realKnownCause/') });
      assert.deepEqual(ev.profiles.map((p) => p.normalised), [100, 100, 100]);
      assert.deepEqual(ev.subset?.map((p) => [p.normalised, p.perfectRaw]), [[100, 1], [100, 1], [100, 1]]);
      const optimised = evaluate(files, scores, NAB_PROFILES);
      assert.deepEqual(optimised.profiles.map((p) => p.threshold), [1, 1, 1], 'the 0.25 false positive is left out');
      await assert.rejects(readReferenceScores(path.join(CORPUS, 'results'), 'absent', files), /absent_tiny_jump\.csv/);
    });
  });

  describe('corpus and parameter files', () => {
    it('knows the latency-like subset of NAB (nab-scoring §1.1)', () => {
      assert.deepEqual([
        'realKnownCause/ec2_request_latency_system_failure.csv', 'realAWSCloudwatch/ec2_network_in_257a54.csv',
        'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv', 'realAWSCloudwatch/elb_request_count_8c0756.csv',
        'realTraffic/TravelTime_387.csv', 'realKnownCause/nyc_taxi.csv', 'realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv',
      ].map(isLatencyLike), [true, true, true, true, true, false, false]);
    });

    it('refuses a data file without a windows entry, and malformed data lines with file:line', async () => {
      await assert.rejects(loadCorpus(path.join(CORPUS, 'data'), new Map()), /artificialWithAnomaly\/tiny_jump\.csv has no entry in the windows file/);
      await assert.rejects(loadCorpus(nabFixture('malformed'), new Map([['realBad/mixed.csv', []]])), (e: Error) => {
        assert.match(e.message, /^5 malformed line\(s\) in the NAB data/);
        assert.match(e.message, /mixed\.csv:3: expected 2 columns/);
        return true;
      });
    });

    it('reads parameter files: detector → params, with an optional valueScale, validated with D9 messages', () => {
      const s = parseNabSettings('{"_why": "x", "spike": {"inactivityPurgeTime": 0, "valueScale": "range:1:2"}, "mode": {}}', streamevmonDetectors);
      assert.deepEqual(s.params, { spike: { inactivityPurgeTime: 0 }, mode: {} });
      assert.equal(s.scales.spike.mode, 'range');
      assert.throws(() => parseNabSettings('{"nope": {}}', streamevmonDetectors), /unknown detector nope/);
      assert.throws(() => parseNabSettings('{"spike": {"lagg": 3}}', streamevmonDetectors), /spike: unknown parameter\(s\) lagg/);
      assert.throws(() => parseNabSettings('{"spike": {"lag": 0}}', streamevmonDetectors), /spike: lag must be an integer between 1 and 600 \(got 0\)/);
      assert.throws(() => parseNabSettings('{"spike": {"valueScale": "log"}}', streamevmonDetectors), /spike\.valueScale value scale "log"/);
      assert.throws(() => parseNabSettings('[1]', streamevmonDetectors), /must be an object/);
    });

    it('the documented parameter files in bench/nab-params are valid', async () => {
      const dir = path.join(ROOT, 'bench', 'nab-params');
      const names = (await fsp.readdir(dir)).filter((n) => n.endsWith('.json'));
      assert.ok(names.length >= 2);
      for (const n of names) parseNabSettings(await fsp.readFile(path.join(dir, n), 'utf8'), streamevmonDetectors, n);
    });
  });

  describe('npm run nab (bench/nab.ts)', function () {
    this.timeout(30000);

    it('runs, prints the tables, writes results files and JSON', async () => {
      const out = path.join(tmp, 'cli');
      const json = path.join(tmp, 'cli.json');
      const r = await runCli(['--data', CORPUS, '--out', out, '--json', json, '--params', path.join(ROOT, 'bench', 'nab-params', 'nopurge.json')]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /NAB corpus .*: 2 files, 400 rows, 2 windows/);
      assert.match(r.stdout, /streamevmon-spike\s+continuous/);
      assert.match(r.stdout, /streamevmon-any\s+binary/);
      assert.match(r.stdout, /handmade\s+published T\s+100\.00\s+100\.00\s+100\.00/);
      assert.match(r.stdout, /Latency-like subset \(0 files|Per profile/);
      assert.ok(existsSync(path.join(out, 'streamevmon-spike-cont', 'realKnownCause', 'streamevmon-spike-cont_tiny_latency.csv')));
      assert.ok(existsSync(path.join(out, 'streamevmon-any-bin', 'artificialWithAnomaly', 'streamevmon-any-bin_tiny_jump.csv')));
      const report = JSON.parse(await fsp.readFile(json, 'utf8'));
      assert.equal(report.files, 2);
      assert.equal(report.params.spike.inactivityPurgeTime, 0);
      const spikeRow = report.results.find((x: { detector: string; mapping: string }) => x.detector === 'streamevmon-spike' && x.mapping === 'continuous');
      assert.ok(spikeRow.evaluation.profiles[0].total.windowsHit >= 1, 'the spike at least');
    });

    it('takes the data from STREAMEVMON_NAB, and fails clearly on bad arguments', async () => {
      const ok = await runCli(['--detectors', 'spike', '--mapping', 'binary', '--reference', 'none', '--scale', 'range'], { STREAMEVMON_NAB: CORPUS });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /value scale: spike=range:100000:200000/);
      const missing = await runCli(['--data', path.join(tmp, 'nowhere')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /^nab: NAB data directory not found: /);
      const badDetector = await runCli(['--data', CORPUS, '--detectors', 'nope']);
      assert.match(badDetector.stderr, /unknown detector nope/);
      const badFlag = await runCli(['--data', CORPUS, '--frobnicate']);
      assert.match(badFlag.stderr, /unknown argument --frobnicate/);
    });
  });
});
