/**
 * The temporal event grouper (detectors.md §7.3, C7, C8): events close together in time form
 * one group. The group's UUID is assigned when it opens, so each event can be forwarded at
 * once tagged `in_group=<uuid>`; the group itself is emitted when it closes.
 */
import { randomUUID } from 'node:crypto';
import { DetectorEvent, eventTime } from '../event';
import { ParamSet } from '../params';
import { StateError } from '../detectors/types';
import { decode } from '../detectors/keyed';
import { EventGroup, eventProblem, maxEventTime } from './group';

/** Grouper parameters (§10.4), all times in seconds. */
export interface GrouperParams extends Record<string, number | boolean> {
  maximumEventInterval: number;
  maximumGroupDuration: number;
  maxLateness: number;
  /** Group each stream on its own (Streamevmon's runner grouped globally). */
  perStream: boolean;
}

export const grouperParamSet: ParamSet<GrouperParams> = {
  owner: 'event-group',
  specs: [
    { name: 'maximumEventInterval', kind: 'int', default: 10, min: 0, max: 2147483647, unit: 's' },
    { name: 'maximumGroupDuration', kind: 'int', default: 7200, min: 1, max: 2147483647, unit: 's' },
    { name: 'maxLateness', kind: 'int', default: 20, min: 0, max: 2147483647, unit: 's' },
    { name: 'perStream', kind: 'boolean', default: false },
  ],
};

export interface GrouperOptions {
  /** UUID source; injectable so tests get predictable ids. */
  newId?: () => string;
}

interface ActiveGroup {
  key: string;
  group: EventGroup;
  /** Largest eventTime among the members. */
  maxET: number;
  /** min(maxET + interval, start + maxDuration): the earlier of the two §7.3 timers. */
  deadline: number;
}

/** The key of the single group in global mode. */
const GLOBAL_KEY = '';

export const GROUPER_STATE_FORMAT = 'streamevmon-event-group-state';
const GROUPER_STATE_VERSION = 1;

export interface GrouperSnapshot {
  format: typeof GROUPER_STATE_FORMAT;
  version: number;
  params: Record<string, unknown>;
  /** null before any event (−∞). */
  watermark: number | null;
  groups: Record<string, { uid: string; start: number; events: DetectorEvent[] }>;
}

export class TemporalEventGrouper {
  private readonly active = new Map<string, ActiveGroup>();
  private readonly intervalMs: number;
  private readonly durationMs: number;
  private readonly latenessMs: number;
  private readonly newId: () => string;
  private wm = -Infinity;
  /** A lower bound of the active deadlines: no scan is needed while the watermark is below it. */
  private nextDeadline = Infinity;
  /** Counters for the node status (not persisted). */
  eventsIn = 0;
  groupsClosed = 0;

  constructor(readonly params: Readonly<GrouperParams>, options: GrouperOptions = {}) {
    this.intervalMs = params.maximumEventInterval * 1000;
    this.durationMs = params.maximumGroupDuration * 1000;
    this.latenessMs = params.maxLateness * 1000;
    this.newId = options.newId ?? randomUUID;
  }

