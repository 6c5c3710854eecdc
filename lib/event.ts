/**
 * The event model (detectors.md §1.2, data-formats.md §12.1). Events are plain,
 * JSON-serialisable values: two events are equal when all their fields are equal.
 */
export interface DetectorEvent {
  /** e.g. "baseline_events". */
  eventType: string;
  /** The measurement's stream id (not the state key). */
  stream: string;
  /** Integer, normally 0–100. */
  severity: number;
  /** When the event was detected (epoch ms), normally the triggering measurement's time. */
  time: number;
  /** How long after the estimated start the event was detected (ms). */
  detectionLatency: number;
  /** Human-readable text; exact wording per detector. */
  description: string;
  /** Extra distinguishing tags. */
  tags: Record<string, string>;
}

/** The estimated start of the anomaly. */
export function eventTime(e: DetectorEvent): number {
  return e.time - e.detectionLatency;
}

/**
 * A one-line human summary for alerting (email, chat, MQTT):
 * "[sev 100] spike_events on LatencyTSAmpICMP-a-b-ipv4: Positive at 2014-01-30T11:00:00.000Z".
 */
export function eventSummary(e: DetectorEvent, key?: string): string {
  const where = key && key !== e.stream ? key : e.stream;
  const when = Number.isFinite(e.time) ? new Date(e.time).toISOString() : String(e.time);
  const latency = e.detectionLatency > 0 ? ` (started ${formatDuration(e.detectionLatency)} earlier)` : '';
  return `[severity ${e.severity}] ${e.eventType} on ${where}: ${e.description} at ${when}${latency}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
