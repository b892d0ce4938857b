/**
 * Plain-text views of the risk report for the terminal: fixed decimals per column so numbers
 * line up and do not jitter between refreshes. Pure.
 */
import { formatTime } from '../core/tz.js';
import type { RiskReport } from './report.js';
import type { ScenarioResult } from './scenarios.js';
import type { PositionRisk, RiskSums } from './types.js';

/** Fixed decimals; unknown '-'; a value that rounds to zero prints without a sign (no '-0.00' flicker). */
export const fx = (n: number | null | undefined, d: number) => {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const s = n.toFixed(d);
  return /^-0(\.0+)?$/.test(s) ? s.slice(1) : s;
};
const shortTime = (ms: number, tz?: string) => formatTime(ms, tz).replace(/\.\d{3}(Z|[+-])/, '$1');

/** Right-aligned numeric columns, left-aligned text; every row the same width. */
export function grid(headers: string[], rows: string[][], numeric: boolean[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function reportHeader(r: RiskReport, rate?: number, tz?: string): string {
  const betas = r.betas.map((b) => `${b.symbol} ${b.beta.toFixed(2)} (${b.source})`).join(', ') || 'none';
  return [
    `risk as of ${shortTime(r.asOf, tz)}  benchmark ${r.benchmark.symbol} ${fx(r.benchmark.price, 2)}  betas used: ${betas}${r.unweighted.length ? `  unweighted (no beta): ${r.unweighted.join(', ')}` : ''}`,
    'delta in shares (stock = qty, future = qty x mult); $delta = delta x underlying price; bwd in benchmark shares;',
    `theta $/day; vega $/IV point; P&L in $ (day vs previous close, * = vs first mark of the day)${rate !== undefined ? `; rate ${rate}` : ''}`,
  ].join('\n');
}

const shortKey = (p: PositionRisk) => p.contractKey.replace(/\s+/g, ' ');
const COLS = ['contract', 'broker', 'account', 'qty', 'mark', 'dte', 'delta', '$delta', 'bwd', 'gamma', 'theta', 'vega', 'unreal', 'day'];
const NUMERIC = [false, false, false, true, true, true, true, true, true, true, true, true, true, true];

function sumCells(label: string, s: RiskSums): string[] {
  return [label, '', '', '', '', '', fx(s.delta, 1), fx(s.dollarDelta, 0), fx(s.bwd, 1), fx(s.gamma, 2), fx(s.theta, 2), fx(s.vega, 2), fx(s.unrealizedPnl, 0), fx(s.dayPnl, 0)];
}

/** Positions grouped by underlying, a total line per underlying and the portfolio total. */
export function positionsTable(r: RiskReport): string {
  if (r.positions.length === 0) return 'no open positions';
  const rows: string[][] = [];
  for (const u of r.underlyings) {
    for (const p of r.positions.filter((x) => x.underlying === u.underlying)) {
      rows.push([
        shortKey(p), p.broker, p.account, fx(p.quantity, 0), `${fx(p.mark, 2)}${p.markSource === 'mid' ? 'm' : p.markSource === 'last' ? 'l' : ''}`,
        fx(p.dte, 1), fx(p.delta, 1), fx(p.dollarDelta, 0), fx(p.bwd, 1), fx(p.gamma, 2), fx(p.theta, 2), fx(p.vega, 2),
        fx(p.unrealizedPnl, 0), `${fx(p.dayPnl, 0)}${p.dayPnlBasis === 'first_of_day' ? '*' : ''}`,
      ]);
    }
    rows.push(sumCells(`= ${u.underlying} @ ${fx(u.price, 2)}${u.beta === null ? ' (no beta)' : ` b ${u.beta.toFixed(2)}`}`, u));
  }
  rows.push(sumCells('= PORTFOLIO', r.totals));
  return grid(COLS, rows, NUMERIC);
}

/** Realized P&L of the recorded trades (FIFO, net of fees) and the fees, under the table (D78). */
export function realizedLine(r: RiskReport): string {
  const t = r.totals;
  return `realized P&L (FIFO over recorded trades, net of fees) ${fx(t.realizedPnl, 2)}; fees ${t.fees === null ? 'none recorded' : fx(t.fees, 2)}`;
}

export function strategiesTable(r: RiskReport): string {
  if (r.strategies.length === 0) return 'no open positions';
  const rows = r.strategies.map((s) => [
    s.underlying, s.kind, s.broker, s.account, String(s.legs.length), fx(s.dte, 1), fx(s.credit, 0), fx(s.maxProfit, 0), fx(s.maxLoss, 0),
    s.breakevens?.map((b) => fx(b, 2)).join(' ') || '-', fx(s.unrealizedPnl, 0),
  ]);
  return grid(['underlying', 'strategy', 'broker', 'account', 'legs', 'dte', 'credit', 'max_profit', 'max_loss', 'breakevens', 'unreal'], rows,
    [false, false, false, false, true, true, true, true, true, false, true]);
}

export function scenariosText(res: ScenarioResult, moves: number[], shifts: number[], days: number[]): string {
  const out: string[] = [];
  const subjects = [...new Set(res.rows.map((r) => r.subject))];
  const headers = ['move', ...days.flatMap((d) => shifts.map((s) => `iv${s > 0 ? '+' : ''}${s}${d ? ` +${d}d` : ''}`))];
  for (const subject of subjects) {
    for (const which of ['full', 'taylor'] as const) {
      const rows = moves.map((m) => [
        `${m > 0 ? '+' : ''}${m}%`,
        ...days.flatMap((d) => shifts.map((s) => {
          const row = res.rows.find((x) => x.subject === subject && x.spotMovePct === m && x.ivShiftPts === s && x.days === d);
          return fx(which === 'full' ? row?.pnlFull : row?.pnlTaylor, 0);
        })),
      ]);
      out.push(`${subject}: P&L $, ${which === 'full' ? 'full Black-Scholes revaluation' : 'Taylor (greeks) estimate'}`);
      out.push(grid(headers, rows, headers.map(() => true)), '');
    }
  }
  if (res.excluded.length) out.push(`left out: ${res.excluded.map((e) => `${e.contractKey.replace(/\s+/g, ' ')} (${e.reason})`).join(', ')}`);
  return out.join('\n');
}

/** `risk --attribution`: per position the Greek parts, explained, actual and residual; totals per underlying and portfolio. */
export function attributionTable(doc: import('./attribution.js').AttributionDocument): string {
  if (doc.positions.length === 0) return 'no position had a snapshot at the interval start';
  const cells = (label: string, broker: string, account: string, s: import('./attribution.js').AttributionParts, dS = '') =>
    [label, broker, account, dS, fx(s.delta_pnl, 0), fx(s.gamma_pnl, 0), fx(s.theta_pnl, 0), fx(s.vega_pnl, 0), fx(s.explained, 0), fx(s.actual, 0), fx(s.residual, 0)];
  const rows: string[][] = [];
  for (const u of doc.underlyings) {
    for (const p of doc.positions.filter((x) => x.underlying === u.underlying)) {
      const dS = p.underlying_price_t0 !== null && p.underlying_price_t1 !== null ? fx(p.underlying_price_t1 - p.underlying_price_t0, 2) : '-';
      rows.push(cells(p.contract_key.replace(/\s+/g, ' '), p.broker, p.account, p, dS));
    }
    rows.push(cells(`= ${u.underlying}${u.incomplete ? ` (${u.incomplete} unknown)` : ''}`, '', '', u));
  }
  rows.push(cells(`= PORTFOLIO${doc.totals.incomplete ? ` (${doc.totals.incomplete} unknown)` : ''}`, '', '', doc.totals));
  return grid(['contract', 'broker', 'account', 'dS', 'delta', 'gamma', 'theta', 'vega', 'explained', 'actual', 'residual'], rows,
    [false, false, false, true, true, true, true, true, true, true, true]);
}
