/**
 * Source node streamevmon-nab: replays NAB data files (timestamp,value CSV) as NabMeasurement
 * msgs, merged by time. Output 1 carries data only; output 2 carries control msgs ('loop',
 * 'complete'), so that detectors wired to output 1 never mistake them for data. The pacing is
 * the Latency TS I source's.
 */
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { ReportLimiter } from '../lib/latencyts/limiter';
import { Replay, ReplaySink, ReplayStats } from '../lib/latencyts/replay';
import { Translate, translator } from './common/i18n';
import { doneStatus, progressStatus } from './common/replay-status';
import { measurementKey } from '../lib/measurement';
import { parseNabSourceConfig } from '../lib/nab/config';
import { resolveNabFiles } from '../lib/nab/files';
import { NabReader, asReplayReader } from '../lib/nab/reader';
import { StatusReporter } from './common/status';

const TYPE = 'streamevmon-nab';
const COMMANDS = ['start', 'stop', 'restart'] as const;
type Command = (typeof COMMANDS)[number];

interface NabNodeDef extends NodeDef {
  path?: string;
  mode?: string;
  speed?: string | number;
  batchSize?: string | number;
  startOnDeploy?: boolean | string;
  loop?: boolean | string;
  valueScale?: string;
}

/** msg.command, else msg.payload, as a known command; otherwise a description of what came. */
function commandOf(msg: NodeMessageInFlow): Command | { unknown: string } {
  const raw = (msg as { command?: unknown }).command ?? msg.payload;
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if ((COMMANDS as readonly string[]).includes(text)) return text as Command;
  return { unknown: typeof raw === 'string' ? JSON.stringify(raw) : typeof raw };
}

/** The stats sent with 'complete' and 'loop' (no internal buffer figures). */
function statsPayload(s: ReplayStats): Record<string, number> {
  return {
    files: s.files, rows: s.rows, malformed: s.malformed, skipped: s.skipped, outOfOrder: s.outOfOrder,
    bytesRead: s.bytesRead, passes: s.passes, elapsedMs: Math.round(s.elapsedMs),
  };
}

function prefixed(t: Translate, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(message.startsWith('nab: ') ? message : t('streamevmon.error.prefixed', { message }));
}

/** dist/nodes/ → the package root. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

export = function (RED: NodeAPI): void {
  function NabNode(this: Node, def: NabNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusReporter(node);
    const t = translator(RED, TYPE);
    const { config, errors } = parseNabSourceConfig(def as unknown as Record<string, unknown>);
    if (errors.length) {
      // D9: a node with a bad configuration reads nothing, and says why.
      for (const e of errors) node.error(e);
      status.fail(errors[0]);
      node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(t('streamevmon.error.notRunning', { type: TYPE, problems: errors.join('; ') }))));
      return;
    }

    const userDir = (RED.settings as { userDir?: unknown }).userDir;
    const bases = [typeof userDir === 'string' ? userDir : '', process.cwd(), PACKAGE_ROOT];
    const malformed = new ReportLimiter((text) => node.warn(text), (n, latest) => t('streamevmon.warn.moreMalformed', { count: n, latest }));
    let replay: Replay | null = null;
    /** The control msg that started the current run: later read errors go to Catch with it. */
    let trigger: NodeMessageInFlow | undefined;
    let closing = false;

    /** Show now, dropping any throttled progress update still pending. */
    const show = (s: NodeStatus): void => {
      status.close();
      node.status(s);
    };

    const sink: ReplaySink = {
      data: config.mode === 'batch'
        ? (ms) => node.send([{ topic: 'nab', payload: ms } as NodeMessage, null])
        : (ms) => node.send([ms.map((m) => ({ topic: measurementKey(m), payload: m }) as NodeMessage), null]),
      progress: (s) => status.update({ fill: s.malformed ? 'yellow' : 'green', shape: 'dot', text: progressStatus(t, s) }),
      passEnd: (s) => node.send([null, { topic: 'loop', payload: statsPayload(s) } as NodeMessage]),
      complete: (s) => {
        malformed.flush();
        show({ fill: s.malformed ? 'yellow' : 'green', shape: 'dot', text: doneStatus(t, s) });
        node.send([null, { topic: 'complete', payload: statsPayload(s) } as NodeMessage]);
      },
      error: (err) => {
        malformed.flush();
        const e = prefixed(t, err);
        show({ fill: 'red', shape: 'ring', text: e.message });
        if (trigger) node.error(e, trigger);
        else node.error(e);
      },
    };

    const open = async () => asReplayReader(await NabReader.open(await resolveNabFiles(config.path, bases), {
      scale: config.valueScale,
      onMalformed: (file, line, reason) => malformed.report(line > 0 ? t('streamevmon.warn.malformed', { file, line, reason }) : t('streamevmon.warn.badFile', { file, reason })),
    }));

    const startRun = async (msg?: NodeMessageInFlow): Promise<void> => {
      if (closing || replay?.state === 'running') return;
      malformed.reset();
      trigger = msg;
      const r = new Replay(open, { mode: config.mode, speed: config.speed, batchSize: config.batchSize, loop: config.loop }, sink);
      replay = r;
      show({ fill: 'blue', shape: 'ring', text: t('streamevmon.status.opening') });
      try {
        await r.start();
      } catch (err) {
        const e = prefixed(t, err);
        show({ fill: 'red', shape: 'ring', text: e.message });
        throw e;
      }
    };

    const stopRun = async (): Promise<void> => {
      const r = replay;
      if (!r) return;
      const wasRunning = r.state === 'running';
      await r.stop();
      malformed.flush();
      if (wasRunning && !closing) show({ fill: 'grey', shape: 'ring', text: t('streamevmon.status.stopped', { rows: r.stats.rows }) });
    };

    // Control operations run one after another, so start/stop/restart never interleave.
    let ops: Promise<unknown> = Promise.resolve();
    const enqueue = (op: () => Promise<void>): Promise<void> => {
      const p = ops.then(op);
      ops = p.catch(() => undefined);
      return p;
    };

    node.on('input', (msg: NodeMessageInFlow, _send, done) => {
      const cmd = commandOf(msg);
      if (typeof cmd !== 'string') {
        done(new Error(t('streamevmon.error.unknownCommand', { command: cmd.unknown })));
        return;
      }
      const op = cmd === 'start' ? () => startRun(msg)
        : cmd === 'stop' ? stopRun
          : async () => { await stopRun(); await startRun(msg); };
      enqueue(op).then(() => done(), (err: Error) => done(err));
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      enqueue(stopRun).catch(() => undefined).then(() => {
        status.close();
        malformed.close();
        done();
      });
    });

    if (config.startOnDeploy) enqueue(() => startRun()).catch((err: Error) => node.error(err));
    else show({ fill: 'grey', shape: 'ring', text: t('streamevmon.status.idle') });
  }

  RED.nodes.registerType(TYPE, NabNode);
};
