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
import { StatusReporter } from './common/status';
import type { InfluxConfigNode } from './streamevmon-influxdb-api';

const TYPE = 'streamevmon-amp';
const OWNER = 'amp';
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
    const status = new StatusReporter(node);
    const { config, errors } = parseAmpSourceConfig(def as Record<string, unknown>);
    const cfg = (def.influxdb ? RED.nodes.getNode(def.influxdb) : null) as InfluxConfigNode | null;
    if (!cfg) errors.push(`${OWNER}: no InfluxDB server configured: select or add a streamevmon-influxdb configuration`);
    else if (!cfg.influx) errors.push(...cfg.configErrors.map((e) => `${OWNER}: server configuration: ${e}`));
    if (errors.length || !cfg?.influx) {
      // D9: a node with a bad configuration reads nothing, and says why.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(`${TYPE} is not running: ${errors.join('; ')}`)));
      return;
    }
    const client = cfg.influx;
    const database = config.database || cfg.settings.database;
    const retentionPolicy = config.retentionPolicy || cfg.settings.retentionPolicy;
    const subscriptionName = config.subscriptionName || `nodered_streamevmon_${node.id}`;
    const problems = new ReportLimiter((t) => node.warn(t), (n, latest) => `${OWNER}: ${n} more malformed lines or requests (latest: ${latest})`);
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
    const loadLastTime = (): Promise<number | undefined> => new Promise((resolve) => {
      context.get(LAST_TIME_KEY, store as string, (err: Error | null | undefined, v: unknown) => {
        if (err) node.warn(`${OWNER}: cannot read the last measurement time from context store ${store ?? 'default'}: ${err.message}`);
        resolve(typeof v === 'number' && Number.isFinite(v) ? v : undefined);
      });
    });
    const saveLastTime = (value: number | undefined): Promise<void> => new Promise((resolve) => {
      dirty = false;
      context.set(LAST_TIME_KEY, value, store as string, (err: Error | null | undefined) => {
        if (err) node.warn(`${OWNER}: cannot save the last measurement time in context store ${store ?? 'default'}: ${err.message}`);
        resolve();
      });
    });
    const saveTimer = persist ? setInterval(() => {
      if (dirty) void saveLastTime(lastTime);
    }, SAVE_INTERVAL_MS) : undefined;

    const show = (s: NodeStatus, now = false): void => {
      if (now) {
        status.close();
        node.status(s);
      } else status.update(s);
    };

    const statusOf = (st: SourceState, c: SourceCounts): NodeStatus => {
      const refused = c.rejected + c.tooLarge;
      const bad = c.parseErrors + refused;
      const tally = `${c.history + c.live}${c.parseErrors ? ` · ${c.parseErrors} bad` : ''}${refused ? ` · ${refused} refused` : ''}`;
      if (st.phase === 'failed') return { fill: 'red', shape: 'ring', text: `failed: ${st.message ?? 'error'}`.slice(0, 120) };
      if (st.influx === 'down') {
        const retry = st.retryInMs !== undefined ? ` · retry in ${Math.ceil(st.retryInMs / 1000)} s` : '';
        const unreachable = st.kind === undefined || st.kind === 'network' || st.kind === 'timeout' || st.kind === 'server';
        const what = unreachable ? `InfluxDB down: ${st.code ?? 'error'}` : `InfluxDB refuses: ${(st.message ?? st.code ?? 'error').replace(/^influxdb: /, '').slice(0, 120)}`;
        return { fill: 'red', shape: 'ring', text: `${what}${retry} · ${tally}` };
      }
      switch (st.phase) {
        case 'subscribing': return { fill: 'yellow', shape: 'ring', text: `subscribing · ${tally}` };
        case 'history': return { fill: 'blue', shape: 'dot', text: `history: ${tally}${c.buffered ? ` · ${c.buffered} buffered` : ''}` };
        case 'live': return { fill: bad ? 'yellow' : 'green', shape: 'dot', text: `live: ${tally}` };
        case 'done': return { fill: bad ? 'yellow' : 'green', shape: 'ring', text: `done: ${tally}` };
        case 'stopped': return { fill: 'grey', shape: 'ring', text: `stopped: ${tally}` };
        default: return { fill: 'grey', shape: 'ring', text: 'idle' };
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
        const t = parseTimeSpec(raw, now);
        if (typeof t === 'object') throw new Error(`${OWNER}: ${key}: ${t.error}`);
        range[key] = t;
      }
      if (range.start !== undefined && range.end !== undefined && range.end < range.start) throw new Error(`${OWNER}: end must not be before start`);
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
          show(statusOf(src.state, src.counts));
          return nextTurn();
        },
        state: (st) => {
          if (src !== source) return;
          if (st.influx === 'down' && st.code !== lastInfluxCode) {
            lastInfluxCode = st.code ?? '';
            node.warn(`${OWNER}: ${st.message ?? 'InfluxDB unreachable'}; retrying`);
          } else if (st.influx === 'ok' && lastInfluxCode) {
            lastInfluxCode = '';
            node.log(`${OWNER}: InfluxDB ${client.baseUrl} answers again`);
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
          show(statusOf(src.state, src.counts));
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
      show({ fill: 'yellow', shape: 'ring', text: config.mode === 'history' ? 'starting' : 'listening' }, true);
      try {
        await src.start(config.mode, range);
      } catch (err) {
        source = null;
        const e = new Error(`${OWNER}: cannot start: ${(err as Error).message ?? String(err)}`);
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
        done(new Error(`${OWNER}: unknown command ${cmd.unknown}; send "start", "stop" or "restart" in msg.payload or msg.command`));
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
    } else show({ fill: 'grey', shape: 'ring', text: 'idle' }, true);
  }

  RED.nodes.registerType(TYPE, AmpNode);
};
