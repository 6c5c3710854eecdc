/**
 * Reads one file line by line, one chunk at a time, so memory per file stays at about one
 * chunk plus one line whatever the file size. The file is opened for each chunk and closed
 * again: a replay of hundreds of files then never holds hundreds of descriptors.
 */
import { promises as fsp } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export class LineReader {
  /** 1-based number of the line last returned by nextLine(). */
  lineNo = 0;
  /** The line last returned was cut at maxLineChars (its tail was discarded). */
  truncated = false;
  bytesRead = 0;
  /** The whole file has been read (lines may still be pending in the buffer). */
  eof = false;

  private text = '';
  private pos = 0;
  /** Discarding the rest of an over-long line up to its newline. */
  private dropping = false;
  private readonly decoder = new StringDecoder('utf8');

  constructor(readonly file: string, private readonly maxLineChars: number) {}

  /** Characters held in the line buffer. */
  get buffered(): number {
    return this.text.length - this.pos;
  }

  /** True once every line has been returned. */
  get finished(): boolean {
    return this.eof && this.pos >= this.text.length && !this.dropping;
  }

  /**
   * The next complete line (without its newline), or undefined when the buffer holds no
   * complete line: then call fill(), unless `finished`.
   */
  nextLine(): string | undefined {
    this.truncated = false;
    for (;;) {
      const nl = this.text.indexOf('\n', this.pos);
      if (this.dropping) {
        if (nl < 0) {
          this.text = '';
          this.pos = 0;
          if (this.eof) this.dropping = false;
          return undefined;
        }
        this.pos = nl + 1;
        this.dropping = false;
        continue;
      }
      if (nl >= 0) {
        const line = this.text.slice(this.pos, nl);
        this.pos = nl + 1;
        this.lineNo++;
        return line;
      }
      const rest = this.text.length - this.pos;
      if (rest > this.maxLineChars) {
        // Binary junk or a broken file without newlines: never buffer without bound.
        const head = this.text.slice(this.pos, this.pos + this.maxLineChars);
        this.text = '';
        this.pos = 0;
        this.dropping = true;
        this.truncated = true;
        this.lineNo++;
        return head;
      }
      if (this.eof && rest > 0) {
        const last = this.text.slice(this.pos);
        this.text = '';
        this.pos = 0;
        this.lineNo++;
        return last;
      }
      return undefined;
    }
  }

  /**
   * Read the next chunk into `buffer` (shared by the caller between files; fills never run
   * concurrently) and append it to the line buffer. Returns the number of bytes read.
   */
  async fill(buffer: Buffer): Promise<number> {
    if (this.eof) return 0;
    const fh = await fsp.open(this.file, 'r');
    let n: number;
    try {
      n = (await fh.read(buffer, 0, buffer.length, this.bytesRead)).bytesRead;
    } finally {
      await fh.close();
    }
    this.bytesRead += n;
    const decoded = n > 0 ? this.decoder.write(buffer.subarray(0, n)) : this.decoder.end();
    if (n === 0) this.eof = true;
    this.text = this.pos < this.text.length ? this.text.slice(this.pos) + decoded : decoded;
    this.pos = 0;
    return n;
  }
}
