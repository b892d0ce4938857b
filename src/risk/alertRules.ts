/**
 * What each rule observes now (risk.md "Exit rules and limits"). Pure: a report, the rules and
 * the feed state in, one Observation per (rule, subject) out, breaching or not, so the alert
 * book can both open and close. Alerts only: nothing here or anywhere places an order.
 *   take_profit   credit strategies: profit as % of max profit ≥ take_profit_pct
 *   exit_dte      strategies with options: nearest DTE ≤ exit_dte
 *   max_loss      credit strategies: loss ≥ multiple × credit (and/or ≥ max_loss_dollars)
 *   limit_<metric> |value| ≥ max, per underlying or the portfolio
 *   pin_risk      short option with DTE ≤ pin dte and spot within pin % of its strike
 *   stale_feed    a broker's held contracts: the oldest newest-update age ≥ bound
 *   broker_down   an actor not connected for ≥ bound
 */
import type { RiskReport } from './report.js';
import type { RiskRules } from './rules.js';
import type { Strategy } from './strategies.js';
import type { PositionRisk, RiskSums } from './types.js';

export interface Observation {
  rule: string;
  subject: string;
  value: number;
  threshold: number;
  /** 'above': breach when value ≥ threshold; 'below': breach when value ≤ threshold. */
  direction: 'above' | 'below';
  message: string;
}

export interface FeedState {
  broker: string;
  /** Connected (or degraded but streaming) now. */
  connected: boolean;
  /** Since when it is in its current state (epoch ms). */
  since: number;
}

const f2 = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

/** Strategy rules (take_profit, exit_dte, max_loss) of one strategy. */
export function observeStrategy(s: Strategy, rules: RiskRules, out: Observation[]): void {
  const name = `${s.underlying} ${s.kind} (${s.broker} ${s.account})`;
  const isCredit = s.credit !== null && s.credit > 0;
  if (isCredit && s.maxProfit !== null && s.maxProfit > 0 && s.unrealizedPnl !== null) {
    const pct = (s.unrealizedPnl / s.maxProfit) * 100;
    out.push({ rule: 'take_profit', subject: s.id, value: pct, threshold: rules.takeProfitPct, direction: 'above',
      message: `${name}: profit ${f2(pct)}% of max profit ${f2(s.maxProfit)} (take profit at ${rules.takeProfitPct}%)` });
  }
  if (s.dte !== null) {
    out.push({ rule: 'exit_dte', subject: s.id, value: s.dte, threshold: rules.exitDte, direction: 'below',
      message: `${name}: ${f2(s.dte)} days to expiry (exit at ${rules.exitDte})` });
  }
  if (isCredit && s.unrealizedPnl !== null) {
    const loss = -s.unrealizedPnl;
    const byCredit = rules.maxLossCreditMultiple * s.credit!;
    const threshold = rules.maxLossDollars !== null ? Math.min(byCredit, rules.maxLossDollars) : byCredit;
    out.push({ rule: 'max_loss', subject: s.id, value: loss, threshold, direction: 'above',
      message: `${name}: loss ${f2(loss)} vs credit ${f2(s.credit!)} (max loss ${f2(threshold)})` });
  }
}

/** One limit given its subject's sums ('portfolio' or an underlying; undefined: not held). */
export function observeLimit(l: RiskRules['limits'][number], sums: RiskSums | undefined, out: Observation[]): void {
  const key = l.metric === 'dollar_delta' ? 'dollarDelta' : l.metric;
  const v = sums ? sums[key] : null;
  if (v === null || v === undefined) return;
  out.push({ rule: `limit_${l.metric}`, subject: l.subject, value: Math.abs(v), threshold: l.max, direction: 'above',
    message: `${l.subject}: |${l.metric}| ${f2(Math.abs(v))} (limit ${f2(l.max)})` });
}

/** The pin-risk subject of a position (one per broker, account and contract). */
export const pinSubject = (p: Pick<PositionRisk, 'broker' | 'account' | 'contractKey'>) => `${p.broker}:${p.account}:${p.contractKey.replace(/\s+/g, '')}`;

/** Pin risk of one position (short options only). */
export function observePin(p: PositionRisk, rules: RiskRules, out: Observation[]): void {
  if (p.quantity >= 0 || p.strike === null || p.dte === null || p.underlyingPrice === null || !(p.underlyingPrice > 0)) return;
  if (p.dte > rules.pinRisk.dte) return;
  const dist = (Math.abs(p.underlyingPrice - p.strike) / p.underlyingPrice) * 100;
  out.push({ rule: 'pin_risk', subject: pinSubject(p), value: dist, threshold: rules.pinRisk.withinPct, direction: 'below',
    message: `${p.contractKey} short ${Math.abs(p.quantity)}: spot ${f2(p.underlyingPrice)} within ${f2(dist)}% of strike ${p.strike} at ${f2(p.dte)} DTE` });
}

/** The time-driven feed rules: stale_feed per broker (its held options' oldest newest-update age) and broker_down. */
export function observeFeeds(positions: Iterable<PositionRisk>, asOf: number, rules: RiskRules, feeds: FeedState[], out: Observation[]): void {
  const oldest = new Map<string, number>();
  for (const p of positions) {
    if (p.instrument !== 'option' && p.instrument !== 'future_option') continue;
    const age = p.updatedAt === null ? Infinity : asOf - p.updatedAt;
    oldest.set(p.broker, Math.max(oldest.get(p.broker) ?? 0, age));
  }
  for (const [broker, age] of oldest) {
    if (!Number.isFinite(age)) continue;
    out.push({ rule: 'stale_feed', subject: broker, value: age / 1000, threshold: rules.staleFeedMs / 1000, direction: 'above',
      message: `${broker}: a held contract has had no update for ${f2(age / 1000)}s (bound ${rules.staleFeedMs / 1000}s)` });
  }
  for (const f of feeds) {
    const down = f.connected ? 0 : (asOf - f.since) / 1000;
    out.push({ rule: 'broker_down', subject: f.broker, value: down, threshold: rules.brokerDownMs / 1000, direction: 'above',
      message: f.connected ? `${f.broker}: connected` : `${f.broker}: not connected for ${f2(down)}s` });
  }
}

/** Every rule over a whole report. */
export function observe(report: Pick<RiskReport, 'strategies' | 'totals' | 'underlyings' | 'positions' | 'asOf'>, rules: RiskRules, feeds: FeedState[] = []): Observation[] {
  const out: Observation[] = [];
  for (const s of report.strategies) observeStrategy(s, rules, out);
  for (const l of rules.limits) observeLimit(l, l.subject === 'portfolio' ? report.totals : report.underlyings.find((u) => u.underlying === l.subject), out);
  for (const p of report.positions) observePin(p, rules, out);
  observeFeeds(report.positions, report.asOf, rules, feeds, out);
  return out;
}
