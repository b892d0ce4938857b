/**
 * /v1/streaming: per-actor status, and start/stop of one actor without touching the others.
 * Body {"broker": "tasty"} names the broker; {"actor": "..."} optionally names the actor (default:
 * the broker id), so two actors of one broker (e.g. two sim feeds) can be run side by side.
 * Start is idempotent: starting a running actor is a 200 saying so. Stop likewise.
 */
import type { FastifyInstance } from 'fastify';
import type { ActorStatus } from '../../actors/supervisor.js';
import { checkBrokerConfigs } from '../../app/pipeline.js';
import type { FlushStats } from '../../core/flushPolicy.js';
import type { ProcessorStats } from '../../core/processor.js';
import { BROKER_IDS } from '../../brokers/registry.js';
import { conflict, notFound } from '../errors.js';
import { CONTROL_BODY_SCHEMA } from '../schemas/streaming.js';
import { validator } from '../validation.js';
import { isoOrNull } from '../json.js';
import type { ApiDeps } from '../deps.js';

const checkControlBody = validator(CONTROL_BODY_SCHEMA, 'body');

interface ControlBody {
  broker: string;
  actor: string;
}

function parseControlBody(body: unknown): ControlBody {
  checkControlBody(body);
  const b = body as { broker: string; actor?: string };
  return { broker: b.broker, actor: b.actor ?? b.broker };
}

export function actorJson(a: ActorStatus, eventsOut: number) {
  return {
    actor: a.id, broker: a.broker, state: a.state, phase: a.phase, stream_state: a.streamState,
    last_event_at: isoOrNull(a.lastEventAt), events_in: a.eventsIn, events_out: eventsOut,
    reconnects: a.reconnects, restarts: a.restarts, queue_depth: a.queueDepth,
    last_error: a.lastError, next_restart_at: isoOrNull(a.nextRestartAt),
    ...linesJson(a.health?.details?.lines),
  };
}

/** TWS market-data lines of an actor (its stream's health details.lines), when it has them. */
function linesJson(l: unknown): { lines?: Record<string, unknown> } {
  if (!l || typeof l !== 'object') return {};
  const v = l as Record<string, unknown>;
  return {
    lines: {
      mode: v.mode, contracts: v.contracts, line_limit: v.lines, open_lines: v.openLines, refresh_s: v.refreshS,
      target_refresh_s: v.targetRefreshS, contracts_with_greeks: v.contractsWithGreeks, cycles: v.cycles, refused: v.refused,
    },
  };
}

/** Per writer (snapshots, trades, positions): what is written, waiting, failing, journaled, rejected. */
export function writersJson(s: ProcessorStats) {
  const one = (f: FlushStats) => ({
    rows_written: f.rowsWritten, pending: f.pending, failing: f.consecutiveFailures > 0, last_error: f.lastError,
    journaled_rows: f.journaledRows, rejected: f.rejected, journal_write_errors: f.journalWriteErrors,
    last_journal_error: f.lastJournalError, journal_bad_lines: f.journalBadLines, journal_set_aside: f.journalSetAside,
  });
  return {
    snapshots: one(s.flush), trades: one(s.trades), positions: one(s.positions),
    position_write_errors: s.positionWriteErrors, dead_lettered: s.deadLettered, trades_accepted_to_journal: s.tradesAcceptedToJournal,
  };
}

/**
 * Per watched symbol: its newest streamed quote's broker, receipt time and age, and whether it
 * is older than the TTL (then /v1/quotes and `npm run quote` ask REST).
 */
export function watchedFreshness(pipeline: Pick<ApiDeps['pipeline'], 'processor' | 'supervisor'>, now: number, ttlMs = 3000) {
  const watched = pipeline.supervisor.currentWatchlist?.() ?? [];
  if (watched.length === 0) return [];
  const latest = new Map(pipeline.processor.latestQuotes(watched.map((w) => w.symbol)).map((q) => [q.symbol, q]));
  return watched.map((w) => {
    const q = latest.get(w.symbol);
    const age = q ? Math.max(0, now - q.receivedAt) : null;
    return { symbol: w.symbol, kind: w.kind, broker: q?.broker ?? null, received_at: isoOrNull(q?.receivedAt ?? null), age_ms: age, stale: age === null || age > ttlMs };
  });
}

