/**
 * Source node streamevmon-latencyts: replays Latency TS I series files (ampicmp, smokeping)
 * as measurement msgs, merged by time. The run control, pacing, status and reports are the
 * replay sources' (common/replay-node).
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseLatencyTsConfig } from '../lib/latencyts/config';
import { openLatencyTs } from '../lib/latencyts/reader';
import { setUpReplaySource } from './common/replay-node';

const TYPE = 'streamevmon-latencyts';

export = function (RED: NodeAPI): void {
  function LatencyTsNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    setUpReplaySource(RED, this, def, {
      type: TYPE,
      prefix: 'latencyts: ',
      batchTopic: 'latencyts',
      reportsTotalBytes: true,
      parseConfig: parseLatencyTsConfig,
      open: (config, bases, reports) => openLatencyTs(config.path, bases, {
        format: config.format,
        onMalformed: reports.malformed,
        onNote: reports.note,
      }),
    });
  }

  RED.nodes.registerType(TYPE, LatencyTsNode);
};
