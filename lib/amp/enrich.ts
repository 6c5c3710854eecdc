/**
 * Enrichment of AMP legacy measurements with their NNTSC metadata (data-formats.md §3.3):
 * a found row makes the measurement its Rich kind with `meta`; an unknown stream, an invalid
 * stream id or a database failure leaves `meta: null` and is counted, never dropped (Q20).
 * Measurements whose metadata is cached are enriched synchronously.
 */
import { isMeasurement, Measurement } from '../measurement';
import { InvalidStreamError, MetaKind, NntscMetadata, StreamMeta, metaKindOf, parseStreamId, richKindOf } from './nntsc';

/** A measurement after enrichment: `meta` is null when no metadata could be attached. */
export type EnrichedMeasurement = Omit<Measurement, 'meta'> & { meta?: StreamMeta | null };

export interface EnrichResult {
  /** Measurements that received metadata. */
  enriched: number;
  /** Legacy measurements left without metadata (unknown stream, invalid id, database failure). */
  missing: number;
  /** Measurements of kinds without NNTSC metadata (AMP2, Latency TS I, …), left untouched. */
  skipped: number;
  /** Per-measurement data problems (invalid stream ids, array elements that are not measurements). */
  dataErrors: string[];
  /** The database failure that left measurements without metadata, if any. */
  dbError?: Error;
}

/** Queries one batch may have in flight at once (the pool runs a few; the rest wait in it). */
const MAX_CONCURRENT_LOOKUPS = 8;

interface Lookup {
  m: EnrichedMeasurement;
  kind: MetaKind;
  id: number;
}

function newResult(): EnrichResult {
  return { enriched: 0, missing: 0, skipped: 0, dataErrors: [] };
}

function attach(m: EnrichedMeasurement, kind: MetaKind, meta: StreamMeta | null, r: EnrichResult): void {
  if (meta) {
    m.kind = richKindOf(kind);
    // A copy: the cached object must not change when a later node edits this msg.
    m.meta = { ...meta };
    r.enriched++;
  } else {
    m.kind = kind;
    m.meta = null;
    r.missing++;
  }
}

export class MetaEnricher {
  constructor(private readonly metadata: NntscMetadata) {}

  /**
   * Enrich a payload in place: one measurement or an array of them. Returns the result
   * directly when no query was needed. A payload that is not a measurement (or an array) is
   * an error text, and nothing is changed.
   */
  enrich(payload: unknown): EnrichResult | Promise<EnrichResult> | string {
    const items: unknown[] = Array.isArray(payload) ? payload : [payload];
    if (!Array.isArray(payload) && !isMeasurement(payload)) {
      return 'payload is not a streamevmon measurement ({kind, stream, time, value, lossy}); amp-meta enriches AMP legacy measurements';
    }
    const r = newResult();
    const lookups: Lookup[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!isMeasurement(item)) {
        r.dataErrors.push(`element ${i} of the payload array is not a streamevmon measurement`);
        continue;
      }
      const m = item as EnrichedMeasurement;
      const kind = metaKindOf(m.kind, m.stream);
      if (kind === null) {
        r.skipped++;
        continue;
      }
      const id = parseStreamId(m.stream);
      if (id === null) {
        r.dataErrors.push(new InvalidStreamError(m.kind, m.stream).message);
        attach(m, kind, null, r);
        continue;
      }
      const hit = this.metadata.cached(kind, id);
      if (hit !== undefined) attach(m, kind, hit, r);
      else lookups.push({ m, kind, id });
    }
    return lookups.length === 0 ? r : this.resolve(lookups, r);
  }

  /**
   * One query per distinct stream, at most MAX_CONCURRENT_LOOKUPS at a time: a batch of many
   * new streams must not queue more requests on the pool than it can serve before its
   * connection timeout (they would fail as if the database were down).
   */
  private async resolve(lookups: Lookup[], r: EnrichResult): Promise<EnrichResult> {
    const distinct = new Map<string, { kind: MetaKind; id: number; meta: StreamMeta | null }>();
    for (const l of lookups) {
      const key = `${l.kind}:${l.id}`;
      if (!distinct.has(key)) distinct.set(key, { kind: l.kind, id: l.id, meta: null });
    }
    const todo = [...distinct.values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < todo.length) {
        const d = todo[next++];
        d.meta = await this.metadata.lookup(d.kind, d.id).catch((err: unknown) => {
          r.dbError ??= err instanceof Error ? err : new Error(String(err));
          return null;
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_LOOKUPS, todo.length) }, worker));
    for (const l of lookups) attach(l.m, l.kind, distinct.get(`${l.kind}:${l.id}`)!.meta, r);
    return r;
  }
}
