import { strict as assert } from 'node:assert';
import type { DetectorEvent } from '../../lib/event';
import { eventLine, msToNs } from '../../lib/influx/event-line';

function ev(over: Partial<DetectorEvent>): DetectorEvent {
  return {
    eventType: 'threshold_events', stream: '1', severity: 10, time: 1564713045000,
    detectionLatency: 123.456789, description: 'A test event :)', tags: {}, ...over,
  };
}

describe('event line protocol (data-formats.md §12.3)', () => {
  it('golden line with tags (EventTest)', () => {
    assert.equal(
      eventLine(ev({ tags: { type: 'test', secondTag: 'alsoTest' } })),
      'events,event_type=threshold_events,secondTag=alsoTest,stream=1,type=test description="A test event :)",detection_latency=123456789i,severity=10i 1564713045000000000',
    );
  });

  it('golden line without tags', () => {
    assert.equal(
      eventLine(ev({ eventType: 'changepoint_events' })),
      'events,event_type=changepoint_events,stream=1 description="A test event :)",detection_latency=123456789i,severity=10i 1564713045000000000',
    );
  });

  it('golden AMP2 line with derived tags', () => {
    assert.equal(
      eventLine(ev({ eventType: 'baseline_events', stream: 'traceroute--waikato.amp.wand.net.nz--www.tv3.co.nz--traceroute--Default--ipv4--10--60--false' })),
      'events,destination=www.tv3.co.nz,event_type=baseline_events,measurement_type=traceroute,source=waikato.amp.wand.net.nz,stream=traceroute--waikato.amp.wand.net.nz--www.tv3.co.nz--traceroute--Default--ipv4--10--60--false,test=traceroute description="A test event :)",detection_latency=123456789i,severity=10i 1564713045000000000',
    );
  });

  it('escapes descriptions, tag values and URL streams (D10)', () => {
    assert.match(eventLine(ev({ description: 'He said "hi" \\o/' })), / description="He said \\"hi\\" \\\\o\/",/);
    assert.match(eventLine(ev({ stream: 'a b,c=d' })), /,stream=a\\ b\\,c\\=d /);
    const line = eventLine(ev({ stream: 'http--x--https://h/?q=1--http--False' }));
    assert.match(line, /stream=http--x--https:\/\/h\/\?q\\=1--http--False/);
    assert.match(line, /destination=https:\/\/h\/\?q\\=1/);
    assert.match(eventLine(ev({ description: 'two\nlines\r\nhere' })), /description="two lines here"/);
  });

  it('in_group sorts between event_type and stream; empty tag values are dropped', () => {
    const line = eventLine(ev({
      eventType: 'loss_events', stream: '3', severity: 17, time: 1000000000035, detectionLatency: 4,
      description: 'Consecutive loss became worse! 5 in a row.',
      tags: { type: 'consecutive_loss', in_group: '0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11', empty: '' },
    }));
    assert.equal(line, 'events,event_type=loss_events,in_group=0b9a4f7e-5d2c-4c8e-9a51-2f6f3e0d7c11,stream=3,type=consecutive_loss description="Consecutive loss became worse! 5 in a row.",detection_latency=4000000i,severity=17i 1000000000035000000');
  });

  it('renders nanoseconds exactly beyond 2^53', () => {
    assert.equal(msToNs(1e12), '1000000000000000000');
    assert.equal(msToNs(1564713045123), '1564713045123000000');
    assert.equal(msToNs(0.5), '500000');
  });
});
