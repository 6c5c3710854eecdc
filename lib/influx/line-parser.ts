/**
 * The one InfluxDB 1.x line-protocol parser (data-formats.md §8), used for subscription bodies,
 * fixtures, AMP legacy and AMP2 alike. It scans the text by index (no per-line regex, no
 * substring per line) because it sits on the live-ingest hot path. A line that does not parse
 * is counted and reported with its line number; nothing is ever thrown out of parseLines.
 */

/** Integers, unsigned integers and floats are numbers; the `i`/`u` suffix is removed. */
export type FieldValue = number | string | boolean;

export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Epoch milliseconds (integer division of the timestamp, never floating point). */
  time: number;
  /** 1-based line number in the parsed text, when the point came from text. */
  line?: number;
}

/** Timestamp precisions of the InfluxDB 1.x /write `precision=` parameter. */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

export interface LineError {
  /** 1-based line number. */
  line: number;
  reason: string;
  /** The start of the offending line (at most 200 characters). */
  text: string;
}

export interface ParseOptions {
  /** Timestamp unit; default nanoseconds. */
  precision?: Precision;
  /** Time (epoch ms) for lines without a timestamp; default: the time of the call. */
  now?: number;
  /** Number of the text's first line, for texts that continue an earlier chunk (default 1). */
  firstLine?: number;
  /** At most this many errors are kept with their text (all are counted); default 100. */
  maxErrors?: number;
}

export interface ParseResult {
  points: Point[];
  /** The first `maxErrors` failures, in line order. */
  errors: LineError[];
  /** Every failure, including those not kept in `errors`. */
  errorCount: number;
  /** Lines that were neither empty nor comments. */
  lines: number;
}

const NL = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const MINUS = 45;
const PLUS = 43;
const EQUALS = 61;
const BACKSLASH = 92;
const ZERO = 48;
const NINE = 57;

const PRECISION_ALIASES: Record<string, Precision> = {
  n: 'ns', ns: 'ns', u: 'us', us: 'us', 'µ': 'us', 'µs': 'us', ms: 'ms', s: 's', m: 'm', h: 'h',
};

/** ms per unit for the precisions coarser than a millisecond. */
const MS_PER_UNIT: Record<'ms' | 's' | 'm' | 'h', bigint> = { ms: 1n, s: 1000n, m: 60_000n, h: 3_600_000n };

/** InfluxDB 1.x accepts timestamps within the int64 nanosecond range, minus the two extremes. */
const MAX_NS = 9223372036854775806n;
const MAX_NS_TEXT = '9223372036854775806';

/** The `precision` query parameter as a Precision; undefined or '' → ns; otherwise null. */
export function parsePrecision(raw: unknown): Precision | null {
  if (raw === undefined || raw === null || raw === '') return 'ns';
  return typeof raw === 'string' ? PRECISION_ALIASES[raw] ?? null : null;
}

/** Thrown only inside this module, turned into a counted LineError by the callers. */
class LineSyntaxError {
  constructor(readonly reason: string) {}
}

function fail(reason: string): never {
  throw new LineSyntaxError(reason);
}

/** Property names such as `__proto__` must not touch the prototype. */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Scans one line `s[start, end)` (no line terminator inside). Separators preceded by a
 * backslash are escaped; keys and values are unescaped only when a backslash was seen.
 */
class LineScanner {
  private pos = 0;
  private end = 0;

  constructor(private readonly s: string) {}

  /** The point of `s[start, end)`; one scanner serves every line of a text. */
  point(start: number, end: number, precision: Precision, now: number, line: number | undefined): Point {
    this.pos = start;
    this.end = end;
    const measurement = this.measurement();
    const tags: Record<string, string> = {};
    while (this.pos < this.end && this.s.charCodeAt(this.pos) === COMMA) {
      this.pos++;
      const key = this.key('tag key');
      put(tags, key, this.tagValue(key));
    }
    if (this.skipBlanks() === 0 || this.pos >= this.end) fail('no fields (a line is `measurement[,tags] fields [timestamp]`)');
    const fields: Record<string, FieldValue> = {};
    for (;;) {
      const key = this.key('field key');
      put(fields, key, this.fieldValue(key));
      if (this.pos < this.end && this.s.charCodeAt(this.pos) === COMMA) {
        this.pos++;
        continue;
      }
      break;
    }
    this.skipBlanks();
    const time = this.pos < this.end ? this.timestamp(precision) : now;
    this.skipBlanks();
    if (this.pos < this.end) fail(`unexpected text after the timestamp: ${JSON.stringify(this.s.slice(this.pos, Math.min(this.end, this.pos + 20)))}`);
    return line === undefined ? { measurement, tags, fields, time } : { measurement, tags, fields, time, line };
  }

