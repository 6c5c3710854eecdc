import type { Node, NodeStatus } from 'node-red';

/** A status, or a function that builds one; a function is called only when the status is shown. */
export type StatusSource = NodeStatus | (() => NodeStatus);

const resolve = (source: StatusSource): NodeStatus => (typeof source === 'function' ? source() : source);

/**
 * Status updates at most once a second: the Status node observes every change. A node
 * that updates on every msg passes a function, so the (translated) text is built only
 * for the updates that are shown, not for each of thousands of msgs a second.
 */
export class StatusReporter {
  private pending: StatusSource | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastShown = 0;
  private failed = false;

  constructor(private readonly node: Node, private readonly intervalMs = 1000) {}

  update(status: StatusSource): void {
    if (this.failed) return;
    const now = Date.now();
    if (now - this.lastShown >= this.intervalMs && this.timer === undefined) {
      this.lastShown = now;
      this.node.status(resolve(status));
      return;
    }
    this.pending = status;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.pending) {
          this.lastShown = Date.now();
          this.node.status(resolve(this.pending));
          this.pending = null;
        }
      }, Math.max(0, this.intervalMs - (now - this.lastShown)));
    }
  }

  /** A permanent error status (bad configuration). */
  fail(text: string): void {
    this.failed = true;
    this.node.status({ fill: 'red', shape: 'ring', text });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = null;
  }
}
