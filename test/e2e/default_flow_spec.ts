/**
 * The main job, end to end: real Node-RED starts with the default flow (the one `npm start`
 * deploys), replays the bundled sample through every detector, and prints exactly the events
 * that the library computes for the same files and parameters.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { streamevmonDetectors } from '../../lib/detectors/index';
import { eventSummary } from '../../lib/event';
import { sampleFromInput } from '../../lib/input';
import { openLatencyTs } from '../../lib/latencyts/reader';
import { measurementKey } from '../../lib/measurement';
import { parseParams } from '../../lib/params';
import { NodeRedProcess, PROJECT_ROOT } from './nodered';

const DEFAULT_FLOW = path.join(PROJECT_ROOT, 'examples', '00 - Default flow - Latency TS I sample through all detectors.json');

interface FlowNode { type: string; [k: string]: unknown }

/** The one-line summaries the library gives for the sample, with the flow's own parameters. */
async function expectedSummaries(flow: FlowNode[]): Promise<string[]> {
  const source = flow.find((n) => n.type === 'streamevmon-latencyts') as FlowNode;
  const reader = await openLatencyTs(String(source.path), [PROJECT_ROOT]);
  const detectors = flow
    .filter((n) => n.type.startsWith('streamevmon-') && n.type !== 'streamevmon-latencyts')
    .map((n) => {
      const def = streamevmonDetectors.find((d) => `streamevmon-${d.name}` === n.type);
      assert.ok(def, `no detector for ${n.type}`);
      const { params, errors } = parseParams(def.paramSet, n);
      assert.deepEqual(errors, []);
      return def.create(params, { useWindow: false, windowSlide: 1 });
    });
  const out: string[] = [];
  for (;;) {
    const batch = await reader.next(1000);
    if (batch.length === 0) break;
    for (const m of batch) {
      const r = sampleFromInput({ topic: measurementKey(m), value: m, time: undefined, lossy: undefined, now: 0 });
      assert.ok(r.ok);
      for (const d of detectors) for (const e of d.process(r.sample)) out.push(eventSummary(e));
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
