/**
 * Configuration of the Latency TS I source node: defaults and validation with D9 messages
 * (`latencyts: <param> must be … (got X)`).
 */
import { ParamSet, parseParams } from '../params';
import type { FormatOption } from './parse';
import type { ReplayMode } from './replay';

export const FORMAT_OPTIONS: readonly FormatOption[] = ['auto', 'ampicmp', 'smokeping'];
export const REPLAY_MODES: readonly ReplayMode[] = ['fast', 'realtime', 'batch'];

type NumericParams = { speed: number; batchSize: number; startOnDeploy: boolean; loop: boolean };

export const latencyTsParamSet: ParamSet<NumericParams> = {
  owner: 'latencyts',
  specs: [
    { name: 'speed', kind: 'number', default: 1, min: 0, minExclusive: true, max: 1e9 },
    { name: 'batchSize', kind: 'int', default: 1000, min: 1, max: 100000 },
    { name: 'startOnDeploy', kind: 'boolean', default: true },
    { name: 'loop', kind: 'boolean', default: false },
  ],
};

export interface LatencyTsConfig extends NumericParams {
  /** Directories, globs or files, comma/newline-separated. */
  path: string;
  format: FormatOption;
  mode: ReplayMode;
}

function choice<T extends string>(name: string, options: readonly T[], raw: unknown, dflt: T, errors: string[]): T {
  if (raw === undefined || raw === null || raw === '') return dflt;
  if (typeof raw === 'string' && (options as readonly string[]).includes(raw)) return raw as T;
  errors.push(`latencyts: ${name} must be one of ${options.join(', ')} (got ${typeof raw === 'string' ? raw : JSON.stringify(raw)})`);
  return dflt;
}

/** Validate a node's raw configuration; every problem is reported. */
export function parseLatencyTsConfig(raw: Record<string, unknown>): { config: LatencyTsConfig; errors: string[] } {
  const { params, errors } = parseParams(latencyTsParamSet, raw);
  const path = typeof raw.path === 'string' ? raw.path.trim() : '';
  if (path === '') errors.push(`latencyts: path must name a directory, a glob pattern or .series files (got ${JSON.stringify(raw.path ?? '')})`);
  const format = choice('format', FORMAT_OPTIONS, raw.format, 'auto', errors);
  const mode = choice('mode', REPLAY_MODES, raw.mode, 'fast', errors);
  return { config: { ...params, path, format, mode }, errors };
}
