/**
 * Events sink benchmark against a private influxd (one run, this machine):
 * 1. throughput: events/s rendered, queued, written in batches of 500 and confirmed;
 * 2. drain: influxd is stopped while 5,000 events are queued, then started again; how long
 *    until every event is confirmed (split into the back-off wait and the write time).
 * Run after a build: node dist/bench/sink.js [events]
 */
import os from 'node:os';
import type { DetectorEvent } from '../lib/event';
import { InfluxClient } from '../lib/influx/client';
import { classifyWriteFailure } from '../lib/influx/events-sink';
import { eventLine } from '../lib/influx/event-line';
import { createDatabase } from '../lib/influx/influxql';
import { SinkQueue } from '../lib/influx/sink-queue';
import { Influxd, findInfluxd } from '../test/support/influxd';

const BACKLOG = 5000;

function event(i: number): DetectorEvent {
  return {
    eventType: ['changepoint_events', 'spike_events', 'loss_events'][i % 3], stream: `ICMP-${i % 1000}`, severity: i % 101,
    time: 1_700_000_000_000 + i, detectionLatency: (i % 7) * 1000, description: `Latency increased from ${i} to ${i * 2}`,
    tags: { in_group: `group-${Math.floor(i / 50)}` },
  };
}

function makeQueue(client: InfluxClient, db: string, onWrite?: () => void): SinkQueue<string> {
  return new SinkQueue<string>({
    batchSize: 500, batchIntervalMs: 1000, bufferLimit: 1_000_000, overflow: 'drop-oldest', maxRetryAgeMs: 600_000,
    classify: classifyWriteFailure,
    write: async (lines, signal) => {
      await client.write(lines, { db, precision: 'ns', signal });
      onWrite?.();
    },
  });
}

/** Push events [from, to) and resolve when every one is confirmed written. */
function pushAll(queue: SinkQueue<string>, from: number, to: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = to - from;
    for (let i = from; i < to; i++) {
      queue.push(eventLine(event(i)), (err) => {
        if (err) reject(err);
        else if (--left === 0) resolve();
      });
    }
  });
}

async function count(server: Influxd, db: string): Promise<number> {
  const [row] = await server.rows('SELECT count(severity) FROM events', db);
  return Number(row?.count ?? 0);
}

async function main(): Promise<void> {
  const bin = findInfluxd();
  if (!bin) {
    console.warn('!!! bench/sink: influxd not found (apt-get install influxdb): nothing measured');
    return;
  }
  const n = Number(process.argv[2] ?? 100_000);
  const server = await Influxd.start(bin);
  try {
    const client = new InfluxClient({ host: '127.0.0.1', port: server.port });
    console.log(`sink benchmark: ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, node ${process.version}, influxd ${(await client.ping()).version}`);

    await client.query(createDatabase('bench'));
    const queue = makeQueue(client, 'bench');
    await pushAll(queue, 0, 1000); // warm-up: JIT, keep-alive connection, shard creation
    const t0 = process.hrtime.bigint();
    await pushAll(queue, 1000, 1000 + n);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const stored = await count(server, 'bench');
    console.log(`throughput: ${n} events in ${s.toFixed(2)} s = ${Math.round(n / s)} events/s (batches of 500; ${stored} stored)`);

    await client.query(createDatabase('drain'));
    let firstWriteAt = 0;
    const drainQueue = makeQueue(client, 'drain', () => { if (!firstWriteAt) firstWriteAt = Date.now(); });
    await pushAll(drainQueue, 0, 1);
    firstWriteAt = 0;
    await server.stop();
    const done = pushAll(drainQueue, 1, 1 + BACKLOG);
    await new Promise((r) => setTimeout(r, 3000)); // a 3 s outage
    await server.start();
    const backAt = Date.now();
    await done;
    const end = Date.now();
    const drained = await count(server, 'drain');
    console.log(`drain: ${BACKLOG} events queued during a 3 s outage, all confirmed ${((end - backAt) / 1000).toFixed(2)} s after influxd was back `
      + `(back-off wait ${((firstWriteAt - backAt) / 1000).toFixed(2)} s, writing ${((end - firstWriteAt) / 1000).toFixed(2)} s; ${drained - 1} stored)`);
  } finally {
    await server.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
