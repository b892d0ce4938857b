/**
 * Read and record routes over the database: greeks snapshots, the risk timeline (the same
 * parameters and numbers as `npm run timeline`) and trades. Bad parameters are 400s naming
 * the parameter (ConfigError from params.ts, HttpError from here).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { canonicalOcc } from '../../core/contract.js';
import { JournalUnavailableError } from '../../core/journal.js';
import { isRowRejection } from '../../db/errors.js';
import { DEFAULT_LIMIT } from '../../db/snapshots.js';
import { resolveTimelineRange, riskTimeline } from '../../db/timeline.js';
import { loadRules, resolveBenchmark, type RiskRules } from '../../risk/rules.js';
import { loadTimelineDays, loadTimelineWeights } from '../../risk/timelineWeights.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, HttpError } from '../errors.js';
import { snapshotJson, timelineJson, tradeJson } from '../json.js';
import { parseInstant, parseLimit, parseText, timelineQueryFrom, type RawParams } from '../params.js';
import { fromQuery } from '../query.js';
import { parseTradeBody } from '../tradeBody.js';
import { paramNames, SNAPSHOT_QUERY, TIMELINE_QUERY, TRADE_QUERY } from '../schemas/queries.js';
import { TRADE_BODY_SCHEMA } from '../schemas/trade.js';
import { errorText } from '../../core/errors.js';
import { parseTz, tzOffsetMs } from '../../core/tz.js';
import { systemClock } from '../../core/clock.js';
import { Coalescer } from '../coalesce.js';
import type { InstalledLimits } from '../limits.js';

const SNAPSHOT_PARAMS = paramNames(SNAPSHOT_QUERY);
const TRADE_PARAMS = paramNames(TRADE_QUERY);
const TIMELINE_PARAMS = paramNames(TIMELINE_QUERY);

/** OCC keys may come in any accepted spelling; other asset classes' keys are taken as given. */
function contractKeyParam(p: RawParams): string | undefined {
  const raw = parseText(p.contract_key, 'contract_key');
  if (raw === undefined) return undefined;
  try {
    return canonicalOcc(raw.toUpperCase());
  } catch {
    return raw;
  }
}

/** The parameters as given, in a stable order: the key identical requests share an answer by. */
const cacheKey = (p: RawParams) => JSON.stringify(Object.entries(p).sort(([a], [b]) => a.localeCompare(b)));

function timeRange(p: RawParams): { from?: number; to?: number } {
  const from = p.from !== undefined ? parseInstant(p.from, 'from') : undefined;
  const to = p.to !== undefined ? parseInstant(p.to, 'to') : undefined;
  return { from, to };
}

