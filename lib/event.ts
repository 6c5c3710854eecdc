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
 * "[severity 100] spike_events on LatencyTSAmpICMP-a-b-ipv4: Positive at 2014-01-30T11:00:00.000Z".
 * The description is the spec's, byte for byte, except that binary rounding artefacts such as
 * 6043.300000000001 read 6043.3 here (the event's own description keeps them).
 */
export function eventSummary(e: DetectorEvent, key?: string): string {
  const where = key && key !== e.stream ? key : e.stream;
  const when = Number.isFinite(e.time) ? new Date(e.time).toISOString() : String(e.time);
  const latency = e.detectionLatency > 0 ? ` (started ${formatDuration(e.detectionLatency)} earlier)` : '';
  return `[severity ${e.severity}] ${e.eventType} on ${where}: ${tidyNumbers(e.description)} at ${when}${latency}`;
}

/**
 * Decimals with 7 or more fractional digits (rounding artefacts) made short: plain ones to 3
 * places, the mantissa of Java's E notation (2.4525000000000116E7) to 6.
 */
export function tidyNumbers(text: string): string {
  return text.replace(/(?<![\w.])(-?\d+\.\d{7,})(E-?\d+)?(?![\d.])/g, (whole, mantissa: string, exponent: string | undefined) => {
    const rounded = Number(Number(mantissa).toFixed(exponent ? 6 : 3));
    return Number.isFinite(rounded) ? `${rounded}${exponent ?? ''}` : whole;
  });
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 3_600_000)} h`;
}
