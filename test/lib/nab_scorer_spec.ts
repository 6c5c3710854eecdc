import { strict as assert } from 'node:assert';
import { NAB_PROFILES, NabProfile, NabWindow, parseProfiles, parseThresholds, parseWindows } from '../../lib/nab/labels';
import {
  ScoredFile, normalise, nullRaw, optimiseThreshold, perfectRaw, scoreCorpus, scoreFile, sweepThresholds,
} from '../../lib/nab/scorer';
import { FileLabels, OUTSIDE, TP_SCORE, labelRows, probationaryLength, scaledSigmoid } from '../../lib/nab/sweep';

const STANDARD = NAB_PROFILES[0];
const LOW_FP = NAB_PROFILES[1];
const LOW_FN = NAB_PROFILES[2];
const T0 = Date.UTC(2014, 0, 1);
const STEP = 300_000;

/** n rows, 5 minutes apart. */
function times(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => T0 + i * STEP);
}

/** The window from row `from` to row `to`, inclusive. */
function rowsWindow(from: number, to: number): NabWindow {
  return { start: T0 + from * STEP, end: T0 + to * STEP, startText: `row ${from}`, endText: `row ${to}` };
}

/** 40 rows (probation: rows 0–5), window A = rows 10–12 (W = 3), window B = rows 25–29 (W = 5). */
function corpus40(): FileLabels {
  return labelRows('cat/f.csv', times(40), [rowsWindow(10, 12), rowsWindow(25, 29)]);
}

/**
 * 200 rows (probation: rows 0–29), windows at rows 50–52 and 125–129: long enough that
 * detecting every row costs more than detecting none (in corpus40 it would not).
 */
function corpus200(): FileLabels {
  return labelRows('cat/long.csv', times(200), [rowsWindow(50, 52), rowsWindow(125, 129)]);
}

/** Scores of 0 except at the given rows. */
function detect(labels: FileLabels, rows: Record<number, number>): ScoredFile {
  const scores = new Float64Array(labels.length);
  for (const [r, s] of Object.entries(rows)) scores[Number(r)] = s;
  return { labels, scores };
}

