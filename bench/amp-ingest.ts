/**
 * AMP InfluxDB source throughput against a real private influxd (test/support/influxd):
 * - live: AMP2 latency points written to InfluxDB, forwarded by its subscription to the
 *   source's HTTP listener, parsed (line protocol → AMP measurement) and delivered to the
 *   library's consumer; points/s from the first write to the last delivery;
 * - live into Node-RED: the same, through a real Node-RED running the streamevmon-amp node
 *   (live, one msg per measurement) wired to a counting function node: points/s from the first
 *   write until the node's output has delivered the last point;
 * - history: the real AMP2 export (132,173 points, 10 measurements) read back as chunked
 *   queries merged by time; points/s.
 * Run: npm run build && node dist/bench/amp-ingest.js [livePoints]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import zlib from 'node:zlib';
import { AmpSource } from '../lib/amp/source';
import { SCHEMA_MEASUREMENTS } from '../lib/amp/source-query';
import { InfluxClient } from '../lib/influx/client';
import { Influxd, findInfluxd } from '../test/support/influxd';
import { NodeRedProcess } from '../test/e2e/nodered';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'amp', 'amp2.lproto.gz');

function line(i: number, t0: number): string {
  return `latency,destination=d${i % 1000}.example.net,dscp=Default,family=ipv4,packet_size=84,random=False,source=bench.amp.wand.net.nz,test=icmp count=1i,error_code=0i,error_type=0i,loss=0i,rtt=${20000 + (i % 977)}i ${(BigInt(t0 + i) * 1_000_000n).toString()}`;
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

function source(client: InfluxClient, onCount: (n: number) => void, name: string): AmpSource {
  return new AmpSource({
    client, database: 'amp', retentionPolicy: '', schema: 'amp2', measurements: SCHEMA_MEASUREMENTS.amp2, tagFilter: {},
    chunkSize: 1000, groupSize: 200, bufferLimit: 1_000_000,
    listen: { host: '127.0.0.1', port: 0, advertisedHost: '', maxBodyBytes: 32 << 20, subscriptionName: name, checkIntervalMs: 10_000 },
  }, {
    deliver: (ms) => {
      onCount(ms.length);
      return nextTurn();
    },
    state: () => undefined,
    parseError: (r) => console.error('parse error:', r),
    failed: (e) => console.error('failed:', e.message),
  });
}

async function live(server: Influxd, client: InfluxClient, total: number, batch: number): Promise<number> {
  let got = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((r) => { resolveAll = r; });
  const src = source(client, (n) => {
    got += n;
    if (got >= total) resolveAll();
  }, `bench_live_${batch}`);
  await src.start('live');
  while (src.state.phase !== 'live') await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1000));
  const start = performance.now();
  await writeAll(server, total, batch);
  const timeout = setTimeout(() => resolveAll(), 60_000);
  await all;
  clearTimeout(timeout);
  const secs = (performance.now() - start) / 1000;
  await src.stop();
  if (got < total) console.error(`live: only ${got} of ${total} points arrived (InfluxDB's subscriber dropped some?)`);
  return got / secs;
}

/** Write `total` points in bodies of `batch` lines from 4 concurrent writers, as several amplet collectors would. */
async function writeAll(server: Influxd, total: number, batch: number): Promise<void> {
  const t0 = Date.now() - 86_400_000;
  const bodies: string[] = [];
  for (let i = 0; i < total; i += batch) bodies.push(Array.from({ length: Math.min(batch, total - i) }, (_, k) => line(i + k, t0)).join('\n'));
  let next = 0;
  const writer = async (): Promise<void> => {
    while (next < bodies.length) {
      const status = await server.write('amp', bodies[next++]);
      if (status !== 204) throw new Error(`write answered ${status}`);
    }
  };
  await Promise.all([writer(), writer(), writer(), writer()]);
}

