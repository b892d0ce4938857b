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

/** Trades and position sets go through the same writer as snapshots: their counters, and the journal's health. */
function writerFamilies(stats: ProcessorStats): string[] {
  const kinds = [['snapshots', stats.flush], ['trades', stats.trades], ['positions', stats.positions]] as const;
  return [
    ...family('riskwire_trades_written_total', 'counter', 'Trade rows inserted (duplicates per (broker, trade_id) not counted).', [[{}, stats.trades.rowsWritten]]),
    ...family('riskwire_position_sets_written_total', 'counter', 'Per-account position sets written (older sets than the stored one change nothing).', [[{}, stats.positions.rowsWritten]]),
    ...family('riskwire_position_write_errors_total', 'counter', 'Failed position-set writes (retried) plus position sets rejected.', [[{}, stats.positionWriteErrors]]),
    ...family('riskwire_journal_rows', 'gauge', 'Rows waiting in the on-disk journal, per writer.', kinds.map(([kind, f]) => [{ kind }, f.journaledRows])),
    ...family('riskwire_write_failing', 'gauge', '1 while the writer\'s last attempt failed (retrying, journaling past the bound).', kinds.map(([kind, f]) => [{ kind }, f.consecutiveFailures > 0 ? 1 : 0])),
    ...family('riskwire_rows_rejected_total', 'counter', 'Rows the database refused for their content (kept in the dead-letter file).', kinds.map(([kind, f]) => [{ kind }, f.rejected])),
    ...family('riskwire_dead_letter_rows_total', 'counter', 'Rows written to the dead-letter file.', [[{}, stats.deadLettered]]),
    ...family('riskwire_journal_write_errors_total', 'counter', 'Journal appends that failed (rows kept in memory; lost if the process stops).',
      kinds.map(([kind, f]) => [{ kind }, f.journalWriteErrors])),
    ...family('riskwire_journal_bad_lines_total', 'counter', 'Journal lines found invalid on replay and moved to quarantine/.', kinds.map(([kind, f]) => [{ kind }, f.journalBadLines])),
    ...family('riskwire_journal_segments_set_aside_total', 'counter', 'Journal entries that could not be read, moved to quarantine/.', kinds.map(([kind, f]) => [{ kind }, f.journalSetAside])),
    ...family('riskwire_trades_accepted_to_journal_total', 'counter', 'POST /v1/trades answered 202: trade journaled while the database did not take it.', [[{}, stats.tradesAcceptedToJournal]]),
  ];
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
    ...writerFamilies(stats),
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
