/**
 * Source node streamevmon-amp: AMP measurements (legacy NNTSC or AMP2 schema) from InfluxDB
 * 1.x: a time range of history, live through a subscription, or history then live with no
 * gap and no duplicate (data-formats.md §9–§11). The work is done by lib/amp/source; this
 * adapter turns its deliveries into msgs (paced by the event loop), its state into the node
 * status, and start/stop msgs into runs.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { parseAmpSourceConfig, parseTimeSpec } from '../lib/amp/source-config';
import { AmpSource, RunRange, SourceCounts, SourceState } from '../lib/amp/source';
import { ReportLimiter } from '../lib/latencyts/limiter';
import { Measurement, measurementKey } from '../lib/measurement';
import { translator } from './common/i18n';
import { contextStoresConfigured } from './common/context-stores';
import { StatusReporter, StatusSource } from './common/status';
import type { InfluxConfigNode } from './streamevmon-influxdb-api';

const TYPE = 'streamevmon-amp';
const COMMANDS = ['start', 'stop', 'restart'] as const;
type Command = (typeof COMMANDS)[number];
/** Measurements sent between two turns of the event loop in single mode. */
const GROUP = 200;
/** Context key of the last measurement time (history then live, with persist). */
const LAST_TIME_KEY = 'ampLastMeasurementTime';
const SAVE_INTERVAL_MS = 1000;

interface AmpNodeDef extends NodeDef {
  influxdb?: string;
  [param: string]: unknown;
}

interface ControlMsg extends NodeMessageInFlow {
  command?: unknown;
  start?: unknown;
  end?: unknown;
}

function commandOf(msg: ControlMsg): Command | { unknown: string } {
  const raw = msg.command ?? msg.payload;
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if ((COMMANDS as readonly string[]).includes(text)) return text as Command;
  return { unknown: typeof raw === 'string' ? JSON.stringify(raw) : typeof raw };
}