/** Live ingest through a real Node-RED: the amp node's output, counted by a function node. */
async function liveInNodeRed(server: Influxd, total: number, batch: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streamevmon-amp-bench-'));
  const flowFile = path.join(dir, 'flow.json');
  fs.writeFileSync(flowFile, JSON.stringify([
    { id: 'tab', type: 'tab', label: 'amp bench' },
    { id: 'bench-influx', type: 'streamevmon-influxdb', name: 'bench', host: '127.0.0.1', port: String(server.port), tls: false, database: 'amp', retentionPolicy: '', timeout: '30' },
    {
      id: 'bench-amp', z: 'tab', type: 'streamevmon-amp', influxdb: 'bench-influx', schema: 'amp2', measurements: 'latency', mode: 'live', output: 'single',
      startOnDeploy: true, bindHost: '127.0.0.1', port: '0', subscriptionName: `bench_nodered_${batch}`, maxBodyKiB: '32768', checkInterval: '10',
      wires: [['bench-count'], ['bench-live']],
    },
    // Passes one msg on, when the last point has arrived. (Ids unlike any property value:
    // Node-RED takes a property equal to a node id, such as mode 'live', for a reference.)
    { id: 'bench-count', z: 'tab', type: 'function', func: `const n = (context.get('n') || 0) + 1; context.set('n', n); return n === ${total} ? { payload: n } : null;`, outputs: 1, wires: [['bench-complete']] },
    { id: 'bench-complete', z: 'tab', type: 'debug', name: 'complete', active: true, tosidebar: false, console: true, complete: 'payload', wires: [] },
    { id: 'bench-live', z: 'tab', type: 'debug', name: 'live', active: true, tosidebar: false, console: true, complete: 'topic', wires: [] },
  ]));
  const nr = await NodeRedProcess.start({ flowFile });
  try {
    await nr.waitForLog(/\[debug:live\]/, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const start = process.hrtime.bigint();
    await writeAll(server, total, batch);
    await nr.waitForLog(/\[debug:complete\]/, 120_000);
    const end = nr.timeOfLog(/\[debug:complete\]/) as bigint;
    return total / (Number(end - start) / 1e9);
  } finally {
    await nr.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function history(client: InfluxClient, expected: number): Promise<number> {
  let got = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => { resolveDone = r; });
  const run = new AmpSource({
    client, database: 'amp', retentionPolicy: '', schema: 'amp2', measurements: SCHEMA_MEASUREMENTS.amp2, tagFilter: {},
    chunkSize: 1000, groupSize: 200, bufferLimit: 1, listen: { host: '127.0.0.1', port: 0, advertisedHost: '', maxBodyBytes: 1, subscriptionName: '-', checkIntervalMs: 1 },
  }, {
    deliver: (ms) => { got += ms.length; return nextTurn(); },
    state: () => undefined, parseError: (r) => console.error(r), failed: (e) => { console.error(e.message); resolveDone(); }, historyDone: () => resolveDone(),
  });
  const start = performance.now();
  await run.start('history', { end: Date.parse('2022-01-01T00:00:00Z') });
  await done;
  const secs = (performance.now() - start) / 1000;
  if (got < expected) console.error(`history: ${got} of at least ${expected} points`);
  return got / secs;
}

async function main(): Promise<void> {
  const bin = findInfluxd();
  if (!bin) {
    console.error('influxd not found (apt-get install influxdb): cannot run the AMP ingest benchmark');
    process.exit(1);
  }
  const total = Number(process.argv[2] ?? 100_000);
  const server = await Influxd.start(bin);
  try {
    await server.query('CREATE DATABASE amp');
    const client = new InfluxClient({ host: '127.0.0.1', port: server.port, timeoutMs: 30_000 });
    console.log(`influxd 1.6 at ${server.url}; Node ${process.version}`);
    for (const batch of [5000, 500]) {
      const rate = await live(server, client, total, batch);
      console.log(`live ingest  : ${total} AMP2 latency points, ${batch} per write, 4 writers: ${Math.round(rate).toLocaleString('en')} points/s (write → subscription → listener → parser → consumer)`);
    }
    for (const batch of [5000, 500]) {
      const rate = await liveInNodeRed(server, total, batch);
      console.log(`live, Node-RED: ${total} AMP2 latency points, ${batch} per write, 4 writers: ${Math.round(rate).toLocaleString('en')} points/s (write → subscription → amp node → its output, one msg per point)`);
    }
    const text = zlib.gunzipSync(fs.readFileSync(FIXTURE)).toString('utf8');
    const lines = text.split('\n').filter((l) => l !== '');
    for (let i = 0; i < lines.length; i += 10_000) await server.write('amp', lines.slice(i, i + 10_000).join('\n'));
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) rates.push(await history(client, lines.length));
    rates.sort((a, b) => a - b);
    console.log(`history read : ${lines.length} AMP2 points (10 measurements, the 2021 range only), chunk 1000: median ${Math.round(rates[1]).toLocaleString('en')} points/s (of 3 runs: ${rates.map((r) => Math.round(r).toLocaleString('en')).join(', ')})`);
  } finally {
    await server.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