export function registerData(app: FastifyInstance, deps: ApiDeps & { heavy?: InstalledLimits['heavy'] }): void {
  const { storage } = deps;
  const heavy = deps.heavy ?? (<T>(work: () => Promise<T>) => work());
  // Identical heavy reads within API_TIMELINE_CACHE_MS share one query (relative ranges
  // included: `to` = now of the request that ran it, at most that old); one that took D ms is
  // kept API_HEAVY_REST_FACTOR × D ms if longer: an answer as old as its cost.
  // Past that, an answer up to API_STALE_MAX_MS old is given at once (with its Age) while one refresh runs.
  const clock = deps.clock ?? systemClock;
  const shared = new Coalescer<string>({
    ttlMs: deps.limits?.timelineCacheMs ?? 0, clock, costFactor: deps.limits?.heavyRestFactor ?? 0, staleMs: deps.limits?.staleMaxMs ?? 0,
  });
  // The shared answer is kept as its JSON text: serialised once, not once per request.
  const answer = async (reply: FastifyReply, key: string, compute: () => Promise<unknown>) => {
    const { value, at } = await shared.get(key, () => heavy(async () => JSON.stringify(await compute())));
    const age = Math.floor((clock.now() - at) / 1000);
    if (age > 0) reply.header('age', String(age));
    reply.type('application/json; charset=utf-8');
    return value; // returned, not sent: a request that timed out meanwhile drops it (limits.ts)
  };
  const reader = deps.reader ?? storage; // reads on the API's own pool when there is one
  const now = deps.now ?? Date.now;
  let rules: RiskRules | undefined;
  const timelineRules = () => (rules ??= loadRules()); // RISK_RULES_FILE betas, read once

  app.get('/v1/greeks/snapshots', { schema: { summary: 'Stored Greek snapshots, newest first', tags: ['data'], querystring: SNAPSHOT_QUERY } }, async (req, reply) => {
    const p = fromQuery(req.query, SNAPSHOT_PARAMS);
    const filter = {
      broker: parseText(p.broker, 'broker'), account: parseText(p.account, 'account'), contractKey: contractKeyParam(p),
      underlying: parseText(p.underlying, 'underlying')?.toUpperCase(), ...timeRange(p), limit: parseLimit(p.limit, 'limit', DEFAULT_LIMIT),
    };
    // Unfiltered "newest first" scans the day's partition (no index on event_ts alone): a heavy
    // read, shared by identical requests like the timeline's.
    return answer(reply, `snapshots ${cacheKey(p)}`, async () => {
      const rows = await reader.querySnapshots(filter);
      return { count: rows.length, snapshots: rows.map(snapshotJson) };
    });
  });

  app.get('/v1/risk/timeline', { schema: { summary: 'Net position greeks per time bucket (as npm run timeline)', tags: ['data'], querystring: TIMELINE_QUERY } }, async (req, reply) => {
    const p = fromQuery(req.query, TIMELINE_PARAMS);
    const parsed = timelineQueryFrom(p, now(), (k) => k.replace('-', '_'));
    // tz as the CLI's --tz: buckets start on the zone's wall-clock boundaries (a 1d bucket is a
    // local day); every time in the answer stays ISO-8601 UTC.
    const tz = parseTz(p.tz, 'tz');
    const q = tz ? { ...parsed, alignOffsetMs: tzOffsetMs(parsed.from, tz) } : parsed;
    const benchmark = resolveBenchmark(parseText(p.benchmark, 'benchmark'));
    return answer(reply, `timeline ${cacheKey(p)}`, async () => {
      const weights = await loadTimelineWeights(reader, benchmark, timelineRules());
      const rows = await riskTimeline(reader, { ...q, weights, days: await loadTimelineDays(reader, q) });
      return {
        benchmark,
        from: new Date(resolveTimelineRange(q.from, q.to, q.bucketMs, q.alignOffsetMs ?? 0).from).toISOString(), to: new Date(q.to).toISOString(),
        tz: tz ?? 'UTC', bucket_ms: q.bucketMs, stale_ms: q.staleMs, all_accounts: !!q.allAccounts, rows: rows.map(timelineJson),
      };
    });
  });

  app.get('/v1/trades', { schema: { summary: 'Recorded trades, newest first', tags: ['data'], querystring: TRADE_QUERY } }, async (req) => {
    const p = fromQuery(req.query, TRADE_PARAMS);
    const rows = await reader.listTrades({
      broker: parseText(p.broker, 'broker'), account: parseText(p.account, 'account'), contractKey: contractKeyParam(p),
      ...timeRange(p), limit: parseLimit(p.limit, 'limit', DEFAULT_LIMIT),
    });
    return { count: rows.length, trades: rows.map(tradeJson) };
  });

  app.post('/v1/trades', { schema: { summary: 'Record a trade (idempotent per broker and trade_id)', tags: ['data'], body: TRADE_BODY_SCHEMA } }, async (req, reply) => {
    const trade = parseTradeBody(req.body);
    // Written now when the database answers in time; otherwise durably journaled and written
    // later, exactly once: 202. Only a journal that refuses too gives 503 (nothing accepted).
    const accepted = await deps.pipeline.processor.acceptTrade(trade).catch((err: unknown) => {
      if (err instanceof JournalUnavailableError) throw new HttpError(503, `database unavailable and the journal cannot be written (${err.message}): retry later`, { 'retry-after': '5' });
      if (isRowRejection(err)) throw badRequest(`the database refused this trade: ${errorText(err)}`);
      throw err;
    });
    if (accepted.status === 'journaled') {
      req.log.warn({ broker: trade.broker, tradeId: trade.tradeId }, 'trade journaled: the database did not take it in time');
      return reply.code(202).send({ created: false, duplicate: false, journaled: true, trade: tradeJson(trade) });
    }
    const { inserted } = accepted;
    // Idempotent per (broker, trade_id): a repeat is a 200 and the first recorded trade is kept.
    // The posted body is not echoed then: what is stored is the first one (GET /v1/trades shows it).
    if (inserted === 0) return reply.code(200).send({ created: false, duplicate: true, broker: trade.broker, trade_id: trade.tradeId });
    req.log.info({ broker: trade.broker, tradeId: trade.tradeId }, 'trade recorded');
    return reply.code(201).send({ created: true, duplicate: false, trade: tradeJson(trade) });
  });
}
