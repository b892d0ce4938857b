/**
 * The greeks debug table: fixed column widths and fixed decimals, so it fits 100 columns and
 * nothing moves between refreshes. Position Greeks (greek × qty × multiplier, risk.md), the
 * underlying price, DTE to the 16:00 New York expiry, and a total row. Pure.
 */
import type { LatestGreeks } from '../core/processor.js';
import { instrumentOf } from '../risk/instrument.js';
import { daysTo, expiryInstant } from '../risk/time.js';

interface Col {
  title: string;
  width: number;
  right: boolean;
}

const COLS: Col[] = [
  { title: 'contract', width: 17, right: false },
  { title: 'account', width: 10, right: false },
  { title: 'qty', width: 4, right: true },
  { title: 'mark', width: 7, right: true },
  { title: 'iv%', width: 4, right: true },
  { title: 'under', width: 7, right: true },
  { title: 'dte', width: 4, right: true },
  { title: 'pos_delta', width: 9, right: true },
  { title: 'pos_gam', width: 7, right: true },
  { title: 'pos_the', width: 7, right: true },
  { title: 'pos_vega', width: 8, right: true },
  { title: 'age', width: 5, right: true },
];
export const GREEKS_VIEW_WIDTH = COLS.reduce((s, c) => s + c.width, 0) + COLS.length - 1;

/** A number with fixed decimals, cut to the column (an overflow shows as #). */
const num = (v: number | null | undefined, d: number, w: number) => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const s = v.toFixed(d);
  return s.length <= w ? s : Math.abs(v) >= 1e5 && w >= 5 ? `${(v / 1000).toFixed(0)}k`.slice(0, w) : '#'.repeat(w);
};

function cell(text: string, c: Col): string {
  const t = text.length > c.width ? text.slice(0, c.width) : text;
  return c.right ? t.padStart(c.width) : t.padEnd(c.width);
}

const line = (cells: string[]) => cells.map((t, i) => cell(t, COLS[i])).join(' ');

/**
 * 'SPY 261218C500' for an OCC key (root, yymmdd, right, strike); 'ESH7 EW3F7 P5100' for a
 * futures option (future, option contract, right and strike); the key itself otherwise.
 */
export function shortContract(key: string): string {
  const m = key.match(/^([A-Z0-9 ]{6})(\d{6})([CP])(\d{8})$/);
  if (m) return `${m[1].trim()} ${m[2]}${m[3]}${Number(m[4]) / 1000}`;
  const f = key.match(/^\.\/(\S+)\s+(\S+)\s+\d{6}([CP]\S+)$/);
  return f ? `${f[1]} ${f[2]} ${f[3]}` : key;
}

export function greeksViewTable(latest: LatestGreeks[], now: number, staleMs: number): string {
  const rows: string[] = [];
  const total = { delta: 0, gamma: 0, theta: 0, vega: 0 };
  for (const s of latest) {
    const size = s.quantity * s.multiplier;
    const inst = instrumentOf(s.contractKey);
    const dte = inst.expiry ? daysTo(expiryInstant(inst.expiry, inst.root), now) : null;
    const pos = (g: number | null) => (g === null ? null : g * size);
    const [d, g, t, v] = [pos(s.delta), pos(s.gamma), pos(s.theta), pos(s.vega)];
    total.delta += d ?? 0;
    total.gamma += g ?? 0;
    total.theta += t ?? 0;
    total.vega += v ?? 0;
    const age = now - s.updatedAt;
    rows.push(line([
      shortContract(s.contractKey), `${s.broker.slice(0, 1)}:${s.account}`, num(s.quantity, 0, 4), num(s.mark, 2, 7),
      num(s.iv === null ? null : s.iv * 100, 1, 4), num(s.underlyingPrice, 2, 7), num(dte, 1, 4),
      num(d, 1, 9), num(g, 2, 7), num(t, 1, 7), num(v, 1, 8), `${Math.min(age / 1000, 999).toFixed(1)}${age > staleMs ? '*' : 's'}`,
    ]));
  }
  const head = [line(COLS.map((c) => c.title)), COLS.map((c) => '-'.repeat(c.width)).join(' ')];
  const foot = [COLS.map((c) => '-'.repeat(c.width)).join(' '),
    line([`total (${latest.length})`, '', '', '', '', '', '', num(total.delta, 1, 9), num(total.gamma, 2, 7), num(total.theta, 1, 7), num(total.vega, 1, 8), ''])];
  return [...head, ...rows, ...foot].join('\n');
}

/**
 * The watchlist under the greeks table: per watched symbol its latest streamed quote, the
 * option Greeks when it is one, the broker and the age (past `ttlMs` marked *: a lookup then
 * asks REST). A symbol with no quote yet shows dashes.
 */
export function watchlistTable(
  symbols: string[],
  quotes: { symbol: string; bid: number | null; ask: number | null; mid: number | null; iv: number | null; delta: number | null; broker: string; receivedAt: number }[],
  now: number,
  ttlMs: number,
): string {
  const by = new Map(quotes.map((q) => [q.symbol, q]));
  const cols: Col[] = [
    { title: 'watched', width: 17, right: false }, { title: 'bid', width: 9, right: true }, { title: 'ask', width: 9, right: true },
    { title: 'mid', width: 9, right: true }, { title: 'iv%', width: 5, right: true }, { title: 'delta', width: 6, right: true },
    { title: 'broker', width: 6, right: false }, { title: 'age', width: 6, right: true },
  ];
  const row = (cells: string[]) => cells.map((t, i) => cell(t, cols[i])).join(' ');
  const lines = [row(cols.map((c) => c.title)), cols.map((c) => '-'.repeat(c.width)).join(' ')];
  for (const s of symbols) {
    const q = by.get(s);
    if (!q) {
      lines.push(row([shortContract(s), '-', '-', '-', '-', '-', '-', 'none*']));
      continue;
    }
    const age = now - q.receivedAt;
    lines.push(row([
      shortContract(s), num(q.bid, 2, 9), num(q.ask, 2, 9), num(q.mid, 2, 9), num(q.iv === null ? null : q.iv * 100, 1, 5), num(q.delta, 3, 6),
      q.broker, `${Math.min(age / 1000, 999).toFixed(1)}${age > ttlMs ? '*' : 's'}`,
    ]));
  }
  return lines.join('\n');
}
