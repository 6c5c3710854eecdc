/**
 * Line parsers for the two Latency TS I series formats (data-formats.md §5). Each line becomes
 * a Measurement or a reason why it was rejected; a parser never throws.
 */
import type { Measurement } from '../measurement';
import { Columns, decimalAt } from './scan';

export type LatencyTsFormat = 'ampicmp' | 'smokeping';
export type FormatOption = LatencyTsFormat | 'auto';

export const AMPICMP_KIND = 'LatencyTSAmpICMP';
export const SMOKEPING_KIND = 'LatencyTSSmokeping';
/** Smokeping ran 20 probes per measurement; loss is 20 minus the RTTs recorded. */
export const SMOKEPING_PROBES = 20;

export type LineParse =
  | { ok: true; measurement: Measurement; note?: string }
  | { ok: false; reason: string };

const AMPICMP_SHAPE = '<source>-<destination>-<family>,<epochSeconds>,<averageRtt>,<lossrate>';
const SMOKEPING_SHAPE = '<destination>,<epochSeconds>,<median>,<loss>[,<rtt>…]';

function fail(reason: string): LineParse {
  return { ok: false, reason };
}

/** A field as shown in a reason: quoted, and cut short so binary junk cannot flood the log. */
export function show(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/** Shared by every parse: parsing is synchronous, so one scratch scanner is enough. */
const cols = new Columns();

/** A plain decimal (see decimalAt), or NaN. */
export function parseDecimal(s: string): number {
  return decimalAt(s, 0, s.length);
}

/** Column i as epoch seconds (a non-negative whole number) → epoch ms, or NaN. */
function epochMsAt(i: number): number {
  const ms = cols.integer(i, false) * 1000;
  return Number.isSafeInteger(ms) ? ms : NaN;
}

/** Why a series key is unusable, or null. Control characters mean binary junk. */
function keyProblem(key: string): string | null {
  if (key === '') return 'the series key (column 1) is empty';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 32 || c === 127 || c === 0xfffd) return `the series key ${show(key)} contains binary data`;
  }
  return null;
}

/** Half-up rounding to 3 decimals, exactly as Streamevmon did (data-formats.md §5.2). */
export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** `callplus-afrinic-ipv6,1391079600,462691,0.000` → LatencyTSAmpICMP (data-formats.md §5.1). */
export function parseAmpIcmpLine(line: string, cache: KeyCache = sharedKeyCache): LineParse {
  const n = cols.split(line.trim());
  if (n !== 4) return fail(`ampicmp: expected 4 columns ${AMPICMP_SHAPE}, got ${n}`);
  const key = cols.text(0);
  const bad = keyProblem(key);
  if (bad) return fail(`ampicmp: ${bad}`);
  const parts = keyParts(key, cache);
  if (parts.length < 3 || parts[0] === '' || parts[1] === '' || parts[2] === '') {
    return fail(`ampicmp: series key ${show(key)} is not <source>-<destination>-<family>`);
  }
  const time = epochMsAt(1);
  if (Number.isNaN(time)) return fail(`ampicmp: epochSeconds ${show(cols.text(1))} is not a whole number of seconds`);
  const average = cols.integer(2, true);
  if (Number.isNaN(average)) return fail(`ampicmp: averageRtt ${show(cols.text(2))} is not an integer (µs)`);
  const lossrate = cols.decimal(3);
  if (Number.isNaN(lossrate)) return fail(`ampicmp: lossrate ${show(cols.text(3))} is not a number`);
  const [source, destination, family] = parts;
  return {
    ok: true,
    measurement: {
      kind: AMPICMP_KIND,
      stream: key,
      time,
      value: average,
      lossy: lossrate > 0,
      fields: { source, destination, family, average, lossrate },
    },
    // Host names with hyphens break the split; Streamevmon used parts 0-2 regardless.
    note: parts.length > 3
      ? `series key ${show(key)} has ${parts.length} hyphen-separated parts; using source ${show(source)}, destination ${show(destination)}, family ${show(family)}`
      : undefined,
  };
}

/**
 * The last ampicmp key split, and its parts. Consecutive lines of a file almost always share
 * their key, so a reader keeps one per file: the key is split once and its parts shared.
 */
export interface KeyCache {
  key: string;
  parts: readonly string[];
}

