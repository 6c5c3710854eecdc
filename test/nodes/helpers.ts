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
