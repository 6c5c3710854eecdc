/** Every detector the package offers, for the nodes, the benchmarks and the NAB runner. */
import type { DetectorDefinition } from './definition';
import { spikeDefinition } from './spike';

export const detectorDefinitions: ReadonlyArray<DetectorDefinition> = [
  spikeDefinition,
] as unknown as ReadonlyArray<DetectorDefinition>;
