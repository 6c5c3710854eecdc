/**
 * AMP2 measurements written by amplet2-collector (data-formats.md §4): per-type stream tags
 * (typed), fields, default value, and the `--`-joined stream id of §4.3. Every AMP2 kind is
 * lossy exactly when its default value is absent.
 */
import type { Measurement } from '../measurement';
import { AmpParse, FieldSpec, IGNORED, PointLike, failed, typedFields, where } from './result';

/** How a stream tag is read and rendered in the stream id. */
type TagType = 'str' | 'long' | 'bool' | 'direction';

interface Amp2Type {
  kind: string;
  /** Stream tags after source, destination and test, in stream-id order. */
  tags: ReadonlyArray<readonly [string, TagType]>;
  fields: FieldSpec;
  value: string;
}

const DSCP_FAMILY = [['dscp', 'str'], ['family', 'str']] as const;
const LATENCY_FIELDS: FieldSpec = {
  count: 'number', error_code: 'number', error_type: 'number', icmpcode: 'number', icmptype: 'number', loss: 'number', rtt: 'number',
};

/** Measurement name → type; `latency` is resolved by its `test` tag instead. */
export const AMP2_TYPES: Readonly<Record<string, Amp2Type>> = {
  external: { kind: 'External', tags: [['command', 'str']], fields: { count: 'number', value: 'number' }, value: 'value' },
  fastping: {
    kind: 'Fastping',
    tags: [...DSCP_FAMILY, ['packet_count', 'long'], ['packet_rate', 'long'], ['packet_size', 'long']],
    fields: { count: 'number', jitter: 'number', loss_percent: 'number', rtt: 'number' },
    value: 'rtt',
  },
  http: {
    kind: 'Http',
    // caching is a *string* tag: `False` stays `False` in the stream id.
    tags: [['caching', 'str']],
    fields: { bytes: 'number', count: 'number', duration: 'number', object_count: 'number', server_count: 'number' },
    value: 'bytes',
  },
  pathlen: {
    kind: 'Pathlen', tags: [...DSCP_FAMILY, ['packet_size', 'long'], ['random', 'bool']], fields: { length: 'number' }, value: 'length',
  },
  sip: {
    kind: 'Sip',
    tags: [...DSCP_FAMILY, ['uri', 'str']],
    fields: {
      connect_time: 'number', count: 'number', duration: 'number', response_time: 'number', rtt: 'number', rx_jitter: 'number',
      tx_jitter: 'number', rx_loss_percent: 'number', tx_loss_percent: 'number',
    },
    value: 'rtt',
  },
  throughput: {
    kind: 'Throughput',
    tags: [['direction', 'direction'], ...DSCP_FAMILY, ['protocol', 'str'], ['write_size', 'long']],
    // duration is stored as a string by amplet2 (e.g. "10000").
    fields: { bytes: 'number', count: 'number', duration: 'string', runtime: 'number' },
    value: 'bytes',
  },
  traceroute: {
    kind: 'Traceroute',
    tags: [...DSCP_FAMILY, ['hop', 'long'], ['packet_size', 'long'], ['random', 'bool']],
    fields: { address: 'string', rtt: 'number' },
    value: 'rtt',
  },
  udpstream: {
    kind: 'Udpstream',
    tags: [['direction', 'direction'], ...DSCP_FAMILY, ['packet_count', 'long'], ['packet_size', 'long'], ['packet_spacing', 'long']],
    fields: { count: 'number', jitter: 'number', loss: 'number', mos: 'number', rtt: 'number' },
    value: 'rtt',
  },
  video: {
    kind: 'Video',
    tags: [['requested_quality', 'str']],
    fields: {
      actual_quality: 'number', count: 'number', initial_buffering: 'number', playing_time: 'number', pre_time: 'number',
      stall_count: 'number', stall_time: 'number',
    },
    value: 'playing_time',
  },
};

/** The three `latency` variants, by `test` tag. */
export const AMP2_LATENCY_TYPES: Readonly<Record<string, Amp2Type>> = {
  dns: { kind: 'LatencyDns', tags: [...DSCP_FAMILY, ['query', 'str']], fields: LATENCY_FIELDS, value: 'rtt' },
  icmp: { kind: 'LatencyIcmp', tags: [...DSCP_FAMILY, ['packet_size', 'long'], ['random', 'bool']], fields: LATENCY_FIELDS, value: 'rtt' },
  tcpping: {
    kind: 'LatencyTcpping',
    tags: [...DSCP_FAMILY, ['packet_size', 'long'], ['port', 'long'], ['random', 'bool']],
    fields: LATENCY_FIELDS,
    value: 'rtt',
  },
};

/** The typed value of a tag, or an error text. */
function typedTag(name: string, raw: string, type: TagType): string | number | boolean | { error: string } {
  switch (type) {
    case 'str':
      return raw;
    case 'long':
      // Decimal, so "03" is 3 (Scala's toLong); must stay an exact integer.
      if (/^[+-]?\d+$/.test(raw)) {
        const n = Number(raw);
        if (Number.isSafeInteger(n)) return n === 0 ? 0 : n;
      }
      return { error: `tag ${name}=${raw} is not an integer` };
    case 'bool': {
      const lower = raw.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      return { error: `tag ${name}=${raw} is not true or false` };
    }
    case 'direction': {
      const lower = raw.toLowerCase();
      if (lower === 'in' || lower === 'out') return lower;
      return { error: `tag ${name}=${raw} is not in or out` };
    }
    default:
      return { error: `tag ${name}: unknown type` };
  }
}

/** The measurement of an AMP2 point; a measurement name outside §4.1 is ignored. */
export function parseAmp2Point(point: PointLike): AmpParse {
  const name = point.measurement;
  let type = AMP2_TYPES[name];
  const { tags } = point;
  const test = tags.test;
  if (name === 'latency') {
    if (test === undefined) return failed(`${where(point)}: required tag test is missing`);
    type = AMP2_LATENCY_TYPES[test];
    if (type === undefined) return failed(`${where(point)}: unknown test ${JSON.stringify(test)} (expected dns, icmp or tcpping)`);
  }
  if (type === undefined) return IGNORED;

  const source = tags.source;
  const destination = tags.destination;
  if (source === undefined) return failed(`${where(point)}: required tag source is missing`);
  if (destination === undefined) return failed(`${where(point)}: required tag destination is missing`);
  if (test === undefined) return failed(`${where(point)}: required tag test is missing`);

  const fields: Record<string, unknown> = { source, destination, test };
  let stream = `${name}--${source}--${destination}--${test}`;
  for (const [tag, tagType] of type.tags) {
    const raw = tags[tag];
    if (raw === undefined) return failed(`${where(point)}: required tag ${tag} is missing`);
    const v = typedTag(tag, raw, tagType);
    if (typeof v === 'object') return failed(`${where(point)}: ${v.error}`);
    fields[tag] = v;
    stream += `--${String(v)}`;
  }
  const problem = typedFields(point, type.fields, [], fields);
  if (problem) return failed(`${where(point)} ${stream}: ${problem}`);
  if (type.kind === 'Throughput' && typeof fields.bytes === 'number' && typeof fields.runtime === 'number' && fields.runtime > 0) {
    fields.bytesPerRuntime = fields.bytes / fields.runtime;
  }

  const value = fields[type.value];
  const measurement: Measurement = {
    kind: type.kind,
    stream,
    time: point.time,
    value: typeof value === 'number' ? value : null,
    lossy: typeof value !== 'number',
    fields,
  };
  return { status: 'ok', measurement };
}
