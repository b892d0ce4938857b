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
import { attributionRows } from '../../db/attribution.js';
import { attributionDocument } from '../../risk/attribution.js';
import { ALERTS_QUERY, ATTRIBUTION_QUERY, ATTRIBUTION_RESPONSE, NO_QUERY, paramNames, RISK_QUERY, RISK_SCENARIOS_QUERY } from '../schemas/queries.js';
import { attributionRangeFrom, parseDuration, parseText, type RawParams } from '../params.js';
import { fromQuery } from '../query.js';
import type { ApiDeps } from '../deps.js';

const FILTER_PARAMS = paramNames(RISK_QUERY);
const SCENARIO_PARAMS = paramNames(RISK_SCENARIOS_QUERY);
const ALERT_PARAMS = paramNames(ALERTS_QUERY);

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
  app.get('/v1/risk/positions', { schema: { summary: 'The portfolio now, per position, strategy and underlying (as npm run risk -- --json)', tags: ['risk'], querystring: RISK_QUERY } },
    async (req) => risk().positions(riskQuery(fromQuery(req.query, FILTER_PARAMS))));
  app.get('/v1/risk/summary', { schema: { summary: 'Portfolio totals per underlying and in total', tags: ['risk'], querystring: RISK_QUERY } },
    async (req) => risk().summary(riskQuery(fromQuery(req.query, FILTER_PARAMS))));
  app.get('/v1/risk/scenarios', { schema: { summary: 'The what-if grid (as npm run risk -- --scenarios)', tags: ['risk'], querystring: RISK_SCENARIOS_QUERY } }, async (req) => {
    const p = fromQuery(req.query, SCENARIO_PARAMS);
    const mode = p.mode ?? 'underlying';
    if (mode !== 'underlying' && mode !== 'beta') throw new ConfigError(`mode=${String(mode)} is not valid: use underlying or beta`);
    return risk().scenarios(riskQuery(p), mode);
  });

  // Greek P&L attribution over [since, until] with the residual (risk.md): same numbers as npm run risk -- --attribution.
  app.get('/v1/risk/attribution', {
    schema: { summary: 'Greek P&L attribution with residual over an interval (as npm run risk -- --attribution)', tags: ['risk'], querystring: ATTRIBUTION_QUERY, response: { 200: ATTRIBUTION_RESPONSE } },
  }, async (req) => {
    const p = fromQuery(req.query, paramNames(ATTRIBUTION_QUERY));
    const { t0, t1 } = attributionRangeFrom(p.since, p.until, now(), (k) => k);
    const lookback = p.lookback === undefined ? 86_400_000 : parseDuration(p.lookback, 'lookback');
    const q = riskQuery(p);
    const rows = await attributionRows(deps.reader ?? deps.storage, t0, t1, lookback, { account: q.account, underlying: q.underlying, broker: q.broker });
    return attributionDocument(rows, t0, t1);
  });

  app.get('/v1/alerts', { schema: { summary: 'Alerts raised by the risk rules, newest first (as npm run alerts -- --json)', tags: ['risk'], querystring: ALERTS_QUERY } }, async (req) => {
    const p = fromQuery(req.query, ALERT_PARAMS);
    if (p.open !== undefined && !['0', '1', 'true', 'false'].includes(String(p.open))) throw new ConfigError(`open=${String(p.open)} is not valid: use open=1 or open=0`);
    const since = p.since === undefined ? undefined : now() - parseDuration(p.since, 'since');
    const limit = p.limit === undefined ? undefined : Number(p.limit);
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 10_000)) throw new ConfigError(`limit=${String(p.limit)} is not valid: use 1 to 10000`);
    const alerts = await listAlerts(deps.storage, { open: p.open === '1' || p.open === 'true', since, limit });
    return { alerts: alerts.map(alertJson) };
  });

  app.get('/v1/alerts/stream', { schema: { summary: 'Server-sent events: one `alert` event per opened or closed alert', tags: ['risk'], querystring: NO_QUERY } }, async (req, reply) => {
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
