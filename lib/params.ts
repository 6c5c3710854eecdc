/**
 * Parameter specifications and validation (detectors.md §10.4, D9). One set of defaults,
 * used by the runtime, the editor help and validation alike.
 */

export type ParamKind = 'int' | 'number' | 'boolean';

export interface ParamSpec {
  name: string;
  kind: ParamKind;
  default: number | boolean;
  /** Inclusive lower bound, or exclusive when minExclusive. */
  min?: number;
  minExclusive?: boolean;
  /** Inclusive upper bound. */
  max?: number;
  /** Unit for messages and help, e.g. "s". */
  unit?: string;
}

export type ParamValues = Record<string, number | boolean>;

export interface ParamSet<P extends ParamValues> {
  /** Detector name used in messages, e.g. "spike". */
  owner: string;
  specs: readonly ParamSpec[];
  /** Cross-parameter constraints; each returns an error text or null. */
  constraints?: ReadonlyArray<(p: P) => string | null>;
}

export interface ParseResult<P> {
  params: P;
  errors: string[];
}

function describeRange(spec: ParamSpec): string {
  const what = spec.kind === 'int' ? 'an integer' : 'a number';
  if (spec.min !== undefined && spec.max !== undefined) {
    return spec.minExclusive
      ? `${what} greater than ${spec.min} and at most ${spec.max}`
      : `${what} between ${spec.min} and ${spec.max}`;
  }
  if (spec.min !== undefined) return spec.minExclusive ? `${what} greater than ${spec.min}` : `${what} of at least ${spec.min}`;
  if (spec.max !== undefined) return `${what} of at most ${spec.max}`;
  return what;
}

/** Parse one raw value (from the editor, a hand-written flow or code). Undefined or '' → default. */
function parseOne(owner: string, spec: ParamSpec, raw: unknown): { value: number | boolean; error?: string } {
  if (raw === undefined || raw === null || raw === '') return { value: spec.default };
  if (spec.kind === 'boolean') {
    if (typeof raw === 'boolean') return { value: raw };
    if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
    return { value: spec.default, error: `${owner}: ${spec.name} must be true or false (got ${JSON.stringify(raw)})` };
  }
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  const shown = typeof raw === 'string' ? raw : JSON.stringify(raw);
  const rangeError = `${owner}: ${spec.name} must be ${describeRange(spec)} (got ${shown})`;
  if (!Number.isFinite(n)) return { value: spec.default, error: rangeError };
  if (spec.kind === 'int' && !Number.isInteger(n)) return { value: spec.default, error: rangeError };
  if (spec.min !== undefined && (spec.minExclusive ? n <= spec.min : n < spec.min)) return { value: spec.default, error: rangeError };
  if (spec.max !== undefined && n > spec.max) return { value: spec.default, error: rangeError };
  return { value: n };
}

/** Validate and convert raw configuration values; every problem is reported, not just the first. */
export function parseParams<P extends ParamValues>(set: ParamSet<P>, raw: Record<string, unknown>): ParseResult<P> {
  const errors: string[] = [];
  const params: ParamValues = {};
  for (const spec of set.specs) {
    const r = parseOne(set.owner, spec, raw[spec.name]);
    params[spec.name] = r.value;
    if (r.error) errors.push(r.error);
  }
  // Constraints only make sense between values that are individually valid.
  if (errors.length === 0) {
    for (const check of set.constraints ?? []) {
      const e = check(params as P);
      if (e) errors.push(`${set.owner}: ${e}`);
    }
  }
  return { params: params as P, errors };
}

/** The defaults of a parameter set, as a typed object. */
export function defaultParams<P extends ParamValues>(set: ParamSet<P>): P {
  const out: ParamValues = {};
  for (const spec of set.specs) out[spec.name] = spec.default;
  return out as P;
}

/** Parse or throw: for library users who construct detectors in code. */
export function requireParams<P extends ParamValues>(set: ParamSet<P>, raw: Partial<Record<keyof P, unknown>>): P {
  const { params, errors } = parseParams(set, raw as Record<string, unknown>);
  if (errors.length) throw new RangeError(errors.join('; '));
  return params;
}
