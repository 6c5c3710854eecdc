/**
 * Node streamevmon-amp-meta: adds NNTSC stream metadata (source, destination, family, packet
 * size, per-test settings) to AMP legacy measurements, making them Rich kinds
 * (data-formats.md §3.3). Measurements without metadata (unknown stream, database down) are
 * passed on marked, never dropped; msgs leave in the order they came.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { EnrichResult, MetaEnricher } from '../lib/amp/enrich';
import { ErrorGate, InOrder } from '../lib/amp/in-order';
import { NntscMetadata } from '../lib/amp/nntsc';
import { PgDatabase, PgState, PgUnavailableError } from '../lib/amp/pg-database';
import { ParamSet, parseParams } from '../lib/params';
import { StatusReporter } from './common/status';
import { translator } from './common/i18n';

const TYPE = 'streamevmon-amp-meta';
const OWNER = 'amp-meta';
/** The same database failure reaches Catch nodes at most once per interval; the rest are counted. */
const ERROR_INTERVAL_MS = 10_000;
/** How long close waits for lookups still under way (they end with the pool's query timeout). */
const DRAIN_LIMIT_MS = 5_000;

type AmpMetaParams = { ttl: number; requireMeta: boolean };

const PARAMS: ParamSet<AmpMetaParams> = {
  owner: OWNER,
  specs: [
    { name: 'ttl', kind: 'number', default: 30, min: 0, max: 604800, unit: 's' },
    { name: 'requireMeta', kind: 'boolean', default: false },
  ],
};

interface AmpMetaDef extends NodeDef {
  postgres?: string;
  ttl?: string | number;
  requireMeta?: boolean | string;
}

/** The parts of a streamevmon-postgres configuration node this node uses. */
interface PostgresConfigLike extends Node {
  postgres?: PgDatabase | null;
  configErrors?: string[];
}

interface MetaMsg extends NodeMessageInFlow {
  ampMetaMissing?: boolean;
  ampMetaError?: string;
}

interface Outcome {
  msg: MetaMsg;
  send: (msg: NodeMessage | Array<NodeMessage | null>) => void;
  done: (err?: Error) => void;
  result: EnrichResult | { fatal: Error };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export = function (RED: NodeAPI): void {
  function AmpMetaNode(this: Node, def: AmpMetaDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, TYPE);
    const { params, errors } = parseParams(PARAMS, def as unknown as Record<string, unknown>);
    const cfg = def.postgres ? (RED.nodes.getNode(def.postgres) as PostgresConfigLike | null) : null;
    if (!cfg) errors.push(t('streamevmon.error.noServer', { owner: OWNER }));
    else if (!cfg.postgres) errors.push(t('streamevmon.error.serverConfig', { owner: OWNER, errors: (cfg.configErrors ?? []).join('; ') || t('streamevmon.error.unknownProblem') }));
    if (errors.length || !cfg?.postgres) {
      // D9: a node with a bad configuration enriches nothing, and says why.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(t('streamevmon.error.notRunning', { type: OWNER, problems: errors.join('; ') }))));
      return;
    }

    const db = cfg.postgres;
    const enricher = new MetaEnricher(new NntscMetadata(db, { ttlSeconds: params.ttl }));
    const gate = new ErrorGate(ERROR_INTERVAL_MS);
    const counts = { enriched: 0, missing: 0, bad: 0 };

    // Built only when shown (at most once a second), not for every msg.
    const show = (): void => status.update((): NodeStatus => {
      const s: PgState = db.state;
      const parts = [t('streamevmon.status.enriched', { count: counts.enriched }), t('streamevmon.status.missing', { count: counts.missing })];
      if (counts.bad) parts.push(t('streamevmon.status.bad', { count: counts.bad }));
      const tally = parts.join(' · ');
      let st: NodeStatus;
      if (s.state === 'error') st = { fill: 'red', shape: 'ring', text: `${t('streamevmon.status.dbError', { code: s.code ?? 'error' })} · ${tally}` };
      else if (s.state === 'connected') st = { fill: counts.missing ? 'yellow' : 'green', shape: 'dot', text: tally };
      else st = { fill: 'grey', shape: 'ring', text: `${s.state === 'connecting' ? t('streamevmon.status.connecting') : s.state === 'closed' ? t('streamevmon.status.closed') : t('streamevmon.status.idle')} · ${tally}` };
      return st;
    });

    const summarise = (): void => {
      for (const { cause, count } of gate.takeHeld()) {
        node.warn(t('streamevmon.warn.moreUnenriched', { owner: OWNER, count, cause }));
      }
    };
    const summaryTimer = setInterval(summarise, ERROR_INTERVAL_MS);

    const deliver = (o: Outcome): void => {
      const { msg, send, done, result } = o;
      if ('fatal' in result) {
        counts.bad++;
        show();
        done(result.fatal);
        return;
      }
      if (result.missing > 0) msg.ampMetaMissing = true;
      else delete msg.ampMetaMissing;
      if (result.dbError) msg.ampMetaError = result.dbError.message;
      else delete msg.ampMetaError;
      counts.enriched += result.enriched;
      counts.missing += result.missing;
      if (result.dataErrors.length) counts.bad++;
      if (!params.requireMeta) send(msg);
      else send(result.missing > 0 ? [null, msg] : [msg, null]);
      show();
      if (result.dataErrors.length) done(new Error(t('streamevmon.error.rejected', { type: OWNER, error: result.dataErrors.join('; ') })));
      else if (result.dbError) {
        const cause = result.dbError instanceof PgUnavailableError ? result.dbError.code : (result.dbError as { code?: string }).code ?? 'error';
        if (gate.admit(cause)) done(new Error(t('streamevmon.error.unenriched', { owner: OWNER, error: result.dbError.message })));
        else done();
      } else done();
    };

    const queue = new InOrder<Outcome>(deliver, (err) => {
      // Not reached: every pushed promise resolves to an Outcome.
      throw asError(err);
    });

    node.on('input', (msg: NodeMessageInFlow, send, done) => {
      let r: ReturnType<MetaEnricher['enrich']>;
      try {
        r = enricher.enrich(msg.payload);
      } catch (err) {
        done(asError(err));
        return;
      }
      if (typeof r === 'string') {
        counts.bad++;
        show();
        done(new Error(t('streamevmon.error.rejected', { type: OWNER, error: r })));
        return;
      }
      const base = { msg: msg as MetaMsg, send, done };
      if (r instanceof Promise) queue.push(r.then((result) => ({ ...base, result }), (err: unknown) => ({ ...base, result: { fatal: asError(err) } })));
      else queue.push({ ...base, result: r });
    });

    const unfollow = db.onState(() => show());
    db.register(node.id);
    show();

    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(summaryTimer);
      unfollow();
      db.deregister(node.id);
      const limit = new Promise<void>((resolve) => setTimeout(resolve, DRAIN_LIMIT_MS).unref());
      void Promise.race([queue.drained(), limit]).then(() => {
        // Node-RED has stopped the flow: what is still waiting can no longer be sent; say so.
        if (queue.pending > 0) node.warn(t('streamevmon.warn.unsentAtClose', { owner: OWNER, count: queue.pending }));
        summarise();
        status.close();
        done();
      });
    });
  }

  RED.nodes.registerType(TYPE, AmpMetaNode);
};
