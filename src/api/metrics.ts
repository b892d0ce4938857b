/**
 * Prometheus text exposition (format 0.0.4) of the pipeline's counters. Pure: the route hands
 * in a snapshot of the processor's stats, its latency recorder and the supervisor's status.
 */
import type { ActorStatus } from '../actors/supervisor.js';
import { LATENCY_BUCKETS_MS } from '../core/latency.js';
import type { ProcessorStats } from '../core/processor.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsInput {
  stats: ProcessorStats;
  /** Per-bucket (not cumulative) counts for LATENCY_BUCKETS_MS plus one overflow bucket. */
  latency: { buckets: readonly number[]; count: number; sumMs: number };
  actors: ActorStatus[];
}

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

const ACTOR_STATES: ActorStatus['state'][] = ['connected', 'degraded', 'disconnected', 'stopped'];

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function fmtValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function family(name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${fmtValue(value)}`);
  return lines;
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

/** The latency histogram in seconds (Prometheus base unit); buckets are cumulative as the format requires. */
function latencyHistogram(latency: MetricsInput['latency']): string[] {
  const name = 'riskwire_persist_latency_seconds';
  const lines = [`# HELP ${name} Time from receipt by the actor to the row being written (received_at to persisted_at).`, `# TYPE ${name} histogram`];
  let cumulative = 0;
  LATENCY_BUCKETS_MS.forEach((ms, i) => {
    cumulative += latency.buckets[i] ?? 0;
    lines.push(`${name}_bucket{le="${ms / 1000}"} ${cumulative}`);
  });
  lines.push(`${name}_bucket{le="+Inf"} ${latency.count}`, `${name}_sum ${latency.sumMs / 1000}`, `${name}_count ${latency.count}`);
  return lines;
}

export function renderMetrics({ stats, latency, actors }: MetricsInput): string {
  const actor = (a: ActorStatus) => ({ actor: a.id, broker: a.broker });
  const brokers = Object.entries(stats.perBroker);
  const lines = [
    ...family('riskwire_events_in_total', 'counter', 'Broker events taken in by the processor, per broker.',
      brokers.map(([broker, b]) => [{ broker }, b.eventsIn])),
    ...family('riskwire_snapshot_rows_produced_total', 'counter', 'Greek snapshot rows produced, per broker.',
      brokers.map(([broker, b]) => [{ broker }, b.rowsOut])),
    ...family('riskwire_rows_written_total', 'counter', 'Snapshot rows written to the database.', [[{}, stats.flush.rowsWritten]]),
    ...family('riskwire_drops_total', 'counter', 'Events or rows dropped, by reason (duplicates included).',
      Object.entries(stats.drops).map(([reason, n]) => [{ reason }, n])),
    ...family('riskwire_out_of_order_total', 'counter', 'Updates older than the latest seen (stored, never made latest).', [[{}, stats.outOfOrder]]),
    ...family('riskwire_flush_retries_total', 'counter', 'Batch writes retried after a retryable error.', [[{}, stats.flush.retries]]),
    ...family('riskwire_flush_pending_rows', 'gauge', 'Rows accepted and waiting to be written.', [[{}, stats.flush.pending]]),
    ...family('riskwire_flush_in_flight', 'gauge', 'Batch writes in flight.', [[{}, stats.flush.inFlight]]),
    ...family('riskwire_journaled_rows', 'gauge', 'Rows kept in the on-disk journal while the database was unavailable.', [[{}, stats.flush.journaledRows]]),
    ...latencyHistogram(latency),
    ...family('riskwire_actor_events_in_total', 'counter', 'Events received from each actor.', actors.map((a) => [actor(a), a.eventsIn])),
    ...family('riskwire_actor_reconnects_total', 'counter', 'Stream reconnects plus actor restarts, per actor.', actors.map((a) => [actor(a), a.reconnects])),
    ...family('riskwire_actor_restarts_total', 'counter', 'Actor (worker) restarts after a crash or hang.', actors.map((a) => [actor(a), a.restarts])),
    ...family('riskwire_actor_state', 'gauge', 'Actor state: 1 for the current state, 0 for the others.',
      actors.flatMap((a) => ACTOR_STATES.map((state): Sample => [{ ...actor(a), state }, a.state === state ? 1 : 0]))),
    ...family('riskwire_actor_last_event_timestamp_seconds', 'gauge', 'Receipt time of the last greeks or quote event, per actor.',
      actors.filter((a) => a.lastEventAt !== null).map((a) => [actor(a), a.lastEventAt! / 1000])),
  ];
  return `${lines.join('\n')}\n`;
}
