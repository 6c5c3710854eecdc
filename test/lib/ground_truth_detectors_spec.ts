/**
 * Every detector against the generator's ground truth: series with only the anomaly kinds a
 * detector targets injected, scored by lib/generator/evaluate (an event inside a labelled
 * window, or up to 50 rows after it, detects it; any other event is a false positive).
 *
 * The bars are on ampicmp series (microsecond RTTs every minute: what the defaults are made
 * for). Smokeping figures (milliseconds every 5 minutes) are printed, not asserted: there the
 * 60 s default purge restarts most detectors on every row, and changepoint's initial variance
 * dwarfs millisecond values (README, "Differences" and docs/nab.md on value scales). With the
 * nodes' "Multiply values by" set to 1000 (ms → µs, through DetectorPipeline as the nodes
 * run it) the level-shift and mode detectors are held to the ampicmp bars on smokeping too.
 */
import { strict as assert } from 'node:assert';
import { streamevmonDetectors } from '../../lib/detectors';
import type { DetectorDefinition } from '../../lib/detectors/definition';
import {
  AnomalyKind, DetectionScore, INTERVAL_SECONDS, SeriesFormat, combineScores, generateSeries,
  rowToSample, samplesForDays, scoreDetections,
} from '../../lib/generator';
import { defaultParams } from '../../lib/params';
import { DetectorPipeline } from '../../lib/pipeline';
import type { DetectorEvent } from '../../lib/event';

const T0 = 1391040000;
const TOLERANCE_ROWS = 50;
const KEYS: Record<SeriesFormat, string> = { ampicmp: 'waikato-xero-ipv4', smokeping: 'afrinic.net' };

/** What each detector is for, and the least share of those anomalies it must find. */
const TARGETS: Record<string, { kinds: AnomalyKind[]; minRate: number }> = {
  baseline: { kinds: ['level_shift_up', 'level_shift_down'], minRate: 0.9 },
  changepoint: { kinds: ['level_shift_up', 'level_shift_down'], minRate: 0.9 },
  // Distdiff compares distributions of 20-value windows: it misses the smaller level shifts
  // and noise changes whose windows still overlap (21/32 on seeds 1-3 when written).
  distdiff: { kinds: ['level_shift_up', 'level_shift_down', 'noise_change'], minRate: 0.6 },
  mode: { kinds: ['mode_change'], minRate: 0.9 },
  spike: { kinds: ['spike'], minRate: 0.9 },
  loss: { kinds: ['loss_burst'], minRate: 0.9 },
};

function detectorFor(name: string): DetectorDefinition {
  const def = streamevmonDetectors.find((d) => d.name.startsWith(name));
  if (!def) throw new Error(`no detector ${name}`);
  return def;
}

function score(name: string, format: SeriesFormat, kinds: AnomalyKind[], seeds: number[], purge?: number, valueScale = 1): DetectionScore {
  const def = detectorFor(name);
  return combineScores(seeds.map((seed) => {
    const s = generateSeries({ format, key: KEYS[format], seed, startSeconds: T0, samples: samplesForDays(format, 3), kinds });
    const params = { ...defaultParams(def.paramSet), ...(purge === undefined ? {} : { inactivityPurgeTime: purge }) };
    const pipeline = new DetectorPipeline(def.create(params, { useWindow: false, windowSlide: 1 }), { valueScale });
    const times: number[] = [];
    const out: DetectorEvent[] = [];
    for (const row of s.rows) {
      out.length = 0;
      pipeline.feed(rowToSample(row), out);
      for (const e of out) times.push(e.time);
    }
    return scoreDetections(times, s.rows.map((r) => r.time * 1000), s.anomalies,
      kinds, TOLERANCE_ROWS * INTERVAL_SECONDS[format] * 1000);
  }));
}

const show = (s: DetectionScore): string =>
  `${s.detected}/${s.injected} detected, ${s.falsePositives} false positives in ${s.rowsOutside} rows (${s.falsePositivesPer1000.toFixed(2)}/1000)`;

describe('every detector against the generator ground truth (default parameters)', () => {
  for (const [name, target] of Object.entries(TARGETS)) {
    it(`${name}: finds ${target.kinds.join(', ')} on ampicmp series, with under 2 false positives per 1000 rows`, () => {
      const s = score(name, 'ampicmp', target.kinds, [1, 2, 3]);
      console.log(`      ${name} on ampicmp: ${show(s)}`);
      assert.ok(s.injected >= 10, `only ${s.injected} anomalies injected`);
      assert.ok(s.detectionRate >= target.minRate, show(s));
      assert.ok(s.falsePositivesPer1000 < 2, show(s));
    });

    it(`${name}: stays quiet on clean ampicmp series`, () => {
      const s = score(name, 'ampicmp', [], [4, 5]);
      assert.equal(s.injected, 0);
      assert.ok(s.falsePositivesPer1000 < 1, show(s));
    });
  }

  it('prints the smokeping figures (5-minute rows, purge raised to an hour)', () => {
    for (const [name, target] of Object.entries(TARGETS)) {
      const s = score(name, 'smokeping', target.kinds, [1, 2, 3], 3600);
      console.log(`      ${name} on smokeping: ${show(s)}`);
      assert.ok(s.injected > 0);
    }
  });

  // Written when 12/12, 11/12 and 11/11 (against 0/12, 7/12 and 7/11 unscaled), 0 false positives.
  for (const name of ['changepoint', 'baseline', 'mode']) {
    it(`${name}: with values × 1000 (ms → µs), finds ${TARGETS[name].kinds.join(', ')} on smokeping series too`, () => {
      const s = score(name, 'smokeping', TARGETS[name].kinds, [1, 2, 3], 3600, 1000);
      console.log(`      ${name} on smokeping × 1000: ${show(s)}`);
      assert.ok(s.injected >= 10, `only ${s.injected} anomalies injected`);
      assert.ok(s.detectionRate >= 0.9, show(s));
      assert.ok(s.falsePositivesPer1000 < 2, show(s));
    });
  }
});
