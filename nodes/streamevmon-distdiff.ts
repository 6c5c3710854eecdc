import type { NodeAPI } from 'node-red';
import { distdiffDefinition } from '../lib/detectors/distdiff';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, distdiffDefinition);
};
