import type { NodeAPI } from 'node-red';
import { modeDefinition } from '../lib/detectors/mode';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, modeDefinition);
};
