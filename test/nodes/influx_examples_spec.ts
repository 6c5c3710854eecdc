/**
 * The examples of the InfluxDB sink and alerting do what their comments say: 03 stores each
 * event once (tagged in_group) and its group, in a real private influxd; 04 turns only severe
 * events into alert text, at most one a minute. The dashboard example is well-formed.
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import influxConfigNode = require('../../nodes/streamevmon-influxdb');
import influxEventsNode = require('../../nodes/streamevmon-influx-events');
import spikeNode = require('../../nodes/streamevmon-spike');
import changepointNode = require('../../nodes/streamevmon-changepoint');
import eventGroupNode = require('../../nodes/streamevmon-event-group');
import { Influxd, requireInfluxd } from '../support/influxd';
import { collect, helper, projectRoot, settle } from './helpers';

type FlowNode = Record<string, any>;

function readExample(rel: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'examples', rel), 'utf8')) as FlowNode[];
}

/** The one node matching, or a failed test. */
function one(nodes: FlowNode[], match: (n: FlowNode) => boolean, what: string): FlowNode {
  const found = nodes.find(match);
  assert.ok(found, `example has ${what}`);
  return found;
}

function core(file: string): unknown {
  return require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [require.resolve('node-red')] }));
}

/**
 * An example as the editor would import it onto a tab, without its inject, comment and
 * network-out nodes; debug nodes become helper nodes with the same id.
 */
function onTab(nodes: FlowNode[], drop: string[] = []): FlowNode[] {
  const dropped = new Set(nodes.filter((n) => ['inject', 'comment', ...drop].includes(n.type)).map((n) => n.id));
  return [
    { id: 'tab', type: 'tab' },
    ...nodes.filter((n) => !dropped.has(n.id)).map((n) => ({
      ...(n.type === 'debug' ? { id: n.id, type: 'helper' } : n),
      z: 'tab',
      wires: (n.wires ?? []).map((port: string[]) => port.filter((id) => !dropped.has(id))),
    })),
  ];
}

const T0 = 1_700_000_000_000;

