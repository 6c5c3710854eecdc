/**
 * The seam between history and live (data-formats.md §11): live points that arrive while the
 * history is read are buffered, history rows that match a buffered point (same measurement
 * key and time in ms) deliver it once, and at the switch the buffered points history did not
 * deliver follow in arrival order. No gap (the subscription exists before the history is
 * read) and no duplicate.
 *
 * A live point can also arrive *after* history already delivered it (InfluxDB stored it,
 * the history read it, and its forwarded copy came later): history rows at or after
 * `since` (the switch start minus a lateness window) are remembered, so such copies are
 * dropped as duplicates. The buffer is bounded; a full buffer is an error, never a silent
 * drop.
 */
import { Measurement, measurementKey } from '../measurement';

/** The identity of a point at the seam: its state key and its time in ms. */
export function seamIdentity(m: Pick<Measurement, 'kind' | 'stream' | 'time'>): string {
  return `${measurementKey(m)}\u0000${m.time}`;
}

export type LiveVerdict = 'buffered' | 'duplicate' | 'full';

export class CatchUp {
  /** Buffered live points, in arrival order; null once history delivered them. */
  private readonly buffered: Array<Measurement | null> = [];
  private readonly byId = new Map<string, number[]>();
  private readonly fromHistory = new Set<string>();
  private pending = 0;
  /** Live copies of points history had already delivered, dropped. */
  duplicates = 0;
  /** History rows that also arrived live (delivered once). */
  matched = 0;

  /**
   * @param limit most live points held at once
   * @param since history rows at or after this time (epoch ms) are remembered for dedupe
   */
  constructor(private readonly limit: number, private readonly since: number) {}

  /** Live points held, not yet delivered. */
  get size(): number {
    return this.pending;
  }

  /** A live point during catch-up. */
  live(m: Measurement): LiveVerdict {
    const id = seamIdentity(m);
    if (this.fromHistory.has(id)) {
      this.duplicates++;
      return 'duplicate';
    }
    if (this.pending >= this.limit) return 'full';
    const at = this.buffered.push(m) - 1;
    const list = this.byId.get(id);
    if (list) list.push(at);
    else this.byId.set(id, [at]);
    this.pending++;
    return 'buffered';
  }

  /** A history measurement being delivered: its buffered live copies are done with. */
  history(m: Measurement): void {
    const id = seamIdentity(m);
    const list = this.byId.get(id);
    if (list) {
      for (const i of list) {
        if (this.buffered[i] !== null) {
          this.buffered[i] = null;
          this.pending--;
        }
      }
      this.byId.delete(id);
      this.matched++;
    }
    if (m.time >= this.since) this.fromHistory.add(id);
  }

  /**
   * The buffered points history did not deliver, in arrival order; the buffer is emptied.
   * The history identities stay until forget(): live copies still on their way after the
   * switch are recognised by isDuplicate().
   */
  drain(): Measurement[] {
    const out: Measurement[] = [];
    for (const m of this.buffered) if (m !== null) out.push(m);
    this.buffered.length = 0;
    this.byId.clear();
    this.pending = 0;
    return out;
  }

  /** After the switch: a live point history already delivered (counted as a duplicate). */
  isDuplicate(m: Measurement): boolean {
    if (this.fromHistory.size === 0 || !this.fromHistory.has(seamIdentity(m))) return false;
    this.duplicates++;
    return true;
  }

  forget(): void {
    this.fromHistory.clear();
  }
}
