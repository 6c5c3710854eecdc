/** Every detector the package offers, for the benchmarks, the NAB runner and library users. */
import { baselineDefinition } from './baseline';
import { changepointDefinition } from './changepoint';
import type { DetectorDefinition } from './definition';
import { distdiffDefinition } from './distdiff';
import { lossDefinition } from './loss';
import { modeDefinition } from './mode';
import { spikeDefinition } from './spike';
import { thresholdDefinition } from './threshold';

// Each definition is typed by its own parameters; as a list they are used generically.
const asGeneric = (d: unknown): DetectorDefinition => d as DetectorDefinition;

/** The six Streamevmon detectors. */
export const streamevmonDetectors: readonly DetectorDefinition[] = [
  baselineDefinition, changepointDefinition, distdiffDefinition, modeDefinition, spikeDefinition, lossDefinition,
].map(asGeneric);

/** Our additions: they need configuration (the threshold detector has no default bounds). */
export const extraDetectors: readonly DetectorDefinition[] = [thresholdDefinition].map(asGeneric);