describe('InfluxDB and alerting examples', function () {
  this.timeout(60_000);
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  describe('events/03 - Detections to InfluxDB', () => {
    let server: Influxd;
    before(async function () {
      server = await Influxd.start(requireInfluxd(this));
    });
    after(async () => {
      await server?.dispose();
    });

    it('stores each detector\'s events once with their in_group tags, and every group when it closes', async () => {
      const nodes = readExample('events/03 - Detections to InfluxDB.json');
      assert.ok(nodes.some((n) => n.type === 'comment' && /Configure the server first/.test(n.info)));
      const sink = one(nodes, (n) => n.type === 'streamevmon-influx-events', 'a sink');
      const group = one(nodes, (n) => n.type === 'streamevmon-event-group', 'an event group node');
      // Only the event group node feeds the sink: each event is written once (data-formats.md §12.4).
      const feeders = nodes.filter((n) => (n.wires ?? []).some((port: string[]) => port.includes(sink.id)));
      assert.deepEqual(feeders.map((n) => n.type), ['streamevmon-event-group']);

      const flow = onTab(nodes).map((n) => (n.type === 'streamevmon-influxdb' ? { ...n, host: '127.0.0.1', port: String(server.port), database: 'example03' } : n));
      await helper.load([influxConfigNode, influxEventsNode, spikeNode, changepointNode, eventGroupNode, core('function/10-function.js')] as never, flow as never);
      const stored = collect(one(nodes, (n) => n.name === 'stored', 'a "stored" debug').id);
      const errors = collect(one(nodes, (n) => n.name === 'write errors', 'a "write errors" debug').id);
      const fn = helper.getNode(one(nodes, (n) => n.type === 'function', 'a function').id);
      // Ten minutes: link-a spikes at 60, 180, 300, 420 and 540 s; link-b doubles at 300 s and
      // returns at 480 s.
      for (let i = 0; i < 600; i++) fn.receive({ payload: T0 + i * 1000 });
      const storedEvents = (): number => stored.msgs.filter((m) => m.payload?.eventType !== undefined).length;
      const deadline = Date.now() + 10_000;
      while (storedEvents() < 7 && Date.now() < deadline) await settle(50);
      helper.getNode(group.id).receive({ flush: true });
      await settle(1500);
      assert.equal(errors.msgs.length, 0);
      assert.equal(storedEvents(), 7);

      const events = await server.rows('SELECT * FROM events', 'example03');
      const seen = events.map((e) => [e.event_type, e.stream, (Number(e.time) - T0) / 1000]);
      assert.deepEqual(seen, [
        ['spike_events', 'link-a', 60], ['spike_events', 'link-a', 180], ['spike_events', 'link-a', 300],
        ['changepoint_events', 'link-b', 340], ['spike_events', 'link-a', 420],
        ['changepoint_events', 'link-b', 520], ['spike_events', 'link-a', 540],
      ], 'each event stored once, no spike events from link-b\'s level changes');
      assert.match(String(events[3].description), /^Latency increased from 2\d{4} to 4\d{4}$/);
      // Groups: events closer than 10 s, counting back to a change's estimated start, share one.
      const groups = await server.rows('SELECT * FROM event_groups', 'example03');
      assert.ok(groups.length >= 2 && groups.length <= 7, `${groups.length} groups`);
      assert.equal(stored.msgs.length, 7 + groups.length, 'each event and each group stored once');
      assert.deepEqual(new Set(groups.map((g) => g.uid)), new Set(events.map((e) => e.in_group)), 'every event links to its group');
      assert.equal(groups.reduce((n, g) => n + Number(g.event_count), 0), 7);
    });
  });

  describe('events/04 - Alert on severe events', () => {
    it('alerts on the severe spike only, once a minute at most', async () => {
      const nodes = readExample('events/04 - Alert on severe events.json');
      const mqtt = one(nodes, (n) => n.type === 'mqtt out', 'an mqtt out node');
      assert.equal(mqtt.broker, '', 'the mqtt out node is left for the user to configure');
      assert.ok(nodes.some((n) => n.type === 'comment' && /node-red-node-email/.test(n.info)));
      const spike = one(nodes, (n) => n.type === 'streamevmon-spike', 'a spike detector');
      const flow = onTab(nodes, ['mqtt out']);
      one(flow, (n) => n.id === spike.id, 'the spike detector').wires[0].push('detected');
      flow.push({ id: 'detected', z: 'tab', type: 'helper' });
      await helper.load([spikeNode, core('function/10-function.js'), core('function/10-switch.js'), core('function/89-delay.js'), core('function/80-template.js')] as never, flow as never);
      const detected = collect('detected');
      const alerts = collect(one(nodes, (n) => n.name === 'alert text', 'an "alert text" debug').id);
      const fn = helper.getNode(one(nodes, (n) => n.type === 'function', 'a function').id);
      // Spikes at 60 s and 180 s, a small blip at 120 s.
      for (let i = 0; i < 190; i++) fn.receive({ payload: T0 + i * 1000 });
      await detected.waitFor(3, 10_000);
      await settle(500);
      const severities = detected.msgs.map((m) => m.payload.severity);
      assert.equal(severities.length, 3);
      assert.ok(severities[0] >= 80 && severities[2] >= 80, `spikes are severe: ${severities}`);
      assert.ok(severities[1] < 80, `the blip is not: ${severities}`);
      assert.equal(alerts.msgs.length, 1, 'the second severe spike within a minute is dropped by the rate limit');
      assert.equal(alerts.msgs[0].payload, `ALERT [severity ${severities[0]}] spike_events on link-a: Positive at ${new Date(T0 + 60_000).toISOString()}`);
    });
  });

  it('dashboard/Plot latency with anomalies is a flat array that names the module it needs', () => {
    const nodes = readExample('dashboard/Plot latency with anomalies.json');
    assert.ok(Array.isArray(nodes));
    const types = new Set(nodes.map((n) => n.type));
    for (const t of ['ui-chart', 'ui-group', 'ui-page', 'ui-base', 'ui-theme', 'streamevmon-spike']) assert.ok(types.has(t), t);
    assert.ok(one(nodes, (n) => n.type === 'global-config', 'a global-config').modules['@flowfuse/node-red-dashboard']);
    assert.ok(nodes.some((n) => n.type === 'comment' && /Manage palette/.test(n.info)));
    const ids = new Set(nodes.map((n) => n.id));
    for (const n of nodes) for (const port of n.wires ?? []) for (const id of port) assert.ok(ids.has(id), `${n.id} → ${id}`);
    for (const n of nodes.filter((x) => x.group)) assert.ok(ids.has(n.group));
  });
});
