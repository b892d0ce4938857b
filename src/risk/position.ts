/**
 * Per-position risk numbers (risk.md "Position Greeks", "Beta-weighted delta", "P&L"). Pure.
 *   option / futures option: delta × qty × mult (gamma, theta, vega alike)
 *   stock/ETF: delta = qty; future: delta = qty × mult (per point); no other Greek
 *   $delta = delta × underlying price; BWD = delta × β × S_u / S_benchmark
 *   unrealized = (mark − avg_price) × qty × mult; day = (mark − day mark) × qty × mult
 */
import { betaTo, bwd } from './beta.js';
import { instrumentOf, isOptionKind, type Instrument } from './instrument.js';
import { daysTo, expiryInstant } from './time.js';
import { marketKey, type ContractMarket, type MarkSource, type PositionRisk, type RiskInputs, type RiskPositionInput } from './types.js';

const mul = (a: number | null, b: number) => (a === null ? null : a * b);

export function mid(bid: number | null, ask: number | null): number | null {
  return bid !== null && ask !== null && ask >= bid && bid >= 0 ? (bid + ask) / 2 : null;
}

/** The broker mark, else the mid of bid/ask, else the last trade, and which it was. */
export function markOf(m: Pick<ContractMarket, 'bid' | 'ask' | 'mark' | 'last'> | undefined): { mark: number | null; source: MarkSource } {
  if (!m) return { mark: null, source: null };
  if (m.mark !== null && Number.isFinite(m.mark)) return { mark: m.mark, source: 'mark' };
  const md = mid(m.bid, m.ask);
  if (md !== null) return { mark: md, source: 'mid' };
  if (m.last !== null && m.last !== undefined && Number.isFinite(m.last)) return { mark: m.last, source: 'last' };
  return { mark: null, source: null };
}

/** The benchmark price the inputs know, or null. */
export function benchmarkPrice(inputs: Pick<RiskInputs, 'prices' | 'benchmark'>): number | null {
  return inputs.prices.get(inputs.benchmark)?.price ?? null;
}

/** What moves with the clock alone: DTE (options: fractional days to the expiry instant) and the stale flag. */
export function timeFields(inst: Readonly<Instrument>, updatedAt: number | null, inputs: Pick<RiskInputs, 'now' | 'staleMs'>): Pick<PositionRisk, 'dte' | 'stale'> {
  return {
    dte: isOptionKind(inst.kind) ? daysTo(expiryInstant(inst.expiry!, inst.root), inputs.now) : null,
    stale: updatedAt === null || inputs.now - updatedAt > inputs.staleMs,
  };
}

export function positionRisk(p: RiskPositionInput, inputs: RiskInputs, benchPrice = benchmarkPrice(inputs), inst = instrumentOf(p.contractKey, p.assetClass)): PositionRisk {
  const qty = p.quantity;
  const size = qty * p.multiplier;
  const beta = betaTo(p.underlying, inputs.benchmark, inputs.betas);
  const dayMark = inputs.dayMarks.get(p.contractKey);
  const realized = inputs.realized?.get(marketKey(p.broker, p.account, p.contractKey)) ?? null;

  let mark: number | null = null;
  let markSource: MarkSource = null;
  let underlyingPrice: number | null = null;
  let delta: number | null = null;
  let gamma: number | null = null;
  let theta: number | null = null;
  let vega: number | null = null;
  let iv: number | null = null;
  let updatedAt: number | null = null;

  if (isOptionKind(inst.kind)) {
    const m = inputs.market.get(marketKey(p.broker, p.account, p.contractKey));
    ({ mark, source: markSource } = markOf(m));
    underlyingPrice = m?.underlyingPrice ?? inputs.prices.get(p.underlying)?.price ?? null;
    delta = mul(m?.delta ?? null, size);
    gamma = mul(m?.gamma ?? null, size);
    theta = mul(m?.theta ?? null, size);
    vega = mul(m?.vega ?? null, size);
    iv = m?.iv ?? null;
    updatedAt = m?.eventTs ?? null;
  } else if (inst.kind === 'stock' || inst.kind === 'future') {
    const own = inputs.prices.get(p.contractKey) ?? (inst.kind === 'stock' ? inputs.prices.get(p.underlying) : undefined);
    mark = own?.price ?? null;
    markSource = own ? 'underlying' : null;
    underlyingPrice = mark;
    delta = inst.kind === 'stock' ? qty : size;
    updatedAt = own?.at ?? null;
  }

  const dollarDelta = delta !== null && underlyingPrice !== null ? delta * underlyingPrice : null;
  return {
    broker: p.broker, account: p.account, contractKey: p.contractKey, underlying: p.underlying,
    instrument: inst.kind, right: inst.right ?? null, strike: inst.strike ?? null, expiry: inst.expiry ?? null,
    quantity: qty, multiplier: p.multiplier, mark, markSource, avgPrice: p.avgPrice, underlyingPrice, iv, beta,
    strategy: null,
    delta, dollarDelta, bwd: bwd(delta, beta, underlyingPrice, benchPrice), gamma, theta, vega,
    unrealizedPnl: mark !== null && p.avgPrice !== null ? (mark - p.avgPrice) * size : null,
    dayPnl: mark !== null && dayMark ? (mark - dayMark.mark) * size : null,
    dayPnlBasis: mark !== null && dayMark ? dayMark.basis : null,
    realizedPnl: realized,
    fees: inputs.fees?.get(marketKey(p.broker, p.account, p.contractKey)) ?? null,
    updatedAt,
    ...timeFields(inst, updatedAt, inputs),
  };
}
