import type { NodeAPI } from 'node-red';
import { baselineDefinition } from '../lib/detectors/baseline';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, baselineDefinition);
};