export function newKeyCache(): KeyCache {
  return { key: '', parts: [] };
}

const sharedKeyCache = newKeyCache();

function keyParts(key: string, cache: KeyCache): readonly string[] {
  if (key !== cache.key) {
    cache.key = key;
    cache.parts = key.split('-');
  }
  return cache.parts;
}

/** The median of the results, rounded to 3 decimals; undefined for no results. */
export function smokepingMedian(results: readonly number[]): number | undefined {
  const n = results.length;
  if (n === 0) return undefined;
  const sorted = sortedCopy(results);
  const mid = n >> 1;
  return round3(n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2);
}

let scratch = new Float64Array(32);

/** Insertion sort into a reused buffer: at most ~20 values, no allocation. */
function sortedCopy(values: readonly number[]): Float64Array {
  if (values.length > scratch.length) scratch = new Float64Array(values.length * 2);
  const a = scratch;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let j = i - 1;
    for (; j >= 0 && a[j] > v; j--) a[j + 1] = a[j];
    a[j + 1] = v;
  }
  return a;
}

/**
 * `afrinic.net,1385108700,462.624,10,462.022,…` → LatencyTSSmokeping (data-formats.md §5.2).
 * The recorded median and loss (columns 3 and 4) are ignored and recomputed from the RTTs.
 */
export function parseSmokepingLine(line: string): LineParse {
  const n = cols.split(line.trim());
  if (n < 4) return fail(`smokeping: expected at least 4 columns ${SMOKEPING_SHAPE}, got ${n}`);
  const destination = cols.text(0);
  const bad = keyProblem(destination);
  if (bad) return fail(`smokeping: ${bad}`);
  const time = epochMsAt(1);
  if (Number.isNaN(time)) return fail(`smokeping: epochSeconds ${show(cols.text(1))} is not a whole number of seconds`);
  const results: number[] = [];
  for (let i = 4; i < n; i++) {
    if (cols.isEmpty(i)) continue;
    const rtt = cols.decimal(i);
    if (Number.isNaN(rtt)) return fail(`smokeping: rtt in column ${i + 1} ${show(cols.text(i))} is not a number (ms)`);
    results.push(rtt);
  }
  // Clamped: Streamevmon went negative with more than 20 RTTs (data-formats.md Q12).
  const loss = Math.max(0, SMOKEPING_PROBES - results.length);
  const median = smokepingMedian(results);
  const family = destination.includes('v6') ? 'ipv6' : 'ipv4';
  return {
    ok: true,
    measurement: {
      kind: SMOKEPING_KIND,
      stream: destination,
      time,
      value: median ?? null,
      lossy: loss > 0,
      fields: median === undefined
        ? { destination, family, loss, results }
        : { destination, family, loss, median, results },
    },
  };
}

export function parseLine(format: LatencyTsFormat, line: string, cache?: KeyCache): LineParse {
  return format === 'ampicmp' ? parseAmpIcmpLine(line, cache) : parseSmokepingLine(line);
}

/**
 * Format from the path: the deepest directory named `ampicmp` or `smokeping` (as in the
 * dataset's `latency-ts-i/ampicmp/series/…`), or null.
 */
export function formatFromPath(file: string): LatencyTsFormat | null {
  const segments = file.split(/[\\/]/);
  for (let i = segments.length - 2; i >= 0; i--) {
    const s = segments[i].toLowerCase();
    if (s === 'ampicmp' || s === 'smokeping') return s;
  }
  return null;
}

/**
 * Decide a file's format from one line: 4 columns with an integer 3rd column that parse as
 * ampicmp → ampicmp; otherwise a valid smokeping line → smokeping; otherwise undecided (the
 * line is malformed under both, and the next line decides).
 */
export function sniffLine(line: string, cache?: KeyCache): { format: LatencyTsFormat | null; result: LineParse } {
  // A successful ampicmp parse implies 4 columns and an integer 3rd column.
  const amp = parseAmpIcmpLine(line, cache);
  if (amp.ok) return { format: 'ampicmp', result: amp };
  const smoke = parseSmokepingLine(line);
  if (smoke.ok) return { format: 'smokeping', result: smoke };
  return { format: null, result: fail(`neither format fits (${amp.reason}; ${smoke.reason})`) };
}
