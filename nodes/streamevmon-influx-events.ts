/**
 * Sink node streamevmon-influx-events: writes event msgs (measurement `events`) and event-group
 * msgs (`event_groups`) to InfluxDB 1.x (data-formats.md §12, §13). Each msg ends in done()
 * once the write holding it succeeded, or in done(err) when it finally failed, was dropped
 * from a full buffer, or could not be written before the node closed. Node-RED does not route
 * a done(err) from a close handler to Catch nodes, so those are also counted in a warning:
 * nothing is lost silently.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { InfluxError, statementError } from '../lib/influx/client';
import { classifyWriteFailure, errorCode, linesForPayload, parseOverflow, sinkParamSet, sinkStatus } from '../lib/influx/events-sink';
import { createDatabase, createRetentionPolicy } from '../lib/influx/influxql';
import { SinkEvent, SinkQueue } from '../lib/influx/sink-queue';
import { ReportLimiter } from '../lib/latencyts/limiter';
import { parseParams } from '../lib/params';
import type { SendFn } from './common/persistence';
import { StatusReporter } from './common/status';
import { translator } from './common/i18n';
import type { InfluxConfigNode, InfluxState } from './streamevmon-influxdb-api';

const TYPE = 'streamevmon-influx-events';
/** Flush on close for at most this long: Node-RED gives up on a close after 15 s. */
const CLOSE_FLUSH_MS = 5_000;

interface InfluxEventsDef extends NodeDef {
  influxdb?: string;
  overflow?: string;
  [param: string]: unknown;
}

interface Line {
  line: string;
}

