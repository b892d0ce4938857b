/**
 * The data flow in types: actors post BrokerEvents (batched over a MessagePort), the processor
 * turns greeks updates into GreekSnapshots (rows of `greek_snapshots`).
 * All times are epoch milliseconds (UTC). Unknown numbers are null, never NaN.
 */

export type BrokerId = string;

/** An open position as a broker reports it, already mapped to the canonical contract identity. */
export interface Position {
  broker: BrokerId;
  account: string;
  /** Canonical identity: 21-char OCC symbol for equity/index options (see contract.ts). */
  contractKey: string;
  underlying: string;
  /** Signed size: negative = short. */
  quantity: number;
  multiplier: number;
  avgPrice: number | null;
  /** 'option' positions get greeks; others (equity, future) only quotes. */
  assetClass: 'option' | 'equity' | 'future' | 'other';
}

/** Per-contract greeks as computed by the broker. One event = one update of one contract. */
/** Per-contract values as the broker sent them (IV as a fraction); null when unknown, never NaN. */
export interface GreekValues {
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  rho: number | null;
}

export interface GreeksEvent extends GreekValues {
  kind: 'greeks';
  broker: BrokerId;
  /** The account whose subscription produced it; undefined = applies to every account holding the contract. */
  account?: string;
  contractKey: string;
  underlying: string;
  /** When the broker says the values were computed; receipt time where the broker gives none. */
  eventTs: number;
  /** Broker sequence within eventTs (0 when the broker has none). Part of the dedupe key. */
  seq: number;
  /** When the actor received the wire message. */
  receivedAt: number;
  /** Some brokers send these along with greeks (IBKR); they override the quote cache when present. */
  bid?: number | null;
  ask?: number | null;
  mark?: number | null;
  underlyingPrice?: number | null;
}

/** A quote for a contract (key = contractKey) or an underlying (key = its symbol, e.g. 'SPY'). */
export interface QuoteEvent {
  kind: 'quote';
  broker: BrokerId;
  key: string;
  eventTs: number;
  receivedAt: number;
  bid: number | null;
  ask: number | null;
  /** Last trade or broker mark, when known. */
  last?: number | null;
  mark?: number | null;
}

/** The full set of open positions of one account at one time (replaces the previous set). */
export interface PositionsEvent {
  kind: 'positions';
  broker: BrokerId;
  account: string;
  at: number;
  positions: Position[];
}

export type StreamState = 'starting' | 'connecting' | 'connected' | 'degraded' | 'disconnected' | 'stopped';

export interface StateEvent {
  kind: 'state';
  broker: BrokerId;
  at: number;
  state: StreamState;
  reason?: string;
}

/** A wire message the actor could not use. Counted by reason, never silently dropped. */
export interface MalformedEvent {
  kind: 'malformed';
  broker: BrokerId;
  at: number;
  reason: string;
  count?: number;
}

/** An execution / fill seen on a broker stream (goes to `trades`). */
export interface TradeEvent {
  kind: 'trade';
  broker: BrokerId;
  account: string;
  tradeId: string;
  contractKey: string;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
  executedAt: number;
  source: string;
  /** Fees of this fill in currency (commission + exchange/clearing/regulatory), positive = paid; null/absent = not known. */
  fees?: number | null;
}

/**
 * Volatility metrics and beta of one underlying (a `market_metrics` row). Every volatility
 * number is a fraction (0.224 = 22.4 %), whatever unit the broker used; null when unknown.
 */
export interface MarketMetric {
  symbol: string;
  ivIndex: number | null;
  ivRank: number | null;
  ivPercentile: number | null;
  iv30: number | null;
  hv30: number | null;
  hv60: number | null;
  hv90: number | null;
  /** Against SPY (Tastytrade's). */
  beta: number | null;
  /** Next expected earnings report, YYYY-MM-DD. */
  earningsDate: string | null;
  /** When the broker says the metrics were computed, else when they were fetched. */
  updatedAt: number;
}

/** One poll of a broker's market metrics (goes to `market_metrics`, latest per symbol). */
export interface MetricsEvent {
  kind: 'metrics';
  broker: BrokerId;
  at: number;
  metrics: MarketMetric[];
}

export type BrokerEvent = GreeksEvent | QuoteEvent | PositionsEvent | StateEvent | MalformedEvent | TradeEvent | MetricsEvent;

/** One row of `greek_snapshots`. */
export interface GreekSnapshot extends GreekValues {
  broker: BrokerId;
  account: string;
  contractKey: string;
  underlying: string;
  eventTs: number;
  seq: number;
  receivedAt: number;
  quantity: number;
  multiplier: number;
  bid: number | null;
  ask: number | null;
  mark: number | null;
  underlyingPrice: number | null;
}

/**
 * One row of `quotes` (migration 0005): the latest quote of a symbol (canonical key: ticker,
 * /ESH7 future, 21-char OCC option), from the stream or from a REST fallback. Option symbols
 * carry their latest Greeks.
 */
export interface QuoteRow {
  symbol: string;
  broker: BrokerId;
  source: 'stream' | 'rest';
  bid: number | null;
  ask: number | null;
  mid: number | null;
  mark: number | null;
  last: number | null;
  eventTs: number;
  receivedAt: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
}

/** A trade row of `trades`. */
export type TradeRow = Omit<TradeEvent, 'kind'>;

/** Turns NaN/±Infinity/non-numbers into null. Use at every wire boundary. */
export function finiteOrNull(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}
