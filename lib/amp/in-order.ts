/**
 * Delivers results in the order their work was started, although some finish synchronously
 * and others after a database lookup: a msg whose metadata is cached must not overtake one
 * that is still waiting for its query.
 */
export class InOrder<T> {
  private readonly queue: Array<{ ready: boolean; value: T | undefined }> = [];
  private readonly idle: Array<() => void> = [];

  /**
   * @param deliver receives each value, in push order
   * @param onReject turns a rejected promise into a value (the work must not be lost)
   */
  constructor(private readonly deliver: (v: T) => void, private readonly onReject: (err: unknown) => T) {}

  push(v: T | Promise<T>): void {
    if (!(v instanceof Promise)) {
      if (this.queue.length === 0) {
        this.deliver(v);
        return;
      }
      this.queue.push({ ready: true, value: v });
      return;
    }
    const slot: { ready: boolean; value: T | undefined } = { ready: false, value: undefined };
    this.queue.push(slot);
    const settle = (value: T): void => {
      slot.ready = true;
      slot.value = value;
      this.flush();
    };
    v.then(settle, (err: unknown) => settle(this.onReject(err)));
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once everything pushed so far has been delivered. */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private flush(): void {
    while (this.queue.length > 0 && this.queue[0].ready) {
      const slot = this.queue.shift() as { value: T };
      this.deliver(slot.value);
    }
    if (this.queue.length === 0) this.idle.splice(0).forEach((f) => f());
  }
}

/**
 * Lets the same cause be reported at most once per interval (node-red-conventions.md §7.2):
 * later occurrences are counted and summarised.
 */
export class ErrorGate {
  private readonly last = new Map<string, number>();
  private readonly held = new Map<string, number>();

  constructor(private readonly intervalMs = 10_000, private readonly now: () => number = Date.now) {}

  /** True when this cause may be reported now; otherwise it is counted. */
  admit(cause: string): boolean {
    const t = this.now();
    const at = this.last.get(cause);
    if (at === undefined || t - at >= this.intervalMs) {
      this.last.set(cause, t);
      return true;
    }
    this.held.set(cause, (this.held.get(cause) ?? 0) + 1);
    return false;
  }

  /** The counts held back since the last call, per cause. */
  takeHeld(): Array<{ cause: string; count: number }> {
    const out = [...this.held].map(([cause, count]) => ({ cause, count }));
    this.held.clear();
    return out;
  }
}
