/**
 * A NAB corpus in memory for the runner: every data file's rows (with their text, for the
 * results files) and its labels. Bad lines make the corpus unusable: rows would go missing
 * from the results files, so loading fails and lists them (file:line).
 */
import { promises as fsp } from 'node:fs';
import { BadLine, NabSeries, scanNabCsv } from './csv';
import { NabFileRef, resolveNabFiles } from './files';
import type { NabWindows } from './labels';
import { RowFinder, rowFinder } from './mapping';
import { FileLabels, labelRows } from './sweep';

export interface CorpusFile {
  stream: string;
  path: string;
  series: NabSeries;
  labels: FileLabels;
  /** Row by time, for mapping events to rows. */
  findRow: RowFinder;
}

/** The shown bad lines are capped; the count is not. */
const MAX_BAD_SHOWN = 20;

export async function readNabSeries(file: string, opts: { column?: string; keepText?: boolean } = {}): Promise<NabSeries & { badCount: number }> {
  const text = await fsp.readFile(file, 'utf8');
  try {
    return scanNabCsv(text, { ...opts, maxBadRecorded: MAX_BAD_SHOWN });
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

function badLinesError(bad: Array<{ file: string } & BadLine>, total: number): Error {
  const shown = bad.slice(0, MAX_BAD_SHOWN).map((b) => `  ${b.file}:${b.line}: ${b.reason}`).join('\n');
  const more = total > MAX_BAD_SHOWN ? `\n  … and ${total - MAX_BAD_SHOWN} more` : '';
  return new Error(`${total} malformed line(s) in the NAB data; fix them first:\n${shown}${more}`);
}

/**
 * Load the data files (a directory, globs or files) and label them with `windows`. A file
 * without an entry in the windows file is an error, as in NAB.
 */
export async function loadCorpus(spec: string | readonly string[], windows: NabWindows, opts: { keepText?: boolean } = {}): Promise<CorpusFile[]> {
  const refs: NabFileRef[] = await resolveNabFiles(spec);
  const files: CorpusFile[] = [];
  const bad: Array<{ file: string } & BadLine> = [];
  let badTotal = 0;
  for (const ref of refs) {
    const series = await readNabSeries(ref.path, { keepText: opts.keepText });
    badTotal += series.badCount;
    for (const b of series.bad) bad.push({ file: ref.path, ...b });
    const fileWindows = windows.get(ref.stream);
    if (fileWindows === undefined) throw new Error(`${ref.stream} has no entry in the windows file (every data file needs one, [] for none)`);
    files.push({ stream: ref.stream, path: ref.path, series, labels: labelRows(ref.stream, series.times, fileWindows), findRow: rowFinder(series.times) });
  }
  if (badTotal > 0) throw badLinesError(bad, badTotal);
  return files;
}

/**
 * The latency-like subset of NAB (nab-scoring.md §1.1): the series closest to network
 * latency, reported separately.
 */
export function isLatencyLike(stream: string): boolean {
  return stream === 'realKnownCause/ec2_request_latency_system_failure.csv'
    || /^realAWSCloudwatch\/ec2_network_in_[^/]*\.csv$/.test(stream)
    || stream === 'realAWSCloudwatch/iio_us-east-1_i-a2eb1cd9_NetworkIn.csv'
    || stream === 'realAWSCloudwatch/elb_request_count_8c0756.csv'
    || /^realTraffic\/TravelTime_[^/]*\.csv$/.test(stream);
}
