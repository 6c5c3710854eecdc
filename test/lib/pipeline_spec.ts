import { strict as assert } from 'node:assert';
import { SpikeDetector, spikeParamSet } from '../../lib/detectors/spike';
import { StateError } from '../../lib/detectors/types';
import type { Sample } from '../../lib/detectors/types';
import type { DetectorEvent } from '../../lib/event';
import { defaultParams, parseParams } from '../../lib/params';
import { commonParamSet } from '../../lib/detectors/definition';
import { DetectorPipeline } from '../../lib/pipeline';

/** A detector that records what it is fed, to see what the pipeline hands on. */
function recording(): { pipeline: (scale?: number) => DetectorPipeline; seen: Array<number | null> } {
  const seen: Array<number | null> = [];
  const pipeline = (scale?: number): DetectorPipeline => {
    const det = new SpikeDetector(defaultParams(spikeParamSet));
    const process = det.process.bind(det);
    det.process = (s: Sample): readonly DetectorEvent[] => {
      seen.push(s.value);
      return process(s);
    };
    return new DetectorPipeline(det, { valueScale: scale });
  };
  return { pipeline, seen };
}

const sample = (time: number, value: number | null): Sample => ({ stream: 's', time, value, lossy: value === null, kind: 'Series' } as Sample);

describe('DetectorPipeline value scale (the nodes\' "Multiply values by")', () => {
  it('multiplies every value before the detector, and leaves missing values and the input alone', () => {
    const r = recording();
    const p = r.pipeline(1000);
    const input = sample(1000, 1.25);
    p.feed(input, []);
    p.feed(sample(2000, null), []);
    assert.deepEqual(r.seen, [1250, null]);
    assert.equal(input.value, 1.25, 'the caller\'s sample is not changed');
  });

  it('passes values unchanged by default', () => {
    const r = recording();
    r.pipeline().feed(sample(1000, 1.25), []);
    assert.deepEqual(r.seen, [1.25]);
  });

  it('scaled values give the events of the same series given already scaled', () => {
    const ms = Array.from({ length: 200 }, (_, i) => 20 + (i % 7) * 0.01 + (i === 150 ? 30 : 0));
    const run = (values: number[], scale: number): DetectorEvent[] => {
      const p = new DetectorPipeline(new SpikeDetector(defaultParams(spikeParamSet)), { valueScale: scale });
      const out: DetectorEvent[] = [];
      values.forEach((v, i) => p.feed(sample(1000 * (i + 1), v), out));
      return out;
    };
    const scaled = run(ms, 1000);
    assert.ok(scaled.length > 0, 'the spike is found');
    assert.deepEqual(scaled, run(ms.map((v) => v * 1000), 1));
  });

  it('refuses a stored state built with another scale; older states count as scale 1', () => {
    const p1 = new DetectorPipeline(new SpikeDetector(defaultParams(spikeParamSet)), { valueScale: 1000 });
    p1.feed(sample(1000, 5), []);
    const snap = p1.saveState();
    assert.equal(snap.valueScale, 1000);
    const other = new DetectorPipeline(new SpikeDetector(defaultParams(spikeParamSet)));
    assert.throws(() => other.loadState(snap), (e: unknown) => e instanceof StateError && /value scale 1000, not 1/.test((e as Error).message));
    const same = new DetectorPipeline(new SpikeDetector(defaultParams(spikeParamSet)), { valueScale: 1000 });
    same.loadState(snap);
    assert.deepEqual(same.saveState(), snap);
    const unscaled = other.saveState();
    assert.equal('valueScale' in unscaled, false, 'scale 1 is not written, so older snapshots load');
    new DetectorPipeline(new SpikeDetector(defaultParams(spikeParamSet))).loadState(unscaled);
  });

  it('the node parameter: default 1, must be greater than 0', () => {
    assert.equal(parseParams(commonParamSet, {}).params.valueScale, 1);
    assert.equal(parseParams(commonParamSet, { valueScale: '1000' }).params.valueScale, 1000);
    for (const bad of ['0', '-2', 'abc', '1e10']) {
      const { errors } = parseParams(commonParamSet, { valueScale: bad });
      assert.equal(errors.length, 1, `valueScale ${bad}`);
      assert.match(errors[0], /valueScale/);
    }
  });
});
