import { strict as assert } from 'node:assert';
import { ThresholdDetector, ThresholdParams, thresholdDefinition, thresholdParamSet } from '../../lib/detectors/threshold';
import type { Sample } from '../../lib/detectors/types';
import { NO_EVENTS } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { parseParams, requireParams } from '../../lib/params';

function at(k: number, value: number | null, lossy = false, key = 's'): Sample {
  return { key, stream: key, kind: 'Series', time: 1000 * k, value, lossy };
}

function run(p: Partial<ThresholdParams>, values: Array<number | null>): DetectorEvent[] {
  const det = new ThresholdDetector(requireParams(thresholdParamSet, p));
  const out: DetectorEvent[] = [];
  values.forEach((v, k) => out.push(...det.process(at(k, v))));
  return out;
}

describe('ThresholdDetector', () => {
  it('crossing mode (default) reports only the sample that leaves the band', () => {
    const events = run({ upper: 100 }, [50, 150, 160, 90, 200, 100]);
    assert.deepEqual(events, [
      { eventType: 'threshold_events', stream: 's', severity: 10, time: 1000, detectionLatency: 0, description: 'Value 150.0 is above the upper bound 100.0', tags: { bound: 'upper' } },
      { eventType: 'threshold_events', stream: 's', severity: 10, time: 4000, detectionLatency: 0, description: 'Value 200.0 is above the upper bound 100.0', tags: { bound: 'upper' } },
    ]);
  });

  it('every-sample mode reports each sample beyond a bound', () => {
    const events = run({ upper: 100, everySample: true }, [50, 150, 160, 90, 200, 100]);
    assert.deepEqual(events.map((e) => e.time), [1000, 2000, 4000]);
    assert.deepEqual(events.map((e) => e.detectionLatency), [0, 0, 0]);
  });

  it('the lower bound reports values below it, with fmtD formatting', () => {
    const events = run({ lower: 0.5, severity: 40 }, [1, 0.25, 0.001, 1e-4, 3]);
    assert.deepEqual(events.map((e) => [e.description, e.severity, e.tags.bound]), [
      ['Value 0.25 is below the lower bound 0.5', 40, 'lower'],
    ]);
    assert.deepEqual(run({ lower: 0.5, everySample: true }, [1, 0.25, 1e-4]).map((e) => e.description), [
      'Value 0.25 is below the lower bound 0.5',
      'Value 1.0E-4 is below the lower bound 0.5',
    ]);
  });

  it('with both bounds, a jump from one side straight to the other is a new crossing', () => {
    const events = run({ lower: 10, upper: 20 }, [15, 25, 5, 4, 15, 25]);
    assert.deepEqual(events.map((e) => [e.time, e.tags.bound]), [[1000, 'upper'], [2000, 'lower'], [5000, 'upper']]);
  });

  it('emits nothing inside the band; a value equal to a bound is inside', () => {
    const det = new ThresholdDetector(requireParams(thresholdParamSet, { lower: -5, upper: 5 }));
    for (const [k, v] of [-5, 0, 5, 4.999, -4.999].entries()) assert.equal(det.process(at(k, v)), NO_EVENTS);
  });

  it('skips lossy samples and samples without a value, without changing the crossing state', () => {
    assert.deepEqual(run({ upper: 100 }, [150, null, 50]).length, 1);
    const det = new ThresholdDetector(requireParams(thresholdParamSet, { upper: 100 }));
    assert.equal(det.process(at(0, 500, true)).length, 0, 'a lossy sample with a value is skipped too');
    assert.equal(det.process(at(1, 150)).length, 1);
    assert.equal(det.process(at(2, 50, true)).length, 0, 'a lossy value inside does not re-arm');
    assert.equal(det.process(at(3, 150)).length, 0, 'still outside');
    assert.equal(det.process(at(4, null)).length, 0);
    assert.equal(det.process(at(5, 150)).length, 0);
  });

  it('keeps state per key, resets, and saves / restores through JSON', () => {
    const p = requireParams(thresholdParamSet, { upper: 1 });
    const det = new ThresholdDetector(p);
    det.process(at(0, 2, false, 'a'));
    det.process(at(0, 0, false, 'b'));
    assert.equal(det.streamCount, 2);
    const snap = JSON.parse(JSON.stringify(det.saveState()));
    assert.deepEqual(snap.params, { upper: 1, lower: null, severity: 10, everySample: false });
    assert.deepEqual(snap.streams, { a: { outside: 'upper' }, b: { outside: null } });
    const restored = new ThresholdDetector(p);
    restored.loadState(snap);
    assert.equal(restored.process(at(1, 3, false, 'a')).length, 0, 'a was already above');
    assert.equal(restored.process(at(1, 3, false, 'b')).length, 1, 'b crosses now');
    det.reset('a');
    assert.equal(det.process(at(1, 3, false, 'a')).length, 1, 'a starts inside after a reset');
    det.reset();
    assert.equal(det.streamCount, 0);
  });

  it('rejects corrupt state and state built with other bounds', () => {
    const det = new ThresholdDetector(requireParams(thresholdParamSet, { upper: 1 }));
    det.process(at(0, 2));
    const snap = JSON.parse(JSON.stringify(det.saveState()));
    assert.throws(() => new ThresholdDetector(requireParams(thresholdParamSet, { upper: 2 })).loadState(snap), /parameters changed/);
    assert.throws(() => new ThresholdDetector(requireParams(thresholdParamSet, { upper: 1, lower: 0 })).loadState(snap), /parameters changed/);
    snap.streams.s.outside = 'sideways';
    assert.throws(() => det.loadState(snap), /stream "s" is corrupt: outside must be null, "upper" or "lower"/);
  });

  it('validates parameters with clear messages (D9)', () => {
    assert.deepEqual(parseParams(thresholdParamSet, {}).errors, ['threshold: set an upper bound, a lower bound or both']);
    assert.deepEqual(parseParams(thresholdParamSet, { upper: '', lower: '' }).errors, ['threshold: set an upper bound, a lower bound or both']);
    assert.deepEqual(parseParams(thresholdParamSet, { upper: '5', lower: '5' }).errors, ['threshold: lower (5.0) must be less than upper (5.0)']);
    assert.deepEqual(parseParams(thresholdParamSet, { upper: '1', lower: '2.5' }).errors, ['threshold: lower (2.5) must be less than upper (1.0)']);
    assert.deepEqual(parseParams(thresholdParamSet, { upper: 'high', severity: '101', everySample: 'yes' }).errors, [
      'threshold: upper must be a number (got high)',
      'threshold: severity must be an integer between 0 and 100 (got 101)',
      'threshold: everySample must be true or false (got "yes")',
    ]);
    const ok = parseParams(thresholdParamSet, { upper: '', lower: '-3', severity: '0', everySample: 'true' });
    assert.deepEqual(ok.errors, []);
    assert.ok(Number.isNaN(ok.params.upper));
    assert.deepEqual({ ...ok.params, upper: 'unset' }, { upper: 'unset', lower: -3, severity: 0, everySample: true });
    assert.equal(thresholdDefinition.name, 'threshold');
  });
});
