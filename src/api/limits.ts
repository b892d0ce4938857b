/**
 * Back-pressure for the API, so it can never starve the pipeline it shares the process (and
 * the database) with: at most `maxConcurrent` requests at once (the rest get 503 + Retry-After
 * at once, never a queue), and a response within `requestTimeoutMs` (503 after that). Cheap
 * routes (/healthz, /metrics, /openapi.json) and long-lived streams (config.longLived, or a
 * client asking for text/event-stream) are not counted and not timed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock } from '../core/clock.js';
import { envInt } from '../core/env.js';
import { Counter, Gauge, type Registry } from './metrics.js';

export interface ApiLimits {
  /** API_MAX_CONCURRENT: requests handled at once (default 16). */
  maxConcurrent: number;
  /** API_REQUEST_TIMEOUT_MS: time to the first byte of the response (default 10 s). */
  requestTimeoutMs: number;
  /** API_STATEMENT_TIMEOUT_MS: bound on each API database read (default 5 s; PostgreSQL only). */
  statementTimeoutMs: number;
}

export function readApiLimits(env: NodeJS.ProcessEnv = process.env): ApiLimits {
  return {
    maxConcurrent: envInt(env, 'API_MAX_CONCURRENT', 16, 1, 10_000),
    requestTimeoutMs: envInt(env, 'API_REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
    statementTimeoutMs: envInt(env, 'API_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Not counted against the concurrency limit nor timed out (SSE streams, health). */
    longLived?: boolean;
    unlimited?: boolean;
  }
}

const RETRY_AFTER_S = '1';

function exempt(req: FastifyRequest): boolean {
  const config = req.routeOptions.config ?? {};
  if (config.longLived || config.unlimited) return true;
  return /text\/event-stream/i.test(req.headers.accept ?? '');
}

export function installLimits(app: FastifyInstance, limits: ApiLimits, metrics: Registry, clock: Clock = systemClock): void {
  let inFlight = 0;
  const rejected = new Counter({
    name: 'riskwire_api_rejected_total', help: 'API requests answered 503 by the back-pressure: busy (over API_MAX_CONCURRENT) or timeout (over API_REQUEST_TIMEOUT_MS).',
    labelNames: ['reason'], registers: [metrics],
  });
  new Gauge({ name: 'riskwire_api_in_flight', help: 'API requests being handled (long-lived streams excluded).', registers: [metrics], collect() { this.set(inFlight); } });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (exempt(req)) return;
    if (inFlight >= limits.maxConcurrent) {
      rejected.inc({ reason: 'busy' });
      reply.code(503).header('retry-after', RETRY_AFTER_S);
      return reply.send({ error: `the API is busy (${limits.maxConcurrent} requests in flight, API_MAX_CONCURRENT): retry after ${RETRY_AFTER_S} s` });
    }
    inFlight++;
    let released = false;
    const timer = clock.setTimeout(() => {
      if (reply.sent) return;
      rejected.inc({ reason: 'timeout' });
      req.log.warn({ url: req.url, ms: limits.requestTimeoutMs }, 'API request timed out');
      reply.code(503).header('retry-after', RETRY_AFTER_S)
        .send({ error: `the request took longer than ${limits.requestTimeoutMs} ms (API_REQUEST_TIMEOUT_MS): narrow the query (shorter range, bigger bucket, lower limit) or retry` });
    }, limits.requestTimeoutMs);
    const release = () => {
      if (released) return;
      released = true;
      clock.clearTimeout(timer);
      inFlight--;
    };
    reply.raw.once('close', release);
    reply.raw.once('finish', release);
  });
}
