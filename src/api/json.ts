/**
 * Storage records → API JSON. Field names are snake_case like the database columns (and the
 * POST /v1/trades body), times go out as ISO-8601 UTC strings, everywhere in the API.
 */
import type { LatestGreeks } from '../core/processor.js';
import type { TradeRow } from '../core/types.js';
import type { TimelineRow } from '../db/timeline.js';
import type { SnapshotRecord } from '../db/types.js';

const iso = (ms: number) => new Date(ms).toISOString();

export const isoOrNull = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : iso(ms));

export function snapshotJson(s: SnapshotRecord) {
  return {
    broker: s.broker, account: s.account, contract_key: s.contractKey, underlying: s.underlying,
    event_ts: iso(s.eventTs), seq: s.seq, received_at: iso(s.receivedAt), persisted_at: iso(s.persistedAt),
    quantity: s.quantity, multiplier: s.multiplier, bid: s.bid, ask: s.ask, mark: s.mark, underlying_price: s.underlyingPrice,
    iv: s.iv, delta: s.delta, gamma: s.gamma, theta: s.theta, vega: s.vega, rho: s.rho,
  };
}

export function tradeJson(t: TradeRow) {
  return {
    broker: t.broker, account: t.account, trade_id: t.tradeId, contract_key: t.contractKey, side: t.side,
    quantity: t.quantity, price: t.price, executed_at: iso(t.executedAt), source: t.source, fee: t.fees ?? null,
  };
}

/** One output object (snake_case like the tables and the rest of the API); times as ISO-8601 UTC. */
export function timelineJson(r: TimelineRow) {
  return {
    bucket_start: iso(r.bucketStart), bucket_end: iso(r.bucketEnd), as_of: iso(r.asOf),
    underlying: r.underlying, account: r.account,
    positions: r.positions, brokers: r.brokers,
    delta: r.delta, gamma: r.gamma, theta: r.theta, vega: r.vega, dollar_delta: r.dollarDelta,
    bwd: r.bwd ?? null, unrealized_pnl: r.unrealizedPnl ?? null,
    day_pnl: r.dayPnl ?? null, benchmark_price: r.benchmarkPrice ?? null,
  };
}

/** One position's newest greeks as /v1/events sends them (the risk14/web11 contract, plus multiplier and received_at). */
export function liveGreeksJson(s: LatestGreeks) {
  return {
    broker: s.broker, account: s.account, contract_key: s.contractKey, underlying: s.underlying,
    quantity: s.quantity, multiplier: s.multiplier, bid: s.bid, ask: s.ask, mark: s.mark, iv: s.iv,
    delta: s.delta, gamma: s.gamma, theta: s.theta, vega: s.vega, underlying_price: s.underlyingPrice,
    event_ts: iso(s.eventTs), received_at: iso(s.updatedAt),
  };
}
