/**
 * Rate-limited reporting: the first `limit` reports go out as they come, later ones are
 * counted and summarised at most once per interval, so a file full of junk cannot flood the
 * log.
 */
export class ReportLimiter {
  private shown = 0;
  private suppressed = 0;
  private latest = '';
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param emit receives each report, and each summary
   * @param summary builds the summary from the count held back and the latest report
   */
  constructor(
    private readonly emit: (text: string) => void,
    private readonly summary: (count: number, latest: string) => string,
    private readonly limit = 10,
    private readonly intervalMs = 10_000,
  ) {}

  report(text: string): void {
    if (this.shown < this.limit) {
      this.shown++;
      this.emit(text);
      return;
    }
    this.suppressed++;
    this.latest = text;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.intervalMs);
    }
  }

  /** Emit the summary of what is held back now (e.g. at the end of a run). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed === 0) return;
    const count = this.suppressed;
    this.suppressed = 0;
    this.emit(this.summary(count, this.latest));
  }

  /** Start counting afresh (a new run), dropping anything held back. */
  reset(): void {
    this.close();
    this.shown = 0;
    this.suppressed = 0;
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
