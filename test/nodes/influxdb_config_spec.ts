/**
 * The streamevmon-influxdb configuration node against a real private influxd: state events
 * (connecting, connected, error), recovery by ping with back-off, credentials kept as
 * credentials, and the state shown by the nodes that use it.
 */
import { strict as assert } from 'node:assert';
import influxConfigNode = require('../../nodes/streamevmon-influxdb');
import influxEventsNode = require('../../nodes/streamevmon-influx-events');
import { Influxd, requireInfluxd } from '../support/influxd';
import { helper, lastStatus, settle } from './helpers';

const NODES = [influxConfigNode, influxEventsNode] as never;

function flow(port: number, withSink = true): any[] {
  return [
    { id: 'f1', type: 'tab' },
    { id: 'cfg', type: 'streamevmon-influxdb', host: '127.0.0.1', port: String(port), database: 'cfgtest' },
    ...(withSink ? [{ id: 'sink', z: 'f1', type: 'streamevmon-influx-events', influxdb: 'cfg', wires: [] }] : []),
  ];
}

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(50);
  }
}

describe('streamevmon-influxdb configuration node (real influxd)', function () {
  this.timeout(60_000);
  let bin = '';
  let server: Influxd;
  before(async function () {
    bin = requireInfluxd(this);
    server = await Influxd.start(bin);
  });
  after(async () => {
    await server?.dispose();
  });
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('checks the server once a node uses it: connecting, then connected with the version', async () => {
    await helper.load(NODES, flow(server.port));
    const cfg = helper.getNode('cfg') as any;
    const states: string[] = [];
    cfg.onState((s: { state: string }) => states.push(s.state));
    await waitUntil(() => cfg.influxState.state === 'connected', 5000, 'connected');
    assert.match(cfg.influxState.version, /^1\./);
    assert.equal(cfg.settings.database, 'cfgtest');
    await waitUntil(() => lastStatus(helper.getNode('sink')).text === 'connected', 3000, 'the sink to show it');
    assert.equal(lastStatus(helper.getNode('sink')).fill, 'green');
  });

  it('does not contact the server while no node uses it', async () => {
    await helper.load(NODES, flow(server.port, false));
    await settle(300);
    assert.equal((helper.getNode('cfg') as any).influxState.state, 'idle');
  });

  it('reports a server that is down, and finds it again with back-off', async () => {
    const outage = await Influxd.start(bin);
    try {
      await outage.stop();
      await helper.load(NODES, flow(outage.port));
      const cfg = helper.getNode('cfg') as any;
      await waitUntil(() => cfg.influxState.state === 'error', 5000, 'error');
      assert.equal(cfg.influxState.code, 'ECONNREFUSED');
      await waitUntil(() => lastStatus(helper.getNode('sink')).text === 'error: ECONNREFUSED', 3000, 'the sink to show it');
      const warned = (cfg.warn as { getCalls(): Array<{ args: unknown[] }> }).getCalls().map((c) => String(c.args[0]));
      assert.ok(warned.some((w) => /cannot reach the server/.test(w)));
      await settle(2000);
      const warnedLater = (cfg.warn as { getCalls(): unknown[] }).getCalls().length;
      assert.ok(warnedLater <= 2, `the same failure is logged at most once per 10 s (${warnedLater})`);
      await outage.start();
      await waitUntil(() => cfg.influxState.state === 'connected', 20_000, 'connected again');
    } finally {
      await outage.dispose();
    }
  });

  it('keeps user and password as credentials, out of the flow', async () => {
    const nodes = flow(server.port);
    await helper.load(NODES, nodes, { cfg: { user: 'amp', password: 'pw' } });
    const cfg = helper.getNode('cfg') as any;
    assert.deepEqual(cfg.credentials, { user: 'amp', password: 'pw' });
    assert.equal(JSON.stringify(nodes).includes('pw'), false);
  });
});
