/**
 * The example flows not covered next to their node's own tests: each does what its comment
 * node promises. The inject nodes are dropped and the example's own function node is fed one
 * tick at a time, so a test takes milliseconds instead of the minutes the flow runs for.
 */
import { strict as assert } from 'node:assert';
import distdiffNode = require('../../nodes/streamevmon-distdiff');
import eventFilterNode = require('../../nodes/streamevmon-event-filter');
import eventGroupNode = require('../../nodes/streamevmon-event-group');
import latencytsNode = require('../../nodes/streamevmon-latencyts');
import modeNode = require('../../nodes/streamevmon-mode');
import { LoadedExample, helper, lastStatus, loadExample, settle } from './helpers';

/** Send `count` ticks into the example's function node (what its inject node would do). */
function tick(ex: LoadedExample, count: number): void {
  for (let i = 0; i < count; i++) ex.trigger('function', { payload: Date.now() });
}

/** The comment node's text, where each example states what the user will see. */
function commentOf(ex: LoadedExample): string {
  return String(ex.nodes.find((n) => n.type === 'comment')?.info ?? '');
}

describe('example flows (the rest)', () => {
  beforeEach(() => helper.startServer());
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('"04 - Distdiff detector": one event per level change, a dozen or so values after it, none in between', async () => {
    const ex = await loadExample('detectors/04 - Distdiff detector on injected values.json', [distdiffNode]);
    tick(ex, 400); // level changes at values 80, 160, 240 and 320
    await settle(200);
    const events = ex.out.msgs.map((m) => m.payload);
    assert.equal(events.length, 4, JSON.stringify(events.map((e) => e.description)));
    events.forEach((e, i) => {
      assert.equal(e.eventType, 'distdiff_events');
      assert.equal(e.stream, 'demo-link');
      assert.match(e.description, i % 2 === 0 ? /Mean has increased from/ : /Mean has decreased from/);
      assert.match(e.description, /^Distribution of Series has changed\./);
    });
    assert.match(commentOf(ex), /reports each level change once/);
  });

  it('"05 - Mode detector": the 17th value of each new level reports the mode change, severity 37', async function () {
    this.timeout(5000);
    const ex = await loadExample('detectors/05 - Mode detector on injected values.json', [modeNode]);
    tick(ex, 200); // levels switch at values 40, 80, 120 and 160
    await settle(200);
    const events = ex.out.msgs.map((m) => m.payload);
    assert.deepEqual(events.map((e) => e.description), [
      'Mode changed from 25000 to 48000!',
      'Mode changed from 48000 to 25000!',
      'Mode changed from 25000 to 48000!',
      'Mode changed from 48000 to 25000!',
    ]);
    for (const e of events) {
      assert.equal(e.severity, 37);
      assert.equal(e.stream, 'router-a');
    }
    assert.match(commentOf(ex), /Mode changed from 25000 to 48000!` \(severity 37\)/);

    // "reset router-a": a new warm-up, so the next switch is adopted silently.
    // The status shows at most once a second, then catches up with the last counts.
    const mode = helper.getNode(ex.nodes.find((n) => n.type === 'streamevmon-mode').id);
    await settle(1100);
    assert.equal(lastStatus(mode).text, '1 stream · 4 events');
    mode.receive({ topic: 'router-a', reset: true });
    await settle(1100);
    assert.equal(lastStatus(mode).text, '0 streams · 4 events');
  });

  it('"01 - Frequent event filter": five events pass, the 6th becomes a small bulk event, the 16th a medium one', async () => {
    const ex = await loadExample('events/01 - Frequent event filter.json', [eventFilterNode]);
    tick(ex, 300); // one flood of 20 events, then 280 quiet ticks
    await settle(200);
    const out = ex.out.msgs.map((m) => m.payload);
    assert.deepEqual(out.map((e) => e.eventType), [
      'loss_events', 'loss_events', 'loss_events', 'loss_events', 'loss_events', 'bulk_loss_events', 'bulk_loss_events',
    ]);
    assert.equal(out[5].severity, 25);
    assert.equal(out[5].description, 'Frequent events of type loss_events - configuration name "small (5 events in 60 seconds)"');
    assert.equal(out[6].severity, 50);
    assert.match(out[6].description, /configuration name "medium \(15 events in 120 seconds\)"/);
    const filter = helper.getNode(ex.nodes.find((n) => n.type === 'streamevmon-event-filter').id);
    await settle(1100); // the status shows at most once a second, then catches up
    assert.equal(lastStatus(filter).text, '1 stream · passed 5 · suppressed 15 · bulk 2');
  });

  it('"02 - Temporal event grouping": the three events share one group; the group reads as the comment says', async function () {
    this.timeout(10_000);
    const ex = await loadExample('events/02 - Temporal event grouping.json', [eventGroupNode]);
    // The function's ticks 0, 2 and 3 carry the incident; a tick stands for one second.
    tick(ex, 1); // loss on link-a
    tick(ex, 1); // nothing
    await settle(2000);
    tick(ex, 1); // changepoint on link-a-latency, started 4.5 s earlier
    await settle(1000);
    tick(ex, 1); // mode on link-b
    await settle(100);
    const events = ex.out.msgs.filter((m) => m.payload.eventType !== 'event_group');
    assert.equal(events.length, 3);
    const groupIds = new Set(events.map((m) => m.payload.tags.in_group));
    assert.equal(groupIds.size, 1);
    assert.match([...groupIds][0], /^[0-9a-f-]{36}$/);

    ex.trigger('streamevmon-event-group', { flush: true });
    await settle(100);
    const groups = ex.out.msgs.filter((m) => !events.includes(m));
    assert.equal(groups.length, 1);
    const described = /`(Group of 3 events[^`]*)`/.exec(commentOf(ex))?.[1];
    assert.ok(described, 'the comment quotes the group description');
    assert.equal(groups[0].payload.description, described);
  });

  it('"01 - Latency TS I file replay": start sends smokeping measurements in ms, stop ends the replay', async () => {
    helper.settings({});
    const ex = await loadExample('sources/01 - Latency TS I file replay.json', [latencytsNode]);
    const source = helper.getNode(ex.nodes.find((n) => n.type === 'streamevmon-latencyts').id);
    source.receive({ payload: 'start' });
    const end = Date.now() + 5000;
    while (ex.out.msgs.length < 3 && Date.now() < end) await settle(20);
    const [first] = ex.out.msgs;
    assert.ok(first, 'measurements arrive');
    assert.match(first.topic, /^LatencyTSSmokeping-(afrinic\.net|ipv6\.google\.com|www\.ripe\.net)$/);
    assert.equal(first.payload.kind, 'LatencyTSSmokeping');
    assert.ok(first.payload.value > 1 && first.payload.value < 2000, `a median RTT in ms: ${first.payload.value}`);
    source.receive({ payload: 'stop' });
    await settle(100);
    const after = ex.out.msgs.length;
    await settle(1000); // speed 600: about 6 msgs a second if it were still running
    assert.equal(ex.out.msgs.length, after, 'no measurement after stop');
  });

  it('"01 - Latency TS I file replay" at full speed: the complete msg counts every row of the three files', async () => {
    helper.settings({});
    const ex = await loadExample('sources/01 - Latency TS I file replay.json', [latencytsNode], {
      edit: (n) => (n.type === 'streamevmon-latencyts' ? { ...n, mode: 'fast' } : n),
    });
    ex.trigger('streamevmon-latencyts', { payload: 'start' });
    const end = Date.now() + 10_000;
    while (!ex.out.msgs.some((m) => m.topic === 'complete') && Date.now() < end) await settle(20);
    const complete = ex.out.msgs.find((m) => m.topic === 'complete');
    assert.ok(complete, 'the replay completes');
    assert.equal(complete.payload.files, 3);
    assert.equal(complete.payload.rows, 3 * 576);
    assert.equal(complete.payload.malformed, 0);
    assert.equal(ex.out.msgs.filter((m) => m.topic !== 'complete').length, 3 * 576);
  });
});
