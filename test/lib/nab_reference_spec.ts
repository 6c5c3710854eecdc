import { strict as assert } from 'node:assert';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CorpusFile, loadCorpus } from '../../lib/nab/corpus';
import { NAB_PROFILES, NabProfile, parseProfiles, parseThresholds, parseWindows } from '../../lib/nab/labels';
import { evaluate, readReferenceScores } from '../../lib/nab/runner';
import { ScoredFile, optimiseThreshold, scoreCorpus, sweepThresholds } from '../../lib/nab/scorer';
import { requireSharedNab } from '../fixtures/nab/locate';

/** The README of the shared NAB subset: NAB's official scorer on these 41 files. */
const README_TABLE: Record<string, [number, number, number]> = {
  numenta: [68.5782, 61.5400, 72.7719],
  windowedGaussian: [29.0276, 14.7887, 35.2938],
};
const RAW_STANDARD: Record<string, number> = { numenta: 25.6379, windowedGaussian: -28.9419 };
const PROFILE_ORDER = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'];

describe('NAB scorer on the shared reference outputs (../shared/data/nab)', function () {
  this.timeout(20000);
  let dir: string;
  let files: CorpusFile[];
  let profiles: NabProfile[];
  let thresholds: Record<string, Record<string, number>>;

  before(async function () {
    dir = requireSharedNab(this);
    const windows = parseWindows(await fsp.readFile(path.join(dir, 'combined_windows.json'), 'utf8'));
    files = await loadCorpus(path.join(dir, 'data'), windows);
    profiles = parseProfiles(await fsp.readFile(path.join(dir, 'profiles.json'), 'utf8'));
    thresholds = parseThresholds(await fsp.readFile(path.join(dir, 'thresholds.json'), 'utf8'));
  });

  it('reads the 41 files and 69 windows of the subset, with NAB\'s profiles', () => {
    assert.equal(files.length, 41);
    assert.equal(files.reduce((n, f) => n + f.labels.windowCount, 0), 69);
    assert.deepEqual(profiles.map((p) => p.name).sort(), NAB_PROFILES.map((p) => p.name).sort());
    for (const p of NAB_PROFILES) assert.deepEqual(profiles.find((q) => q.name === p.name), p);
  });

  for (const detector of Object.keys(README_TABLE)) {
    it(`reproduces the README table for ${detector} to two decimals, with the published thresholds`, async () => {
      const scores = await readReferenceScores(path.join(dir, 'results'), detector, files);
      const ev = evaluate(files, scores, profiles, { thresholds: thresholds[detector], nullThresholds: thresholds.null });
      const got = PROFILE_ORDER.map((p) => ev.profiles.find((o) => o.profile === p)?.normalised as number);
      got.forEach((g, i) => assert.ok(Math.abs(g - README_TABLE[detector][i]) < 0.005, `${detector} ${PROFILE_ORDER[i]}: ${g} vs ${README_TABLE[detector][i]}`));
      const standard = ev.profiles.find((o) => o.profile === 'standard');
      assert.ok(standard);
      assert.ok(Math.abs(standard.total.score - RAW_STANDARD[detector]) < 0.005, `raw ${standard.total.score}`);
      assert.equal(standard.nullRaw, -69);
      assert.equal(standard.perfectRaw, 69);
      assert.equal(standard.total.windowsHit, detector === 'numenta' ? 56 : 33);
    });
  }

  it('scoring at a threshold agrees with the corresponding sweep entry on every file (numenta)', async () => {
    const scores = await readReferenceScores(path.join(dir, 'results'), 'numenta', files);
    const standard = profiles.find((p) => p.name === 'standard') as NabProfile;
    for (let i = 0; i < files.length; i += 5) {
      const one: ScoredFile[] = [{ labels: files[i].labels, scores: scores[i] }];
      const entries = sweepThresholds(one, standard);
      for (const e of entries.filter((_, k) => k % 97 === 0 || k === entries.length - 1)) {
        const direct = scoreCorpus(one, standard, e.threshold).total;
        assert.ok(Math.abs(direct.score - e.score) < 1e-9, `${files[i].stream} at ${e.threshold}`);
        assert.deepEqual([direct.tp, direct.fp, direct.fn, direct.tn, direct.windowsHit], [e.tp, e.fp, e.fn, e.tn, e.windowsHit]);
      }
    }
  });

  it('threshold optimisation on the subset does at least as well as the published thresholds', async () => {
    for (const detector of Object.keys(README_TABLE)) {
      const scores = await readReferenceScores(path.join(dir, 'results'), detector, files);
      const scored = files.map((f, i) => ({ labels: f.labels, scores: scores[i] }));
      for (const p of profiles) {
        const best = optimiseThreshold(scored, p);
        const published = scoreCorpus(scored, p, thresholds[detector][p.name]).total.score;
        assert.ok(best.score >= published - 1e-9, `${detector} ${p.name}: ${best.score} < ${published}`);
      }
    }
  });
});
