/** Synthetic Latency TS I data with labelled anomalies (data-formats.md §5). */
export * from './types';
export { Prng, deriveSeed } from './prng';
export { planAnomalies } from './anomalies';
export { generateSeries, samplesForDays } from './series';
export type { SeriesOptions } from './series';
export {
  formatAmpIcmpLine, formatSmokepingLine, formatLine, formatSeriesFile, formatUsAsMs, smokepingMedianMs,
} from './lines';
export * from './groundtruth';
export * from './sample';
export * from './evaluate';
