/**
 * The HTTP API as a function: buildApi() returns a ready (not listening) fastify instance, so
 * tests use app.inject() or listen on port 0, and `npm run serve` listens on the configured
 * address. Routes and their errors: specs/api.md.
 */
import swagger from '@fastify/swagger';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError } from '../core/errors.js';
import { redactText } from '../core/logger.js';
import { StorageError } from '../db/errors.js';
import { bearerMatches } from './auth.js';
import { HttpError } from './errors.js';
import { hostRefusal, isAllowedHost } from './host.js';
import { installLimits, readApiLimits } from './limits.js';
import type { ApiDeps } from './deps.js';
import { METRICS_CONTENT_TYPE, Registry, registerPipelineMetrics, renderWithProcess, type MetricsInput } from './metrics.js';
import { registerData } from './routes/data.js';
import { registerMarketMetrics } from './routes/marketMetrics.js';
import { registerEvents } from './routes/events.js';
import { isPagePath, registerPage } from './routes/page.js';
import { registerRisk } from './routes/risk.js';
import { TicketBook } from './events/tickets.js';
import { registerStreaming, watchedFreshness } from './routes/streaming.js';
import { schemaErrorFormatter, validatorCompiler } from './validation.js';
import { systemClock } from '../core/clock.js';
import { processorLiveState } from '../risk/live.js';
import { riskMetrics } from '../risk/metrics.js';
import { registerRedisMetrics } from './metrics/redis.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { RiskService } from '../risk/service.js';
import { envInt } from '../core/env.js';
import type { QuoteService } from '../quotes/service.js';
import { createQuoteService } from '../quotes/setup.js';
import { registerQuotes } from './routes/quotes.js';
import { registerQuoteMetrics } from './metrics/quotes.js';

export type { ApiDeps } from './deps.js';

/** Routes that are cheap and never touch the database: not counted, not timed, no token needed for /healthz. */
const UNLIMITED = { config: { unlimited: true } } as const;

