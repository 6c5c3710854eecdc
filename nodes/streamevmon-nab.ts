/**
 * Source node streamevmon-nab: replays NAB data files (timestamp,value CSV) as NabMeasurement
 * msgs, merged by time, with optional per-file value scaling. The run control, pacing, status
 * and reports are the replay sources' (common/replay-node), as for Latency TS I.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseNabSourceConfig } from '../lib/nab/config';
import { resolveNabFiles } from '../lib/nab/files';
import { NabReader, asReplayReader } from '../lib/nab/reader';
import { setUpReplaySource } from './common/replay-node';

const TYPE = 'streamevmon-nab';

export = function (RED: NodeAPI): void {
  function NabNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    setUpReplaySource(RED, this, def, {
      type: TYPE,
      prefix: 'nab: ',
      batchTopic: 'nab',
      // The NAB reader learns the size of its files only as it reads them.
      reportsTotalBytes: false,
      parseConfig: parseNabSourceConfig,
      open: async (config, bases, reports) => asReplayReader(await NabReader.open(await resolveNabFiles(config.path, bases), {
        scale: config.valueScale,
        onMalformed: reports.malformed,
      })),
    });
  }

  RED.nodes.registerType(TYPE, NabNode);
};
