/**
 * The pipeline's riskwire_* families, read at scrape time from a snapshot of the processor's
 * stats, its latency recorder and the supervisor's status. Every name and label here is part
 * of the external contract (specs/api.md): add, never rename.
 */
import type { Registry } from 'prom-client';
import type { ActorStatus } from '../../actors/supervisor.js';
import { LATENCY_BUCKETS_MS } from '../../core/latency.js';
import type { ProcessorStats } from '../../core/processor.js';
import { pulledCounter, pulledGauge, type Sample } from './registry.js';

export interface MetricsInput {
  stats: ProcessorStats;
  /** Per-bucket (not cumulative) counts for LATENCY_BUCKETS_MS plus one overflow bucket. */
  latency: { buckets: readonly number[]; count: number; sumMs: number };
  actors: ActorStatus[];
}

/** Trades and position sets go through the same writer as snapshots. */
const kinds = (s: ProcessorStats) => [['snapshots', s.flush], ['trades', s.trades], ['positions', s.positions]] as const;

const ACTOR_STATES: ActorStatus['state'][] = ['connected', 'degraded', 'disconnected', 'stopped'];

/**
 * The received→persisted histogram in seconds, from the recorder's own buckets (cumulative as
 * the format requires). A custom collector: prom-client's Histogram observes values itself, and
 * the processor already keeps these counts without a dependency on the HTTP layer.
 */