function close(actual: number, expected: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what} ${actual} ≠ ${expected}`);
}

// scaledSigmoid(y) = 2/(1 + e^(5y)) − 1 = tanh(−5y/2): the hand-worked values below use tanh.
describe('NAB scorer (lib)', () => {
  describe('building blocks', () => {
    it('scaledSigmoid matches the spec table and is −1 beyond 3', () => {
      close(scaledSigmoid(-1), 0.9866142981514305);
      assert.ok(Math.abs(scaledSigmoid(-0.5) - 0.84828) < 1e-5);
      assert.equal(scaledSigmoid(0), 0);
      close(scaledSigmoid(1), -0.9866142981514305);
      assert.equal(scaledSigmoid(3.0001), -1);
      close(scaledSigmoid(3), Math.tanh(-7.5));
      close(TP_SCORE, Math.tanh(2.5));
    });

    it('probationary length is 15 % of the rows, at most 750', () => {
      assert.equal(probationaryLength(40), 6);
      assert.equal(probationaryLength(4032), 604);
      assert.equal(probationaryLength(22695), 750);
      assert.equal(probationaryLength(5000), 750);
      assert.equal(probationaryLength(0), 0);
    });

    it('labels rows with their window and unweighted sweep score', () => {
      const l = corpus40();
      assert.equal(l.probation, 6);
      assert.deepEqual([l.windowCount, l.scoredWindows], [2, 2]);
      assert.deepEqual([...l.window.slice(9, 14)], [OUTSIDE, 0, 0, 0, OUTSIDE]);
      assert.equal(l.window[25], 1);
      assert.equal(l.unweighted[0], -1, 'before any window: −1');
      close(l.unweighted[10], Math.tanh(2.5), 'left edge, position −1');
      close(l.unweighted[12], Math.tanh(5 / 6), 'right edge, position −1/3');
      close(l.unweighted[14], Math.tanh(-2.5), 'two rows after A: position 2/(3−1) = 1');
      assert.equal(l.unweighted[20], -1, 'eight rows after A: position 4 > 3');
    });

    it('refuses windows whose boundaries match no row', () => {
      assert.throws(() => labelRows('cat/f.csv', times(40), [{ ...rowsWindow(10, 12), start: T0 + 10 * STEP + 1 }]), /window start row 10 matches no row/);
      assert.throws(() => labelRows('cat/f.csv', times(40), [{ ...rowsWindow(10, 12), end: T0 + 100 * STEP }]), /window end row 12 matches no row/);
    });
  });

  describe('raw scores worked out by hand (40 rows, windows at rows 10–12 and 25–29)', () => {
    it('in a tiny corpus, detecting every row can beat detecting none (so the null optimum is "everything")', () => {
      const l = corpus40();
      const everything = scoreFile(detect(l, {}), STANDARD, 0).score;
      assert.ok(everything > -2);
      assert.equal(nullRaw([l], STANDARD), everything);
    });

    it('a perfect detector (1.0 on the first row of every window) scores 100; the null detector 0', () => {
      const l = corpus200();
      for (const p of NAB_PROFILES) {
        const perfect = optimiseThreshold([detect(l, { 50: 1, 125: 1 })], p);
        assert.equal(perfect.score, 2);
        assert.deepEqual([perfect.windowsHit, perfect.windowsMissed, perfect.fp], [2, 0, 0]);
        const nul = nullRaw([l], p);
        assert.equal(nul, -2 * p.fnWeight);
        assert.equal(nullRaw([l], p, 0.625), nul, 'NAB\'s null threshold detects nothing');
        assert.equal(normalise(perfect.score, nul, perfectRaw([l], p)), 100);
        assert.equal(normalise(nul, nul, perfectRaw([l], p)), 0);
      }
    });

    it('one early detection earns tpWeight; the missed window costs fnWeight', () => {
      const l = corpus40();
      assert.equal(scoreFile(detect(l, { 10: 1 }), STANDARD, 0.5).score, 0);
      assert.equal(scoreFile(detect(l, { 10: 1 }), LOW_FN, 0.5).score, -1);
      assert.equal(normalise(0, -2, 2), 50);
    });

    it('a late detection earns less: scaledSigmoid(position)/scaledSigmoid(−1)', () => {
      const l = corpus40();
      const atRightEdge = scoreFile(detect(l, { 12: 1, 25: 1 }), STANDARD, 0.5);
      close(atRightEdge.score, Math.tanh(5 / 6) / Math.tanh(2.5) + 1);
      const midB = scoreFile(detect(l, { 10: 1, 27: 1 }), STANDARD, 0.5);
      close(midB.score, 1 + Math.tanh(1.5) / Math.tanh(2.5), 'row 27: position −3/5');
    });

    it('only the earliest detection in a window counts', () => {
      const l = corpus40();
      const r = scoreFile(detect(l, { 11: 1, 12: 1, 10: 0.2, 25: 1, 26: 1 }), STANDARD, 0.5);
      close(r.score, Math.tanh(5 / 3) / Math.tanh(2.5) + 1, 'row 11: position −2/3');
      assert.deepEqual([r.tp, r.windowsHit, r.fp], [4, 2, 0]);
    });

    it('false positives before, between and after windows cost their sweep weight each', () => {
      const l = corpus40();
      const perfect = { 10: 1, 25: 1 };
      const before = scoreFile(detect(l, { ...perfect, 7: 1 }), STANDARD, 0.5);
      close(before.score, 2 - 0.11, 'before the first window: −A_FP');
      const justAfter = scoreFile(detect(l, { ...perfect, 14: 1 }), STANDARD, 0.5);
      close(justAfter.score, 2 + 0.11 * Math.tanh(-2.5), 'two rows after A');
      const between = scoreFile(detect(l, { ...perfect, 20: 1 }), LOW_FP, 0.5);
      close(between.score, 2 - 0.22, 'far from A: the full −A_FP');
      const after = scoreFile(detect(l, { ...perfect, 31: 1, 39: 1 }), STANDARD, 0.5);
      close(after.score, 2 + 0.11 * Math.tanh(-1.25) + 0.11 * Math.tanh(-6.25), 'rows 31 and 39 after B (W = 5)');
      assert.deepEqual([after.fp, after.tp, after.tn, after.fn], [2, 2, 34 - 8 - 2, 6]);
    });

    it('detections in the probationary period do not count, and windows inside it are not scored', () => {
      const l = corpus40();
      const r = scoreFile(detect(l, { 2: 1, 5: 1, 10: 1, 25: 1 }), STANDARD, 0.5);
      assert.equal(r.score, 2);
      assert.equal(r.fp, 0);
      const early = labelRows('cat/g.csv', times(40), [rowsWindow(1, 3), rowsWindow(4, 8), rowsWindow(25, 29)]);
      assert.deepEqual([early.windowCount, early.scoredWindows], [3, 2]);
      const e = scoreFile(detect(early, { 2: 1, 6: 1, 25: 1 }), STANDARD, 0.5);
      close(e.score, Math.tanh(1.5) / Math.tanh(2.5) + 1, 'row 6 of the window 4–8 sits at position −3/5; window 1–3 is not scored');
      assert.equal(nullRaw([early], STANDARD, 0.625), -2, 'the null detector misses only the scored windows');
      assert.equal(perfectRaw([early], STANDARD), 3, 'perfect counts every window, as NAB\'s normaliser does');
    });

    it('a row is a detection when its score is at least the threshold', () => {
      const l = corpus40();
      assert.equal(scoreFile(detect(l, { 10: 0.5, 25: 0.5 }), STANDARD, 0.5).score, 2);
      assert.equal(scoreFile(detect(l, { 10: 0.5, 25: 0.5 }), STANDARD, 0.5000001).score, -2);
    });
  });

  describe('threshold sweep and optimisation over several files', () => {
    function twoFiles(): ScoredFile[] {
      const a = labelRows('cat/a.csv', times(40), [rowsWindow(10, 12)]);
      const b = labelRows('cat/b.csv', times(40), [rowsWindow(25, 29)]);
      return [detect(a, { 10: 0.9 }), detect(b, { 8: 0.8, 25: 0.7 })];
    }

    it('records one entry per distinct score, from 1.1 down, each counting the rows ≥ it', () => {
      const entries = sweepThresholds(twoFiles(), STANDARD);
      assert.deepEqual(entries.map((e) => e.threshold), [1.1, 0.9, 0.8, 0.7, 0]);
      const scores = entries.map((e) => e.score);
      assert.deepEqual(scores.slice(0, 3), [-2, 0, -0.11]);
      close(scores[3], 1.89);
      assert.deepEqual(entries.map((e) => e.windowsHit), [0, 1, 1, 2, 2]);
      assert.deepEqual(entries.map((e) => e.fp), [0, 0, 1, 1, 68 - 8]);
      for (const e of entries) close(scoreCorpus(twoFiles(), STANDARD, e.threshold).total.score, e.score, `T=${e.threshold}`);
    });

    it('picks the threshold with the best corpus score, the highest one among equals', () => {
      const best = optimiseThreshold(twoFiles(), STANDARD);
      assert.equal(best.threshold, 0.7);
      close(best.score, 1.89);
      const tie = optimiseThreshold([detect(corpus40(), { 10: 0.9, 25: 0.8, 26: 0.7 })], STANDARD);
      assert.equal(tie.threshold, 0.8);
      const none = optimiseThreshold([detect(corpus200(), { 3: 0.9, 140: 0.8 })], STANDARD);
      assert.deepEqual([none.threshold, none.score], [1.1, -2]);
    });

    it('checks that scores and rows match', () => {
      assert.throws(() => scoreFile({ labels: corpus40(), scores: [1, 2] }, STANDARD, 0.5), /cat\/f\.csv: 2 anomaly scores for 40 rows/);
    });
  });

  describe('label and configuration files', () => {
    it('parses combined_windows.json, sorting each file\'s windows', () => {
      const w = parseWindows(JSON.stringify({
        'a/x.csv': [['2014-04-10 07:15:00.000000', '2014-04-11 16:45:00.000000'], ['2014-04-01 00:00:00.000000', '2014-04-02 00:00:00.000000']],
        'a/y.csv': [],
      }));
      assert.deepEqual([...w.keys()], ['a/x.csv', 'a/y.csv']);
      assert.deepEqual(w.get('a/x.csv')?.map((x) => x.start), [Date.UTC(2014, 3, 1), Date.UTC(2014, 3, 10, 7, 15)]);
    });

    it('names what is wrong in a windows file', () => {
      assert.throws(() => parseWindows('{'), /windows file is not valid JSON/);
      assert.throws(() => parseWindows('[]'), /must be an object/);
      assert.throws(() => parseWindows('{"a/x.csv": [["2014-04-10 07:15:00"]]}'), /a\/x\.csv window 1 must be a pair/);
      assert.throws(() => parseWindows('{"a/x.csv": [["2014-04-10", "2014-04-11 00:00:00"]]}'), /a\/x\.csv window 1 has a timestamp that is not/);
      assert.throws(() => parseWindows('{"a/x.csv": [["2014-04-11 00:00:00", "2014-04-10 00:00:00"]]}'), /ends before it starts/);
      assert.throws(() => parseWindows('{"a/x.csv": [["2014-04-10 00:00:00", "2014-04-12 00:00:00"], ["2014-04-11 00:00:00", "2014-04-13 00:00:00"]]}'), /overlap/);
    });

    it('parses NAB\'s profiles.json and thresholds.json', () => {
      const profiles: NabProfile[] = parseProfiles(JSON.stringify({ standard: { CostMatrix: { tpWeight: 1, fnWeight: 1, fpWeight: 0.11, tnWeight: 1 } } }));
      assert.deepEqual(profiles, [STANDARD]);
      assert.throws(() => parseProfiles('{"x": {"CostMatrix": {"tpWeight": 1, "fnWeight": -1, "fpWeight": 0}}}'), /x\.fnWeight must be a number of at least 0/);
      assert.throws(() => parseProfiles('{"x": {}}'), /profile x has no CostMatrix/);
      assert.deepEqual(parseThresholds('{"d": {"standard": {"score": 1, "threshold": 0.5}}}'), { d: { standard: 0.5 } });
      assert.throws(() => parseThresholds('{"d": {"standard": {"score": 1}}}'), /d\.standard\.threshold must be a number/);
    });
  });
});
