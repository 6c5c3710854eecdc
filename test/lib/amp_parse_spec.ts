/**
 * AMP measurements from line protocol: the legacy vectors of data-formats.md §2, the AMP2
 * schema and stream ids of §4, and the real AMP2 export (every line parses; points, streams
 * and lossy counts per measurement match §4.4).
 */
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseLine, Point } from '../../lib/influx/line-parser';
import { parseAmp2Point, parseAmpPoint, parseAmpText, parseLegacyPoint, parseRtts, AmpParse } from '../../lib/amp/parse';
import { measurementKey, Measurement } from '../../lib/measurement';
import { projectRoot } from '../nodes/helpers';

function point(line: string): Point {
  const p = parseLine(line);
  if (typeof p === 'string') assert.fail(`line does not parse: ${p}`);
  return p;
}

function ok(r: AmpParse): Measurement {
  if (r.status !== 'ok') assert.fail(`expected a measurement, got ${JSON.stringify(r)}`);
  return r.measurement;
}

function failure(r: AmpParse): string {
  if (r.status !== 'failed') assert.fail(`expected a failure, got ${JSON.stringify(r)}`);
  return r.error;
}

const legacy = (line: string): Measurement => ok(parseLegacyPoint(point(line)));
const amp2 = (line: string): Measurement => ok(parseAmp2Point(point(line)));

