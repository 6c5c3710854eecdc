/** Shared plumbing for node tests with node-red-node-test-helper. */
import helper from 'node-red-node-test-helper';

helper.init(require.resolve('node-red'));

export { helper };

export interface Collected {
  msgs: any[];
  /** Resolves once `count` msgs arrived, or rejects after `ms`. */
  waitFor(count: number, ms?: number): Promise<any[]>;
}

/** Collect every msg that reaches the helper node with this id. */
export function collect(id: string): Collected {
  const msgs: any[] = [];
  const waiters: Array<() => void> = [];
  helper.getNode(id).on('input', (msg: any) => {
    msgs.push(msg);
    waiters.forEach((w) => w());
  });
  return {
    msgs,
    waitFor(count, ms = 2000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (msgs.length >= count) {
            resolve(msgs);
            return true;
          }
          return false;
        };
        if (check()) return;
        const timer = setTimeout(() => reject(new Error(`expected ${count} msgs at ${id}, got ${msgs.length}`)), ms);
        waiters.push(() => { if (check()) clearTimeout(timer); });
      });
    },
  };
}

/** Give the runtime time to deliver msgs that should NOT arrive. */
export function settle(ms = 50): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The last status a node showed (status is a sinon spy in the test helper). */
export function lastStatus(node: unknown): { fill?: string; shape?: string; text: string } {
  const spy = (node as { status: { lastCall?: { args: unknown[] } } }).status;
  const s = (spy.lastCall?.args[0] ?? {}) as { fill?: string; shape?: string; text?: string };
  return { ...s, text: s.text ?? "" };
}

/**
 * The test helper never loads the context stores, so a node's memory context is deleted when
 * the node closes. Configure two memory stores (as a user would configure localfilesystem):
 * call nodeContext.load() after helper.load, so that state saved on close survives a redeploy.
 */
export const nodeContext = require('@node-red/runtime/lib/nodes/context') as { load(): Promise<unknown> };
const STORES = { contextStorage: { default: { module: 'memory' }, keep: { module: 'memory' } } };

/** Inside a describe(): use the two configured memory stores, "default" and "keep". */
export function useConfiguredStores(): void {
  before(() => helper.settings(STORES as never));
  // settings() always merges onto the runtime defaults: this drops the stores again.
  after(() => helper.settings({ contextStorage: undefined } as never));
}

export function contextGet(id: string, key: string, store?: string): Promise<any> {
  return new Promise((resolve, reject) => helper.getNode(id).context().get(key, store as string, (err: unknown, v: unknown) => (err ? reject(err) : resolve(v))));
}

export function contextSet(id: string, key: string, value: unknown, store?: string): Promise<void> {
  return new Promise((resolve, reject) => helper.getNode(id).context().set(key, value, store as string, (err: unknown) => (err ? reject(err) : resolve())));
}

/** The package root (the compiled tests run from dist/test or .build/<name>/test). */
export function projectRoot(): string {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const path = require('node:path') as typeof import('node:path');
  let root = __dirname;
  while (!fs.existsSync(path.join(root, 'package.json'))) root = path.dirname(root);
  return root;
}

export interface LoadedExample {
  /** The example's nodes as stored in the file. */
  nodes: any[];
  /** What reached the example's debug nodes. */
  out: Collected;
  /** Send a msg into the example's node with this type (e.g. its function node). */
  trigger(type: string, msg?: Record<string, unknown>): void;
  /** The running node with this name (e.g. an inject button, with keepInjects). */
  byName(name: string): any;
}

/** An example flow file's nodes, as stored: a flat array an import into the editor accepts. */
export function readExample(relPath: string): any[] {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('node:fs') as typeof import('node:fs');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const path = require('node:path') as typeof import('node:path');
  const nodes: unknown = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'examples', relPath), 'utf8'));
  if (!Array.isArray(nodes)) throw new Error(`${relPath}: an example must be a flat array of nodes`);
  return nodes;
}

/**
 * Load an example flow file as an import into the editor would place it (on a tab), with
 * comment and debug nodes (and inject nodes, unless keepInjects) left out and every wire to a
 * debug node going to a helper. `edit` may change a node before loading (e.g. drop a repeat).
 */
export async function loadExample(
  relPath: string,
  modules: unknown[],
  opts: { keepInjects?: boolean; edit?: (node: any) => any } = {},
): Promise<LoadedExample> {
  const nodes = readExample(relPath);
  const debugIds = new Set(nodes.filter((n) => n.type === 'debug').map((n) => n.id));
  const dropped = ['comment', 'debug', 'tab', ...(opts.keepInjects ? [] : ['inject'])];
  const kept = nodes
    .filter((n) => !dropped.includes(n.type))
    .map((n) => ({
      ...(opts.edit ? opts.edit(n) : n),
      z: 't1',
      wires: (n.wires ?? []).map((port: string[]) => [...new Set(port.map((id) => (debugIds.has(id) ? 'out' : id)))]),
    }));
  const core = (file: string): unknown => require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [require.resolve('node-red')] }));
  const coreNodes = [core('function/10-function.js'), ...(opts.keepInjects ? [core('common/20-inject.js')] : [])];
  await helper.load([...coreNodes, ...modules] as any, [{ id: 't1', type: 'tab' }, ...kept, { id: 'out', z: 't1', type: 'helper' }] as any);
  const idOfName = (name: string): string => {
    const node = kept.find((n) => n.name === name);
    if (!node) throw new Error(`${relPath}: no node named ${name}`);
    return node.id;
  };
  return {
    nodes,
    out: collect('out'),
    trigger(type, msg = { payload: Date.now() }) {
      helper.getNode(kept.find((n) => n.type === type).id).receive(msg);
    },
    byName: (name) => helper.getNode(idOfName(name)),
  };
}
