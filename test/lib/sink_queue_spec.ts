/**
 * The sink's write queue with a fake writer and a fake clock: batching by size and time,
 * back-off, expiry, split on 413 and on partial 400s, overflow policies, close, and exactly
 * one completion per item in every case.
 */
import { strict as assert } from 'node:assert';
import { InfluxError } from '../../lib/influx/client';
import { classifyWriteFailure, errorCode } from '../../lib/influx/events-sink';
import { Clock, FailureAction, SinkEvent, SinkOverflowError, SinkQueue, SinkQueueOptions } from '../../lib/influx/sink-queue';

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

class FakeClock implements Clock {
  t = 0;
  private nextId = 1;
  private timers: Array<{ id: number; at: number; fn: () => void }> = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  }

  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== h);
  }

  get pending(): number {
    return this.timers.length;
  }

  /** Run the timers due within ms, in time order, letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await flush();
    for (;;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
      await flush();
    }
    this.t = end;
    await flush();
  }
}

type Behaviour = (items: string[], call: number) => Promise<void> | void;

interface Harness {
  clock: FakeClock;
  queue: SinkQueue<string>;
  calls: Array<{ at: number; items: string[]; signal: AbortSignal }>;
  results: Map<string, Error | null>;
  completions: Map<string, number>;
  events: SinkEvent[];
  push(...items: string[]): boolean[];
}

function harness(behaviour: Behaviour, opts: Partial<SinkQueueOptions<string>> = {}): Harness {
  const clock = new FakeClock();
  const calls: Harness['calls'] = [];
  const results = new Map<string, Error | null>();
  const completions = new Map<string, number>();
  const events: SinkEvent[] = [];
  const queue = new SinkQueue<string>({
    batchSize: 5,
    batchIntervalMs: 1000,
    bufferLimit: 100,
    overflow: 'drop-oldest',
    maxRetryAgeMs: 300_000,
    classify: classifyWriteFailure,
    clock,
    onEvent: (e) => events.push(e),
    write: async (items, signal) => {
      calls.push({ at: clock.now(), items, signal });
      await behaviour(items, calls.length);
    },
    ...opts,
  });
  return {
    clock, queue, calls, results, completions, events,
    push: (...items) => items.map((item) => queue.push(item, (err) => {
      results.set(item, err ?? null);
      completions.set(item, (completions.get(item) ?? 0) + 1);
    })),
  };
}

const ok: Behaviour = () => undefined;
const items = (n: number, prefix = 'i'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const down = (): never => {
  throw new InfluxError('cannot reach the server (connect ECONNREFUSED)', 'network', 'ECONNREFUSED');
};

function assertEachCompletedOnce(h: Harness, all: string[]): void {
  for (const i of all) assert.equal(h.completions.get(i), 1, `${i} completed exactly once`);
}

describe('sink queue (data-formats.md §12.2)', () => {
  describe('batching', () => {
    it('writes full batches at once and the rest after the batch interval', async () => {
      const h = harness(ok);
      const all = items(12);
      h.push(...all);
      await h.clock.advance(0);
      assert.deepEqual(h.calls.map((c) => c.items.length), [5, 5], 'full batches go out without waiting');
      assert.equal(h.results.size, 10);
      await h.clock.advance(999);
      assert.equal(h.calls.length, 2, 'a partial batch waits for the interval');
      await h.clock.advance(1);
      assert.deepEqual(h.calls.map((c) => c.items), [all.slice(0, 5), all.slice(5, 10), all.slice(10)]);
      assert.equal(h.calls[2].at, 1000);
      assert.ok([...h.results.values()].every((e) => e === null));
      assertEachCompletedOnce(h, all);
      assert.equal(h.queue.size, 0);
      assert.deepEqual(h.events.at(-1), { type: 'drained' });
    });

    it('times the interval from the oldest waiting item', async () => {
      const h = harness(ok);
      h.push('a');
      await h.clock.advance(600);
      h.push('b');
      await h.clock.advance(399);
      assert.equal(h.calls.length, 0);
      await h.clock.advance(1);
      assert.deepEqual(h.calls[0].items, ['a', 'b']);
    });

    it('completes items only after the write holding them succeeded', async () => {
      let release: () => void = () => undefined;
      const h = harness(() => new Promise<void>((r) => { release = r; }));
      h.push(...items(5));
      await h.clock.advance(0);
      assert.equal(h.calls.length, 1);
      assert.equal(h.results.size, 0, 'nothing is done while the write is open');
      h.push('late');
      await h.clock.advance(5000);
      assert.equal(h.calls.length, 1, 'one write at a time');
      release();
      await h.clock.advance(0);
      assert.equal(h.results.size, 5);
      assert.equal(h.results.has('late'), false);
      await h.clock.advance(0);
      assert.deepEqual(h.calls[1].items, ['late'], 'an item that waited past the interval goes out next');
    });
  });

  describe('retries', () => {
    it('backs off exponentially from 0.5 s, doubling up to 30 s, then writes everything once back', async () => {
      let serverUp = false;
      const h = harness(() => (serverUp ? undefined : down()), { batchIntervalMs: 0 });
      const all = items(12);
      h.push(...all);
      await h.clock.advance(100_000);
      const delays = h.events.filter((e) => e.type === 'retrying').map((e) => (e as { delayMs: number }).delayMs);
      assert.deepEqual(delays.slice(0, 9), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
      const times = h.calls.map((c) => c.at);
      assert.deepEqual(times.slice(0, 8), [0, 500, 1500, 3500, 7500, 15_500, 31_500, 61_500]);
      assert.equal(h.results.size, 0, 'nothing completed during the outage');
      assert.equal(h.queue.stats.retrying, true);
      serverUp = true;
      const before = h.calls.length;
      await h.clock.advance(30_000);
      const after = h.calls.slice(before);
      assert.deepEqual(after.map((c) => c.items.length), [5, 5, 2], 'the backlog goes out in full batches');
      assert.deepEqual(after.flatMap((c) => c.items), all, 'in order');
      assertEachCompletedOnce(h, all);
      assert.ok([...h.results.values()].every((e) => e === null));
      // The next failure starts the back-off again at 0.5 s.
      serverUp = false;
      h.push('x');
      await h.clock.advance(0);
      const last = h.events.filter((e) => e.type === 'retrying').at(-1) as { delayMs: number };
      assert.equal(last.delayMs, 500);
    });

    it('fails items older than maxRetryAge at a failed retry, keeps the younger ones', async () => {
      const h = harness(down, { maxRetryAgeMs: 10_000, batchIntervalMs: 0 });
      h.push('old1', 'old2');
      await h.clock.advance(8000);
      h.push('young');
      await h.clock.advance(8000); // the retry at 15.5 s fails: old ones are 15.5 s old
      assert.match(h.results.get('old1')?.message ?? '', /not written after retrying for 1\d s: .*ECONNREFUSED/);
      assert.ok(h.results.get('old2') instanceof Error);
      assert.equal(h.results.has('young'), false);
      assert.equal(h.queue.size, 1);
      const failed = h.events.find((e) => e.type === 'failed') as { reason: string; count: number };
      assert.deepEqual([failed.reason, failed.count], ['expired', 2]);
    });

    it('an expired item keeps the server\'s error as its cause, so its code (ECONNREFUSED) still shows', async () => {
      const h = harness(down, { maxRetryAgeMs: 3000, batchIntervalMs: 0 });
      h.push('a');
      await h.clock.advance(10_000);
      const err = h.results.get('a');
      assert.ok(err instanceof Error);
      assert.match(err.message, /^not written after retrying for \d+ s: cannot reach the server/);
      assert.ok(err.cause instanceof InfluxError);
      assert.equal(errorCode(err), 'ECONNREFUSED');
      const failed = h.events.find((e) => e.type === 'failed') as { error: Error };
      assert.equal(errorCode(failed.error), 'ECONNREFUSED', 'what the node shows as "error: <code>"');
    });

    it('items failed at the close deadline keep the last error as their cause', async () => {
      const h = harness(down, { batchIntervalMs: 0 });
      h.push('a');
      await h.clock.advance(0);
      const closed = h.queue.close(5000);
      await h.clock.advance(5000);
      assert.deepEqual(await closed, { unwritten: 1 });
      const err = h.results.get('a') as Error;
      assert.match(err.message, /^not written before the sink closed: cannot reach the server/);
      assert.equal(errorCode(err), 'ECONNREFUSED');
    });

    it('fails items after maxAttempts attempts', async () => {
      const h = harness(down, { maxAttempts: 3, batchIntervalMs: 0 });
      h.push('a');
      await h.clock.advance(1499);
      assert.equal(h.results.has('a'), false);
      await h.clock.advance(1);
      assert.equal(h.calls.length, 3);
      assert.ok(h.results.get('a') instanceof Error);
      assert.equal(h.queue.size, 0);
      assert.equal(h.clock.pending, 0, 'no retry is scheduled for an empty queue');
    });
  });

  describe('errors that retrying cannot fix', () => {
    for (const [status, kind] of [[401, 'auth'], [403, 'auth'], [404, 'not-found']] as const) {
      it(`${status}: every item of the batch fails at once, without retry`, async () => {
        const h = harness(() => { throw new InfluxError(`failed: ${status}`, kind, String(status), status); });
        h.push(...items(5));
        await h.clock.advance(60_000);
        assert.equal(h.calls.length, 1);
        for (const i of items(5)) assert.match(h.results.get(i)?.message ?? '', new RegExp(String(status)));
        assert.equal(h.queue.size, 0);
      });
    }

    it('400 partial write: halves are written until the bad lines are isolated', async () => {
      const bad = new Set(['i3', 'i9', 'i10']);
      const h = harness((batch) => {
        const n = batch.filter((i) => bad.has(i)).length;
        if (n) throw new InfluxError(`partial write: field type conflict dropped=${n}`, 'bad-request', '400', 400, n);
      }, { batchSize: 16 });
      const all = items(16);
      h.push(...all);
      await h.clock.advance(0);
      for (const i of all) {
        if (bad.has(i)) assert.match(h.results.get(i)?.message ?? '', /field type conflict/, i);
        else assert.equal(h.results.get(i), null, i);
      }
      assertEachCompletedOnce(h, all);
      assert.ok(h.calls.length <= 1 + 2 * 3 * 4, `bounded requests (${h.calls.length})`);
      assert.ok(h.calls.every((c) => c.at === 0), 'no back-off: isolation is not a retry loop');
    });

    it('400 that dropped every line fails the batch without splitting', async () => {
      const h = harness((batch) => { throw new InfluxError(`partial write: conflict dropped=${batch.length}`, 'bad-request', '400', 400, batch.length); });
      h.push(...items(5));
      await h.clock.advance(0);
      assert.equal(h.calls.length, 1);
      assert.equal([...h.results.values()].filter((e) => e instanceof Error).length, 5);
    });

    it('413: the batch is split, smaller batches follow until the backlog is drained', async () => {
      const tooLarge = (batch: string[]): void => {
        if (batch.length > 2) throw new InfluxError('Request Entity Too Large', 'too-large', '413', 413);
      };
      const h = harness(tooLarge, { batchSize: 8 });
      const all = items(20);
      h.push(...all);
      await h.clock.advance(2000);
      assert.ok([...h.results.values()].every((e) => e === null));
      assertEachCompletedOnce(h, all);
      const written = h.calls.filter((c) => c.items.length <= 2).flatMap((c) => c.items);
      assert.deepEqual(written, all, 'each item written once, in order');
      const failed413 = h.calls.filter((c) => c.items.length > 2).length;
      assert.equal(failed413, 2, `the lowered batch size sticks while the backlog drains (${failed413} refused)`);
      // Once drained, batches are full-size again.
      h.push(...items(8, 'n'));
      await h.clock.advance(0);
      assert.equal(h.calls.at(-1)?.items.length ?? 0, 2);
      assert.ok(h.calls.some((c) => c.items.length === 8), 'a full batch was tried again after draining');
    });

    it('413 on a single line fails that line only', async () => {
      const h = harness((batch) => {
        if (batch.includes('huge')) throw new InfluxError('Request Entity Too Large', 'too-large', '413', 413);
      }, { batchSize: 4 });
      h.push('a', 'huge', 'b', 'c');
      await h.clock.advance(0);
      assert.match(h.results.get('huge')?.message ?? '', /Too Large/);
      for (const i of ['a', 'b', 'c']) assert.equal(h.results.get(i), null);
    });

    it('an unknown error (not from InfluxDB) is reported, not retried', async () => {
      const h = harness(() => { throw new TypeError('boom'); });
      h.push('a');
      await h.clock.advance(5000);
      assert.equal(h.calls.length, 1);
      assert.match(h.results.get('a')?.message ?? '', /boom/);
    });
  });

  describe('overflow', () => {
    it('drop-oldest keeps the newest items and reports each dropped one', async () => {
      let serverUp = false;
      const h = harness(() => (serverUp ? undefined : down()), { bufferLimit: 4, batchIntervalMs: 0, batchSize: 2 });
      const all = items(10);
      for (const i of all) {
        h.push(i);
        await h.clock.advance(10);
      }
      assert.equal(h.queue.size, 4);
      for (const i of all.slice(0, 6)) {
        const e = h.results.get(i);
        assert.ok(e instanceof SinkOverflowError, `${i} dropped`);
        assert.match(e.message, /buffer full \(4 held.*dropped this oldest item; the newest are kept/);
      }
      assert.equal(h.events.filter((e) => e.type === 'dropped').length, 6);
      assert.equal(h.queue.stats.dropped, 6);
      serverUp = true;
      await h.clock.advance(60_000);
      for (const i of all.slice(6)) assert.equal(h.results.get(i), null, `${i} written`);
      assertEachCompletedOnce(h, all);
    });

    it('drop-newest keeps the oldest items and refuses new ones', async () => {
      let serverUp = false;
      const h = harness(() => (serverUp ? undefined : down()), { bufferLimit: 4, batchIntervalMs: 0, overflow: 'drop-newest' });
      const all = items(10);
      const accepted = h.push(...all);
      await h.clock.advance(100);
      assert.deepEqual(accepted, [true, true, true, true, false, false, false, false, false, false]);
      for (const i of all.slice(4)) assert.match(h.results.get(i)?.message ?? '', /dropped this newest item; the older ones are kept/);
      serverUp = true;
      await h.clock.advance(60_000);
      for (const i of all.slice(0, 4)) assert.equal(h.results.get(i), null);
      assertEachCompletedOnce(h, all);
    });

    it('never drops an item that is being written', async () => {
      let release: () => void = () => undefined;
      const h = harness(() => new Promise<void>((r) => { release = r; }), { bufferLimit: 2, batchSize: 2 });
      h.push('a', 'b');
      await h.clock.advance(0);
      assert.equal(h.calls.length, 1);
      const accepted = h.push('c');
      assert.deepEqual(accepted, [false], 'the new item is refused instead');
      release();
      await h.clock.advance(0);
      assert.equal(h.results.get('a'), null);
      assert.equal(h.results.get('b'), null);
      assert.ok(h.results.get('c') instanceof SinkOverflowError);
    });
  });

  describe('pushAll: the items of one msg are taken together or refused together', () => {
    interface Group { done: Array<Error | null>; accepted: boolean }
    const pushAll = (h: Harness, list: string[]): Group => {
      const g: Group = { done: [], accepted: false };
      g.accepted = h.queue.pushAll(list, (err) => { g.done.push(err ?? null); });
      return g;
    };

    it('items that fit are queued and written like single pushes', async () => {
      const h = harness(ok, { bufferLimit: 10, batchSize: 4, batchIntervalMs: 0 });
      const g = pushAll(h, items(10));
      assert.equal(g.accepted, true);
      await h.clock.advance(100);
      assert.deepEqual(h.calls.map((c) => c.items.length), [4, 4, 2]);
      assert.deepEqual(g.done, Array(10).fill(null));
    });

    it('drop-oldest makes room by dropping older items not being written', async () => {
      let serverUp = false;
      const h = harness(() => (serverUp ? undefined : down()), { bufferLimit: 6, batchSize: 2, batchIntervalMs: 0 });
      h.push(...items(5, 'old'));
      await h.clock.advance(100); // the first batch failed and waits for its retry: nothing in flight
      const g = pushAll(h, items(4, 'new'));
      assert.equal(g.accepted, true);
      assert.equal(h.queue.size, 6);
      for (const i of ['old0', 'old1', 'old2']) assert.ok(h.results.get(i) instanceof SinkOverflowError, `${i} dropped`);
      serverUp = true;
      await h.clock.advance(60_000);
      assert.deepEqual(g.done, Array(4).fill(null), 'every item of the msg written');
      assert.equal(h.results.get('old3'), null);
    });

    it('refuses all of them when even dropping the older ones cannot make room (items in flight are never dropped)', async () => {
      let release: () => void = () => undefined;
      const h = harness(() => new Promise<void>((r) => { release = r; }), { bufferLimit: 10, batchSize: 4, batchIntervalMs: 0 });
      h.push(...items(4, 'flying'));
      await h.clock.advance(0);
      assert.equal(h.calls.length, 1, 'four items in flight');
      h.push('queued');
      const g = pushAll(h, items(10, 'new'));
      assert.equal(g.accepted, false);
      assert.equal(g.done.length, 10);
      for (const e of g.done) {
        assert.ok(e instanceof SinkOverflowError);
        assert.match(e.message, /^buffer full \(5 held, limit 10\): these 10 items pushed together do not fit even after dropping the older ones not being written, so none of them was taken; the older ones are kept/);
      }
      assert.equal(h.results.has('queued'), false, 'nothing older was dropped for a msg that is refused anyway');
      assert.deepEqual(h.events.filter((e) => e.type === 'dropped'), [{ type: 'dropped', count: 10, policy: 'drop-oldest' }]);
      assert.equal(h.queue.stats.dropped, 10);
      release();
      await h.clock.advance(10_000);
      release(); // the batch holding 'queued'
      await h.clock.advance(10_000);
      assert.equal(h.results.get('queued'), null);
      assert.ok(h.calls.every((c) => c.items.every((i) => !i.startsWith('new'))), 'no item of the refused msg was written');
    });

    it('drop-newest refuses the whole msg when it does not fit', async () => {
      const h = harness(down, { bufferLimit: 5, overflow: 'drop-newest', batchIntervalMs: 0 });
      h.push('a', 'b', 'c');
      await h.clock.advance(10);
      const g = pushAll(h, items(3));
      assert.equal(g.accepted, false);
      for (const e of g.done) assert.match(e?.message ?? '', /these 3 items pushed together do not fit, so none of them was taken/);
      assert.equal(h.queue.size, 3);
      const fits = pushAll(h, items(2, 'f'));
      assert.equal(fits.accepted, true);
      assert.equal(h.queue.size, 5);
    });

    it('after close, all are refused with the reason', async () => {
      const h = harness(ok);
      await h.queue.close(1000);
      const g = pushAll(h, items(3));
      assert.equal(g.accepted, false);
      assert.deepEqual(g.done.map((e) => e?.message), Array(3).fill('the sink is closing: not written'));
    });
  });

  describe('close', () => {
    it('writes what is waiting at once, without waiting for the interval', async () => {
      const h = harness(ok, { batchIntervalMs: 60_000 });
      h.push('a', 'b');
      const closed = h.queue.close(5000);
      await h.clock.advance(0);
      assert.deepEqual(await closed, { unwritten: 0 });
      assert.equal(h.results.get('a'), null);
      assert.equal(h.clock.pending, 0, 'no timer left behind');
      const accepted = h.push('after');
      assert.deepEqual(accepted, [false]);
      assert.match(h.results.get('after')?.message ?? '', /closing/);
    });

    it('retries during the close window, then fails what is left at the deadline', async () => {
      const h = harness(down, { batchIntervalMs: 0 });
      h.push('a', 'b', 'c');
      await h.clock.advance(20_000); // deep in back-off
      const callsBefore = h.calls.length;
      let result: { unwritten: number } | undefined;
      void h.queue.close(5000).then((r) => { result = r; });
      await h.clock.advance(0);
      assert.equal(h.calls.length, callsBefore + 1, 'closing tries at once');
      await h.clock.advance(5000);
      assert.ok(h.calls.length >= callsBefore + 4, 'and keeps trying often within the close window');
      assert.deepEqual(result, { unwritten: 3 });
      for (const i of ['a', 'b', 'c']) assert.match(h.results.get(i)?.message ?? '', /not written before the sink closed: .*ECONNREFUSED/);
      assertEachCompletedOnce(h, ['a', 'b', 'c']);
      assert.equal(h.clock.pending, 0);
    });

    it('a server back within the close window gets the backlog', async () => {
      let serverUp = false;
      const h = harness(() => (serverUp ? undefined : down()), { batchIntervalMs: 0 });
      h.push(...items(7));
      await h.clock.advance(20_000);
      const closed = h.queue.close(5000);
      await h.clock.advance(1500);
      serverUp = true;
      await h.clock.advance(1000);
      assert.deepEqual(await closed, { unwritten: 0 });
      assertEachCompletedOnce(h, items(7));
      assert.ok([...h.results.values()].every((e) => e === null));
    });

    it('aborts a write still open at the deadline and ignores its late answer', async () => {
      let release: () => void = () => undefined;
      const h = harness(() => new Promise<void>((r) => { release = r; }));
      h.push(...items(5));
      await h.clock.advance(0);
      const closed = h.queue.close(5000);
      await h.clock.advance(5000);
      assert.deepEqual(await closed, { unwritten: 5 });
      assert.equal(h.calls[0].signal.aborted, true);
      release();
      await h.clock.advance(0);
      assertEachCompletedOnce(h, items(5));
      assert.ok(h.results.get('i0') instanceof Error);
    });
  });

  it('a completion that throws does not break the queue', async () => {
    const clock = new FakeClock();
    const written: string[] = [];
    const q = new SinkQueue<string>({
      batchSize: 1, batchIntervalMs: 0, bufferLimit: 10, overflow: 'drop-oldest', maxRetryAgeMs: 1000, clock,
      classify: (): FailureAction => 'fail',
      write: async (batch) => { written.push(...batch); },
    });
    q.push('a', () => { throw new Error('listener bug'); });
    q.push('b', () => undefined);
    await clock.advance(0);
    assert.deepEqual(written, ['a', 'b']);
  });

  it('validates its options', () => {
    const base = { batchSize: 1, batchIntervalMs: 0, bufferLimit: 1, overflow: 'drop-oldest' as const, maxRetryAgeMs: 1, classify: (): FailureAction => 'fail', write: async () => undefined };
    assert.throws(() => new SinkQueue({ ...base, batchSize: 0 }), /batchSize/);
    assert.throws(() => new SinkQueue({ ...base, bufferLimit: 0 }), /bufferLimit/);
  });
});
