/**
 * The one Node-RED adapter behind every detector node: validates the configuration, turns
 * msgs into samples, runs the lib pipeline, sends events, reports status, and persists state
 * in a context store when asked. Each detector's node file only names its definition.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { DetectorDefinition, commonParamSet } from '../../lib/detectors/definition';
import { eventSummary } from '../../lib/event';
import type { DetectorEvent } from '../../lib/event';
import { RawInput, SampleResult, sampleFromBatchElement, sampleFromInput, topicKey } from '../../lib/input';
import { parseParams, ParamValues } from '../../lib/params';
import { DetectorPipeline } from '../../lib/pipeline';
import { translator } from './i18n';
import { contextStoresConfigured } from './context-stores';
import { NodeStatePersistence, SendFn } from './persistence';
import { StatusReporter } from './status';

export interface DetectorNodeDef extends NodeDef {
  /** Message property holding the value (default "payload"). */
  property?: string;
  /** Message property holding the time (default "timestamp"). */
  timeProperty?: string;
  passthrough?: boolean | string;
  persist?: boolean | string;
  /** Context store for persisted state ('' = the default store). */
  store?: string;
  instanceTag?: string;
  [param: string]: unknown;
}


function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

export function registerDetectorNode<P extends ParamValues>(RED: NodeAPI, definition: DetectorDefinition<P>): void {
  const type = `streamevmon-${definition.name}`;

  function DetectorNode(this: Node, def: DetectorNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, type);

    const own = parseParams(definition.paramSet, def);
    const common = parseParams({ ...commonParamSet, owner: definition.name }, def);
    const problems = [...own.errors, ...common.errors];
    if (problems.length) {
      // D9: a node with a bad configuration processes nothing, and says why.
      for (const p of problems) node.error(p);
      status.fail(problems[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => {
        done(new Error(t('streamevmon.error.notRunning', { type, problems: problems.join('; ') })));
      });
      return;
    }

    const c = common.params;
    const windowed = c.useTimeWindow && !definition.ownWindowing;
    const pipeline = new DetectorPipeline(
      definition.create(own.params, { useWindow: c.useTimeWindow, windowSlide: c.windowSlide }),
      {
        filterLossy: c.filterLossy,
        window: windowed ? { windowDurationMs: c.windowDuration * 1000, maxLatenessMs: c.maxLateness * 1000 } : undefined,
        instanceTag: typeof def.instanceTag === 'string' && def.instanceTag.trim() ? def.instanceTag.trim() : undefined,
        valueScale: c.valueScale,
      },
    );
    const valueProp = typeof def.property === 'string' && def.property.trim() ? def.property.trim() : 'payload';
    const timeProp = typeof def.timeProperty === 'string' && def.timeProperty.trim() ? def.timeProperty.trim() : 'timestamp';
    const passthrough = truthy(def.passthrough);
    const persist = truthy(def.persist);
    const store = typeof def.store === 'string' && def.store ? def.store : undefined;
    let bad = 0;

    const buildStatus = (): NodeStatus => {
      const parts = [t('streamevmon.status.streams', { count: pipeline.detector.streamCount }), t('streamevmon.status.events', { count: pipeline.events })];
      if (pipeline.late) parts.push(t('streamevmon.status.late', { count: pipeline.late }));
      if (bad) parts.push(t('streamevmon.status.bad', { count: bad }));
      return { fill: bad ? 'yellow' : 'green', shape: 'dot', text: parts.join(' · ') };
    };
    // Lazy: translating on every msg cost more than detection itself.
    const showStatus = (): void => status.update(buildStatus);

    const readInput = (msg: NodeMessageInFlow): RawInput => ({
      topic: msg.topic,
      value: RED.util.getMessageProperty(msg, valueProp),
      time: RED.util.getMessageProperty(msg, timeProp),
      lossy: (msg as Record<string, unknown>).lossy,
      now: Date.now(),
    });

    const eventMsg = (msg: NodeMessageInFlow, e: DetectorEvent): NodeMessage =>
      ({ _msgid: msg._msgid, topic: e.stream, payload: e, summary: eventSummary(e) } as NodeMessage);

    const handle = (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void): void => {
      const m = msg as NodeMessageInFlow & { reset?: unknown; watermark?: unknown; flush?: unknown };
      if (m.reset !== undefined) {
        // The same key the samples of this topic are kept under (a numeric topic included).
        pipeline.reset(topicKey(m.topic));
        showStatus();
        done();
        return;
      }
      const events: DetectorEvent[] = [];
      const errors: string[] = [];
      const input = readInput(msg);
      const batch = Array.isArray(input.value);
      const take = (r: SampleResult): void => {
        const error = r.ok ? pipeline.feed(r.sample, events) : r.error;
        if (error !== undefined) errors.push(error);
      };
      if (batch) {
        const elements = input.value as unknown[];
        for (let i = 0; i < elements.length; i++) {
          const r = sampleFromBatchElement(elements[i], input.topic, input.time, input.now);
          const error = r.ok ? pipeline.feed(r.sample, events) : r.error;
          if (error !== undefined) errors.push(`element ${i}: ${error}`);
        }
      } else if (input.value !== undefined || (m.watermark === undefined && m.flush === undefined)) {
        // A msg carrying only msg.watermark or msg.flush is a control msg, not a lossy sample.
        take(sampleFromInput(input));
      }
      if (typeof m.watermark === 'number') pipeline.advanceWatermark(m.watermark, events);
      if (m.flush !== undefined) pipeline.flush(events);

      let eventsOut: NodeMessage | NodeMessage[] | null = null;
      if (events.length) {
        eventsOut = batch
          ? ({ _msgid: msg._msgid, topic: msg.topic, payload: events } as NodeMessage)
          : events.length === 1 ? eventMsg(msg, events[0]) : events.map((e) => eventMsg(msg, e));
      }
      if (eventsOut || passthrough) send(passthrough ? [eventsOut, msg] : [eventsOut]);
      bad += errors.length;
      showStatus();
      if (errors.length === 0) done();
      else if (batch) done(new Error(t('streamevmon.error.batchRejected', { type, rejected: errors.length, total: (input.value as unknown[]).length, first: errors[0] })));
      else done(new Error(t('streamevmon.error.rejected', { type, error: errors[0] })));
    };

    const persistence = new NodeStatePersistence(node, type, pipeline, { enabled: persist, store, onReady: showStatus, t, storesConfigured: contextStoresConfigured(RED.settings) });
    node.on('input', persistence.wrap(handle));
    node.on('close', (removed: boolean, done: () => void) => {
      status.close();
      persistence.close(removed, done);
    });
  }

  RED.nodes.registerType(type, DetectorNode);
}

