/**
 * streamevmon-event-group: the temporal event grouper (detectors.md §7.3) as a node. Each
 * event goes out at once on output 1 tagged in_group=<uuid>; each group goes out on output 2
 * when it closes.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import { DetectorEvent, eventSummary } from '../lib/event';
import { EventGroup, eventProblem, groupPayload } from '../lib/events/group';
import { TemporalEventGrouper, grouperParamSet } from '../lib/events/temporal-grouper';
import { parseParams } from '../lib/params';
import { contextStoresConfigured } from './common/context-stores';
import { NodeStatePersistence, SendFn } from './common/persistence';
import { StatusReporter } from './common/status';
import { translator } from './common/i18n';

const TYPE = 'streamevmon-event-group';

interface EventGroupDef extends NodeDef {
  maximumEventInterval?: unknown;
  maximumGroupDuration?: unknown;
  maxLateness?: unknown;
  perStream?: unknown;
  persist?: boolean | string;
  store?: string;
  [param: string]: unknown;
}

function truthy(v: unknown): boolean {
  return v === true || v === 'true';
}

export = function (RED: NodeAPI): void {
  function EventGroupNode(this: Node, def: EventGroupDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, TYPE);

    const { params, errors: problems } = parseParams(grouperParamSet, def);
    if (problems.length) {
      for (const p of problems) node.error(p);
      status.fail(problems[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => {
        done(new Error(t('streamevmon.error.notRunning', { type: TYPE, problems: problems.join('; ') })));
      });
      return;
    }

    const grouper = new TemporalEventGrouper(params);
    const persist = truthy(def.persist);
    let bad = 0;

    // Built only when shown: translating on every msg would cost more than the filtering.
    const showStatus = (): void => status.update(() => {
      const parts = [t('streamevmon.status.active', { count: grouper.activeCount }), t('streamevmon.status.events', { count: grouper.eventsIn }), t('streamevmon.status.groups', { count: grouper.groupsClosed })];
      if (bad) parts.push(t('streamevmon.status.bad', { count: bad }));
      return { fill: bad ? 'yellow' : 'green', shape: 'dot', text: parts.join(' · ') };
    });

    const eventMsg = (msg: NodeMessageInFlow, e: DetectorEvent): NodeMessage =>
      ({ _msgid: msg._msgid, topic: e.stream, payload: e, summary: eventSummary(e) } as NodeMessage);

    const groupMsgs = (msgid: string | undefined, groups: EventGroup[]): NodeMessage | NodeMessage[] | null => {
      if (groups.length === 0) return null;
      const msgs = groups.map((g) => ({ _msgid: msgid, topic: 'event_group', payload: groupPayload(g) } as NodeMessage));
      return msgs.length === 1 ? msgs[0] : msgs;
    };

    const handle = (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void): void => {
      const m = msg as NodeMessageInFlow & { reset?: unknown; watermark?: unknown; flush?: unknown };
      if (m.reset !== undefined) {
        const topic = typeof m.topic === 'string' && m.topic !== '' ? m.topic : undefined;
        // A topic names a stream only when grouping per stream; globally there is one group.
        grouper.reset(params.perStream ? topic : undefined);
        showStatus();
        done();
        return;
      }
      const payload = msg.payload;
      const control = m.watermark !== undefined || m.flush !== undefined;
      const closed: EventGroup[] = [];
      const rejected: string[] = [];
      let eventsOut: NodeMessage | NodeMessage[] | null = null;

      if (Array.isArray(payload)) {
        const tagged: DetectorEvent[] = [];
        payload.forEach((e: unknown, i) => {
          const problem = eventProblem(e);
          if (problem) rejected.push(t('streamevmon.error.element', { index: i, problem }));
          else tagged.push(grouper.addEvent(e as DetectorEvent, closed));
        });
        if (tagged.length) eventsOut = { _msgid: msg._msgid, topic: msg.topic, payload: tagged } as NodeMessage;
      } else if (!control || (typeof payload === 'object' && payload !== null)) {
        // A control msg (msg.watermark / msg.flush) may carry any non-object payload, e.g. an inject timestamp.
        const problem = eventProblem(payload);
        if (problem) rejected.push(problem);
        else eventsOut = eventMsg(msg, grouper.addEvent(payload as DetectorEvent, closed));
      }

      if (m.watermark !== undefined) {
        if (typeof m.watermark === 'number' && Number.isFinite(m.watermark)) grouper.advanceWatermark(m.watermark, closed);
        else rejected.push(t('streamevmon.error.watermark', { got: typeof m.watermark === 'number' ? String(m.watermark) : JSON.stringify(m.watermark) ?? 'undefined' }));
      }
      if (m.flush !== undefined) grouper.finaliseAll(closed);

      const groupsOut = groupMsgs(msg._msgid, closed);
      if (eventsOut || groupsOut) send([eventsOut, groupsOut]);
      bad += rejected.length;
      showStatus();
      if (rejected.length === 0) done();
      else if (Array.isArray(payload)) done(new Error(t('streamevmon.error.batchRejected', { type: TYPE, rejected: rejected.length, total: payload.length, first: rejected[0] })));
      else done(new Error(t('streamevmon.error.rejected', { type: TYPE, error: rejected[0] })));
    };

    const persistence = new NodeStatePersistence(node, TYPE, grouper, {
      enabled: persist,
      store: typeof def.store === 'string' && def.store ? def.store : undefined,
      onReady: showStatus,
      t,
      storesConfigured: contextStoresConfigured(RED.settings),
    });
    node.on('input', persistence.wrap(handle));
    node.on('close', (removed: boolean, done: () => void) => {
      status.close();
      // Persisted groups continue after the restart; otherwise close them now so none is lost.
      if (!persist || removed) {
        const closed: EventGroup[] = [];
        grouper.finaliseAll(closed);
        const out = groupMsgs(undefined, closed);
        if (out) node.send([null, out]);
      }
      persistence.close(removed, done);
    });
  }

  RED.nodes.registerType(TYPE, EventGroupNode);
};
