/**
 * Streaming reader of Latency TS I series files: each file is read line by line, and the files
 * are merged by time (k-way merge on (time, file index); lines of one file keep their order),
 * so the measurements come out with non-decreasing time (data-formats.md §5). Memory is about
 * one chunk plus one parsed measurement per file, whatever the dataset size.
 */
import { promises as fsp } from 'node:fs';
import type { Measurement } from '../measurement';
import { resolveSeriesFiles } from './files';
import { MinHeap } from './heap';
import { LineReader } from './lines';
import { FormatOption, LatencyTsFormat, LineParse, formatFromPath, newKeyCache, parseLine, sniffLine } from './parse';

export interface ReaderStats {
  files: number;
  /** Measurements returned by next() so far. */
  rows: number;
  /** Lines that could not be parsed (each reported through onMalformed). */
  malformed: number;
  /** Empty or whitespace-only lines. */
  skipped: number;
  /** Lines older than the line before them in the same file (still returned). */
  outOfOrder: number;
  bytesRead: number;
  totalBytes: number;
  /** Parsed measurements held, waiting for their turn in the merge (at most one per file). */
  buffered: number;
  /** Characters of unparsed text held in the line buffers. */
  bufferedChars: number;
}

export interface ReaderOptions {
  /** Format of every file, or 'auto' (default): by directory name, else by the first valid line. */
  format?: FormatOption;
  /** Bytes read per file at a time; default scales with the file count (4 to 64 KiB). */
  chunkBytes?: number;
  /** Longer lines are reported as malformed (default 8192 characters). */
  maxLineChars?: number;
  onMalformed?: (file: string, line: number, reason: string) => void;
  /** Remarks about accepted lines (e.g. a hyphenated ampicmp host name), once per file. */
  onNote?: (file: string, line: number, message: string) => void;
}

export interface FileInfo {
  file: string;
  size: number;
  /** null until decided (auto format, no valid line yet). */
  format: LatencyTsFormat | null;
}

const DEFAULT_MAX_LINE_CHARS = 8192;

/** Keep all files' chunks together around 4 MiB, within 4..64 KiB per file. */
function defaultChunkBytes(files: number): number {
  return Math.min(64 * 1024, Math.max(4 * 1024, Math.floor((4 * 1024 * 1024) / Math.max(1, files))));
}

function isBlank(line: string): boolean {
  if (line.length === 0) return true;
  const first = line.charCodeAt(0);
  const last = line.charCodeAt(line.length - 1);
  // Only lines starting or ending with white space (or a BOM) can be blank.
  return (first <= 32 || last <= 32 || first === 0xfeff) && line.trim() === '';
}

class FileCursor {
  head: Measurement | null = null;
  lastTime = -Infinity;
  noted = false;
  readonly keys = newKeyCache();

  constructor(
    readonly index: number,
    readonly lines: LineReader,
    readonly size: number,
    public format: LatencyTsFormat | null,
  ) {}
}

export class LatencyTsReader {
  private readonly cursors: FileCursor[];
  private readonly heap = new MinHeap<FileCursor>((a, b) => {
    const ta = (a.head as Measurement).time;
    const tb = (b.head as Measurement).time;
    return ta < tb || (ta === tb && a.index < b.index);
  });
  private readonly buffer: Buffer;
  private readonly maxLineChars: number;
  private busy = false;
  private closed = false;
  private readonly counts = { rows: 0, malformed: 0, skipped: 0, outOfOrder: 0, bytesRead: 0 };
  private readonly totalBytes: number;

  private constructor(files: readonly string[], sizes: readonly number[], private readonly opts: ReaderOptions) {
    this.maxLineChars = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
    this.buffer = Buffer.allocUnsafe(opts.chunkBytes ?? defaultChunkBytes(files.length));
    const configured = opts.format && opts.format !== 'auto' ? opts.format : null;
    this.cursors = files.map((f, i) =>
      new FileCursor(i, new LineReader(f, this.maxLineChars), sizes[i], configured ?? formatFromPath(f)));
    this.totalBytes = sizes.reduce((a, b) => a + b, 0);
  }