describe('AMP measurement parsing (lib)', () => {
  describe('AMP legacy (data-formats.md §2)', () => {
    it('ICMP: median is the value; loss 0 is not lossy', () => {
      const m = legacy('data_amp_icmp,stream=3 loss=0i,lossrate=0.0,median=225i,packet_size=520i,results=1i,rtts="[225]" 1563761840000000000');
      assert.deepEqual(m, {
        kind: 'ICMP', stream: '3', time: 1563761840000, value: 225, lossy: false,
        fields: { loss: 0, lossrate: 0, median: 225, packet_size: 520, results: 1, rtts: [225] },
      });
      assert.equal(measurementKey(m), 'ICMP-3');
    });

    it('ICMP: all lost → no value, lossy, rtts [null]', () => {
      const m = legacy('data_amp_icmp,stream=3 loss=1i,lossrate=1.0,packet_size=520i,results=1i,rtts="[None]" 1574696840000000000');
      assert.equal(m.value, null);
      assert.equal(m.lossy, true);
      assert.deepEqual(m.fields?.rtts, [null]);
      assert.equal(m.time, 1574696840000);
    });

    it('ICMP: a missing loss counts as lossy (Q14), even with a median', () => {
      const m = legacy('data_amp_icmp,stream=3 median=225i,packet_size=520i,rtts="[225]" 1563761840000000000');
      assert.equal(m.value, 225);
      assert.equal(m.lossy, true);
    });

    it('DNS: rtt is the value; booleans read; lossrate 0 is not lossy', () => {
      const m = legacy('data_amp_dns,stream=1 flag_aa=False,flag_ad=False,flag_cd=False,flag_qr=True,flag_ra=True,flag_rd=False,flag_tc=False,lossrate=0.0,opcode=0i,query_len=40i,rcode=0i,requests=1i,response_size=68i,rtt=35799i,total_additional=1i,total_answer=1i,total_authority=0i,ttl=0i 1563761841000000000');
      assert.equal(m.kind, 'DNS');
      assert.equal(m.value, 35799);
      assert.equal(m.lossy, false);
      assert.equal(m.fields?.flag_qr, true);
      assert.equal(m.fields?.flag_aa, false);
      assert.equal(m.fields?.response_size, 68);
      assert.equal(measurementKey(m), 'DNS-1');
    });

    it('DNS: with every optional absent it is lossy and has no value', () => {
      const m = legacy('data_amp_dns,stream=1 lossrate=1.0,requests=1i 1573020910000000000');
      assert.deepEqual(m, { kind: 'DNS', stream: '1', time: 1573020910000, value: null, lossy: true, fields: { lossrate: 1, requests: 1 } });
    });

    it('DNS: a missing lossrate counts as lossy (Q14)', () => {
      assert.equal(legacy('data_amp_dns,stream=1 requests=1i,rtt=100i 1').lossy, true);
    });

    it('HTTP: bytes is the value; lossy when bytes is missing', () => {
      const m = legacy('data_amp_http,stream=17 bytes=62210i,duration=77i,object_count=8i,server_count=1i 1564713045000000000');
      assert.deepEqual([m.kind, m.value, m.lossy, measurementKey(m)], ['HTTP', 62210, false, 'HTTP-17']);
      const lost = legacy('data_amp_http,stream=17 object_count=0i,server_count=1i 1564713046000000000');
      assert.deepEqual([lost.value, lost.lossy], [null, true]);
    });

    it('TCPPing: like ICMP, with icmperrors', () => {
      const m = legacy('data_amp_tcpping,stream=9 icmperrors=0i,loss=0i,lossrate=0.0,median=189i,packet_size=64i,results=1i,rtts="[189]" 1564713040000000000');
      assert.deepEqual([m.kind, m.value, m.lossy, m.fields?.icmperrors, measurementKey(m)], ['TCPPing', 189, false, 0, 'TCPPing-9']);
      const lost = legacy('data_amp_tcpping,stream=9 loss=1i,lossrate=1.0,packet_size=64i,results=1i,rtts="[None]" 1582151950000000000');
      assert.deepEqual([lost.value, lost.lossy, lost.time], [null, true, 1582151950000]);
    });

    it('TraceroutePathlen: path_length as a float, never lossy', () => {
      const m = legacy('data_amp_traceroute_pathlen,stream=5 path_length=12.0 1563761842000000000');
      assert.deepEqual(m, { kind: 'TraceroutePathlen', stream: '5', time: 1563761842000, value: 12, lossy: false, fields: { path_length: 12 } });
      assert.equal(legacy('data_amp_traceroute_pathlen,stream=5 path_length=12.5 1').value, 12.5, 'not truncated (Q13)');
      assert.equal(measurementKey(m), 'TraceroutePathlen-5');
    });

    it('parses rtts lists: integers, None, spaces, empty', () => {
      assert.deepEqual(parseRtts('[225, 230, None]'), [225, 230, null]);
      assert.deepEqual(parseRtts('[None]'), [null]);
      assert.deepEqual(parseRtts(''), []);
      assert.deepEqual(parseRtts('[]'), []);
      assert.match(parseRtts('[225, x]') as string, /neither an integer nor None/);
      assert.match(parseRtts('225') as string, /not a \[\.\.\] list/);
    });

    it('fails (never throws) on a missing stream tag, a missing required field or a wrong type', () => {
      assert.match(failure(parseLegacyPoint(point('data_amp_icmp loss=0i,packet_size=520i,rtts="[1]" 1'))), /tag stream is missing/);
      assert.match(failure(parseLegacyPoint(point('data_amp_icmp,stream=3 loss=0i,rtts="[1]" 1'))), /packet_size is missing/);
      assert.match(failure(parseLegacyPoint(point('data_amp_icmp,stream=3 loss=0i,packet_size=520i 1'))), /rtts is missing/);
      assert.match(failure(parseLegacyPoint(point('data_amp_dns,stream=1 lossrate=0.0 1'))), /requests is missing/);
      assert.match(failure(parseLegacyPoint(point('data_amp_http,stream=17 bytes=1i,object_count=1i 1'))), /server_count is missing/);
      assert.match(failure(parseLegacyPoint(point('data_amp_icmp,stream=3 median="x",packet_size=520i,rtts="[1]" 1'))), /median must be a number/);
      assert.match(failure(parseLegacyPoint(point('data_amp_dns,stream=1 flag_qr=1i,requests=1i 1'))), /flag_qr must be a boolean/);
      assert.match(failure(parseLegacyPoint(point('data_amp_icmp,stream=3 packet_size=520i,rtts="[a]" 1'))), /neither an integer nor None/);
    });

    it('ignores other measurement names silently (§8)', () => {
      assert.equal(parseLegacyPoint(point('flow_statistics,stream=1 x=1 1')).status, 'ignored');
      assert.equal(parseLegacyPoint(point('latency,source=a x=1 1')).status, 'ignored');
    });
  });

  describe('AMP2 (data-formats.md §4)', () => {
    it('latency/icmp: typed tags in the stream id, rtt as the value', () => {
      const m = amp2('latency,test=icmp,random=False,source=ns4b.amp.wand.net.nz,family=ipv4,destination=j.root-servers.net,packet_size=84,dscp=Default count=1i,error_type=0i,rtt=23884i,loss=0i,error_code=0i 1622678400000000000');
      assert.equal(m.kind, 'LatencyIcmp');
      assert.equal(m.stream, 'latency--ns4b.amp.wand.net.nz--j.root-servers.net--icmp--Default--ipv4--84--false');
      assert.equal(measurementKey(m), m.stream, 'AMP2 keys are the stream itself');
      assert.deepEqual([m.value, m.lossy, m.time], [23884, false, 1622678400000]);
      assert.deepEqual(m.fields, {
        source: 'ns4b.amp.wand.net.nz', destination: 'j.root-servers.net', test: 'icmp', dscp: 'Default', family: 'ipv4',
        packet_size: 84, random: false, count: 1, error_code: 0, error_type: 0, loss: 0, rtt: 23884,
      });
    });

    it('latency/dns without rtt is lossy', () => {
      const m = amp2('latency,destination=ns2.dns.net.nz,dscp=Default,family=ipv6,query=dns.net.nz,source=canterbury.amp.wand.net.nz,test=dns count=0i 1622678406000000000');
      assert.equal(m.kind, 'LatencyDns');
      assert.equal(m.stream, 'latency--canterbury.amp.wand.net.nz--ns2.dns.net.nz--dns--Default--ipv6--dns.net.nz');
      assert.deepEqual([m.value, m.lossy], [null, true]);
    });

    it('latency/tcpping adds the port', () => {
      const m = amp2('latency,destination=v1.lscache1.c.youtube.com,dscp=Default,family=ipv4,packet_size=64,port=443,random=False,source=canterbury.amp.wand.net.nz,test=tcpping rtt=1000i 1');
      assert.equal(m.kind, 'LatencyTcpping');
      assert.equal(m.stream, 'latency--canterbury.amp.wand.net.nz--v1.lscache1.c.youtube.com--tcpping--Default--ipv4--64--443--false');
    });

    it('traceroute: long tags lose leading zeros (hop=03 → 3)', () => {
      const m = amp2('traceroute,destination=eu-west-1.ec2.amazonaws.com,dscp=Default,family=ipv6,hop=03,packet_size=60,random=False,source=lightwire.amp.wand.net.nz,test=traceroute address="::" 1622678420000000000');
      assert.equal(m.kind, 'Traceroute');
      assert.equal(m.stream, 'traceroute--lightwire.amp.wand.net.nz--eu-west-1.ec2.amazonaws.com--traceroute--Default--ipv6--3--60--false');
      assert.deepEqual([m.value, m.lossy, m.fields?.address, m.fields?.hop], [null, true, '::', 3]);
      assert.equal(measurementKey(m), m.stream, 'AMP2 Traceroute is keyed by its stream, not Traceroute-…');
    });

    it('http: caching is a string tag and stays "False"', () => {
      const m = amp2('http,caching=False,destination=https://wand.net.nz/,source=catalyst.amp.wand.net.nz,test=http duration=1829i,count=1i,object_count=8i,server_count=1i,bytes=66289i 1622329235000000000');
      assert.equal(m.kind, 'Http');
      assert.equal(m.stream, 'http--catalyst.amp.wand.net.nz--https://wand.net.nz/--http--False');
      assert.equal(m.value, 66289);
    });

    it('throughput: direction, a string duration, bytes as the value and bytesPerRuntime', () => {
      const m = amp2('throughput,test=throughput,source=foo,direction=in,write_size=131072,family=ipv4,destination=bar,protocol=default,dscp=Default bytes=81925505024i,count=1i,duration="10000",runtime=9991.383 1622329290000000000');
      assert.equal(m.stream, 'throughput--foo--bar--throughput--in--Default--ipv4--default--131072');
      assert.equal(m.value, 81925505024);
      assert.equal(m.fields?.duration, '10000');
      assert.equal(m.fields?.bytesPerRuntime, 81925505024 / 9991.383);
      assert.equal(amp2('throughput,test=throughput,source=foo,direction=OUT,write_size=1,family=ipv4,destination=bar,protocol=default,dscp=Default count=0i 1').fields?.direction, 'out');
    });

    it('udpstream, fastping, external, pathlen, sip and video stream ids', () => {
      const cases: Array<[string, string, string]> = [
        ['udpstream,test=udpstream,source=foo,packet_count=21,packet_spacing=20000,direction=in,family=ipv4,destination=bar,packet_size=100,dscp=Default count=1i,mos=4.409285824,jitter=0i,rtt=135i,loss=0 1622329350000000000',
          'Udpstream', 'udpstream--foo--bar--udpstream--in--Default--ipv4--21--100--20000'],
        ['fastping,test=fastping,source=foo,packet_count=60,packet_rate=1,family=ipv4,destination=bar,packet_size=64,dscp=Default count=1i,jitter=0i,loss_percent=0,rtt=29i 1622329200000000000',
          'Fastping', 'fastping--foo--bar--fastping--Default--ipv4--60--1--64'],
        ['external,command=example1,destination=foo,source=foo,test=external count=1i,value=68i 1622329200000000000',
          'External', 'external--foo--foo--external--example1'],
        ['pathlen,destination=store.steampowered.com,dscp=Default,family=ipv4,packet_size=60,random=False,source=callplus.amp.wand.net.nz,test=traceroute length=9i 1622678420000000000',
          'Pathlen', 'pathlen--callplus.amp.wand.net.nz--store.steampowered.com--traceroute--Default--ipv4--60--false'],
        ['sip,test=sip,source=guest,uri=bar@example.com,family=ipv4,destination=example.com,dscp=EF duration=30000000i,count=1i,rtt=122i 1622687002000000000',
          'Sip', 'sip--guest--example.com--sip--EF--ipv4--bar@example.com'],
        ['video,destination=S7SLep244ss,requested_quality=1,source=foo,test=youtube stall_time=0i,count=1i,playing_time=9254i 1622329260000000000',
          'Video', 'video--foo--S7SLep244ss--youtube--1'],
      ];
      for (const [line, kind, stream] of cases) {
        const m = amp2(line);
        assert.deepEqual([m.kind, m.stream, m.lossy], [kind, stream, false], line);
      }
      assert.equal(amp2(cases[5][0]).value, 9254, 'video: playing_time');
      assert.equal(amp2(cases[3][0]).value, 9, 'pathlen: length');
      assert.equal(amp2(cases[2][0]).value, 68, 'external: value');
    });

    it('fails (never throws) on missing tags, an unknown test, bad typed tags and wrong field types', () => {
      const f = (line: string): string => failure(parseAmp2Point(point(line)));
      assert.match(f('latency,source=a,destination=b,dscp=Default,family=ipv4,query=q rtt=1i 1'), /tag test is missing/);
      assert.match(f('latency,source=a,destination=b,test=udp,dscp=Default,family=ipv4 rtt=1i 1'), /unknown test "udp"/);
      assert.match(f('latency,destination=b,test=dns,dscp=Default,family=ipv4,query=q rtt=1i 1'), /tag source is missing/);
      assert.match(f('external,source=a,test=external,command=c value=1i 1'), /tag destination is missing/);
      assert.match(f('latency,source=a,destination=b,test=dns,dscp=Default,family=ipv4 rtt=1i 1'), /tag query is missing/);
      assert.match(f('latency,source=a,destination=b,test=icmp,dscp=Default,family=ipv4,packet_size=big,random=False rtt=1i 1'), /packet_size=big is not an integer/);
      assert.match(f('latency,source=a,destination=b,test=icmp,dscp=Default,family=ipv4,packet_size=84,random=maybe rtt=1i 1'), /random=maybe is not true or false/);
      assert.match(f('throughput,test=throughput,source=a,direction=sideways,write_size=1,family=ipv4,destination=b,protocol=default,dscp=Default bytes=1i 1'), /direction=sideways is not in or out/);
      assert.match(f('external,source=a,destination=b,test=external,command=c value="x" 1'), /value must be a number/);
      assert.match(f('throughput,test=throughput,source=a,direction=in,write_size=1,family=ipv4,destination=b,protocol=default,dscp=Default duration=10000i 1'), /duration must be a string/);
    });

    it('ignores other measurement names, including the legacy ones', () => {
      assert.equal(parseAmp2Point(point('data_amp_icmp,stream=3 loss=0i,packet_size=1i,rtts="[1]" 1')).status, 'ignored');
      assert.equal(parseAmp2Point(point('cpu value=1 1')).status, 'ignored');
    });

    it('resolves `http` per schema (Q8): AMP2 Http for amp2, ignored for legacy', () => {
      const p = point('http,caching=False,destination=d,source=s,test=http bytes=1i 1');
      assert.equal(ok(parseAmpPoint(p, 'amp2')).kind, 'Http');
      assert.equal(parseAmpPoint(p, 'legacy').status, 'ignored');
      assert.equal(ok(parseAmpPoint(point('data_amp_http,stream=17 object_count=1i,server_count=1i 1'), 'both')).kind, 'HTTP');
      assert.equal(ok(parseAmpPoint(p, 'both')).kind, 'Http');
    });
  });

  describe('text → measurements', () => {
    it('counts line-protocol and AMP failures with line numbers, and skips other measurements', () => {
      const text = [
        'data_amp_icmp,stream=3 loss=0i,lossrate=0.0,median=225i,packet_size=520i,results=1i,rtts="[225]" 1563761840000000000',
        'data_amp_icmp,stream=3 loss=0i 1563761850000000000',
        'not line protocol',
        'cpu value=1 1',
        'data_amp_traceroute_pathlen,stream=5 path_length=12.0 1563761842000000000',
      ].join('\n');
      const r = parseAmpText(text, 'legacy');
      assert.deepEqual(r.measurements.map((m) => measurementKey(m)), ['ICMP-3', 'TraceroutePathlen-5']);
      assert.equal(r.errorCount, 2);
      assert.equal(r.ignored, 1);
      assert.deepEqual(r.errors.map((e) => e.line), [2, 3]);
      assert.match(r.errors[0].reason, /line 2: data_amp_icmp stream 3: required field packet_size is missing/);
    });
  });

  describe('the real AMP2 export (amp2.lproto.gz, data-formats.md §4.4)', function () {
    this.timeout(60_000);
    let measurements: Measurement[] = [];
    let errorCount = -1;
    let ignored = -1;

    before(() => {
      const text = gunzipSync(fs.readFileSync(path.join(projectRoot(), 'test', 'fixtures', 'amp', 'amp2.lproto.gz'))).toString('utf8');
      const r = parseAmpText(text, 'amp2');
      ({ measurements, errorCount, ignored } = r);
    });

    it('every one of the 132,173 lines becomes a measurement', () => {
      assert.equal(errorCount, 0);
      assert.equal(ignored, 0);
      assert.equal(measurements.length, 132_173);
    });

    it('points, streams and lossy counts per type match the table', () => {
      const table: Record<string, [number, number, number]> = {
        External: [578, 2, 0],
        Fastping: [289, 1, 0],
        Http: [1040, 208, 0],
        LatencyDns: [2424, 808, 374],
        LatencyIcmp: [9798, 3267, 2013],
        LatencyTcpping: [7916, 2640, 1300],
        Pathlen: [9795, 3265, 0],
        Sip: [6, 1, 0],
        Throughput: [288, 2, 0],
        Traceroute: [99727, 33279, 80498],
        Udpstream: [288, 2, 0],
        Video: [24, 1, 0],
      };
      const seen: Record<string, { points: number; streams: Set<string>; lossy: number }> = {};
      for (const m of measurements) {
        const s = (seen[m.kind] ??= { points: 0, streams: new Set(), lossy: 0 });
        s.points++;
        s.streams.add(m.stream);
        if (m.lossy) s.lossy++;
        assert.equal(m.lossy, m.value === null, 'AMP2: lossy exactly when the value is absent');
      }
      const got = Object.fromEntries(Object.entries(seen).map(([k, s]) => [k, [s.points, s.streams.size, s.lossy]]));
      assert.deepEqual(got, table);
    });

    it('covers the time range of the table, and every stream id starts with its measurement name', () => {
      const first = measurements.reduce((t, m) => Math.min(t, m.time), Infinity);
      const last = measurements.reduce((t, m) => Math.max(t, m.time), -Infinity);
      assert.equal(new Date(first).toISOString(), '2021-05-29T23:00:00.000Z');
      assert.equal(new Date(last).toISOString(), '2021-06-03T02:27:07.000Z');
      const name: Record<string, string> = {
        External: 'external', Fastping: 'fastping', Http: 'http', LatencyDns: 'latency', LatencyIcmp: 'latency', LatencyTcpping: 'latency',
        Pathlen: 'pathlen', Sip: 'sip', Throughput: 'throughput', Traceroute: 'traceroute', Udpstream: 'udpstream', Video: 'video',
      };
      for (const m of measurements) {
        const parts = m.stream.split('--');
        assert.equal(parts[0], name[m.kind], m.stream);
        assert.deepEqual(parts.slice(1, 4), [m.fields?.source, m.fields?.destination, m.fields?.test], m.stream);
      }
    });

    it('dscp is Default except for the 6 EF sip lines; random is always false', () => {
      const ef = measurements.filter((m) => m.fields?.dscp === 'EF');
      assert.equal(ef.length, 6);
      assert.ok(ef.every((m) => m.kind === 'Sip'));
      assert.ok(measurements.every((m) => m.fields?.random === undefined || m.fields.random === false));
    });

    it('has no duplicate points (stream, time)', () => {
      const keys = new Set(measurements.map((m) => `${m.stream}@${m.time}`));
      assert.equal(keys.size, measurements.length);
    });
  });
});
