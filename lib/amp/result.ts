/**
 * What parsing one point as an AMP measurement gives, and the typed access to its fields
 * shared by the legacy and AMP2 parsers (data-formats.md §2, §4.2).
 */
import type { FieldValue } from '../influx/line-parser';
import type { Measurement } from '../measurement';

/** A point as the line parser (or a history query) delivers it. */
export interface PointLike {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue | null | undefined>;
  /** Epoch ms. */
  time: number;
  line?: number;
}

export type AmpParse =
  | { status: 'ok'; measurement: Measurement }
  /** The point belongs to this family but is malformed: count it, report it, skip it. */
  | { status: 'failed'; error: string }
  /** Not a measurement of this family (another measurement name): ignore silently. */
  | { status: 'ignored' };

export const IGNORED: AmpParse = Object.freeze({ status: 'ignored' }) as AmpParse;

export function failed(error: string): AmpParse {
  return { status: 'failed', error };
}

/** Field types as far as the parsers care: int and float are both numbers. */
export type FieldType = 'number' | 'string' | 'bool';

export type FieldSpec = Readonly<Record<string, FieldType>>;

/**
 * The typed fields named in `spec` that the point has (absent ones omitted), or the reason
 * one has the wrong type. `required` fields must be present.
 */
export function typedFields(
  point: PointLike, spec: FieldSpec, required: readonly string[], out: Record<string, unknown>,
): string | null {
  const fields = point.fields;
  for (const name of required) {
    if (fields[name] === undefined || fields[name] === null) return `required field ${name} is missing`;
  }
  for (const name in spec) {
    const v = fields[name];
    if (v === undefined || v === null) continue;
    const type = spec[name];
    if (type === 'number') {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `field ${name} must be a number, not ${describe(v)}`;
    } else if (type === 'string') {
      if (typeof v !== 'string') return `field ${name} must be a string, not ${describe(v)}`;
    } else if (typeof v !== 'boolean') return `field ${name} must be a boolean, not ${describe(v)}`;
    out[name] = v;
  }
  return null;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 30 ? `${v.slice(0, 30)}…` : v)}` : `${typeof v} ${String(v)}`;
}

/** Where a failure happened, for messages: `line 12: latency …`. */
export function where(point: PointLike): string {
  return point.line !== undefined ? `line ${point.line}: ${point.measurement}` : point.measurement;
}