  /** Epoch ms; −Infinity before the first event. */
  get watermark(): number {
    return this.wm;
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** The groups still open (end null), oldest start first: copies, for inspection. */
  activeGroups(): EventGroup[] {
    return [...this.active.values()]
      .sort((a, b) => a.group.start - b.group.start)
      .map((a) => ({ ...a.group, events: [...a.group.events] }));
  }

  /**
   * Add one event. Returns the copy that joined a group, tagged `in_group=<uuid>`; groups the
   * event (or the watermark it moves) closes are appended to `closed`.
   */
  addEvent(e: DetectorEvent, closed: EventGroup[]): DetectorEvent {
    this.eventsIn++;
    const t = eventTime(e);
    const a = this.place(this.params.perStream ? e.stream : GLOBAL_KEY, t, t, closed);
    const tagged: DetectorEvent = { ...e, tags: { ...e.tags, in_group: a.group.uid as string } };
    a.group.events.push(tagged);
    // The element first, then the watermark it brings (as Flink orders them).
    this.moveWatermark(e.time - this.latenessMs, closed);
    return tagged;
  }

  /**
   * Add a whole group (§7.3 "on an incoming group"), e.g. one from the single-event grouper.
   * Its events join unchanged; returns the UUID of the group they joined.
   */
  addGroup(g: EventGroup, closed: EventGroup[]): string {
    if (g.events.length === 0) throw new RangeError('event-group: cannot add an empty group');
    this.eventsIn += g.events.length;
    const key = this.params.perStream ? g.events[0].stream : GLOBAL_KEY;
    const a = this.place(key, g.start, maxEventTime(g), closed);
    let latest = -Infinity;
    for (const e of g.events) {
      a.group.events.push(e);
      if (e.time > latest) latest = e.time;
    }
    this.moveWatermark(latest - this.latenessMs, closed);
    return a.group.uid as string;
  }

  /** Find or open the active group that an incoming group [start, maxET] belongs to. */
  private place(key: string, start: number, maxET: number, closed: EventGroup[]): ActiveGroup {
    let a = this.active.get(key);
    if (a !== undefined && (start > a.maxET + this.intervalMs || maxET - a.group.start > this.durationMs)) {
      this.finalise(a, closed);
      a = undefined;
    }
    if (a === undefined) {
      a = { key, group: { uid: this.newId(), start, end: null, events: [] }, maxET, deadline: 0 };
      this.active.set(key, a);
    } else {
      if (start < a.group.start) a.group.start = start;
      if (maxET > a.maxET) a.maxET = maxET;
    }
    a.deadline = Math.min(a.maxET + this.intervalMs, a.group.start + this.durationMs);
    if (a.deadline < this.nextDeadline) this.nextDeadline = a.deadline;
    return a;
  }

  /** Advance the watermark (msg.watermark, epoch ms); it never moves back. */
  advanceWatermark(watermark: number, closed: EventGroup[]): void {
    this.moveWatermark(watermark, closed);
  }

  private moveWatermark(watermark: number, closed: EventGroup[]): void {
    if (watermark > this.wm) this.wm = watermark;
    // A timer fires once the watermark reaches it; one registered in the past fires at once.
    if (this.nextDeadline > this.wm) return;
    const due: ActiveGroup[] = [];
    let next = Infinity;
    for (const a of this.active.values()) {
      if (a.deadline <= this.wm) due.push(a);
      else if (a.deadline < next) next = a.deadline;
    }
    this.nextDeadline = next;
    due.sort((x, y) => x.deadline - y.deadline || x.group.start - y.group.start);
    for (const a of due) this.finalise(a, closed);
  }

  private finalise(a: ActiveGroup, closed: EventGroup[]): void {
    a.group.end = a.maxET;
    this.active.delete(a.key);
    this.groupsClosed++;
    closed.push(a.group);
  }

  /** Close every active group now (msg.flush, or on close without persistence). */
  finaliseAll(closed: EventGroup[]): void {
    const all = [...this.active.values()].sort((x, y) => x.group.start - y.group.start);
    for (const a of all) this.finalise(a, closed);
    this.nextDeadline = Infinity;
  }

  /**
   * Drop state without emitting: one stream's active group (per-stream grouping), or every
   * group and the watermark.
   */
  reset(key?: string): void {
    if (key !== undefined) {
      this.active.delete(key);
      return;
    }
    this.active.clear();
    this.wm = -Infinity;
    this.nextDeadline = Infinity;
  }

  saveState(): GrouperSnapshot {
    const groups: GrouperSnapshot['groups'] = {};
    for (const [key, a] of this.active) groups[key] = { uid: a.group.uid as string, start: a.group.start, events: a.group.events };
    return {
      format: GROUPER_STATE_FORMAT,
      version: GROUPER_STATE_VERSION,
      params: { ...this.params },
      watermark: Number.isFinite(this.wm) ? this.wm : null,
      groups,
    };
  }

  /** Replace all state with a snapshot's; throws StateError (keeping the current state) when unusable. */
  loadState(snapshot: unknown): void {
    const snap = snapshot as Partial<GrouperSnapshot> | null;
    if (typeof snap !== 'object' || snap === null || snap.format !== GROUPER_STATE_FORMAT) {
      throw new StateError('stored state is not a streamevmon event grouper state');
    }
    if (snap.version !== GROUPER_STATE_VERSION) {
      throw new StateError(`stored state has version ${String(snap.version)}, this grouper reads version ${GROUPER_STATE_VERSION}`);
    }
    if (!sameParams(snap.params, this.params)) throw new StateError('the grouper parameters changed since the state was stored');
    let watermark: number;
    try {
      watermark = snap.watermark === null ? -Infinity : decode.number(snap.watermark, 'watermark');
    } catch (err) {
      throw new StateError(`stored state is corrupt: ${(err as Error).message}`);
    }
    if (typeof snap.groups !== 'object' || snap.groups === null) throw new StateError('stored state has no groups');
    const decoded = new Map<string, ActiveGroup>();
    for (const [key, json] of Object.entries(snap.groups)) {
      try {
        decoded.set(key, this.decodeGroup(key, json));
      } catch (err) {
        throw new StateError(`stored group "${key}" is corrupt: ${(err as Error).message}`);
      }
    }
    this.active.clear();
    this.nextDeadline = Infinity;
    for (const [key, a] of decoded) {
      this.active.set(key, a);
      if (a.deadline < this.nextDeadline) this.nextDeadline = a.deadline;
    }
    this.wm = watermark;
  }

  private decodeGroup(key: string, json: unknown): ActiveGroup {
    const o = decode.object(json);
    if (typeof o.uid !== 'string' || o.uid === '') throw new Error('uid must be a string');
    const start = decode.number(o.start, 'start');
    if (!Array.isArray(o.events) || o.events.length === 0) throw new Error('events must be a non-empty array');
    const events = o.events.map((e: unknown, i) => {
      const problem = eventProblem(e);
      if (problem) throw new Error(`events[${i}]: ${problem}`);
      return e as DetectorEvent;
    });
    const group: EventGroup = { uid: o.uid, start, end: null, events };
    const maxET = maxEventTime(group);
    return { key, group, maxET, deadline: Math.min(maxET + this.intervalMs, start + this.durationMs) };
  }
}

function sameParams(a: unknown, b: Readonly<GrouperParams>): boolean {
  if (typeof a !== 'object' || a === null) return false;
  const ra = a as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(b)]);
  for (const k of keys) if (ra[k] !== b[k]) return false;
  return true;
}
