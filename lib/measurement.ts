/**
 * The measurement model shared by every source and detector (data-formats.md §1).
 * A measurement travels in msg.payload; msg.topic carries its state key.
 */

/** Kind names as used in descriptions (detectors.md §1.1). */
export type MeasurementKind = string;

export interface Measurement {
  /** Kind name, e.g. "ICMP", "LatencyTSAmpICMP", "NabMeasurement". */
  kind: MeasurementKind;
  /** Id of the time series within its kind. */
  stream: string;
  /** Epoch milliseconds. */
  time: number;
  /** The default value fed to value-based detectors; null when absent. */
  value: number | null;
  /** The measurement "encountered loss" (definition per kind). */
  lossy: boolean;
  /** Type-specific fields; absent optionals omitted. */
  fields?: Record<string, unknown>;
  /** Optional enrichment (Rich kinds). */
  meta?: Record<string, unknown>;
}

/**
 * Key prefixes per kind (data-formats.md §1.2). Rich and plain kinds share a prefix.
 * AMP2 kinds have no prefix: their stream already starts with the measurement name.
 */
const KEY_PREFIX: Record<string, string> = {
  ICMP: 'ICMP', RichICMP: 'ICMP',
  DNS: 'DNS', RichDNS: 'DNS',
  HTTP: 'HTTP', RichHTTP: 'HTTP',
  TCPPing: 'TCPPing', RichTCPPing: 'TCPPing',
  TraceroutePathlen: 'TraceroutePathlen', RichTraceroutePathlen: 'TraceroutePathlen',
  Traceroute: 'Traceroute', RichTraceroute: 'Traceroute',
  LatencyTSAmpICMP: 'LatencyTSAmpICMP',
  LatencyTSSmokeping: 'LatencyTSSmokeping',
  Flow: 'Flow',
  Simple: 'esmond', RichSimple: 'esmond',
  NabMeasurement: 'nab',
};

const AMP2_KINDS = new Set([
  'External', 'Fastping', 'Http', 'LatencyDns', 'LatencyIcmp', 'LatencyTcpping',
  'Pathlen', 'Sip', 'Throughput', 'Traceroute', 'Udpstream', 'Video',
]);

/** The per-series state key of a measurement. Unknown kinds are prefixed with their own name. */
export function measurementKey(m: Pick<Measurement, 'kind' | 'stream'>): string {
  // AMP2 stream ids are `measurement--source--destination--test--…`; "Traceroute" is also a
  // legacy (PostgreSQL) kind, whose streams are plain numbers, so the id shape decides.
  if (AMP2_KINDS.has(m.kind) && m.stream.includes('--')) return m.stream;
  const prefix = KEY_PREFIX[m.kind] ?? m.kind;
  return `${prefix}-${m.stream}`;
}

/** True for an object that has the shape of a streamevmon measurement. */
export function isMeasurement(x: unknown): x is Measurement {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Record<string, unknown>;
  return typeof m.kind === 'string' && typeof m.stream === 'string' && typeof m.time === 'number'
    && (m.value === null || typeof m.value === 'number' || m.value === undefined)
    && typeof m.lossy === 'boolean';
}
