/**
 * AMP legacy measurements from the NNTSC-fed InfluxDB (data-formats.md §2): data_amp_icmp,
 * data_amp_dns, data_amp_http, data_amp_tcpping and data_amp_traceroute_pathlen, with the
 * value and lossy rules of detectors.md §1.1 (a missing loss/lossrate counts as lossy: Q14).
 */
import type { Measurement } from '../measurement';
import { AmpParse, FieldSpec, IGNORED, PointLike, failed, typedFields, where } from './result';

export type LegacyKind = 'ICMP' | 'DNS' | 'HTTP' | 'TCPPing' | 'TraceroutePathlen';

interface LegacyType {
  kind: LegacyKind;
  fields: FieldSpec;
  required: readonly string[];
  /** The field that is the default value. */
  value: string;
  lossy(f: Record<string, unknown>): boolean;
}

const PING_FIELDS: FieldSpec = {
  loss: 'number', lossrate: 'number', median: 'number', packet_size: 'number', results: 'number', rtts: 'string',
};

/** `loss > 0`, or no loss at all (absent counts as 100). */
const pingLossy = (f: Record<string, unknown>): boolean => f.loss === undefined || (f.loss as number) > 0;

export const LEGACY_TYPES: Readonly<Record<string, LegacyType>> = {
  data_amp_icmp: {
    kind: 'ICMP', fields: PING_FIELDS, required: ['packet_size', 'rtts'], value: 'median', lossy: pingLossy,
  },
  data_amp_tcpping: {
    kind: 'TCPPing', fields: { icmperrors: 'number', ...PING_FIELDS }, required: ['packet_size', 'rtts'], value: 'median', lossy: pingLossy,
  },
  data_amp_dns: {
    kind: 'DNS',
    fields: {
      flag_aa: 'bool', flag_ad: 'bool', flag_cd: 'bool', flag_qr: 'bool', flag_ra: 'bool', flag_rd: 'bool', flag_tc: 'bool',
      lossrate: 'number', opcode: 'number', query_len: 'number', rcode: 'number', requests: 'number',
      response_size: 'number', rtt: 'number', total_additional: 'number', total_answer: 'number',
      total_authority: 'number', ttl: 'number',
    },
    required: ['requests'],
    value: 'rtt',
    // An absent lossrate counts as 1.0.
    lossy: (f) => f.lossrate === undefined || (f.lossrate as number) > 0,
  },
  data_amp_http: {
    kind: 'HTTP',
    fields: { bytes: 'number', duration: 'number', object_count: 'number', server_count: 'number' },
    required: ['object_count', 'server_count'],
    value: 'bytes',
    lossy: (f) => f.bytes === undefined,
  },
  data_amp_traceroute_pathlen: {
    // Read as a float: Streamevmon's history reader truncated it (Q13).
    kind: 'TraceroutePathlen', fields: { path_length: 'number' }, required: [], value: 'path_length', lossy: () => false,
  },
};

/**
 * `[225, 230, None]` (the line-protocol quotes already removed) → [225, 230, null].
 * Returns an error text for anything that is not a list of integers and `None`.
 */
export function parseRtts(text: string): Array<number | null> | string {
  const t = text.trim();
  if (t === '') return [];
  if (t.charCodeAt(0) !== 91 /* [ */ || t.charCodeAt(t.length - 1) !== 93 /* ] */) return `rtts ${JSON.stringify(text)} is not a [..] list`;
  const inner = t.slice(1, -1).trim();
  if (inner === '') return [];
  const out: Array<number | null> = [];
  for (const item of inner.split(',')) {
    const s = item.trim();
    if (s === 'None') out.push(null);
    else if (/^-?\d+$/.test(s)) out.push(Number(s));
    else return `rtts ${JSON.stringify(text)} has an entry that is neither an integer nor None: ${JSON.stringify(s)}`;
  }
  return out;
}

/** The measurement of an AMP legacy point; any other measurement name is ignored. */
export function parseLegacyPoint(point: PointLike): AmpParse {
  const type = LEGACY_TYPES[point.measurement];
  if (type === undefined) return IGNORED;
  const stream = point.tags.stream;
  if (stream === undefined || stream === '') return failed(`${where(point)}: required tag stream is missing`);
  const fields: Record<string, unknown> = {};
  const problem = typedFields(point, type.fields, type.required, fields);
  if (problem) return failed(`${where(point)} stream ${stream}: ${problem}`);
  if (typeof fields.rtts === 'string') {
    const rtts = parseRtts(fields.rtts);
    if (typeof rtts === 'string') return failed(`${where(point)} stream ${stream}: ${rtts}`);
    fields.rtts = rtts;
  }
  const value = fields[type.value];
  const measurement: Measurement = {
    kind: type.kind,
    stream,
    time: point.time,
    value: typeof value === 'number' ? value : null,
    lossy: type.lossy(fields),
    fields,
  };
  return { status: 'ok', measurement };
}
