/**
 * /v1/streaming: per-actor status, and start/stop of one actor without touching the others.
 * Body {"broker": "tasty"} names the broker; {"actor": "..."} optionally names the actor (default:
 * the broker id), so two actors of one broker (e.g. two sim feeds) can be run side by side.
 * Start is idempotent: starting a running actor is a 200 saying so. Stop likewise.
 */
import type { FastifyInstance } from 'fastify';
import type { ActorStatus } from '../../actors/supervisor.js';
import { checkBrokerConfigs } from '../../app/pipeline.js';
import { BROKER_IDS } from '../../brokers/registry.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { isoOrNull } from '../json.js';
import type { ApiDeps } from '../app.js';

const ACTOR_RE = /^[A-Za-z0-9_.-]{1,64}$/;

interface ControlBody {
  broker: string;
  actor: string;
}

function parseControlBody(body: unknown): ControlBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the body must be a JSON object like {"broker":"${BROKER_IDS[0]}"}`);
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => k !== 'broker' && k !== 'actor');
  if (extra.length) throw badRequest(`unknown field ${extra[0]}: the fields are broker and actor`);
  if (typeof b.broker !== 'string' || !BROKER_IDS.includes(b.broker)) {
    throw badRequest(`unknown broker ${JSON.stringify(b.broker ?? null)}: use one of ${BROKER_IDS.join(', ')}`);
  }
  if (b.actor !== undefined && (typeof b.actor !== 'string' || !ACTOR_RE.test(b.actor))) {
    throw badRequest('actor must be 1-64 letters, digits or _.-');
  }
  return { broker: b.broker, actor: (b.actor as string | undefined) ?? b.broker };
}

export function actorJson(a: ActorStatus, eventsOut: number) {
  return {
    actor: a.id, broker: a.broker, state: a.state, phase: a.phase, stream_state: a.streamState,
    last_event_at: isoOrNull(a.lastEventAt), events_in: a.eventsIn, events_out: eventsOut,
    reconnects: a.reconnects, restarts: a.restarts, queue_depth: a.queueDepth,
    last_error: a.lastError, next_restart_at: isoOrNull(a.nextRestartAt),
  };
}

/** The /v1/streaming/status document (also the `status` event of /v1/events). */
export function streamingStatus(pipeline: Pick<ApiDeps['pipeline'], 'processor' | 'supervisor'>) {
  const s = pipeline.processor.stats();
  return {
    actors: pipeline.supervisor.status().map((a) => actorJson(a, s.perBroker[a.broker]?.rowsOut ?? 0)),
    processor: {
      events_in: s.eventsIn, rows_produced: s.rowsProduced, rows_written: s.flush.rowsWritten,
      queue_depth: s.flush.pending, in_flight: s.flush.inFlight, journaled_rows: s.flush.journaledRows,
      out_of_order: s.outOfOrder, drops: s.drops, last_write_error: s.flush.lastError,
      latency_ms: { p50: s.latency.p50, p95: s.latency.p95, p99: s.latency.p99 },
    },
  };
}

export function registerStreaming(app: FastifyInstance, deps: ApiDeps): void {
  const { pipeline } = deps;
  const statusOf = (id: string) => pipeline.supervisor.status().find((a) => a.id === id);
  const json = (a: ActorStatus) => actorJson(a, pipeline.processor.stats().perBroker[a.broker]?.rowsOut ?? 0);

  app.get('/v1/streaming/status', async () => streamingStatus(pipeline));

  app.post('/v1/streaming/start', async (req, reply) => {
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

  app.post('/v1/streaming/stop', async (req) => {
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
