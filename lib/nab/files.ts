/**
 * Which files a NAB run or replay reads (data-formats.md §6.1): a directory means every file
 * below it except `*.md` (and dot-files); glob patterns and single files are also accepted.
 * Each file's stream is `<parent directory name>/<file name>`, e.g.
 * `realKnownCause/nyc_taxi.csv`.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { globToRegExp, hasGlob, splitPathList } from '../latencyts/files';

/** The measurement kind of NAB rows (data-formats.md §6.1, key prefix `nab-`). */
export const NAB_KIND = 'NabMeasurement';

export interface NabFileRef {
  /** Absolute path. */
  path: string;
  /** `<category>/<file>.csv` */
  stream: string;
}

/** NAB's stream name of a data file. */
export function nabStream(file: string): string {
  return `${path.basename(path.dirname(file))}/${path.basename(file)}`;
}

function isDataFileName(name: string): boolean {
  return !name.startsWith('.') && !name.toLowerCase().endsWith('.md');
}

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new Error(`cannot access ${p}: ${(err as Error).message}`);
  }
}

/** Every file below dir whose `/`-separated relative path passes accept, in sorted path order. */
async function walk(dir: string, accept: (rel: string, name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = async (d: string, rel: string): Promise<void> => {
    const real = await fsp.realpath(d);
    if (seen.has(real)) return; // a symlink loop
    seen.add(real);
    const entries = await fsp.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(d, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const st = e.isSymbolicLink() ? await statOrNull(full) : null;
      if (e.isDirectory() || st?.isDirectory()) {
        if (!e.name.startsWith('.')) await visit(full, childRel);
      } else if ((e.isFile() || st?.isFile()) && accept(childRel, e.name)) {
        out.push(full);
      }
    }
  };
  await visit(dir, '');
  return out;
}

async function resolveEntry(entry: string, bases: readonly string[]): Promise<string[]> {
  const candidates = path.isAbsolute(entry) ? [entry] : bases.map((b) => path.resolve(b, entry));
  if (hasGlob(entry)) {
    for (const c of candidates) {
      const segments = c.split(/[\\/]/);
      const first = segments.findIndex(hasGlob);
      const base = segments.slice(0, first).join(path.sep) || path.sep;
      const re = globToRegExp(segments.slice(first).join('/'));
      if (!(await statOrNull(base))?.isDirectory()) continue;
      const files = await walk(base, (rel, name) => isDataFileName(name) && re.test(rel));
      if (files.length) return files;
    }
    throw new Error(`no files match ${entry} (looked in ${candidates.join(', ')})`);
  }
  for (const c of candidates) {
    const st = await statOrNull(c);
    if (!st) continue;
    if (st.isFile()) return [c];
    if (st.isDirectory()) {
      const files = await walk(c, (_rel, name) => isDataFileName(name));
      if (!files.length) throw new Error(`no data files under ${c}`);
      return files;
    }
    throw new Error(`${c} is neither a file nor a directory`);
  }
  const where = candidates.length > 1 || candidates[0] !== entry ? ` (looked for ${candidates.join(', ')})` : '';
  throw new Error(`path not found: ${entry}${where}`);
}

/**
 * Resolve a list of directories, globs and files (one string of comma/newline-separated
 * entries, or an array). Relative entries are tried against each base in turn. Duplicates are
 * dropped; two files with the same stream name are an error (their rows would mix).
 */
export async function resolveNabFiles(spec: string | readonly string[], bases: readonly string[] = [process.cwd()]): Promise<NabFileRef[]> {
  const entries = typeof spec === 'string' ? splitPathList(spec) : spec.map((s) => s.trim()).filter((s) => s !== '');
  if (!entries.length) throw new Error('no path given: name a NAB data directory, a glob pattern or CSV files');
  const usable = bases.filter((b) => typeof b === 'string' && b !== '');
  if (!usable.length) usable.push(process.cwd());
  const out: NabFileRef[] = [];
  const byStream = new Map<string, string>();
  for (const entry of entries) {
    for (const file of await resolveEntry(entry, usable)) {
      const stream = nabStream(file);
      const other = byStream.get(stream);
      if (other === file) continue;
      if (other !== undefined) throw new Error(`${other} and ${file} are both stream ${stream}`);
      byStream.set(stream, file);
      out.push({ path: file, stream });
    }
  }
  return out;
}
