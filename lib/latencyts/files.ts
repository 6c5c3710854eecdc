/**
 * Which files a Latency TS I replay reads: directories (every `**\/*.series` below them), glob
 * patterns (`*`, `?`, `**`) or plain files. Relative entries are tried against each base
 * directory in turn (e.g. the Node-RED user directory, then the process cwd).
 */
import { promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import * as path from 'node:path';

export const SERIES_EXTENSION = '.series';

/** Split a configured path list on commas and newlines; blanks are dropped. */
export function splitPathList(text: string): string[] {
  return text.split(/[,\r\n]+/).map((s) => s.trim()).filter((s) => s !== '');
}

export function hasGlob(entry: string): boolean {
  return /[*?]/.test(entry);
}

/**
 * A glob over `/`-separated relative paths: `*` = any run of characters within a segment,
 * `?` = one character within a segment, `**` as a whole segment = any number of segments.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      const wholeSegment = (i === 0 || glob[i - 1] === '/') && (i + 2 === glob.length || glob[i + 2] === '/');
      if (wholeSegment && glob[i + 2] === '/') {
        re += '(?:[^/]*/)*';
        i += 2;
      } else if (wholeSegment) {
        re += '.*';
        i += 1;
      } else {
        re += '[^/]*'; // `a**b` is just `a*b`
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw new Error(`cannot access ${p}: ${(err as Error).message}`);
  }
}

/**
 * Every file below `root` whose `/`-separated path relative to root passes `accept`, sorted.
 * Symlinked directories are followed once (loops are cut by their real path).
 */
async function walk(root: string, accept: (rel: string) => boolean, maxDepth: number): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string, rel: string, depth: number): Promise<void> => {
    const real = await fsp.realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        const st = await statOrNull(full);
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isDir && depth < maxDepth) await visit(full, childRel, depth + 1);
      else if (isFile && accept(childRel)) found.push(full);
    }
  };
  await visit(root, '', 1);
  return found;
}

/** Split an absolute glob into the directory before its first wildcard and the pattern after. */
function globBase(absPattern: string): { base: string; pattern: string } {
  const segments = absPattern.split(/[\\/]/);
  const first = segments.findIndex(hasGlob);
  const base = segments.slice(0, first).join(path.sep) || path.sep;
  return { base, pattern: segments.slice(first).join('/') };
}

async function expandGlob(absPattern: string): Promise<string[]> {
  const { base, pattern } = globBase(absPattern);
  const st = await statOrNull(base);
  if (!st?.isDirectory()) return [];
  const re = globToRegExp(pattern);
  const maxDepth = pattern.includes('**') ? Infinity : pattern.split('/').length;
  return walk(base, (rel) => re.test(rel), maxDepth);
}

/** The files one configured entry stands for; throws an Error naming the entry when none. */
async function resolveEntry(entry: string, bases: readonly string[]): Promise<string[]> {
  const candidates = path.isAbsolute(entry) ? [entry] : bases.map((b) => path.resolve(b, entry));
  if (hasGlob(entry)) {
    for (const c of candidates) {
      const files = await expandGlob(c);
      if (files.length) return files;
    }
    throw new Error(`no files match ${entry} (looked in ${candidates.join(', ')})`);
  }
  for (const c of candidates) {
    const st = await statOrNull(c);
    if (!st) continue;
    if (st.isFile()) return [c];
    if (st.isDirectory()) {
      const files = await walk(c, (rel) => rel.endsWith(SERIES_EXTENSION), Infinity);
      if (!files.length) throw new Error(`no ${SERIES_EXTENSION} files under ${c}`);
      return files;
    }
    throw new Error(`${c} is neither a file nor a directory`);
  }
  const where = candidates.length > 1 || candidates[0] !== entry ? ` (looked for ${candidates.join(', ')})` : '';
  throw new Error(`path not found: ${entry}${where}`);
}

/**
 * Resolve configured entries (a list, or one string of comma/newline-separated entries) into
 * absolute file paths: each entry's files in path order, duplicates dropped.
 */
export async function resolveSeriesFiles(spec: string | readonly string[], bases: readonly string[] = [process.cwd()]): Promise<string[]> {
  const entries = typeof spec === 'string' ? splitPathList(spec) : spec.map((s) => s.trim()).filter((s) => s !== '');
  if (!entries.length) throw new Error('no path given: name a directory, a glob pattern or .series files');
  const usableBases = bases.filter((b) => typeof b === 'string' && b !== '');
  if (!usableBases.length) usableBases.push(process.cwd());
  const files: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    for (const f of await resolveEntry(entry, usableBases)) {
      if (!seen.has(f)) {
        seen.add(f);
        files.push(f);
      }
    }
  }
  return files;
}
