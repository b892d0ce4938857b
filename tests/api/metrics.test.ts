import { describe, expect, it } from 'vitest';
import type { ActorStatus } from '../../src/actors/supervisor.js';
import { renderMetrics } from '../../src/api/metrics.js';
import { LatencyRecorder } from '../../src/core/latency.js';
import type { FlushStats } from '../../src/core/flushPolicy.js';
import type { ProcessorStats } from '../../src/core/processor.js';
import { parsePrometheus } from './prometheus.js';

const writer = (extra: Partial<FlushStats> = {}): FlushStats => ({
  pending: 0, inFlight: 0, batches: 0, rowsWritten: 0, duplicates: 0, rejected: 0, retries: 0, consecutiveFailures: 0, journaledRows: 0, spilledRows: 0,
  lastError: null, journalWriteErrors: 0, lastJournalError: null, journalBadLines: 0, journalSetAside: 0, ...extra,
});

const stats: ProcessorStats = {
  eventsIn: 120, rowsProduced: 90, outOfOrder: 3, positionWriteErrors: 2,
  trades: writer({ rowsWritten: 5, journaledRows: 2, rejected: 1 }), positions: writer({ rowsWritten: 4, retries: 2, consecutiveFailures: 1 }),
  deadLettered: 1, deadLetterErrors: 0, tradesAcceptedToJournal: 2,
  drops: { duplicate: 4, duplicate_db: 1, not_held: 2, invalid: 0, malformed: 5, rejected: 0 },
  perBroker: { tasty: { eventsIn: 100, greeksIn: 80, quotesIn: 20, rowsOut: 80, lastEventAt: 1 }, sim: { eventsIn: 20, greeksIn: 10, quotesIn: 10, rowsOut: 10, lastEventAt: 2 } },
  flush: writer({ pending: 7, inFlight: 1, batches: 3, rowsWritten: 83, duplicates: 1, retries: 2, journalWriteErrors: 3 }),
  latency: { count: 0, p50: null, p95: null, p99: null, max: null },
};

const actor = (id: string, broker: string, state: ActorStatus['state'], extra: Partial<ActorStatus> = {}): ActorStatus => ({
  id, broker, state, phase: state === 'stopped' ? 'stopped' : 'running', streamState: null, lastEventAt: 1_700_000_000_000,
  eventsIn: 42, restarts: 1, reconnects: 3, queueDepth: 0, lastError: null, nextRestartAt: null, health: null, everStarted: true, ...extra,
});

async function render() {
  const rec = new LatencyRecorder(16);
  for (const ms of [0.5, 3, 3, 40, 20_000]) rec.record(ms);
  return renderMetrics({
    stats, latency: { buckets: rec.buckets, count: rec.count, sumMs: rec.sumMs },
    actors: [actor('tasty', 'tasty', 'connected'), actor('sim "b"\\x', 'sim', 'degraded', { lastEventAt: null })],
  });
}

describe('GET /metrics body', () => {
  it('parses as Prometheus text: HELP/TYPE for every family, every sample line name{labels} value', async () => {
    const { types, samples } = parsePrometheus(await render());
    expect(types).toMatchObject({
      riskwire_events_in_total: 'counter', riskwire_rows_written_total: 'counter', riskwire_drops_total: 'counter',
      riskwire_persist_latency_seconds: 'histogram', riskwire_actor_reconnects_total: 'counter', riskwire_actor_state: 'gauge',
    });
    expect(samples.length).toBeGreaterThan(30);
  });

  it('reports events in per broker, rows written and drops by reason', async () => {
    const { samples } = parsePrometheus(await render());
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(get('riskwire_events_in_total', { broker: 'tasty' })).toBe(100);
    expect(get('riskwire_rows_written_total')).toBe(83);
    expect(get('riskwire_drops_total', { reason: 'malformed' })).toBe(5);
    expect(get('riskwire_drops_total', { reason: 'duplicate' })).toBe(4);
    expect(get('riskwire_actor_reconnects_total', { actor: 'tasty' })).toBe(3);
  });

  it('reports the trade and position writers, rejections, dead letters and journal failures', async () => {
    const { samples } = parsePrometheus(await render());
    const get = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(get('riskwire_trades_written_total')).toBe(5);
    expect(get('riskwire_position_write_errors_total')).toBe(2);
    expect(get('riskwire_journal_rows', { kind: 'trades' })).toBe(2);
    expect(get('riskwire_write_failing', { kind: 'positions' })).toBe(1);
    expect(get('riskwire_write_failing', { kind: 'snapshots' })).toBe(0);
    expect(get('riskwire_rows_rejected_total', { kind: 'trades' })).toBe(1);
    expect(get('riskwire_dead_letter_rows_total')).toBe(1);
    expect(get('riskwire_journal_write_errors_total', { kind: 'snapshots' })).toBe(3);
    expect(get('riskwire_trades_accepted_to_journal_total')).toBe(2);
  });

  it('turns the latency recorder into a cumulative histogram in seconds', async () => {
    const { samples } = parsePrometheus(await render());
    const bucket = (le: string) => samples.find((s) => s.name === 'riskwire_persist_latency_seconds_bucket' && s.labels.le === le)?.value;
    expect(bucket('0.001')).toBe(1); // 0.5 ms
    expect(bucket('0.005')).toBe(3); // + 3 ms twice
    expect(bucket('0.05')).toBe(4); // + 40 ms
    expect(bucket('10')).toBe(4);
    expect(bucket('+Inf')).toBe(5); // 20 s overflows every bucket
    expect(samples.find((s) => s.name === 'riskwire_persist_latency_seconds_sum')?.value).toBeCloseTo(20.0465, 6);
  });

  it("gives each actor's state as a gauge: 1 for the current state, 0 for the others, labels escaped", async () => {
    const text = await render();
    const states = parsePrometheus(text).samples.filter((s) => s.name === 'riskwire_actor_state' && s.labels.broker === 'sim');
    expect(Object.fromEntries(states.map((s) => [s.labels.state, s.value]))).toEqual({ connected: 0, degraded: 1, disconnected: 0, stopped: 0 });
    expect(text).toContain('actor="sim \\"b\\"\\\\x"');
  });

  it('the checker itself rejects a malformed line and a sample without HELP/TYPE', () => {
    expect(() => parsePrometheus('# HELP a x\n# TYPE a counter\na{b=c} 1\n')).toThrow(/not a sample line/);
    expect(() => parsePrometheus('a 1\n')).toThrow(/before its HELP\/TYPE/);
  });
});