export = function (RED: NodeAPI): void {
  function InfluxEventsNode(this: Node, def: InfluxEventsDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, TYPE);

    const { params, errors } = parseParams(sinkParamSet, def);
    const overflow = parseOverflow(def.overflow);
    if (overflow.error) errors.push(overflow.error);
    const config = (def.influxdb ? RED.nodes.getNode(def.influxdb) : null) as InfluxConfigNode | null;
    if (!config) errors.push(t('streamevmon.error.noServer'));
    else if (!config.influx) errors.push(...config.configErrors.map((e) => t('streamevmon.error.serverConfig', { error: e })));
    if (errors.length || !config?.influx) {
      // D9: a bad configuration writes nothing and says why, for every msg too.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(t('streamevmon.error.notRunning', { type: TYPE, problems: errors.join('; ') }))));
      return;
    }

    const client = config.influx;
    const { database, retentionPolicy } = config.settings;
    let setupDone = !params.createDatabase;
    let bad = 0;
    let failureCode: string | null = null;
    let serverState: InfluxState = config.influxState;

    const warnings = new ReportLimiter((text) => node.warn(text), (n, latest) => t('streamevmon.warn.moreWarnings', { count: n, latest }), 1, 10_000);
    const overflowWarnings = new ReportLimiter((text) => node.warn(text), (n) => t('streamevmon.warn.moreDropped', { count: n, policy: overflow.overflow }), 1, 10_000);

    /** §12.2: CREATE DATABASE and the default retention policy, once, before the first write. */
    const ensureSetup = async (signal: AbortSignal): Promise<void> => {
      if (setupDone) return;
      const statements = [createDatabase(database)];
      if (retentionPolicy) statements.push(createRetentionPolicy(retentionPolicy, database, { duration: '0s', replication: 1, isDefault: true }));
      for (const q of statements) {
        try {
          const problem = statementError(await client.query(q, { signal }));
          // "already exists" (e.g. a policy with other settings) is fine: the user keeps theirs.
          if (problem && !/already exists/i.test(problem)) node.error(t('streamevmon.error.setupFailed', { statement: q, error: problem }));
        } catch (err) {
          // The server may come back: the batch is retried and so is the set-up.
          if (err instanceof InfluxError && (err.retryable || err.kind === 'aborted')) throw err;
          // Otherwise (e.g. no admin rights) try to write anyway: the write reports what matters.
          node.error(t('streamevmon.error.setupFailed', { statement: q, error: (err as Error).message }));
        }
      }
      setupDone = true;
    };

    // Built only when shown (at most once a second), not for every event.
    const showStatus = (): void => status.update((): NodeStatus => {
      const s = queue.stats;
      let shown: NodeStatus & { text: string };
      if (s.held === 0 && s.written === 0 && s.failed === 0 && s.dropped === 0 && !failureCode) {
        // Nothing written yet: show the server's state.
        if (serverState.state === 'error') shown = { fill: 'red', shape: 'ring', text: t('streamevmon.status.error', { code: serverState.code ?? 'error' }) };
        else if (serverState.state === 'connected') shown = { fill: 'green', shape: 'ring', text: t('streamevmon.status.connected') };
        else shown = { fill: 'yellow', shape: 'ring', text: t('streamevmon.status.connecting') };
      } else {
        // sinkStatus's colours, with the catalogue's words.
        const { fill, shape } = sinkStatus({ ...s, errorCode: failureCode });
        const extra = [s.dropped ? t('streamevmon.status.dropped', { count: s.dropped }) : '', s.failed ? t('streamevmon.status.failed', { count: s.failed }) : ''].filter(Boolean);
        const queued = t('streamevmon.status.queued', { count: s.held });
        const written = t('streamevmon.status.written', { count: s.written });
        const parts = failureCode ? [t('streamevmon.status.error', { code: failureCode }), s.held ? queued : written, ...extra]
          : s.held > 0 ? [queued, written, ...extra] : [written, ...extra];
        shown = { fill, shape, text: parts.join(' · ') };
      }
      if (bad) shown.text += ` · ${t('streamevmon.status.bad', { count: bad })}`;
      return shown;
    });

    const onQueueEvent = (e: SinkEvent): void => {
      if (e.type === 'written') failureCode = null;
      else if (e.type === 'retrying') {
        failureCode = errorCode(e.error);
        warnings.report(t('streamevmon.warn.retrying', { error: e.error.message, held: e.held, seconds: e.delayMs / 1000 }));
      } else if (e.type === 'failed' && e.reason !== 'closed') failureCode = errorCode(e.error);
      else if (e.type === 'dropped') {
        overflowWarnings.report(t(overflow.overflow === 'drop-oldest' ? 'streamevmon.warn.bufferFullOldest' : 'streamevmon.warn.bufferFullNewest',
          { limit: params.bufferLimit, cause: failureCode ?? 'slow', policy: overflow.overflow }));
      }
      showStatus();
    };

    const queue = new SinkQueue<Line>({
      batchSize: params.batchSize,
      batchIntervalMs: params.batchInterval * 1000,
      bufferLimit: params.bufferLimit,
      overflow: overflow.overflow,
      maxRetryAgeMs: params.maxRetryAge * 1000,
      classify: classifyWriteFailure,
      onEvent: onQueueEvent,
      write: async (items, signal) => {
        try {
          await ensureSetup(signal);
          await client.write(items.map((i) => i.line), { db: database, rp: retentionPolicy || undefined, precision: 'ns', signal });
          config.reportResult();
        } catch (err) {
          config.reportResult(err);
          throw err;
        }
      },
    });

    const onState = (s: InfluxState): void => {
      serverState = s;
      showStatus();
    };
    const stopFollowing = config.onState(onState);
    config.register(node);
    showStatus();

    const handle = (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void): void => {
      // A msg of more lines than the buffer holds could never be written whole: bad, up front.
      const r = linesForPayload(msg.payload, params.bufferLimit);
      if ('error' in r) {
        bad++;
        showStatus();
        done(new Error(t('streamevmon.error.badPayload', { error: r.error })));
        return;
      }
      const { lines } = r;
      let left = lines.length;
      const failures: Error[] = [];
      const settled = (err?: Error): void => {
        if (err) failures.push(err);
        if (--left > 0) return;
        if (failures.length === 0) {
          if (params.passthrough) {
            (msg as NodeMessage & { influx?: unknown }).influx = { database, retentionPolicy, lines: lines.length };
            send(msg);
          }
          done();
        } else if (lines.length === 1) {
          done(new Error(t('streamevmon.error.notWritten', { error: failures[0].message })));
        } else {
          done(new Error(t('streamevmon.error.someNotWritten', { failed: failures.length, total: lines.length, error: failures[0].message })));
        }
      };
      // All lines of the msg are taken, or none (then each ends with the overflow reason).
      queue.pushAll(lines.map((line) => ({ line })), settled);
      showStatus();
    };

    node.on('input', (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void) => {
      try {
        handle(msg, send, done);
      } catch (err) {
        // Nothing here should throw; if it does, the msg is reported rather than lost.
        done(err instanceof Error ? err : new Error(String(err)));
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      stopFollowing();
      config.deregister(node);
      queue.close(CLOSE_FLUSH_MS).then(({ unwritten }) => {
        if (unwritten) node.warn(t('streamevmon.warn.unwrittenAtClose', { count: unwritten, cause: failureCode ?? 'timeout' }));
        warnings.flush();
        overflowWarnings.flush();
        warnings.close();
        overflowWarnings.close();
        status.close();
        done();
      }, () => done());
    });
  }

  RED.nodes.registerType(TYPE, InfluxEventsNode);
};
