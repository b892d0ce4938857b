/**
 * The HTTP API as a function: buildApi() returns a ready (not listening) fastify instance, so
 * tests use app.inject() or listen on port 0, and `npm run serve` listens on the configured
 * address. Routes and their errors: specs/api.md.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Pipeline } from '../app/pipeline.js';
import { ConfigError } from '../core/errors.js';
import { redactText } from '../core/logger.js';
import { StorageError } from '../db/errors.js';
import type { Storage } from '../db/types.js';
import { bearerMatches } from './auth.js';
import { HttpError } from './errors.js';
import { METRICS_CONTENT_TYPE, renderMetrics } from './metrics.js';
import { registerData } from './routes/data.js';
import { registerRisk } from './routes/risk.js';
import { registerStreaming } from './routes/streaming.js';
import { systemClock } from '../core/clock.js';
import { processorLiveState } from '../risk/live.js';
import { riskMetrics } from '../risk/metrics.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { RiskService } from '../risk/service.js';

export interface ApiDeps {
  pipeline: Pick<Pipeline, 'processor' | 'supervisor' | 'startActor' | 'stopActor'>;
  storage: Storage;
  log: Logger;
  /** When set, every route needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Plugin flags for actors started through POST /v1/streaming/start (e.g. the sim's --rate). */
  actorFlags?: Record<string, string | boolean | undefined>;
  /** "now" for relative timeline ranges; tests pin it. */
  now?: () => number;
  /** The risk engine (serve starts it with the alert loop); made on first use, without the loop, when absent. */
  risk?: RiskService;
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    // One line per request would be per-tick noise for a polling dashboard; errors are logged below.
    disableRequestLogging: true,
    bodyLimit: 64 * 1024,
  }) as unknown as FastifyInstance;

  const token = deps.token?.trim();
  if (token) {
    app.addHook('onRequest', async (req, reply) => {
      if (bearerMatches(req.headers.authorization, token)) return;
      reply.header('www-authenticate', 'Bearer realm="riskwire"');
      throw new HttpError(401, 'missing or wrong bearer token: send Authorization: Bearer <API_TOKEN>');
    });
  }

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.message });
    if (err instanceof ConfigError) return reply.code(400).send({ error: err.message });
    const status = (err as FastifyError).statusCode;
    // fastify's own client errors (bad JSON, wrong content type, body too large) keep their status.
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: redactText(err.message) });
    // The database went away (or is restarting): the client may retry; a 500 would say "our bug".
    if (err instanceof StorageError && err.retryable) {
      req.log.warn({ err: redactText(err.message), url: req.url }, 'database unavailable for a request');
      return reply.code(503).header('retry-after', '5').send({ error: `database unavailable: ${redactText(err.message)}` });
    }
    req.log.error({ err: redactText(err.message), url: req.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error (see the server log)' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}: see specs/api.md` }));

  registerStreaming(app, deps);
  registerData(app, deps);
  let risk = deps.risk;
  const riskService = () => (risk ??= new RiskService({
    storage: deps.storage, rules: loadRules(), benchmark: resolveBenchmark(undefined), clock: systemClock, log: deps.log,
    live: processorLiveState(deps.pipeline.processor, systemClock),
  }));
  registerRisk(app, deps, riskService);
  app.get('/metrics', async (_req, reply) => {
    const { processor, supervisor } = deps.pipeline;
    const body = renderMetrics({
      stats: processor.stats(),
      latency: { buckets: processor.latency.buckets, count: processor.latency.count, sumMs: processor.latency.sumMs },
      actors: supervisor.status(),
    });
    return reply.type(METRICS_CONTENT_TYPE).send(body + (risk ? riskMetrics(risk) : ''));
  });
  await app.ready();
  return app;
}
