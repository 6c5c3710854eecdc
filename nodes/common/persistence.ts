/**
 * Keeps a node's state in a Node-RED context store: restored at start (msgs arriving before
 * that wait), saved every minute while it changes, on redeploy and on shutdown, and deleted
 * when the node is removed. A state that cannot be used is reported and the node starts fresh.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { Translate } from './i18n';

/** Context key under which a node keeps its state. */
export const STATE_CONTEXT_KEY = 'streamevmonState';
const SAVE_INTERVAL_MS = 60_000;

export interface Persistable {
  saveState(): unknown;
  /** Throws when the stored state cannot be used; must leave the current state intact then. */
  loadState(stored: unknown): void;
}

export interface PersistenceOptions {
  enabled: boolean;
  /** Context store name; undefined = the default store. */
  store?: string;
  /** Called once the stored state was read (or persistence is off). */
  onReady?: () => void;
  /** The node set's messages: streamevmon.persist.{saveFailed,readFailed,notUsed,noStore}. */
  t: Translate;
  /** contextStoresConfigured(RED.settings) (./context-stores): false gets a warning at start, since nothing would be kept. */
  storesConfigured?: boolean;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type InputHandler = (msg: NodeMessageInFlow, send: SendFn, done: (err?: Error) => void) => void;

export class NodeStatePersistence {
  private queue: Array<() => void> | null;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly node: Node, private readonly type: string, private readonly target: Persistable, private readonly opts: PersistenceOptions) {
    this.queue = opts.enabled ? [] : null;
    if (!opts.enabled) {
      opts.onReady?.();
      return;
    }
    if (opts.storesConfigured === false) node.warn(opts.t('streamevmon.persist.noStore', { type }));
    node.context().get(STATE_CONTEXT_KEY, opts.store, (err: Error | null | undefined, stored: unknown) => this.restore(err, stored));
    this.timer = setInterval(() => {
      if (this.dirty) this.save((e) => e && node.warn(opts.t('streamevmon.persist.saveFailed', { type, error: e.message })));
    }, SAVE_INTERVAL_MS);
  }

  private restore(err: Error | null | undefined, stored: unknown): void {
    if (err) this.node.warn(this.opts.t('streamevmon.persist.readFailed', { type: this.type, error: err.message }));
    else if (stored !== undefined) {
      try {
        this.target.loadState(stored);
      } catch (e) {
        this.node.warn(this.opts.t('streamevmon.persist.notUsed', { type: this.type, error: (e as Error).message ?? String(e) }));
      }
    }
    const waiting = this.queue ?? [];
    this.queue = null;
    this.opts.onReady?.();
    for (const run of waiting) run();
  }

  /** Mark the state as changed, so that the periodic save writes it. */
  touch(): void {
    this.dirty = true;
  }

  /** Wrap an input handler: it runs after the state is restored, and errors go to done(err). */
  wrap(handler: InputHandler): InputHandler {
    return (msg, send, done) => {
      const run = (): void => {
        try {
          handler(msg, send, done);
          this.dirty = true;
        } catch (err) {
          done(err as Error);
        }
      };
      if (this.queue) this.queue.push(run);
      else run();
    };
  }

  private save(cb: (err?: Error) => void): void {
    this.dirty = false;
    this.node.context().set(STATE_CONTEXT_KEY, this.target.saveState(), this.opts.store, (err?: Error) => cb(err ?? undefined));
  }

  /** For the node's close handler: save (or delete when removed), then call done. */
  close(removed: boolean, done: () => void): void {
    if (this.timer) clearInterval(this.timer);
    if (!this.opts.enabled) return done();
    if (removed) {
      // A deleted node's state would never be read again.
      this.node.context().set(STATE_CONTEXT_KEY, undefined, this.opts.store, () => done());
      return;
    }
    this.save((e) => {
      if (e) this.node.error(this.opts.t('streamevmon.persist.saveFailed', { type: this.type, error: e.message }));
      done();
    });
  }
}