  private skipBlanks(): number {
    const from = this.pos;
    while (this.pos < this.end && isBlank(this.s.charCodeAt(this.pos))) this.pos++;
    return this.pos - from;
  }

  /** Measurement names escape `,` and space. */
  private measurement(): string {
    const { s, end } = this;
    const start = this.pos;
    let escaped = false;
    let i = start;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) escaped = true;
      else if ((c === COMMA || c === SPACE) && s.charCodeAt(i - 1) !== BACKSLASH) break;
    }
    this.pos = i;
    if (i === start) fail('missing measurement name');
    const raw = s.slice(start, i);
    return escaped ? raw.replace(/\\([, ])/g, '$1') : raw;
  }

  /** Tag and field keys end at an unescaped `=`; `,`, `=` and space may be escaped. */
  private key(what: string): string {
    const { s, end } = this;
    const start = this.pos;
    let escaped = false;
    let i = start;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) {
        escaped = true;
        continue;
      }
      if ((c === EQUALS || c === COMMA || c === SPACE) && s.charCodeAt(i - 1) !== BACKSLASH) break;
    }
    const raw = s.slice(start, i);
    if (i === start) fail(`empty ${what}`);
    if (i >= end || s.charCodeAt(i) !== EQUALS) fail(`${what} ${JSON.stringify(raw)} has no "=" and value`);
    this.pos = i + 1;
    return escaped ? unescapeKey(raw) : raw;
  }

  /** Tag values end at an unescaped `,` or space. An unescaped `=` is kept (URLs have them). */
  private tagValue(key: string): string {
    const { s, end } = this;
    const start = this.pos;
    let escaped = false;
    let i = start;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) escaped = true;
      else if ((c === COMMA || c === SPACE) && s.charCodeAt(i - 1) !== BACKSLASH) break;
    }
    if (i === start) fail(`tag ${JSON.stringify(key)} has an empty value`);
    this.pos = i;
    const raw = s.slice(start, i);
    return escaped ? unescapeKey(raw) : raw;
  }

  private fieldValue(key: string): FieldValue {
    const { s, end } = this;
    if (this.pos < end && s.charCodeAt(this.pos) === QUOTE) return this.stringValue(key);
    const start = this.pos;
    let i = start;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c === COMMA || c === SPACE || c === TAB) break;
      i++;
    }
    this.pos = i;
    if (i === start) fail(`field ${JSON.stringify(key)} has no value`);
    return scalar(s.slice(start, i), key);
  }

  /** A double-quoted string; `\"` and `\\` are escapes, other backslashes are literal. */
  private stringValue(key: string): string {
    const { s, end } = this;
    const start = this.pos + 1;
    let escaped = false;
    let i = start;
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) {
        escaped = true;
        i++;
      } else if (c === QUOTE) break;
    }
    if (i >= end) fail(`string field ${JSON.stringify(key)} has no closing quote`);
    this.pos = i + 1;
    const raw = s.slice(start, i);
    return escaped ? raw.replace(/\\(["\\])/g, '$1') : raw;
  }

  private timestamp(precision: Precision): number {
    const { s, end } = this;
    const start = this.pos;
    let i = start;
    const c0 = s.charCodeAt(i);
    if (c0 === MINUS || c0 === PLUS) i++;
    const digitsStart = i;
    while (i < end && isDigit(s.charCodeAt(i))) i++;
    this.pos = i;
    if (i === digitsStart || (i < end && !isBlank(s.charCodeAt(i)))) {
      let j = i;
      while (j < end && !isBlank(s.charCodeAt(j))) j++;
      fail(`timestamp ${JSON.stringify(s.slice(start, j))} is not an integer`);
    }
    return toEpochMs(s.slice(digitsStart, i), c0 === MINUS, precision);
  }
}

function unescapeKey(raw: string): string {
  return raw.replace(/\\([,= ])/g, '$1');
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/** digits of an integer (no sign), with at least one digit. */
function allDigits(v: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}

/** Characters a float may contain; Number() then rejects the bad arrangements. */
function floatChars(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (!(isDigit(c) || c === 46 /* . */ || c === 101 /* e */ || c === 69 /* E */ || c === PLUS || c === MINUS)) return false;
  }
  return true;
}

/** An unquoted field value: integer (`i`), unsigned (`u`), boolean or float. */
function scalar(v: string, key: string): FieldValue {
  const last = v.charCodeAt(v.length - 1);
  if (last === 105 /* i */) {
    const signed = v.charCodeAt(0) === MINUS || v.charCodeAt(0) === PLUS ? 1 : 0;
    if (allDigits(v, signed, v.length - 1)) {
      if (v.length - 1 - signed > 19) fail(`integer field ${JSON.stringify(key)} is out of range: ${v}`);
      return Number(v.slice(0, -1));
    }
  } else if (last === 117 /* u */) {
    if (allDigits(v, 0, v.length - 1)) {
      if (v.length - 1 > 20) fail(`unsigned field ${JSON.stringify(key)} is out of range: ${v}`);
      return Number(v.slice(0, -1));
    }
  } else {
    switch (v) {
      case 't': case 'T': case 'true': case 'True': case 'TRUE': return true;
      case 'f': case 'F': case 'false': case 'False': case 'FALSE': return false;
      default:
    }
    if (floatChars(v)) {
      const n = Number(v);
      if (Number.isFinite(n)) return n;
    }
  }
  fail(`field ${JSON.stringify(key)} has an invalid value ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)} (numbers: 1.5, 15i, 15u; booleans: t/f/true/false; strings are double-quoted)`);
}

/**
 * Timestamp digits (no sign) → epoch ms by integer division towards zero, exactly: for
 * ns and µs, dropping the last 6 or 3 digits *is* that division; other units go via BigInt.
 */
function toEpochMs(digits: string, negative: boolean, precision: Precision): number {
  let ms: number;
  if (precision === 'ns' || precision === 'us') {
    if (precision === 'ns') checkNsRange(digits, 1n);
    else checkNsRange(digits, 1000n);
    const drop = precision === 'ns' ? 6 : 3;
    ms = digits.length > drop ? Number(digits.slice(0, digits.length - drop)) : 0;
  } else {
    const factor = MS_PER_UNIT[precision];
    checkNsRange(digits, factor * 1_000_000n);
    ms = Number(BigInt(digits) * factor);
  }
  return negative && ms !== 0 ? -ms : ms;
}

function checkNsRange(digits: string, nsPerUnit: bigint): void {
  if (nsPerUnit === 1n) {
    // Fast path for the common case: compare the digit strings.
    const t = digits.replace(/^0+(?=\d)/, '');
    if (t.length < MAX_NS_TEXT.length || (t.length === MAX_NS_TEXT.length && t <= MAX_NS_TEXT)) return;
  } else if (digits.length <= 25 && BigInt(digits) * nsPerUnit <= MAX_NS) return;
  fail(`timestamp ${digits} is outside the range InfluxDB accepts`);
}

/** Parse one line (without its line terminator). Returns the point, or the reason it failed. */
export function parseLine(line: string, opts: { precision?: Precision; now?: number } = {}): Point | string {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === CR) end--;
  let start = 0;
  while (start < end && isBlank(line.charCodeAt(start))) start++;
  if (start === end) return 'empty line';
  if (line.charCodeAt(start) === HASH) return 'comment line';
  try {
    return new LineScanner(line).point(start, end, opts.precision ?? 'ns', opts.now ?? Date.now(), undefined);
  } catch (err) {
    if (err instanceof LineSyntaxError) return err.reason;
    throw err;
  }
}

