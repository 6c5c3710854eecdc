import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { groupPayload } from '../../lib/events/group';
import { eventGroupLine } from '../../lib/influx/event-line';

const UID = '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11';

function loss(time: number, detectionLatency: number, severity: number): DetectorEvent {
  return { eventType: 'loss_events', stream: '3', severity, time, detectionLatency, description: 'x', tags: {} };
}

describe('event group line protocol (data-formats.md §13)', () => {
  const group = groupPayload({ uid: UID, start: 1564713040000, end: 1564713044000, events: [loss(1564713040000, 0, 40), loss(1564713045000, 1000, 61)] });

  it('renders the §13 example line exactly', () => {
    assert.equal(
      eventGroupLine(group),
      'event_groups,endTime=1564713044000000000i,uid=0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11 meanDetectionLatency=500000000i,meanSeverity=50i,modeEventType="loss_events",event_count=2i,description="Group of 2 events over 1 measurement streams with duration PT4S, most common event type \\"loss_events\\", mean severity 50, and mean detection latency PT0S" 1564713040000000000',
    );
  });

  it('uses the payload summary when the events are not carried', () => {
    const { events: _dropped, ...summary } = group;
    assert.equal(eventGroupLine({ ...summary, events: undefined }), eventGroupLine(group));
  });

  it('an ongoing group without uid and end is tagged still_ongoing=true', () => {
    const line = eventGroupLine({ ...group, uid: null, end: null, description: 'Event group still in progress.' });
    assert.match(line, /^event_groups,still_ongoing=true meanDetectionLatency=500000000i,/);
    assert.match(line, /description="Event group still in progress\." 1564713040000000000$/);
  });

  it('omits each absent tag on its own', () => {
    assert.match(eventGroupLine({ ...group, end: null }), /^event_groups,uid=0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11 /);
    assert.match(eventGroupLine({ ...group, uid: null }), /^event_groups,endTime=1564713044000000000i /);
  });

  it('escapes the description, mode type and uid (D10), and keeps exact ns beyond 2^53', () => {
    const line = eventGroupLine({
      ...group, uid: 'a b,c=d', modeEventType: 'we"ird', description: 'say "hi" \\ bye\nnext',
      events: [loss(1564713040000, 1e12, 1), loss(1564713040001, 1e12 + 1, 1)],
    });
    assert.match(line, /,uid=a\\ b\\,c\\=d /);
    assert.match(line, /modeEventType="we\\"ird"/);
    assert.match(line, /description="say \\"hi\\" \\\\ bye next"/);
    assert.match(line, / meanDetectionLatency=1000000000000500000i,/);
  });
});
