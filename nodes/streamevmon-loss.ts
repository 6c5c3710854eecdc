import type { NodeAPI } from 'node-red';
import { lossDefinition } from '../lib/detectors/loss';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, lossDefinition);
};
