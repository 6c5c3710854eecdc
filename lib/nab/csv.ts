/**
 * A hand-written scanner for NAB CSV files (data-formats.md §6): data files
 * (`timestamp,value`, exactly two columns) and results files (a `timestamp` column and an
 * `anomaly_score` column among others). Rows go into typed arrays; a bad line is recorded
 * with its line number and reason and never stops the scan.
 */
import { decimalAt } from '../latencyts/scan';
import { parseNabTimestamp } from './timestamp';

export interface BadLine {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  reason: string;
}

export interface NabSeries {
  /** Epoch ms per row. */
  times: Float64Array;
  /** The chosen column per row. */
  values: Float64Array;
  length: number;
  /** Verbatim timestamp text per row (only with keepText). */
  stampText?: string[];
  /** Verbatim value text per row (only with keepText). */
  valueText?: string[];
  bad: BadLine[];
  /** Blank lines. */
  skipped: number;
  /** Rows older than the row before them (still kept, in file order). */
  outOfOrder: number;
}

export interface ScanOptions {
  /** Column to read beside `timestamp`: `value` (default) for data, `anomaly_score` for results. */
  column?: string;
  /** Keep each row's timestamp and value text (the results writer copies them verbatim). */
  keepText?: boolean;
  /** Stop recording bad lines after this many (they are still counted in `badCount`). */
  maxBadRecorded?: number;
}

/** The file's layout, from its header. */
interface Layout {
  columns: number;
  timeCol: number;
  valueCol: number;
}

const MAX_REASON_TEXT = 60;
/** Results files have four columns; anything wider is not a NAB file. */
const MAX_COLUMNS = 64;

function shown(s: string): string {
  return JSON.stringify(s.length > MAX_REASON_TEXT ? `${s.slice(0, MAX_REASON_TEXT)}…` : s);
}

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Read the header (throws when the wanted columns are missing). Data files must have exactly two. */
function layoutFromHeader(header: string, column: string): Layout {
  const names = header.split(',').map((n) => n.trim().replace(/^"|"$/g, ''));
  const timeCol = names.indexOf('timestamp');
  const valueCol = names.indexOf(column);
  if (timeCol < 0 || valueCol < 0) {
    throw new Error(`header ${shown(header)} has no ${timeCol < 0 ? 'timestamp' : column} column`);
  }
  if (names.length > MAX_COLUMNS) throw new Error(`header ${shown(header)} has more than ${MAX_COLUMNS} columns`);
  if (column === 'value' && names.length !== 2) {
    throw new Error(`header ${shown(header)}: a NAB data file has exactly two columns, timestamp,value`);
  }
  return { columns: names.length, timeCol, valueCol };
}

/** Upper bound of the number of rows: the number of line breaks plus one. */
function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Scan a whole NAB CSV text. A missing header means `timestamp,value`. Throws only when the
 * header lacks the wanted columns; every other problem is a bad line.
 */
export function scanNabCsv(text: string, opts: ScanOptions = {}): NabSeries & { badCount: number } {
  const column = opts.column ?? 'value';
  const maxBad = opts.maxBadRecorded ?? Infinity;
  const capacity = countLines(text);
  const times = new Float64Array(capacity);
  const values = new Float64Array(capacity);
  const stampText: string[] | undefined = opts.keepText ? [] : undefined;
  const valueText: string[] | undefined = opts.keepText ? [] : undefined;
  const bad: BadLine[] = [];
  let badCount = 0;
  let skipped = 0;
  let outOfOrder = 0;
  let n = 0;
  let layout: Layout | null = null;
  let lastTime = -Infinity;
  const ends = new Int32Array(MAX_COLUMNS);

  const reject = (line: number, reason: string): void => {
    badCount++;
    if (bad.length < maxBad) bad.push({ line, reason });
  };

  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let lineNo = 1; pos <= text.length; lineNo++) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    const start = pos;
    pos = nl + 1;
    if (end === start || (text.charCodeAt(start) <= 32 && text.slice(start, end).trim() === '')) {
      if (nl < text.length) skipped++;
      continue;
    }
    if (layout === null) {
      if (!isDigitCode(text.charCodeAt(start))) {
        layout = layoutFromHeader(text.slice(start, end), column);
        continue;
      }
      layout = { columns: 2, timeCol: 0, valueCol: 1 };
    }
    // Column boundaries: ends[i] is the index just past column i.
    let cols = 0;
    for (let from = start; ;) {
      const comma = text.indexOf(',', from);
      if (comma < 0 || comma >= end) {
        if (cols < ends.length) ends[cols] = end;
        cols++;
        break;
      }
      if (cols < ends.length) ends[cols] = comma;
      cols++;
      from = comma + 1;
    }
    if (cols !== layout.columns) {
      reject(lineNo, `expected ${layout.columns} columns, got ${cols}: ${shown(text.slice(start, end))}`);
      continue;
    }
    const ts = layout.timeCol === 0 ? start : ends[layout.timeCol - 1] + 1;
    const te = ends[layout.timeCol];
    const vs = layout.valueCol === 0 ? start : ends[layout.valueCol - 1] + 1;
    const ve = ends[layout.valueCol];
    const t = parseNabTimestamp(text, ts, te);
    if (Number.isNaN(t)) {
      reject(lineNo, `timestamp is not YYYY-MM-DD HH:MM:SS: ${shown(text.slice(ts, te))}`);
      continue;
    }
    const v = decimalAt(text, vs, ve);
    if (Number.isNaN(v)) {
      reject(lineNo, `${column} is not a number: ${shown(text.slice(vs, ve))}`);
      continue;
    }
    if (t < lastTime) outOfOrder++;
    lastTime = t;
    times[n] = t;
    values[n] = v;
    if (stampText && valueText) {
      stampText.push(text.slice(ts, te));
      valueText.push(text.slice(vs, ve));
    }
    n++;
  }
  return {
    times: times.subarray(0, n),
    values: values.subarray(0, n),
    length: n,
    stampText,
    valueText,
    bad,
    badCount,
    skipped,
    outOfOrder,
  };
}
