/**
 * Configuration of the NAB source node: defaults and validation with D9 messages
 * (`nab: <param> must be … (got X)`).
 */
import type { ReplayMode } from '../latencyts/replay';
import { ParamSet, parseParams } from '../params';
import { DEFAULT_VALUE_SCALE, VALUE_SCALE_MODES, ValueScale, ValueScaleMode } from './scale';

export const NAB_REPLAY_MODES: readonly ReplayMode[] = ['fast', 'realtime', 'batch'];

type NumericParams = { speed: number; batchSize: number; startOnDeploy: boolean; loop: boolean };

export const nabParamSet: ParamSet<NumericParams> = {
  owner: 'nab',
  specs: [
    { name: 'speed', kind: 'number', default: 1, min: 0, minExclusive: true, max: 1e9 },
    { name: 'batchSize', kind: 'int', default: 1000, min: 1, max: 100000 },
    { name: 'startOnDeploy', kind: 'boolean', default: true },
    { name: 'loop', kind: 'boolean', default: false },
  ],
};

export interface NabSourceConfig extends NumericParams {
  /** Directories, globs or files, comma/newline-separated. */
  path: string;
  mode: ReplayMode;
  valueScale: ValueScale;
}

function choice<T extends string>(name: string, options: readonly T[], raw: unknown, dflt: T, errors: string[]): T {
  if (raw === undefined || raw === null || raw === '') return dflt;
  if (typeof raw === 'string' && (options as readonly string[]).includes(raw)) return raw as T;
  errors.push(`nab: ${name} must be one of ${options.join(', ')} (got ${typeof raw === 'string' ? raw : JSON.stringify(raw)})`);
  return dflt;
}

/** Validate a node's raw configuration; every problem is reported. */
export function parseNabSourceConfig(raw: Record<string, unknown>): { config: NabSourceConfig; errors: string[] } {
  const { params, errors } = parseParams(nabParamSet, raw);
  const path = typeof raw.path === 'string' ? raw.path.trim() : '';
  if (path === '') errors.push(`nab: path must name a NAB data directory, a glob pattern or CSV files (got ${JSON.stringify(raw.path ?? '')})`);
  const mode = choice('mode', NAB_REPLAY_MODES, raw.mode, 'fast', errors);
  const scaleMode: ValueScaleMode = choice('valueScale', VALUE_SCALE_MODES, raw.valueScale, 'none', errors);
  return { config: { ...params, path, mode, valueScale: { ...DEFAULT_VALUE_SCALE, mode: scaleMode } }, errors };
}