/** Streams a browser opens with EventSource (no headers possible): they also take ?ticket= (events/tickets.ts). */
const SSE_PATHS = new Set(['/v1/events', '/v1/alerts/stream']);

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log,
    // One line per request would be per-tick noise for a polling dashboard; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    schemaErrorFormatter,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  const metrics = deps.metrics ?? new Registry();
  const limits = deps.limits ?? readApiLimits();

  const token = deps.token?.trim();
  // Without a token (which serve allows on loopback binds only) the Host header must name this
  // server, or a DNS-rebinding page could drive the API from a browser. With a token the
  // attacker's page cannot authenticate, so any name (a reverse proxy's, a LAN name) is fine.
  if (!token) {
    app.addHook('onRequest', async (req) => {
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : null;
      if (!isAllowedHost(req.headers.host, port)) throw new HttpError(421, hostRefusal(req.headers.host, port));
    });
  }
  const tickets = new TicketBook(deps.clock);
  if (token) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.routeOptions.url === '/healthz') return; // liveness answers {"status":"ok"} and nothing else
      if (bearerMatches(req.headers.authorization, token)) return;
      const path = req.url.split('?')[0];
      // The page and its scripts hold no data (the page asks for the token, then sends it on every call).
      if ((req.method === 'GET' || req.method === 'HEAD') && isPagePath(path)) return;
      if (req.method === 'GET' && SSE_PATHS.has(path) && tickets.redeem((req.query as Record<string, unknown>)?.ticket)) return;
      reply.header('www-authenticate', 'Bearer realm="riskwire"');
      throw new HttpError(401, 'missing or wrong bearer token: send Authorization: Bearer <API_TOKEN>');
    });
  }
  const { heavy } = installLimits(app, limits, metrics, deps.clock, deps.cpuMeter);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Riskwire API', version: '1', description: 'Options risk record: streaming control, snapshots, risk timeline, trades. Errors are {"error": "<one line>"}; see specs/api.md.' },
      components: token ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : undefined,
      security: token ? [{ bearer: [] }] : undefined,
    },
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.statusCode).headers(err.headers).send({ error: err.message });
    if (err instanceof ConfigError) return reply.code(400).send({ error: err.message });
    const status = (err as FastifyError).statusCode;
    // fastify's own client errors (bad JSON, wrong content type, body too large) keep their status.
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: redactText(err.message) });
    // A read cut by the API's statement timeout: the query was too heavy (or the database too busy) for now.
    if (err instanceof StorageError && err.code === '57014') {
      req.log.warn({ url: req.url }, 'API read cancelled by its statement timeout');
      return reply.code(503).header('retry-after', '5')
        .send({ error: `the query ran longer than ${limits.statementTimeoutMs} ms (API_STATEMENT_TIMEOUT_MS): narrow it (shorter range, bigger bucket, lower limit) or retry` });
    }
    // The database went away (or is restarting): the client may retry; a 500 would say "our bug".
    if (err instanceof StorageError && err.retryable) {
      req.log.warn({ err: redactText(err.message), url: req.url }, 'database unavailable for a request');
      return reply.code(503).header('retry-after', '5').send({ error: `database unavailable: ${redactText(err.message)}` });
    }
    req.log.error({ err: redactText(err.message), url: req.url }, 'request failed');
    return reply.code(500).send({ error: 'internal error (see the server log)' });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}: see specs/api.md` }));

  let scrape: MetricsInput | undefined;
  const snapshot = (): MetricsInput => {
    const { processor, supervisor } = deps.pipeline;
    return {
      stats: processor.stats(),
      latency: processor.latencyHistogram(),
      actors: supervisor.status(),
    };
  };
  registerPipelineMetrics(metrics, () => (scrape ??= snapshot()));
  const redis = deps.pipeline.redis;
  if (redis) registerRedisMetrics(metrics, () => redis.stats());
  const routeDeps = { ...deps, metrics, limits };

  const quoteTtlMs = deps.quoteTtlMs ?? envInt(process.env, 'QUOTE_TTL_MS', 3000, 1, 86_400_000);
  let quotes = deps.quotes;
  const quoteService = () => (quotes ??= createQuoteService({
    env: process.env, clock: deps.clock ?? systemClock, log: deps.log, ttlMs: quoteTtlMs,
    ratePerSec: envInt(process.env, 'QUOTE_REST_PER_SEC', 2, 1, 1000),
    memory: deps.quoteMemory ?? ((symbols) => deps.pipeline.processor.latestQuotes(symbols)),
    readQuotes: (deps.reader ?? deps.storage).readQuotes?.bind(deps.reader ?? deps.storage),
    writeQuotes: deps.storage.writeQuotes?.bind(deps.storage),
  }));
  registerQuoteMetrics(metrics, {
    queues: () => quotes?.queues() ?? [],
    freshness: () => watchedFreshness(deps.pipeline, (deps.clock ?? systemClock).now()).map((f) => ({ symbol: f.symbol, ageMs: f.age_ms })),
  });
  app.addHook('onClose', async () => quotes?.close());

  registerStreaming(app, { ...routeDeps, quoteTtlMs });
  registerData(app, { ...routeDeps, heavy });
  registerMarketMetrics(app, routeDeps);
  registerQuotes(app, routeDeps, quoteService);
  let risk = deps.risk;
  const riskService = () => (risk ??= new RiskService({
    storage: deps.storage, rules: loadRules(), benchmark: resolveBenchmark(undefined), clock: systemClock, log: deps.log,
    live: processorLiveState(deps.pipeline.processor, systemClock),
  }));
  registerRisk(app, routeDeps, riskService);
  // The page's live stream gets the same risk engine as the routes (serve's, with its alert loop).
  registerEvents(app, { ...routeDeps, risk: riskService() }, tickets);
  registerPage(app, { auth: !!token });
  app.get('/metrics', { ...UNLIMITED, schema: { summary: 'Prometheus text: pipeline, API, risk and process metrics', tags: ['ops'] } }, async (_req, reply) => {
    scrape = undefined; // one snapshot of the pipeline per scrape, shared by every family
    const body = await renderWithProcess(metrics);
    const riskText = deps.riskMetricsText ? await deps.riskMetricsText() : risk ? riskMetrics(risk) : '';
    return reply.type(METRICS_CONTENT_TYPE).send(body + riskText);
  });
  app.get('/healthz', { ...UNLIMITED, schema: { summary: 'Liveness: the process answers (no database round trip)', tags: ['ops'] } }, async () => ({ status: 'ok' }));
  app.get('/openapi.json', { ...UNLIMITED, schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}
