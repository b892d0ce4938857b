/**
 * The edge that fills RiskInputs from the database (positions, the newest snapshot per held
 * contract, underlying prices, closing marks, trades, market-metrics betas), optionally overlaid
 * with the processor's newer in-memory state (serve / ingest). The numbers themselves are
 * computed by the pure functions in this folder.
 */
import { closingMarks, firstMarksSince, latestForPositions, latestUnderlyingPrices, marketMetricBetas, materializeClosingMarks } from '../db/riskInputs.js';
import type { Storage } from '../db/types.js';
import { instrumentOf, isOptionKind } from './instrument.js';
import { realizedFifo, type TradeInput } from './pnl.js';
import type { RiskRules } from './rules.js';
import { sessionOf } from './time.js';
import { marketKey, type BetaEntry, type ContractMarket, type DayMark, type PricePoint, type RiskInputs, type RiskPositionInput } from './types.js';

/** What the processor knows that the database may not have yet (serve / ingest). */
export interface LiveState {
  positions(): RiskPositionInput[];
  /** Newest per-holding values. */
  latest(): { broker: string; account: string; contractKey: string; market: ContractMarket }[];
  /** Newest price per symbol from the quote cache. */
  prices(): { symbol: string; price: number; at: number }[];
}

export interface LoadOptions {
  now: number;
  benchmark: string;
  rules: RiskRules;
  live?: LiveState;
}

async function allTrades(storage: Pick<Storage, 'query'>): Promise<TradeInput[]> {
  const rows = await storage.query<TradeInput>(`SELECT broker, account, contract_key AS "contractKey", side, quantity::float8 AS quantity, price, fees,
      (extract(epoch FROM executed_at) * 1000)::float8 AS "executedAt" FROM trades ORDER BY executed_at, trade_id`);
  return rows.map((r) => ({ ...r, quantity: Number(r.quantity), price: Number(r.price), executedAt: Number(r.executedAt), fees: r.fees === null || r.fees === undefined ? null : Number(r.fees) }));
}

export async function loadRiskInputs(storage: Storage, opts: LoadOptions): Promise<RiskInputs> {
  const { now, benchmark, rules, live } = opts;
  const dbPositions = await storage.listPositions({});
  // A broker the processor holds positions for is taken live; the others as the database has them
  // (serve without that broker's actor running still shows its last known book).
  const livePositions = live?.positions() ?? [];
  const liveBrokers = new Set(livePositions.map((p) => p.broker));
  const positions: RiskPositionInput[] = [...livePositions, ...dbPositions.filter((p) => !liveBrokers.has(p.broker))];

  const market = new Map<string, ContractMarket>();
  for (const r of await latestForPositions(storage)) {
    market.set(marketKey(r.broker, r.account, r.contractKey), {
      bid: r.bid, ask: r.ask, mark: r.mark, underlyingPrice: r.underlyingPrice, iv: r.iv,
      delta: r.delta, gamma: r.gamma, theta: r.theta, vega: r.vega, eventTs: Number(r.eventTs),
    });
  }
  for (const l of live?.latest() ?? []) {
    const k = marketKey(l.broker, l.account, l.contractKey);
    const cur = market.get(k);
    if (!cur || cur.eventTs <= l.market.eventTs) market.set(k, l.market);
  }

  const symbols = new Set<string>([benchmark]);
  for (const p of positions) {
    symbols.add(p.underlying);
    if (!isOptionKind(instrumentOf(p.contractKey, p.assetClass).kind)) symbols.add(p.contractKey);
  }
  const prices = new Map<string, PricePoint>();
  for (const r of await latestUnderlyingPrices(storage, [...symbols])) prices.set(r.symbol, { price: r.price, at: r.at, source: 'snapshot' });
  for (const r of live?.prices() ?? []) {
    const cur = prices.get(r.symbol);
    if (!cur || cur.at <= r.at) prices.set(r.symbol, { price: r.price, at: r.at, source: 'quote' });
  }

  const dayMarks = new Map<string, DayMark>();
  const { session, previousClose } = sessionOf(now);
  if (previousClose.at < now) await materializeClosingMarks(storage, previousClose.day, previousClose.at);
  for (const m of await closingMarks(storage, previousClose.day)) dayMarks.set(m.contractKey, { mark: Number(m.mark), basis: 'close', day: previousClose.day });
  const missingOptions = new Set<string>();
  const missingSymbols = new Set<string>();
  for (const p of positions) {
    if (dayMarks.has(p.contractKey)) continue;
    if (isOptionKind(instrumentOf(p.contractKey, p.assetClass).kind)) missingOptions.add(p.contractKey);
    else missingSymbols.add(p.contractKey);
  }
  for (const m of await firstMarksSince(storage, [...missingOptions], [...missingSymbols], previousClose.at)) {
    if (!dayMarks.has(m.key)) dayMarks.set(m.key, { mark: Number(m.mark), basis: 'first_of_day', day: session });
  }

  const betas = new Map<string, BetaEntry>();
  for (const b of await marketMetricBetas(storage)) betas.set(b.symbol, { beta: b.beta, source: 'market_metrics' });
  for (const [k, b] of rules.betas) betas.set(k, b);

  const multipliers = new Map(positions.map((p) => [p.contractKey, p.multiplier]));
  const { realized, fees } = realizedFifo(await allTrades(storage), (k) => multipliers.get(k));

  return { now, positions, market, prices, dayMarks, betas, benchmark, staleMs: rules.staleFeedMs, realized, fees };
}
