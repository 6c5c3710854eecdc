import type { NodeAPI } from 'node-red';
import { spikeDefinition } from '../lib/detectors/spike';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, spikeDefinition);
};
