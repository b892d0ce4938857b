/**
 * Risk routes (the risk14/web11 contract): /v1/risk/positions (= `npm run risk -- --json`),
 * /v1/risk/summary, /v1/risk/scenarios, /v1/alerts and /v1/alerts/stream (server-sent events,
 * event `alert`). Bad parameters are 400s naming the parameter.
 */
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { listAlerts } from '../../db/alerts.js';
import { resolveBenchmark } from '../../risk/rules.js';
import { alertJson, type RiskQuery, type RiskService } from '../../risk/service.js';
import { parseDuration, parseText, type RawParams } from '../params.js';
import { fromQuery } from '../query.js';
import type { ApiDeps } from '../deps.js';

const FILTER_PARAMS = ['account', 'underlying', 'broker', 'benchmark'] as const;

function riskQuery(p: RawParams): RiskQuery {
  return {
    account: parseText(p.account, 'account'),
    underlying: parseText(p.underlying, 'underlying')?.toUpperCase(),
    broker: parseText(p.broker, 'broker')?.toLowerCase(),
    benchmark: p.benchmark === undefined ? undefined : resolveBenchmark(String(p.benchmark)),
  };
}

export function registerRisk(app: FastifyInstance, deps: ApiDeps, risk: () => RiskService): void {
  const now = deps.now ?? Date.now;
  app.get('/v1/risk/positions', async (req) => risk().positions(riskQuery(fromQuery(req.query, FILTER_PARAMS))));
  app.get('/v1/risk/summary', async (req) => risk().summary(riskQuery(fromQuery(req.query, FILTER_PARAMS))));
  app.get('/v1/risk/scenarios', async (req) => {
    const p = fromQuery(req.query, [...FILTER_PARAMS, 'mode']);
    const mode = p.mode ?? 'underlying';
    if (mode !== 'underlying' && mode !== 'beta') throw new ConfigError(`mode=${String(mode)} is not valid: use underlying or beta`);
    return risk().scenarios(riskQuery(p), mode);
  });

  app.get('/v1/alerts', async (req) => {
    const p = fromQuery(req.query, ['open', 'since', 'limit']);
    if (p.open !== undefined && !['0', '1', 'true', 'false'].includes(String(p.open))) throw new ConfigError(`open=${String(p.open)} is not valid: use open=1 or open=0`);
    const since = p.since === undefined ? undefined : now() - parseDuration(p.since, 'since');
    const limit = p.limit === undefined ? undefined : Number(p.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw new ConfigError(`limit=${String(p.limit)} is not valid: use 1 to 10000`);
    const alerts = await listAlerts(deps.storage, { open: p.open === '1' || p.open === 'true', since, limit });
    return { alerts: alerts.map(alertJson) };
  });

  app.get('/v1/alerts/stream', async (req, reply) => {
    fromQuery(req.query, []);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': riskwire alerts\n\n');
    const off = risk().onAlert((a) => res.write(`event: alert\ndata: ${JSON.stringify(a)}\n\n`));
    const heartbeat = systemClock.setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      systemClock.clearInterval(heartbeat);
      off();
    });
  });
}
