/**
 * streamevmon-event-filter: the frequent-event filter (detectors.md §6) as a node. Events pass
 * through unchanged unless their stream floods; a flood is replaced by one bulk event per level.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { DetectorEvent, eventSummary } from '../lib/event';
import { FrequentEventFilter, parseLevels } from '../lib/events/frequent-filter';
import { eventProblem } from '../lib/events/group';
import { contextStoresConfigured } from './common/context-stores';
import { NodeStatePersistence, SendFn } from './common/persistence';
import { StatusReporter } from './common/status';
import { translator } from './common/i18n';

const TYPE = 'streamevmon-event-filter';

interface EventFilterDef extends NodeDef {
  /** [{ name, interval, count, cooldown, severity }] (strings from the editor); none = defaults. */
  levels?: unknown;
  persist?: boolean | string;
  store?: string;
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

export = function (RED: NodeAPI): void {
  function EventFilterNode(this: Node, def: EventFilterDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, TYPE);

    const { levels, errors: problems } = parseLevels(def.levels);
    if (problems.length) {
      // D9: a node with a bad configuration processes nothing, and says why.
      for (const p of problems) node.error(p);
      status.fail(problems[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => {
        done(new Error(t('streamevmon.error.notRunning', { type: TYPE, problems: problems.join('; ') })));
      });
      return;
    }

    const filter = new FrequentEventFilter(levels);
    let bad = 0;
    // Reused for single events: the common pass-through case allocates only the output msg.
    const scratch: DetectorEvent[] = [];

    // Built only when shown: translating on every msg would cost more than the filtering.
    const showStatus = (): void => status.update(() => {
      const parts = [t('streamevmon.status.streams', { count: filter.streamCount }), t('streamevmon.status.passed', { count: filter.passed }), t('streamevmon.status.suppressed', { count: filter.suppressed }), t('streamevmon.status.bulk', { count: filter.bulk })];
      if (bad) parts.push(t('streamevmon.status.bad', { count: bad }));
      return { fill: bad ? 'yellow' : 'green', shape: 'dot', text: parts.join(' · ') };
    });

    const eventMsg = (msg: NodeMessageInFlow, e: DetectorEvent): NodeMessage =>
      ({ _msgid: msg._msgid, topic: e.stream, payload: e, summary: eventSummary(e) } as NodeMessage);

    const handle = (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void): void => {
      const m = msg as NodeMessageInFlow & { reset?: unknown };
      if (m.reset !== undefined) {
        filter.reset(typeof m.topic === 'string' && m.topic !== '' ? m.topic : undefined);
        showStatus();
        done();
        return;
      }
      const payload = msg.payload;
      if (Array.isArray(payload)) {
        // A batch from a detector: one msg with every event that passes, bulk events included.
        const out: DetectorEvent[] = [];
        const rejected: string[] = [];
        payload.forEach((e: unknown, i) => {
          const problem = eventProblem(e);
          if (problem) rejected.push(t('streamevmon.error.element', { index: i, problem }));
          else filter.process(e as DetectorEvent, out);
        });
        if (out.length) send({ _msgid: msg._msgid, topic: msg.topic, payload: out } as NodeMessage);
        bad += rejected.length;
        showStatus();
        if (rejected.length) done(new Error(t('streamevmon.error.batchRejected', { type: TYPE, rejected: rejected.length, total: payload.length, first: rejected[0] })));
        else done();
        return;
      }
      const problem = eventProblem(payload);
      if (problem) {
        bad++;
        showStatus();
        done(new Error(t('streamevmon.error.rejected', { type: TYPE, error: problem })));
        return;
      }
      scratch.length = 0;
      filter.process(payload as DetectorEvent, scratch);
      if (scratch.length === 1) send(eventMsg(msg, scratch[0]));
      else if (scratch.length > 1) send([scratch.map((e) => eventMsg(msg, e))]);
      showStatus();
      done();
    };

    const persistence = new NodeStatePersistence(node, TYPE, filter, {
      enabled: truthy(def.persist),
      store: typeof def.store === 'string' && def.store ? def.store : undefined,
      onReady: showStatus,
      t,
      storesConfigured: contextStoresConfigured(RED.settings),
    });
    node.on('input', persistence.wrap(handle));
    node.on('close', (removed: boolean, done: () => void) => {
      status.close();
      persistence.close(removed, done);
    });
  }

  RED.nodes.registerType(TYPE, EventFilterNode);
};
