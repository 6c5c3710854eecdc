import type { NodeAPI } from 'node-red';
import { thresholdDefinition } from '../lib/detectors/threshold';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, thresholdDefinition);
};
