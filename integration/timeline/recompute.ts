/**
 * The risk timeline recomputed directly from its inputs, one bucket and one position at a time,
 * the way specs/timeline.md words it: no SQL, no carry-forward tricks. The SQL statement (and any
 * rollup built to speed it up) must give the same rows. Inputs are the raw table contents.
 */
import type { GreekSnapshot, Position } from '../../src/core/types.js';
import { resolveTimelineRange, type TimelineDays, type TimelineQuery, type TimelineRow } from '../../src/db/timeline.js';

export interface RecomputeInput {
  snapshots: GreekSnapshot[];
  positions: Position[];
  closingMarks: { contractKey: string; day: string; mark: number }[];
}

const FUTURE_RE = /^\/[A-Z0-9]{1,5}[FGHJKMNQUVXZ][0-9]{1,2}$/;
const isStockLike = (p: Position) => !p.contractKey.includes(' ') && p.quantity !== 0 &&
  (p.assetClass === 'equity' || p.assetClass === 'future' || /^[A-Z][A-Z0-9.]{0,9}$/.test(p.contractKey) || FUTURE_RE.test(p.contractKey));
const isFuture = (p: Position) => p.assetClass === 'future' || FUTURE_RE.test(p.contractKey);
const markOf = (s: GreekSnapshot) => s.mark ?? (s.bid !== null && s.ask !== null && s.ask >= s.bid && s.bid >= 0 ? (s.bid + s.ask) / 2 : null);
const newer = (a: GreekSnapshot, b: GreekSnapshot) => a.eventTs > b.eventTs || (a.eventTs === b.eventTs && a.seq > b.seq);

interface Row {
  broker: string; account: string; contractKey: string; underlying: string; stock: boolean;
  size: number; delta: number | null; gamma: number | null; theta: number | null; vega: number | null;
  upx: number | null; mark: number | null;
}

const sumOf = (xs: Array<number | null>) => {
  const known = xs.filter((x): x is number => x !== null);
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0);
};
const allOrNull = (xs: Array<number | null>) => (xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + b!, 0));