/** The /v1/streaming/status document (also the `status` event of /v1/events). */
export function streamingStatus(pipeline: Pick<ApiDeps['pipeline'], 'processor' | 'supervisor'>, quoteTtlMs = 3000, now = Date.now()) {
  const s = pipeline.processor.stats();
  return {
    quote_ttl_ms: quoteTtlMs,
    watchlist: watchedFreshness(pipeline, now, quoteTtlMs),
    quote_writer: { rows_written: s.quotes?.rowsWritten ?? 0, pending: s.quotes?.pending ?? 0, last_error: s.quotes?.lastError ?? null },
    actors: pipeline.supervisor.status().map((a) => actorJson(a, s.perBroker[a.broker]?.rowsOut ?? 0)),
    processor: {
      events_in: s.eventsIn, rows_produced: s.rowsProduced, rows_written: s.flush.rowsWritten,
      queue_depth: s.flush.pending, in_flight: s.flush.inFlight, journaled_rows: s.flush.journaledRows,
      out_of_order: s.outOfOrder, drops: s.drops, last_write_error: s.flush.lastError,
      latency_ms: { p50: s.latency.p50, p95: s.latency.p95, p99: s.latency.p99 },
      writers: writersJson(s),
    },
  };
}

export function registerStreaming(app: FastifyInstance, deps: ApiDeps): void {
  const { pipeline } = deps;
  const statusOf = (id: string) => pipeline.supervisor.status().find((a) => a.id === id);
  const json = (a: ActorStatus) => actorJson(a, pipeline.processor.stats().perBroker[a.broker]?.rowsOut ?? 0);

  app.get('/v1/streaming/status', { schema: { summary: 'Per-actor state, the processor counters, per watched symbol quote freshness (and, under serve --cluster, who streams which unit)', tags: ['streaming'] } }, async () => {
    const cluster = deps.cluster?.view();
    const status = streamingStatus(pipeline, deps.quoteTtlMs);
    return cluster === undefined ? status : { ...status, cluster };
  });

  app.post('/v1/streaming/start', { schema: { summary: 'Start one actor (idempotent)', tags: ['streaming'], body: CONTROL_BODY_SCHEMA } }, async (req, reply) => {
    const { broker, actor } = parseControlBody(req.body);
    const current = statusOf(actor);
    if (current && current.broker !== broker) throw conflict(`actor ${actor} runs broker ${current.broker}, not ${broker}: pick another actor name`);
    if (current?.phase === 'stopping') throw conflict(`actor ${actor} is stopping: start it again once /v1/streaming/status says stopped`);
    if (current && current.phase !== 'stopped' && current.phase !== 'idle') return { result: 'already running', ...json(current) };
    const spec = { id: actor, broker, flags: deps.actorFlags ?? {} };
    await checkBrokerConfigs([spec]); // a ConfigError (missing credentials...) becomes a 400
    req.log.info({ actor, broker }, 'starting actor on request');
    await pipeline.startActor(spec);
    const after = statusOf(actor)!;
    // The first attempt failed and the supervisor is retrying with backoff: accepted, not done.
    if (after.phase !== 'running') return reply.code(202).send({ result: 'retrying', ...json(after) });
    return { result: 'started', ...json(after) };
  });

  app.post('/v1/streaming/stop', { schema: { summary: 'Stop one actor; the others keep streaming', tags: ['streaming'], body: CONTROL_BODY_SCHEMA } }, async (req) => {
    const { broker, actor } = parseControlBody(req.body);
    const current = statusOf(actor);
    if (!current) {
      const known = pipeline.supervisor.status().map((a) => a.id);
      throw notFound(`no actor named ${actor}: the actors are ${known.length ? known.join(', ') : '(none)'}`);
    }
    if (current.broker !== broker) throw conflict(`actor ${actor} runs broker ${current.broker}, not ${broker}`);
    if (current.phase === 'stopped' || current.phase === 'idle') return { result: 'already stopped', ...json(current) };
    req.log.info({ actor }, 'stopping actor on request');
    await pipeline.stopActor(actor);
    return { result: 'stopped', ...json(statusOf(actor)!) };
  });
}
