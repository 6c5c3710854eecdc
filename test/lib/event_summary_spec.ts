import { strict as assert } from 'node:assert';
import { DetectorEvent, eventSummary, tidyNumbers } from '../../lib/event';

describe('eventSummary (the one-line alert text)', () => {
  const event = (description: string, detectionLatency = 0): DetectorEvent => ({
    eventType: 'baseline_events', stream: 'a-b-ipv4', severity: 91, time: Date.UTC(2014, 0, 30, 4, 14, 9),
    detectionLatency, description, tags: {},
  } as DetectorEvent);

  it('gives severity, type, stream, description and time on one line', () => {
    assert.equal(eventSummary(event('Positive')), '[severity 91] baseline_events on a-b-ipv4: Positive at 2014-01-30T04:14:09.000Z');
  });

  it('says how much earlier the anomaly started', () => {
    assert.match(eventSummary(event('Latency increased from 5 to 9', 6_000_000)), / \(started 100 min earlier\)$/);
  });

  it('shortens binary rounding artefacts but keeps the event description as the spec gives it', () => {
    const e = event('Observed baseline changed from 7891.3 to 6043.300000000001');
    assert.match(eventSummary(e), /: Observed baseline changed from 7891\.3 to 6043\.3 at /);
    assert.equal(e.description, 'Observed baseline changed from 7891.3 to 6043.300000000001');
  });

  it('tidyNumbers: long decimals only, Java E notation by its mantissa, everything else untouched', () => {
    assert.equal(tidyNumbers('from 2452500.0000000116 to 2.25E7'), 'from 2452500 to 2.25E7');
    assert.equal(tidyNumbers('from 2.4525000000000116E7 to -0.12345678'), 'from 2.4525E7 to -0.123');
    assert.equal(tidyNumbers('8 of 10 -> 1.5 and 225000.0 and 0.123456'), '8 of 10 -> 1.5 and 225000.0 and 0.123456');
    assert.equal(tidyNumbers('stream a1.00000001b and v1.2.3456789'), 'stream a1.00000001b and v1.2.3456789');
  });
});
