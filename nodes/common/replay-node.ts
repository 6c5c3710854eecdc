/**
 * The runtime shared by the file-replay source nodes (latencyts, nab): start/stop/restart by
 * msg and at deploy, one run at a time, progress in the status, malformed lines and reader
 * notes reported with a limit, errors to Catch with the msg that started the run.
 * Output 1 carries data only; output 2 carries control msgs ('loop', 'complete'), so that
 * detectors wired to output 1 never mistake them for data.
 *
 * Each node supplies only what differs: its config parser and how it opens its files.
 */
import path from 'node:path';
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { ReportLimiter } from '../../lib/latencyts/limiter';
import type { LatencyTsReader } from '../../lib/latencyts/reader';
import { Replay, ReplayOptions, ReplaySink, ReplayStats } from '../../lib/latencyts/replay';
import { measurementKey } from '../../lib/measurement';
import { Translate, translator } from './i18n';
import { doneStatus, progressStatus } from './replay-status';
import { StatusReporter } from './status';

const COMMANDS = ['start', 'stop', 'restart'] as const;
type Command = (typeof COMMANDS)[number];

/** dist/nodes/common → the package root. */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');

/** What every replay source's configuration has. */
export interface ReplaySourceConfig extends Pick<ReplayOptions, 'mode' | 'speed' | 'batchSize' | 'loop'> {
  path: string;
  startOnDeploy: boolean;
}

/** Where a reader reports problems; the texts come from the node's catalogue. */
export interface ReplayReports {
  /** A line (or, with line 0, a whole file) that was skipped. */
  malformed(file: string, line: number, reason: string): void;
  /** Something worth knowing that skipped nothing (e.g. a format guess). */
  note(file: string, line: number, message: string): void;
}

export interface ReplaySourceSpec<C extends ReplaySourceConfig> {
  /** Node type, also its catalogue's name. */
  type: string;
  /** The prefix of the node's own error texts ('nab: '), so errors are not prefixed twice. */
  prefix: string;
  /** msg.topic of batch msgs. */
  batchTopic: string;
  parseConfig(def: Record<string, unknown>): { config: C; errors: string[] };
  /** Opens the files; bases are the folders a relative path is tried against, in order. */
  open(config: C, bases: string[], reports: ReplayReports): Promise<LatencyTsReader>;
  /** Include the total size of the files in 'loop'/'complete' stats (known before reading). */
  reportsTotalBytes: boolean;
}

/** msg.command, else msg.payload, as a known command; otherwise a description of what came. */
function commandOf(msg: NodeMessageInFlow): Command | { unknown: string } {
  const raw = (msg as { command?: unknown }).command ?? msg.payload;
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
  if ((COMMANDS as readonly string[]).includes(text)) return text as Command;
  return { unknown: typeof raw === 'string' ? JSON.stringify(raw) : typeof raw };
}

/** The stats sent with 'complete' and 'loop' (no internal buffer figures). */
function statsPayload(s: ReplayStats, withTotalBytes: boolean): Record<string, number> {
  return {
    files: s.files, rows: s.rows, malformed: s.malformed, skipped: s.skipped, outOfOrder: s.outOfOrder,
    bytesRead: s.bytesRead, ...(withTotalBytes ? { totalBytes: s.totalBytes } : {}), passes: s.passes, elapsedMs: Math.round(s.elapsedMs),
  };
}

function prefixed(t: Translate, prefix: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  return new Error(message.startsWith(prefix) ? message : t('streamevmon.error.prefixed', { message }));
}

/** Sets up one replay source node; call from its constructor after RED.nodes.createNode. */
export function setUpReplaySource<C extends ReplaySourceConfig>(RED: NodeAPI, node: Node, def: NodeDef, spec: ReplaySourceSpec<C>): void {
  const status = new StatusReporter(node);
  const t = translator(RED, spec.type);
  const { config, errors } = spec.parseConfig(def as unknown as Record<string, unknown>);
  if (errors.length) {
    // D9: a node with a bad configuration reads nothing, and says why.
    for (const e of errors) node.error(e);
    status.fail(errors[0]);
    node.on('input', (_msg: NodeMessageInFlow, _send, done) => done(new Error(t('streamevmon.error.notRunning', { type: spec.type, problems: errors.join('; ') }))));
    return;
  }

  const userDir = (RED.settings as { userDir?: unknown }).userDir;
  // Last, this package's own folder: `data/latency-ts-i` then finds the bundled sample,
  // however Node-RED was started.
  const bases = [typeof userDir === 'string' ? userDir : '', process.cwd(), PACKAGE_ROOT];
  const malformed = new ReportLimiter((text) => node.warn(text), (n, latest) => t('streamevmon.warn.moreMalformed', { count: n, latest }));
  const notes = new ReportLimiter((text) => node.warn(text), (n, latest) => t('streamevmon.warn.moreNotes', { count: n, latest }));
  const limiters = [malformed, notes];
  const reports: ReplayReports = {
    malformed: (file, line, reason) => malformed.report(line > 0 ? t('streamevmon.warn.malformed', { file, line, reason }) : t('streamevmon.warn.badFile', { file, reason })),
    note: (file, line, message) => notes.report(t('streamevmon.warn.note', { file, line, message })),
  };
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
      ? (ms) => node.send([{ topic: spec.batchTopic, payload: ms } as NodeMessage, null])
      : (ms) => node.send([ms.map((m) => ({ topic: measurementKey(m), payload: m }) as NodeMessage), null]),
    progress: (s) => status.update(() => ({ fill: s.malformed ? 'yellow' : 'green', shape: 'dot', text: progressStatus(t, s) })),
    passEnd: (s) => node.send([null, { topic: 'loop', payload: statsPayload(s, spec.reportsTotalBytes) } as NodeMessage]),
    complete: (s) => {
      for (const l of limiters) l.flush();
      show({ fill: s.malformed ? 'yellow' : 'green', shape: 'dot', text: doneStatus(t, s) });
      node.send([null, { topic: 'complete', payload: statsPayload(s, spec.reportsTotalBytes) } as NodeMessage]);
    },
    error: (err) => {
      malformed.flush();
      const e = prefixed(t, spec.prefix, err);
      show({ fill: 'red', shape: 'ring', text: e.message });
      if (trigger) node.error(e, trigger);
      else node.error(e);
    },
  };

  const startRun = async (msg?: NodeMessageInFlow): Promise<void> => {
    if (closing || replay?.state === 'running') return;
    for (const l of limiters) l.reset();
    trigger = msg;
    const r = new Replay(() => spec.open(config, bases, reports), { mode: config.mode, speed: config.speed, batchSize: config.batchSize, loop: config.loop }, sink);
    replay = r;
    show({ fill: 'blue', shape: 'ring', text: t('streamevmon.status.opening') });
    try {
      await r.start();
    } catch (err) {
      const e = prefixed(t, spec.prefix, err);
      show({ fill: 'red', shape: 'ring', text: e.message });
      throw e;
    }
  };

  const stopRun = async (): Promise<void> => {
    const r = replay;
    if (!r) return;
    const wasRunning = r.state === 'running';
    await r.stop();
    for (const l of limiters) l.flush();
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
      for (const l of limiters) l.close();
      done();
    });
  });

  if (config.startOnDeploy) enqueue(() => startRun()).catch((err: Error) => node.error(err));
  else show({ fill: 'grey', shape: 'ring', text: t('streamevmon.status.idle') });
}