  /** Open these files (in this order: the order breaks ties between equal times). */
  static async open(files: readonly string[], opts: ReaderOptions = {}): Promise<LatencyTsReader> {
    const sizes: number[] = [];
    for (const f of files) {
      let size: number;
      try {
        const st = await fsp.stat(f);
        if (!st.isFile()) throw new Error('not a file');
        size = st.size;
      } catch (err) {
        throw new Error(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      sizes.push(size);
    }
    const reader = new LatencyTsReader(files, sizes, opts);
    try {
      await reader.prime();
    } catch (err) {
      await reader.close();
      throw err;
    }
    return reader;
  }

  get stats(): ReaderStats {
    let chars = 0;
    for (const c of this.cursors) chars += c.lines.buffered;
    return {
      files: this.cursors.length,
      ...this.counts,
      totalBytes: this.totalBytes,
      buffered: this.heap.size,
      bufferedChars: chars,
    };
  }

  /** Fraction of the bytes read so far, 0..1. */
  get progress(): number {
    return this.totalBytes > 0 ? Math.min(1, this.counts.bytesRead / this.totalBytes) : 1;
  }

  /** No more measurements (or closed). */
  get done(): boolean {
    return this.closed || this.heap.size === 0;
  }

  get files(): FileInfo[] {
    return this.cursors.map((c) => ({ file: c.lines.file, size: c.size, format: c.format }));
  }

  /**
   * Up to `max` measurements in time order; an empty array once every file is exhausted.
   * Calls must not overlap: await one before the next.
   */
  async next(max = 1000): Promise<Measurement[]> {
    if (!(max >= 1)) throw new RangeError(`next(max): max must be at least 1 (got ${max})`);
    if (this.busy) throw new Error('LatencyTsReader.next() is already running; await it first');
    this.busy = true;
    const out: Measurement[] = [];
    try {
      while (out.length < max && !this.closed) {
        const c = this.heap.peek();
        if (!c) break;
        out.push(c.head as Measurement);
        if (!this.advance(c)) await this.refill(c);
        if (this.closed) break;
        if (c.head) this.heap.updateTop();
        else this.heap.pop();
      }
      this.counts.rows += out.length;
    } finally {
      this.busy = false;
    }
    return out;
  }

  /** Stop reading; later next() calls return nothing. No file stays open between chunks. */
  async close(): Promise<void> {
    this.closed = true;
    this.heap.clear();
  }

  private async prime(): Promise<void> {
    for (const c of this.cursors) {
      if (!this.advance(c)) await this.refill(c);
      if (this.closed) return;
      if (c.head) this.heap.push(c);
    }
  }

  private async refill(c: FileCursor): Promise<void> {
    do {
      this.counts.bytesRead += await c.lines.fill(this.buffer);
      if (this.closed) return;
    } while (!this.advance(c));
  }

  /**
   * Move the cursor to its file's next valid line. False when a chunk must be read first;
   * true when `head` holds the next measurement, or null at the end of the file.
   */
  private advance(c: FileCursor): boolean {
    const lines = c.lines;
    for (;;) {
      const line = lines.nextLine();
      if (line === undefined) {
        if (!lines.finished) return false;
        c.head = null;
        return true;
      }
      if (lines.truncated) {
        this.malformed(c, `line longer than ${this.maxLineChars} characters (binary data?)`);
        continue;
      }
      if (isBlank(line)) {
        this.counts.skipped++;
        continue;
      }
      let r: LineParse;
      if (c.format) {
        r = parseLine(c.format, line, c.keys);
      } else {
        const sniffed = sniffLine(line, c.keys);
        c.format = sniffed.format;
        r = sniffed.result;
      }
      if (!r.ok) {
        this.malformed(c, r.reason);
        continue;
      }
      if (r.note && !c.noted) {
        c.noted = true;
        this.opts.onNote?.(lines.file, lines.lineNo, r.note);
      }
      const m = r.measurement;
      if (m.time < c.lastTime) this.counts.outOfOrder++;
      c.lastTime = m.time;
      c.head = m;
      return true;
    }
  }

  private malformed(c: FileCursor, reason: string): void {
    this.counts.malformed++;
    this.opts.onMalformed?.(c.lines.file, c.lines.lineNo, reason);
  }
}

/** Resolve the configured paths (see resolveSeriesFiles) and open a reader over them. */
export async function openLatencyTs(spec: string | readonly string[], bases: readonly string[], opts: ReaderOptions = {}): Promise<LatencyTsReader> {
  return LatencyTsReader.open(await resolveSeriesFiles(spec, bases), opts);
}