/** The next turn of the event loop, after Node-RED delivered what was sent. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function countsPayload(c: SourceCounts): Record<string, number> {
  return { history: c.history, live: c.live, parseErrors: c.parseErrors, rejected: c.rejected, tooLarge: c.tooLarge, duplicates: c.duplicates };
}

export = function (RED: NodeAPI): void {
  function AmpNode(this: Node, def: AmpNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = translator(RED, TYPE);
    const status = new StatusReporter(node);
    const { config, errors } = parseAmpSourceConfig(def as Record<string, unknown>);
    const cfg = (def.influxdb ? RED.nodes.getNode(def.influxdb) : null) as InfluxConfigNode | null;
    if (!cfg) errors.push(t('streamevmon.error.noServer'));
    else if (!cfg.influx) errors.push(...cfg.configErrors.map((e) => t('streamevmon.error.serverConfig', { error: e })));
    if (errors.length || !cfg?.influx) {
      // D9: a node with a bad configuration reads nothing, and says why.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(t('streamevmon.error.notRunning', { type: TYPE, problems: errors.join('; ') }))));
      return;
    }
    const client = cfg.influx;
    const database = config.database || cfg.settings.database;
    const retentionPolicy = config.retentionPolicy || cfg.settings.retentionPolicy;
    const subscriptionName = config.subscriptionName || `nodered_streamevmon_${node.id}`;
    const problems = new ReportLimiter((t) => node.warn(t), (n, latest) => t('streamevmon.warn.moreProblems', { count: n, latest }));
    let source: AmpSource | null = null;
    let closing = false;
    let lastInfluxCode = '';
    const liveAnnounced = new WeakSet<AmpSource>();

    // data-formats.md §11: with persist, history then live resumes after the last measurement
    // time it delivered (saved at most once a second and on close, deleted when the node is removed).
    const persist = config.persist && config.mode === 'history+live';
    const store = config.store || undefined;
    let lastTime: number | undefined;
    let dirty = false;
    const context = node.context();
    if (persist && !contextStoresConfigured(RED.settings)) node.warn(t('streamevmon.warn.noStore'));
    const loadLastTime = (): Promise<number | undefined> => new Promise((resolve) => {
      context.get(LAST_TIME_KEY, store as string, (err: Error | null | undefined, v: unknown) => {
        if (err) node.warn(t('streamevmon.warn.contextRead', { store: store ?? t('streamevmon.warn.defaultStore'), error: err.message }));
        resolve(typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      });
    });
    const saveLastTime = (value: number | undefined): Promise<void> => new Promise((resolve) => {
      dirty = false;
      context.set(LAST_TIME_KEY, value, store as string, (err: Error | null | undefined) => {
        if (err) node.warn(t('streamevmon.warn.contextWrite', { store: store ?? t('streamevmon.warn.defaultStore'), error: err.message }));
        resolve();
      });
    });
    const saveTimer = persist ? setInterval(() => {
      if (dirty) void saveLastTime(lastTime);
    }, SAVE_INTERVAL_MS) : undefined;

    const show = (s: StatusSource, now = false): void => {
      if (now) {
        status.close();
        node.status(typeof s === 'function' ? s() : s);
      } else status.update(s);
    };

    const statusOf = (st: SourceState, c: SourceCounts): NodeStatus => {
      const refused = c.rejected + c.tooLarge;
      const bad = c.parseErrors + refused;
      const tallyParts = [String(c.history + c.live)];
      if (c.parseErrors) tallyParts.push(t('streamevmon.status.bad', { count: c.parseErrors }));
      if (refused) tallyParts.push(t('streamevmon.status.refused', { count: refused }));
      const tally = tallyParts.join(' · ');
      if (st.phase === 'failed') return { fill: 'red', shape: 'ring', text: t('streamevmon.status.failed', { message: st.message ?? 'error' }).slice(0, 120) };
      if (st.influx === 'down') {
        const retry = st.retryInMs !== undefined ? ` · ${t('streamevmon.status.retryIn', { seconds: Math.ceil(st.retryInMs / 1000) })}` : '';
        const unreachable = st.kind === undefined || st.kind === 'network' || st.kind === 'timeout' || st.kind === 'server';
        const what = unreachable ? t('streamevmon.status.influxDown', { code: st.code ?? 'error' })
          : t('streamevmon.status.influxRefuses', { message: (st.message ?? st.code ?? 'error').replace(/^influxdb: /, '').slice(0, 120) });
        return { fill: 'red', shape: 'ring', text: `${what}${retry} · ${tally}` };
      }
      switch (st.phase) {
        case 'subscribing': return { fill: 'yellow', shape: 'ring', text: t('streamevmon.status.subscribing', { tally }) };
        case 'history': return { fill: 'blue', shape: 'dot', text: t('streamevmon.status.history', { tally: c.buffered ? `${tally} · ${t('streamevmon.status.buffered', { count: c.buffered })}` : tally }) };
        case 'live': return { fill: bad ? 'yellow' : 'green', shape: 'dot', text: t('streamevmon.status.live', { tally }) };
        case 'done': return { fill: bad ? 'yellow' : 'green', shape: 'ring', text: t('streamevmon.status.done', { tally }) };
        case 'stopped': return { fill: 'grey', shape: 'ring', text: t('streamevmon.status.stopped', { tally }) };
        default: return { fill: 'grey', shape: 'ring', text: t('streamevmon.status.idle') };
      }
    };

    const toMsgs = (ms: Measurement[]): NodeMessage[] => {
      if (config.output === 'batch') {
        const out: NodeMessage[] = [];
        for (let i = 0; i < ms.length; i += config.batchSize) out.push({ topic: 'amp', payload: ms.slice(i, i + config.batchSize) } as NodeMessage);
        return out;
      }
      return ms.map((m) => ({ topic: measurementKey(m), payload: m }) as NodeMessage);
    };

    const startRun = async (msg?: ControlMsg): Promise<void> => {
      if (closing || (source && ['subscribing', 'history', 'live'].includes(source.state.phase))) return;
      const range: RunRange = {};
      const now = Date.now();
      for (const [key, raw] of [['start', msg?.start ?? config.start], ['end', msg?.end ?? config.end]] as const) {
        const time = parseTimeSpec(raw, now);
        if (typeof time === 'object') throw new Error(t('streamevmon.error.badTime', { name: key, error: time.error }));
        range[key] = time;
      }
      if (range.start !== undefined && range.end !== undefined && range.end < range.start) throw new Error(t('streamevmon.error.endBeforeStart'));
      if (persist) {
        const saved = lastTime ?? await loadLastTime();
        if (saved !== undefined && msg?.start === undefined) {
          range.start = saved;
          lastTime = saved;
        }
      }
      problems.reset();
      lastInfluxCode = '';
      const src: AmpSource = new AmpSource({
        client,
        database,
        retentionPolicy,
        schema: config.schema,
        measurements: config.measurements,
        tagFilter: config.tagFilter,
        chunkSize: config.chunkSize,
        groupSize: config.output === 'batch' ? config.batchSize : GROUP,
        bufferLimit: config.bufferLimit,
        listen: {
          host: config.bindHost,
          port: config.port,
          advertisedHost: config.advertisedHost,
          maxBodyBytes: config.maxBodyKiB * 1024,
          subscriptionName,
          checkIntervalMs: config.checkInterval * 1000,
        },
      }, {
        deliver: (ms) => {
          if (src !== source) return undefined;
          if (persist) {
            for (const m of ms) {
              if (lastTime === undefined || m.time > lastTime) {
                lastTime = m.time;
                dirty = true;
              }
            }
          }
          node.send([toMsgs(ms), null] as unknown as NodeMessage[]);
          show(() => statusOf(src.state, src.counts));
          return nextTurn();
        },
        state: (st) => {
          if (src !== source) return;
          if (st.influx === 'down' && st.code !== lastInfluxCode) {
            lastInfluxCode = st.code ?? '';
            node.warn(t('streamevmon.warn.influxDown', { message: st.message ?? t('streamevmon.warn.influxUnreachable') }));
          } else if (st.influx === 'ok' && lastInfluxCode) {
            lastInfluxCode = '';
            node.log(t('streamevmon.log.influxBack', { url: client.baseUrl }));
          }
          const urgent = st.influx === 'down' || ['live', 'done', 'failed', 'stopped'].includes(st.phase);
          show(statusOf(st, src.counts), urgent);
          if (st.phase === 'live' && src.state.phase === 'live' && !closing) {
            // Sent once per run, when live delivery starts.
            if (!liveAnnounced.has(src)) {
              liveAnnounced.add(src);
              node.send([null, { topic: 'live', payload: { destination: src.destination, subscription: subscriptionName, database, ...countsPayload(src.counts) } } as NodeMessage]);
            }
          }
        },
        parseError: (reason) => {
          problems.report(reason);
          show(() => statusOf(src.state, src.counts));
        },
        historyDone: (c) => {
          if (src !== source || config.mode !== 'history') return;
          problems.flush();
          show(statusOf(src.state, c), true);
          node.send([null, { topic: 'complete', payload: countsPayload(c) } as NodeMessage]);
        },
        failed: (err) => {
          problems.flush();
          show({ fill: 'red', shape: 'ring', text: err.message.slice(0, 120) }, true);
          if (msg) node.error(err, msg);
          else node.error(err);
        },
        warn: (text) => node.warn(text),
      });
      source = src;
      show({ fill: 'yellow', shape: 'ring', text: config.mode === 'history' ? t('streamevmon.status.starting') : t('streamevmon.status.listening') }, true);
      try {
        await src.start(config.mode, range);
      } catch (err) {
        source = null;
        const e = new Error(t('streamevmon.error.cannotStart', { error: (err as Error).message ?? String(err) }));
        show({ fill: 'red', shape: 'ring', text: e.message.slice(0, 120) }, true);
        throw e;
      }
    };
    const stopRun = async (): Promise<void> => {
      const src = source;
      if (!src) return;
      await src.stop();
      problems.flush();
      if (!closing) show(statusOf(src.state, src.counts), true);
    };

    let ops: Promise<unknown> = Promise.resolve();
    const enqueue = (op: () => Promise<void>): Promise<void> => {
      const p = ops.then(op);
      ops = p.catch(() => undefined);
      return p;
    };

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const cmd = commandOf(msg as ControlMsg);
      if (typeof cmd !== 'string') {
        done(new Error(t('streamevmon.error.unknownCommand', { command: cmd.unknown })));
        return;
      }
      const op = cmd === 'start' ? () => startRun(msg as ControlMsg)
        : cmd === 'stop' ? stopRun
          : async () => { await stopRun(); await startRun(msg as ControlMsg); };
      enqueue(op).then(() => done(), (err: Error) => done(err));
    });

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      if (saveTimer) clearInterval(saveTimer);
      enqueue(stopRun).catch(() => undefined).then(async () => {
        if (persist && removed) await saveLastTime(undefined);
        else if (persist && dirty) await saveLastTime(lastTime);
        status.close();
        problems.close();
        done();
      });
    });

    if (config.startOnDeploy) {
      enqueue(() => startRun()).catch((err: Error) => node.error(err));
    } else show({ fill: 'grey', shape: 'ring', text: t('streamevmon.status.idle') }, true);
  }

  RED.nodes.registerType(TYPE, AmpNode);
};
