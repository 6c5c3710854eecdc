/**
 * Reader of NAB data files for the source node: every file is read and scanned at open (NAB
 * files are small: the largest has 22,695 rows), then the rows are merged by time across files
 * (ties: in file order; one file keeps its row order) and handed out as measurements. It has
 * the methods the Latency TS I replay uses (next, close, stats, progress), so the same
 * pacing drives both sources.
 */
import { promises as fsp } from 'node:fs';
import { MinHeap } from '../latencyts/heap';
import type { LatencyTsReader, ReaderStats } from '../latencyts/reader';
import type { Measurement } from '../measurement';
import { NabSeries, scanNabCsv } from './csv';
import { NAB_KIND, NabFileRef } from './files';
import { LinearMap, ValueScale, applyScale, fileScale } from './scale';

/** Larger files are refused: a NAB file is a few hundred KiB, and this one is read whole. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Bad lines recorded per file (all are counted). */
const MAX_BAD_PER_FILE = 1000;

export interface NabReaderOptions {
  /** Per-file value scaling from the file's min/max (default none). */
  scale?: ValueScale;
  /** Each malformed line: file, 1-based line number, reason. */
  onMalformed?: (file: string, line: number, reason: string) => void;
}

interface Cursor {
  index: number;
  ref: NabFileRef;
  series: NabSeries;
  map: LinearMap;
  pos: number;
}

export class NabReader {
  private readonly heap = new MinHeap<Cursor>((a, b) => {
    const ta = a.series.times[a.pos];
    const tb = b.series.times[b.pos];
    return ta < tb || (ta === tb && a.index < b.index);
  });
  private rows = 0;
  private closed = false;

  private constructor(
    private readonly cursors: Cursor[],
    private readonly counts: { malformed: number; skipped: number; outOfOrder: number; bytes: number; total: number },
  ) {
    for (const c of cursors) if (c.series.length > 0) this.heap.push(c);
  }

  /** Read and scan these files; throws naming the file when one cannot be read at all. */
  static async open(refs: readonly NabFileRef[], opts: NabReaderOptions = {}): Promise<NabReader> {
    const cursors: Cursor[] = [];
    const counts = { malformed: 0, skipped: 0, outOfOrder: 0, bytes: 0, total: 0 };
    for (const [index, ref] of refs.entries()) {
      let text: string;
      try {
        const st = await fsp.stat(ref.path);
        if (!st.isFile()) throw new Error('not a file');
        if (st.size > MAX_FILE_BYTES) throw new Error(`${st.size} bytes is more than a NAB file can be (${MAX_FILE_BYTES})`);
        text = await fsp.readFile(ref.path, 'utf8');
        counts.bytes += st.size;
      } catch (err) {
        throw new Error(`cannot read ${ref.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      let series: NabSeries & { badCount: number };
      try {
        series = scanNabCsv(text, { maxBadRecorded: MAX_BAD_PER_FILE });
      } catch (err) {
        throw new Error(`${ref.path}: ${(err as Error).message}`);
      }
      for (const b of series.bad) opts.onMalformed?.(ref.path, b.line, b.reason);
      if (series.badCount > series.bad.length) {
        opts.onMalformed?.(ref.path, 0, `${series.badCount - series.bad.length} further malformed lines not listed`);
      }
      counts.malformed += series.badCount;
      counts.skipped += series.skipped;
      counts.outOfOrder += series.outOfOrder;
      counts.total += series.length;
      const map = opts.scale ? fileScale(series.values, opts.scale) : { factor: 1, offset: 0 };
      cursors.push({ index, ref, series, map, pos: 0 });
    }
    return new NabReader(cursors, counts);
  }

  /** Up to `max` measurements in time order; an empty array at the end. */
  async next(max = 1000): Promise<Measurement[]> {
    if (!(max >= 1)) throw new RangeError(`next(max): max must be at least 1 (got ${max})`);
    const out: Measurement[] = [];
    while (out.length < max && !this.closed) {
      const c = this.heap.peek();
      if (!c) break;
      out.push({
        kind: NAB_KIND,
        stream: c.ref.stream,
        time: c.series.times[c.pos],
        value: applyScale(c.series.values[c.pos], c.map),
        lossy: false,
      });
      c.pos++;
      if (c.pos < c.series.length) this.heap.updateTop();
      else this.heap.pop();
    }
    this.rows += out.length;
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.heap.clear();
  }

  /** Rows handed out / all rows (the files are read at open). */
  get progress(): number {
    return this.counts.total > 0 ? this.rows / this.counts.total : 1;
  }

  get stats(): ReaderStats {
    return {
      files: this.cursors.length,
      rows: this.rows,
      malformed: this.counts.malformed,
      skipped: this.counts.skipped,
      outOfOrder: this.counts.outOfOrder,
      bytesRead: this.counts.bytes,
      totalBytes: this.counts.bytes,
      buffered: this.closed ? 0 : this.counts.total - this.rows,
      bufferedChars: 0,
    };
  }
}

/** What the Latency TS I Replay uses of its reader (lib/latencyts/replay.ts). */
export type ReplayReader = Pick<LatencyTsReader, 'next' | 'close' | 'stats' | 'progress'>;

/**
 * Replay is typed with LatencyTsReader but uses only the ReplayReader members, which NabReader
 * has (checked here by the compiler); this narrows the type for it.
 */
export function asReplayReader(reader: NabReader): LatencyTsReader {
  const members: ReplayReader = reader;
  return members as LatencyTsReader;
}
