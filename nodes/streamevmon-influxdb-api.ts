/**
 * What nodes using a streamevmon-influxdb configuration node see: the node module itself
 * can only `export =` its registration function.
 */
import type { Node } from 'node-red';
import type { InfluxClient } from '../lib/influx/client';
import type { InfluxServerConfig } from '../lib/influx/config';

export interface InfluxCredentials {
  user?: string;
  password?: string;
}

export interface InfluxState {
  state: 'idle' | 'connecting' | 'connected' | 'error';
  /** For errors: HTTP status or socket error code, e.g. 401, ECONNREFUSED. */
  code?: string;
  message?: string;
  version?: string;
}

/** What nodes using the configuration see (RED.nodes.getNode(id) as InfluxConfigNode). */
export interface InfluxConfigNode extends Node<InfluxCredentials> {
  /** Null when the configuration is invalid (see configErrors). */
  influx: InfluxClient | null;
  settings: InfluxServerConfig;
  configErrors: string[];
  influxState: InfluxState;
  /** Start checking the server while at least one node uses it. */
  register(user: Node): void;
  deregister(user: Node): void;
  /** Writers report their outcome, so the state follows what really happens. */
  reportResult(err?: unknown): void;
  /** Follow the state; returns the function that stops following. */
  onState(listener: (s: InfluxState) => void): () => void;
}
