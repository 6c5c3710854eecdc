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
    const { params, errors } = parseParams(PARAMS, def as unknown as Record<string, unknown>);
    const cfg = def.postgres ? (RED.nodes.getNode(def.postgres) as PostgresConfigLike | null) : null;
    if (!cfg) errors.push(`${OWNER}: no PostgreSQL server: choose a streamevmon-postgres configuration node`);
    else if (!cfg.postgres) errors.push(`${OWNER}: the PostgreSQL configuration is invalid: ${(cfg.configErrors ?? []).join('; ') || 'unknown problem'}`);
    if (errors.length || !cfg?.postgres) {
      // D9: a node with a bad configuration enriches nothing, and says why.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(`${OWNER} is not running: ${errors.join('; ')}`)));
      return;
    }

    const db = cfg.postgres;
    const enricher = new MetaEnricher(new NntscMetadata(db, { ttlSeconds: params.ttl }));
    const gate = new ErrorGate(ERROR_INTERVAL_MS);
    const counts = { enriched: 0, missing: 0, bad: 0 };

    const show = (): void => {
      const s: PgState = db.state;
      const tally = `${counts.enriched} enriched · ${counts.missing} without meta${counts.bad ? ` · ${counts.bad} bad` : ''}`;
      let st: NodeStatus;
      if (s.state === 'error') st = { fill: 'red', shape: 'ring', text: `db error: ${s.code ?? 'error'} · ${tally}` };
      else if (s.state === 'connected') st = { fill: counts.missing ? 'yellow' : 'green', shape: 'dot', text: tally };
      else st = { fill: 'grey', shape: 'ring', text: `${s.state} · ${tally}` };
      status.update(st);
    };

    const summarise = (): void => {
      for (const { cause, count } of gate.takeHeld()) {
        node.warn(`${OWNER}: ${count} more msgs passed on without metadata because the database failed (${cause}); they carry msg.ampMetaError`);
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
      if (result.dataErrors.length) done(new Error(`${OWNER}: ${result.dataErrors.join('; ')}`));
      else if (result.dbError) {
        const cause = result.dbError instanceof PgUnavailableError ? result.dbError.code : (result.dbError as { code?: string }).code ?? 'error';
        if (gate.admit(cause)) done(new Error(`${OWNER}: no metadata, passed on unenriched: ${result.dbError.message}`));
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
        done(new Error(`${OWNER}: ${r}`));
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
        summarise();
        status.close();
        done();
      });
    });
  }

  RED.nodes.registerType(TYPE, AmpMetaNode);
};