function latencyHistogram(read: () => MetricsInput) {
  const name = 'riskwire_persist_latency_seconds';
  const help = 'Time from receipt by the actor to the row being written (received_at to persisted_at).';
  return {
    name, help, type: 'histogram', aggregator: 'sum',
    get() {
      const { latency } = read();
      let cumulative = 0;
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = LATENCY_BUCKETS_MS.map((ms, i) => {
        cumulative += latency.buckets[i] ?? 0;
        return { metricName: `${name}_bucket`, labels: { le: ms / 1000 }, value: cumulative };
      });
      values.push(
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: latency.count },
        { metricName: `${name}_sum`, labels: {}, value: latency.sumMs / 1000 },
        { metricName: `${name}_count`, labels: {}, value: latency.count },
      );
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
}

/** Registers the pipeline families on `registry`; `read` is called once per family per scrape (cheap snapshots). */
export function registerPipelineMetrics(registry: Registry, read: () => MetricsInput): void {
  const stats = () => read().stats;
  const actors = () => read().actors;
  const perBroker = (f: (b: ProcessorStats['perBroker'][string]) => number) => (): Sample[] =>
    Object.entries(stats().perBroker).map(([broker, b]) => [{ broker }, f(b)]);
  const one = (f: (s: ProcessorStats) => number) => (): Sample[] => [[{}, f(stats())]];
  const perActor = (f: (a: ActorStatus) => number) => (): Sample[] => actors().map((a) => [{ actor: a.id, broker: a.broker }, f(a)]);
  const actorLabels = ['actor', 'broker'];

  pulledCounter(registry, { name: 'riskwire_events_in_total', help: 'Broker events taken in by the processor, per broker.', labelNames: ['broker'], read: perBroker((b) => b.eventsIn) });
  pulledCounter(registry, { name: 'riskwire_snapshot_rows_produced_total', help: 'Greek snapshot rows produced, per broker.', labelNames: ['broker'], read: perBroker((b) => b.rowsOut) });
  pulledCounter(registry, { name: 'riskwire_rows_written_total', help: 'Snapshot rows written to the database.', read: one((s) => s.flush.rowsWritten) });
  pulledCounter(registry, {
    name: 'riskwire_drops_total', help: 'Events or rows dropped, by reason (duplicates included).', labelNames: ['reason'],
    read: () => Object.entries(stats().drops).map(([reason, n]) => [{ reason }, n]),
  });
  pulledCounter(registry, { name: 'riskwire_out_of_order_total', help: 'Updates older than the latest seen (stored, never made latest).', read: one((s) => s.outOfOrder) });
  pulledCounter(registry, { name: 'riskwire_flush_retries_total', help: 'Batch writes retried after a retryable error.', read: one((s) => s.flush.retries) });
  pulledGauge(registry, { name: 'riskwire_flush_pending_rows', help: 'Rows accepted and waiting to be written.', read: one((s) => s.flush.pending) });
  pulledGauge(registry, { name: 'riskwire_flush_in_flight', help: 'Batch writes in flight.', read: one((s) => s.flush.inFlight) });
  pulledGauge(registry, { name: 'riskwire_journaled_rows', help: 'Rows kept in the on-disk journal while the database was unavailable.', read: one((s) => s.flush.journaledRows) });
  pulledCounter(registry, { name: 'riskwire_trades_written_total', help: 'Trade rows inserted (duplicates per (broker, trade_id) not counted).', read: one((s) => s.trades.rowsWritten) });
  pulledCounter(registry, { name: 'riskwire_position_sets_written_total', help: 'Per-account position sets written (older sets than the stored one change nothing).', read: one((s) => s.positions.rowsWritten) });
  pulledCounter(registry, { name: 'riskwire_position_write_errors_total', help: 'Failed position-set writes (retried) plus position sets rejected.', read: one((s) => s.positionWriteErrors) });
  pulledGauge(registry, { name: 'riskwire_journal_rows', help: 'Rows waiting in the on-disk journal, per writer.', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.journaledRows]) });
  pulledGauge(registry, { name: 'riskwire_write_failing', help: '1 while the writer\'s last attempt failed (retrying, journaling past the bound).', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.consecutiveFailures > 0 ? 1 : 0]) });
  pulledCounter(registry, { name: 'riskwire_rows_rejected_total', help: 'Rows the database refused for their content (kept in the dead-letter file).', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.rejected]) });
  pulledCounter(registry, { name: 'riskwire_dead_letter_rows_total', help: 'Rows written to the dead-letter file.', read: one((s) => s.deadLettered) });
  pulledCounter(registry, { name: 'riskwire_journal_write_errors_total', help: 'Journal appends that failed (rows kept in memory; lost if the process stops).', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.journalWriteErrors]) });
  pulledCounter(registry, { name: 'riskwire_journal_bad_lines_total', help: 'Journal lines found invalid on replay and moved to quarantine/.', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.journalBadLines]) });
  pulledCounter(registry, { name: 'riskwire_journal_segments_set_aside_total', help: 'Journal entries that could not be read, moved to quarantine/.', labelNames: ['kind'], read: () => kinds(stats()).map(([kind, f]) => [{ kind }, f.journalSetAside]) });
  pulledCounter(registry, { name: 'riskwire_trades_accepted_to_journal_total', help: 'POST /v1/trades answered 202: trade journaled while the database did not take it.', read: one((s) => s.tradesAcceptedToJournal) });
  registry.registerMetric(latencyHistogram(read) as unknown as Parameters<Registry['registerMetric']>[0]);
  pulledCounter(registry, { name: 'riskwire_actor_events_in_total', help: 'Events received from each actor.', labelNames: actorLabels, read: perActor((a) => a.eventsIn) });
  pulledCounter(registry, { name: 'riskwire_actor_reconnects_total', help: 'Stream reconnects plus actor restarts, per actor.', labelNames: actorLabels, read: perActor((a) => a.reconnects) });
  pulledCounter(registry, { name: 'riskwire_actor_restarts_total', help: 'Actor (worker) restarts after a crash or hang.', labelNames: actorLabels, read: perActor((a) => a.restarts) });
  pulledGauge(registry, {
    name: 'riskwire_actor_state', help: 'Actor state: 1 for the current state, 0 for the others.', labelNames: [...actorLabels, 'state'],
    read: () => actors().flatMap((a) => ACTOR_STATES.map((state): Sample => [{ actor: a.id, broker: a.broker, state }, a.state === state ? 1 : 0])),
  });
  pulledGauge(registry, {
    name: 'riskwire_actor_last_event_timestamp_seconds', help: 'Receipt time of the last greeks or quote event, per actor.', labelNames: actorLabels,
    read: () => actors().filter((a) => a.lastEventAt !== null).map((a): Sample => [{ actor: a.id, broker: a.broker }, a.lastEventAt! / 1000]),
  });
}
