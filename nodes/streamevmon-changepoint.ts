import type { NodeAPI } from 'node-red';
import { changepointDefinition } from '../lib/detectors/changepoint';
import { registerDetectorNode } from './common/detector-node';

export = function (RED: NodeAPI): void {
  registerDetectorNode(RED, changepointDefinition);
};
