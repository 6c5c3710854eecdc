/**
 * AMP legacy stream metadata from the NNTSC PostgreSQL tables (data-formats.md §3.1, §3.3):
 * one parameterised query per kind (the table names are constants, the stream id is a bound
 * parameter), a per-`<Kind>.<stream>` cache with expiry, and concurrent lookups of one stream
 * sharing one query. Failed and empty lookups are not cached.
 */

/** The legacy kinds that have a metadata table. */
export type MetaKind = 'ICMP' | 'DNS' | 'HTTP' | 'TCPPing' | 'TraceroutePathlen' | 'Traceroute';

export type StreamMeta = Record<string, unknown>;

/** What the lookups need from a database: pg.Pool and our PgDatabase both fit. */
export interface Queryable {
  query(text: string, params: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
}

interface MetaTable {
  rich: string;
  sql: string;
}

const ROUTE_COLUMNS = 'source, destination, family, packet_size AS packet_size_selection';

/** The stream tables' packet_size becomes packet_size_selection (it may be `random`). */
export const META_TABLES: Readonly<Record<MetaKind, MetaTable>> = {
  ICMP: {
    rich: 'RichICMP',
    sql: `SELECT ${ROUTE_COLUMNS} FROM streams_amp_icmp WHERE stream_id = $1 LIMIT 1`,
  },
  DNS: {
    rich: 'RichDNS',
    sql: 'SELECT source, destination, instance, host(address) AS address, query, query_type, query_class, udp_payload_size, '
      + 'recurse, dnssec, nsid FROM streams_amp_dns WHERE stream_id = $1 LIMIT 1',
  },
  HTTP: {
    rich: 'RichHTTP',
    sql: 'SELECT source, destination, max_connections, max_connections_per_server, max_persistent_connections_per_server, '
      + 'pipelining_max_requests, persist, pipelining, caching FROM streams_amp_http WHERE stream_id = $1 LIMIT 1',
  },
  TCPPing: {
    rich: 'RichTCPPing',
    sql: 'SELECT source, destination, port, family, packet_size AS packet_size_selection FROM streams_amp_tcpping WHERE stream_id = $1 LIMIT 1',
  },
  TraceroutePathlen: {
    rich: 'RichTraceroutePathlen',
    sql: `SELECT ${ROUTE_COLUMNS} FROM streams_amp_traceroute WHERE stream_id = $1 LIMIT 1`,
  },
  Traceroute: {
    rich: 'RichTraceroute',
    sql: `SELECT ${ROUTE_COLUMNS} FROM streams_amp_traceroute WHERE stream_id = $1 LIMIT 1`,
  },
};

const BY_NAME: Readonly<Record<string, MetaKind>> = {
  ICMP: 'ICMP', RichICMP: 'ICMP',
  DNS: 'DNS', RichDNS: 'DNS',
  HTTP: 'HTTP', RichHTTP: 'HTTP',
  TCPPing: 'TCPPing', RichTCPPing: 'TCPPing',
  TraceroutePathlen: 'TraceroutePathlen', RichTraceroutePathlen: 'TraceroutePathlen',
  Traceroute: 'Traceroute', RichTraceroute: 'Traceroute',
};

/**
 * The metadata kind of a measurement kind (plain or Rich), or null for kinds without NNTSC
 * metadata. AMP2 `Traceroute` shares the name but has `--` stream ids: pass the stream to
 * tell them apart.
 */
export function metaKindOf(kind: string, stream?: string): MetaKind | null {
  // Own properties only: "constructor", "__proto__" and the like are kinds without metadata.
  const k = Object.hasOwn(BY_NAME, kind) ? BY_NAME[kind] : null;
  if (k === 'Traceroute' && stream !== undefined && stream.includes('--')) return null;
  return k;
}

export function richKindOf(kind: MetaKind): string {
  return META_TABLES[kind].rich;
}

const MAX_STREAM_ID = 2147483647;

/** NNTSC stream ids are PostgreSQL integers; anything else cannot have metadata. */
export function parseStreamId(stream: string): number | null {
  if (!/^\d{1,10}$/.test(stream)) return null;
  const n = Number(stream);
  return n <= MAX_STREAM_ID ? n : null;
}

export class InvalidStreamError extends Error {
  constructor(kind: string, stream: string) {
    super(`${kind} stream ${JSON.stringify(stream)} is not an NNTSC stream id (an integer up to ${MAX_STREAM_ID}); no metadata`);
    this.name = 'InvalidStreamError';
  }
}

export interface MetadataOptions {
  /** Cache lifetime in seconds; 0 = never expires. Default 30. */
  ttlSeconds?: number;
  now?: () => number;
}

export interface MetadataStats {
  hits: number;
  queries: number;
  found: number;
  notFound: number;
  failures: number;
  cached: number;
}

interface CacheEntry {
  meta: StreamMeta;
  expires: number;
}

/** Sweep expired entries after this many insertions, so streams that went away do not pile up. */
const SWEEP_EVERY = 1000;

export class NntscMetadata {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<StreamMeta | null>>();
  private readonly ttlMs: number;
  private readonly now: () => number;
  private insertions = 0;
  readonly stats: MetadataStats = { hits: 0, queries: 0, found: 0, notFound: 0, failures: 0, cached: 0 };

  constructor(private readonly db: Queryable, opts: MetadataOptions = {}) {
    const ttl = opts.ttlSeconds ?? 30;
    this.ttlMs = ttl > 0 ? ttl * 1000 : Infinity;
    this.now = opts.now ?? Date.now;
  }

  /** The cached metadata, when fresh; no query. The object is shared: copy before changing it. */
  cached(kind: MetaKind, streamId: number): StreamMeta | undefined {
    const key = `${kind}.${streamId}`;
    const entry = this.cache.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      this.cache.delete(key);
      return undefined;
    }
    this.stats.hits++;
    return entry.meta;
  }

  /**
   * The stream's metadata row (first row wins), or null when there is none. Rejects when the
   * database fails; that is not cached, so the next lookup asks again.
   */
  lookup(kind: MetaKind, streamId: number): Promise<StreamMeta | null> {
    const hit = this.cached(kind, streamId);
    if (hit !== undefined) return Promise.resolve(hit);
    const key = `${kind}.${streamId}`;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const p = this.fetch(kind, streamId, key).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async fetch(kind: MetaKind, streamId: number, key: string): Promise<StreamMeta | null> {
    this.stats.queries++;
    let rows: Array<Record<string, unknown>>;
    try {
      ({ rows } = await this.db.query(META_TABLES[kind].sql, [streamId]));
    } catch (err) {
      this.stats.failures++;
      throw err;
    }
    if (rows.length === 0) {
      this.stats.notFound++;
      return null;
    }
    this.stats.found++;
    const meta = { ...rows[0] };
    this.cache.set(key, { meta, expires: this.now() + this.ttlMs });
    if (++this.insertions % SWEEP_EVERY === 0) this.sweep();
    this.stats.cached = this.cache.size;
    return meta;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.cache) if (entry.expires <= now) this.cache.delete(key);
  }

  clear(): void {
    this.cache.clear();
    this.stats.cached = 0;
  }
}
