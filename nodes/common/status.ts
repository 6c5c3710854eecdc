import type { Node, NodeStatus } from 'node-red';

/** Status updates at most once a second: the Status node observes every change. */
export class StatusReporter {
  private pending: NodeStatus | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastShown = 0;
  private failed = false;

  constructor(private readonly node: Node, private readonly intervalMs = 1000) {}

  update(status: NodeStatus): void {
    if (this.failed) return;
    const now = Date.now();
    if (now - this.lastShown >= this.intervalMs && this.timer === undefined) {
      this.lastShown = now;
      this.node.status(status);
      return;
    }
    this.pending = status;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (this.pending) {
          this.lastShown = Date.now();
          this.node.status(this.pending);
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