export function recomputeTimeline(input: RecomputeInput, q: TimelineQuery): TimelineRow[] {
  const { from, to, buckets } = resolveTimelineRange(q.from, q.to, q.bucketMs, q.alignOffsetMs ?? 0);
  const pass = (r: { broker: string; account: string; underlying: string }) =>
    (!q.brokers || q.brokers.includes(r.broker)) && (!q.accounts || q.accounts.includes(r.account)) && (!q.underlyings || q.underlyings.includes(r.underlying));
  const snaps = input.snapshots.filter(pass);
  const positions = new Map(input.positions.map((p) => [`${p.broker}|${p.account}|${p.contractKey}`, p]));
  const stocks = input.positions.filter((p) => isStockLike(p) && pass(p));
  const byPos = new Map<string, GreekSnapshot[]>();
  for (const s of snaps) {
    const k = `${s.broker}|${s.account}|${s.contractKey}`;
    byPos.set(k, [...(byPos.get(k) ?? []), s]);
  }
  const out: TimelineRow[] = [];
  for (let i = 0; i < buckets; i++) {
    const bucketStart = from + i * q.bucketMs;
    const bucketEnd = bucketStart + q.bucketMs;
    const asOf = Math.min(bucketEnd, to);
    const rows: Row[] = [];
    const fresh: GreekSnapshot[] = [];
    for (const list of byPos.values()) {
      let best: GreekSnapshot | null = null;
      for (const s of list) if (s.eventTs <= asOf && (!best || newer(s, best))) best = s;
      if (!best || asOf - best.eventTs >= q.staleMs) continue;
      fresh.push(best);
      rows.push({
        broker: best.broker, account: best.account, contractKey: best.contractKey, underlying: best.underlying, stock: false,
        size: best.quantity * best.multiplier, delta: best.delta, gamma: best.gamma, theta: best.theta, vega: best.vega,
        upx: best.underlyingPrice, mark: markOf(best),
      });
    }
    // The underlying's price in this bucket: the newest fresh snapshot with one.
    const px = new Map<string, GreekSnapshot>();
    for (const s of fresh) {
      if (s.underlyingPrice === null) continue;
      const cur = px.get(s.underlying);
      if (!cur || newer(s, cur) || (s.eventTs === cur.eventTs && s.seq === cur.seq && `${s.broker}|${s.account}|${s.contractKey}` < `${cur.broker}|${cur.account}|${cur.contractKey}`)) px.set(s.underlying, s);
    }
    for (const p of stocks) {
      const price = px.get(p.underlying)?.underlyingPrice;
      if (price === undefined || price === null) continue;
      rows.push({
        broker: p.broker, account: p.account, contractKey: p.contractKey, underlying: p.underlying, stock: true,
        size: p.quantity * (isFuture(p) ? p.multiplier : 1), delta: 1, gamma: null, theta: null, vega: null, upx: price, mark: price,
      });
    }
    const bench = q.weights ? benchmarkPrice(input.snapshots, q.weights.benchmark, asOf) : null;
    const groups = new Map<string, Row[]>();
    for (const r of rows) {
      const k = q.allAccounts ? r.underlying : `${r.underlying}\u0000${r.account}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    const keys = [...groups.keys()].sort();
    for (const k of keys) {
      const g = groups.get(k)!;
      const dollar = sumOf(g.map((r) => (r.delta === null || r.upx === null ? null : r.delta * r.size * r.upx)));
      const beta = q.weights?.betas.find((b) => b.symbol === g[0]!.underlying)?.beta ?? null;
      out.push({
        bucketStart, bucketEnd, asOf, underlying: g[0]!.underlying, account: q.allAccounts ? null : g[0]!.account,
        positions: g.length, brokers: new Set(g.map((r) => r.broker)).size,
        delta: sumOf(g.map((r) => (r.delta === null ? null : r.delta * r.size))),
        gamma: sumOf(g.map((r) => (r.gamma === null ? null : r.gamma * r.size))),
        theta: sumOf(g.map((r) => (r.theta === null ? null : r.theta * r.size))),
        vega: sumOf(g.map((r) => (r.vega === null ? null : r.vega * r.size))),
        dollarDelta: dollar,
        bwd: q.weights && dollar !== null && beta !== null && bench ? (dollar * beta) / bench : null,
        unrealizedPnl: allOrNull(g.map((r) => {
          const avg = positions.get(`${r.broker}|${r.account}|${r.contractKey}`)?.avgPrice ?? null;
          return r.mark === null || avg === null ? null : (r.mark - avg) * r.size;
        })),
        dayPnl: q.days ? allOrNull(g.map((r) => {
          const ref = dayRef(input, q.days!, i, r);
          return r.mark === null || ref === null ? null : (r.mark - ref) * r.size;
        })) : null,
        benchmarkPrice: q.weights ? bench : null,
      });
    }
  }
  return out;
}

/** Newest benchmark underlying price at or before asOf, four days back at most (every account and broker). */
function benchmarkPrice(all: GreekSnapshot[], symbol: string, asOf: number): number | null {
  let best: GreekSnapshot | null = null;
  for (const s of all) {
    if (s.underlying !== symbol || s.underlyingPrice === null || s.eventTs > asOf || s.eventTs <= asOf - 4 * 86_400_000) continue;
    if (!best || newer(s, best)) best = s;
  }
  return best?.underlyingPrice ?? null;
}

/** The close mark of the bucket's previous session, else the first mark after that close. */
function dayRef(input: RecomputeInput, days: TimelineDays, i: number, r: Row): number | null {
  const d = days.bucketDay[i]! - 1;
  const day = days.days[d]!;
  const close = days.closes[d]!;
  const key = r.stock ? r.underlying : r.contractKey;
  const cm = input.closingMarks.find((c) => c.contractKey === key && c.day === day);
  if (cm) return cm.mark;
  let first: GreekSnapshot | null = null;
  for (const s of input.snapshots) {
    const ok = r.stock ? s.underlying === r.underlying && s.underlyingPrice !== null : s.contractKey === r.contractKey && s.mark !== null;
    if (ok && s.eventTs > close && (!first || s.eventTs < first.eventTs)) first = s;
  }
  return first === null ? null : r.stock ? first.underlyingPrice : first.mark;
}
