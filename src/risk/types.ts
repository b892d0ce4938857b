/**
 * Inputs and outputs of the risk engine (risk.md). Everything here is plain data: the edge
 * (src/risk/load.ts for the database, src/risk/live.ts for the processor's latest state) fills
 * RiskInputs, the pure functions in this folder turn them into numbers. Times are epoch ms;
 * unknown numbers are null, never 0 and never NaN.
 */
import type { InstrumentKind } from './instrument.js';
import type { Right } from './bs.js';
import type { Position } from '../core/types.js';

/** An open position (core Position) with when it was last known. */
export type RiskPositionInput = Omit<Position, 'assetClass'> & {
  /** positions.asset_class: option, equity, future, other. */
  assetClass: string;
  updatedAt: number;
};

/** The newest per-contract values for one held position (a greek_snapshots row, or the processor's latest). */
export interface ContractMarket {
  bid: number | null;
  ask: number | null;
  mark: number | null;
  last?: number | null;
  underlyingPrice: number | null;
  /** Fraction. */
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  eventTs: number;
}

export interface PricePoint {
  price: number;
  at: number;
  /** Where it came from: 'snapshot' (underlying_price of the newest option snapshot), 'quote', 'config'. */
  source: string;
}

/** The mark day P&L is measured against. */
export interface DayMark {
  mark: number;
  /** 'close' = the stored closing mark of the previous session; 'first_of_day' until one exists. */
  basis: 'close' | 'first_of_day';
  /** The New York date the mark belongs to. */
  day: string;
}

/** A beta against SPY (Tastytrade's market-metrics beta is vs SPY). */
export interface BetaEntry {
  beta: number;
  /** 'config' (RISK_RULES_FILE), 'market_metrics', 'benchmark' (the benchmark itself, β = 1). */
  source: string;
}

export const marketKey = (broker: string, account: string, contractKey: string) => `${broker}|${account}|${contractKey}`;

export interface RiskInputs {
  now: number;
  positions: RiskPositionInput[];
  /** By marketKey(broker, account, contract_key). */
  market: Map<string, ContractMarket>;
  /** Latest price per symbol (underlyings, stocks, futures, the benchmark). */
  prices: Map<string, PricePoint>;
  /** By contract key (stocks: the symbol). */
  dayMarks: Map<string, DayMark>;
  /** Betas vs SPY by underlying symbol. */
  betas: Map<string, BetaEntry>;
  benchmark: string;
  /** A position whose newest values are older than this is flagged stale. */
  staleMs: number;
  /** Realized P&L (FIFO, see pnl.ts; net of fees) by marketKey. */
  realized?: Map<string, number>;
  /** Fees of the trades by marketKey (only keys whose trades carried fees). */
  fees?: Map<string, number>;
}

export type MarkSource = 'mark' | 'mid' | 'last' | 'underlying' | null;

export interface PositionRisk {
  broker: string;
  account: string;
  contractKey: string;
  underlying: string;
  instrument: InstrumentKind;
  right: Right | null;
  strike: number | null;
  expiry: string | null;
  quantity: number;
  multiplier: number;
  mark: number | null;
  markSource: MarkSource;
  avgPrice: number | null;
  underlyingPrice: number | null;
  iv: number | null;
  /** β of the underlying to the benchmark (β_u / β_benchmark), null when unknown. */
  beta: number | null;
  /** Fractional calendar days to the expiry instant (options only). */
  dte: number | null;
  strategy: string | null;
  delta: number | null;
  dollarDelta: number | null;
  bwd: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  unrealizedPnl: number | null;
  dayPnl: number | null;
  dayPnlBasis: DayMark['basis'] | null;
  realizedPnl: number | null;
  /** Fees of its trades (already taken out of realizedPnl); null = no trade carried fees. */
  fees: number | null;
  updatedAt: number | null;
  stale: boolean;
}

/** Sums over a set of positions. A sum is null only when no position had the number. */
export interface RiskSums {
  positions: number;
  delta: number | null;
  dollarDelta: number | null;
  bwd: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  unrealizedPnl: number | null;
  dayPnl: number | null;
  realizedPnl: number | null;
  /** Fees of the trades (already in realizedPnl). */
  fees: number | null;
  /** Positions with at least one unknown number (missing Greeks, mark or price). */
  incomplete: number;
}
