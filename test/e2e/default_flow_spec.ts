/**
 * The main job, end to end: real Node-RED starts with the default flow (the one `npm start`
 * deploys), replays the bundled sample through every detector, and prints exactly the events
 * that the library computes for the same files and parameters.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { commonParamSet } from '../../lib/detectors/definition';
import { streamevmonDetectors } from '../../lib/detectors/index';
import { eventSummary } from '../../lib/event';
import type { DetectorEvent } from '../../lib/event';
import { sampleFromInput } from '../../lib/input';
import { openLatencyTs } from '../../lib/latencyts/reader';
import { measurementKey } from '../../lib/measurement';
import type { Measurement } from '../../lib/measurement';
import { parseParams } from '../../lib/params';
import { DetectorPipeline } from '../../lib/pipeline';
import { NodeRedProcess, PROJECT_ROOT } from './nodered';

const DEFAULT_FLOW = path.join(PROJECT_ROOT, 'examples', '00 - Default flow - Latency TS I sample through all detectors.json');

interface FlowNode { id: string; type: string; wires?: string[][]; [k: string]: unknown }
interface SwitchRule { t: string; v?: string }

/**
 * Which measurements reach a detector node: all of the source's output, or one output of a
 * switch on msg.payload.kind between them (the only routing the default flow uses; anything
 * else fails the test rather than being guessed).
 */
function routeTo(flow: FlowNode[], sourceId: string, target: string): (m: Measurement) => boolean {
  const feeders = flow.filter((n) => (n.wires ?? []).some((out) => out.includes(target)));
  assert.equal(feeders.length, 1, `${target} should have one input wire`);
  const feeder = feeders[0];
  if (feeder.id === sourceId) return () => true;
  assert.equal(feeder.type, 'switch', `${target} is fed by a ${feeder.type}`);
  assert.equal(feeder.property, 'payload.kind');
  assert.equal(feeder.checkall, 'false');
  assert.ok((flow.find((n) => n.id === sourceId)?.wires?.[0] ?? []).includes(feeder.id));
  const rules = feeder.rules as SwitchRule[];
  const output = (feeder.wires ?? []).findIndex((out) => out.includes(target));
  const matches = (r: SwitchRule, kind: string): boolean => {
    if (r.t === 'else') return true;
    if (r.t === 'eq') return kind === r.v;
    assert.equal(r.t, 'neq', `switch rule ${r.t}`);
    return kind !== r.v;
  };
  return (m) => rules.findIndex((r) => matches(r, m.kind)) === output;
}

/** The one-line summaries the library gives for the sample, with the flow's own parameters and wiring. */
async function expectedSummaries(flow: FlowNode[]): Promise<string[]> {
  const source = flow.find((n) => n.type === 'streamevmon-latencyts') as FlowNode;
  const reader = await openLatencyTs(String(source.path), [PROJECT_ROOT]);
  const detectors = flow
    .filter((n) => n.type.startsWith('streamevmon-') && n.type !== 'streamevmon-latencyts')
    .map((n) => {
      const def = streamevmonDetectors.find((d) => `streamevmon-${d.name}` === n.type);
      assert.ok(def, `no detector for ${n.type}`);
      const own = parseParams(def.paramSet, n);
      const common = parseParams(commonParamSet, n);
      assert.deepEqual([...own.errors, ...common.errors], []);
      const pipeline = new DetectorPipeline(
        def.create(own.params, { useWindow: false, windowSlide: 1 }),
        { valueScale: common.params.valueScale },
      );
      return { pipeline, accepts: routeTo(flow, source.id, n.id) };
    });
  const out: string[] = [];
  const events: DetectorEvent[] = [];
  for (;;) {
    const batch = await reader.next(1000);
    if (batch.length === 0) break;
    for (const m of batch) {
      const r = sampleFromInput({ topic: measurementKey(m), value: m, time: undefined, lossy: undefined, now: 0 });
      assert.ok(r.ok);
      for (const d of detectors) {
        if (!d.accepts(m)) continue;
        events.length = 0;
        assert.equal(d.pipeline.feed(r.sample, events), undefined);
        for (const e of events) out.push(eventSummary(e));
      }
    }
  }
  await reader.close();
  return out;
}

function sorted(xs: string[]): string[] {
  return [...xs].sort();
}

describe('the default flow in real Node-RED (e2e)', function () {
  this.timeout(120_000);
  let nr: NodeRedProcess | undefined;
  after(async () => nr?.dispose());

  it('prints every event of every detector for the bundled sample', async () => {
    const flow = JSON.parse(fs.readFileSync(DEFAULT_FLOW, 'utf8')) as FlowNode[];
    const expected = await expectedSummaries(flow);
    assert.ok(expected.length > 20, `the sample should give events (got ${expected.length})`);
    const types = new Set(expected.map((s) => /\] (\w+_events) on /.exec(s)?.[1]));
    for (const t of ['changepoint_events', 'spike_events', 'loss_events', 'mode_events']) {
      assert.ok(types.has(t), `the sample should exercise ${t}`);
    }
    // One reason for the switch: changepoint finds nothing on millisecond series unless scaled to µs.
    const truth = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'data', 'latency-ts-i', 'ground-truth.json'), 'utf8')) as
      { series: Array<{ format: string; stream: string }> };
    const smokeping = truth.series.filter((s) => s.format === 'smokeping').map((s) => s.stream);
    assert.ok(smokeping.length > 0);
    const onSmokeping = expected.filter((s) => smokeping.some((k) => s.includes(`changepoint_events on ${k}:`)));
    assert.ok(onSmokeping.length >= 2, `changepoint should find the smokeping level shifts: ${onSmokeping.join(' | ')}`);

    nr = await NodeRedProcess.start({ flowFile: DEFAULT_FLOW });
    await nr.waitForLog(/\[debug:replay done\]/, 60_000);
    const lines = (): string[] => [...nr!.log.matchAll(/\[debug:events \(console\)\] (.*)$/gm)].map((m) => m[1]);
    await nr.waitUntil(() => lines().length >= expected.length, 30_000, `${expected.length} events printed`);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(sorted(lines()), sorted(expected));
    // Node-RED itself warns about projects and credentials at start; ours must say nothing.
    const problems = nr.log.split('\n').filter((l) => /\[error\]|\[warn\] \[streamevmon-/.test(l));
    assert.deepEqual(problems, [], 'no errors or warnings in the log');
  });
});