/**
 * Parse a whole body. Lines end with `\n` or `\r\n`; empty lines and `#` comments are skipped;
 * a string field cannot span lines (an unclosed quote fails its own line only).
 */
export function parseLines(text: string, opts: ParseOptions = {}): ParseResult {
  const precision = opts.precision ?? 'ns';
  const now = opts.now ?? Date.now();
  const maxErrors = opts.maxErrors ?? 100;
  const points: Point[] = [];
  const errors: LineError[] = [];
  let errorCount = 0;
  let lines = 0;
  let lineNo = (opts.firstLine ?? 1) - 1;
  let pos = 0;
  const len = text.length;
  const scanner = new LineScanner(text);
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    lineNo++;
    let end = nl;
    if (end > pos && text.charCodeAt(end - 1) === CR) end--;
    let start = pos;
    pos = nl + 1;
    while (start < end && isBlank(text.charCodeAt(start))) start++;
    if (start === end || text.charCodeAt(start) === HASH) continue;
    lines++;
    try {
      points.push(scanner.point(start, end, precision, now, lineNo));
    } catch (err) {
      if (!(err instanceof LineSyntaxError)) throw err;
      errorCount++;
      if (errors.length < maxErrors) errors.push({ line: lineNo, reason: err.reason, text: text.slice(start, Math.min(end, start + 200)) });
    }
  }
  return { points, errors, errorCount, lines };
}

/**
 * Chunked input: the complete lines of `text`, and the unfinished last line to prepend to the
 * next chunk.
 */
export function splitCompleteLines(text: string): { complete: string; rest: string } {
  const nl = text.lastIndexOf('\n');
  return nl < 0 ? { complete: '', rest: text } : { complete: text.slice(0, nl + 1), rest: text.slice(nl + 1) };
}
