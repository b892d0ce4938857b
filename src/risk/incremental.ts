/**
 * The alert loop's risk state, kept up to date by the changes instead of rebuilt every tick
 * (D77). It holds the same inputs a full build would read (RiskInputs: the database part,
 * reloaded every 30 s, overlaid with the processor's updates) and, derived from them:
 *   - per-position risk keyed by (broker, account, contract), recomputed only for positions
 *     whose inputs changed (their market values, their position row, a price they read);
 *   - strategies per (broker, account, underlying) group: legs recognised again only when the
 *     group's positions changed, otherwise re-described (P&L, credit) from the current legs;
 *   - sums per underlying for the underlyings touched, and the portfolio totals (re-summed in
 *     report order, a few additions per position, when anything changed).
 * A benchmark price change touches every BWD: only the BWD is recomputed then. Time-driven
 * numbers (DTE, the stale flag) move for every position: refresh(now, true) brings them to `now`
 * (the service does it on its slower timer and before a report is handed out).
 * report() equals buildRiskReport(inputs()) (tests/risk/incremental.test.ts checks it on random
 * update sequences): both end in assembleReport(). Pure: no I/O, time comes in as `now`.
 */
import { sumRisk } from './aggregate.js';
import { observeLimit, observePin, observeStrategy, pinSubject, type Observation } from './alertRules.js';
import { bwd } from './beta.js';
import { instrumentOf, type Instrument } from './instrument.js';
import { benchmarkPrice, positionRisk, timeFields } from './position.js';
import { assembleReport, positionOrder, underlyingRisk, type RiskReport, type UnderlyingRisk } from './report.js';
import type { RiskRules } from './rules.js';
import { recognizeStrategies, strategyMarks, type Strategy } from './strategies.js';
import { marketKey, type ContractMarket, type PositionRisk, type RiskInputs, type RiskPositionInput, type RiskSums } from './types.js';

/** What a refresh touched: the subjects whose rules must be looked at again. */
export interface RiskChanges {
  /** Pin-risk subjects of positions recomputed or gone. */
  pins: Set<string>;
  /** Keys (marketKey) of those positions. */
  positions: Set<string>;
  /** Ids of the strategies of the groups re-described or re-recognised, before and after. */
  strategyIds: Set<string>;
  /** Underlyings whose sums were recomputed (or that are gone). */
  underlyings: Set<string>;
  /** The portfolio totals were recomputed. */
  portfolio: boolean;
}

interface Group {
  broker: string;
  account: string;
  underlying: string;
  /** Position keys in report order. */
  members: string[];
  strategies: Strategy[];
}

const groupKey = (p: { broker: string; account: string; underlying: string }) => `${p.broker}\u0000${p.account}\u0000${p.underlying}`;
const keyOf = (p: { broker: string; account: string; contractKey: string }) => marketKey(p.broker, p.account, p.contractKey);

/** Position fields the risk numbers read (updatedAt is not one: it is the time it was read). */
function samePosition(a: RiskPositionInput, b: RiskPositionInput): boolean {
  return a.underlying === b.underlying && a.quantity === b.quantity && a.multiplier === b.multiplier && a.avgPrice === b.avgPrice && a.assetClass === b.assetClass;
}

export class IncrementalRisk {
  private readonly inp: RiskInputs;
  private readonly pos = new Map<string, RiskPositionInput>();
  private readonly risk = new Map<string, PositionRisk>();
  /** Symbol → keys of the positions that read its price (own price or underlying). */
  private readonly readers = new Map<string, Set<string>>();
  private order: string[] = [];
  private groups = new Map<string, Group>();
  private underMembers = new Map<string, string[]>();
  private readonly under = new Map<string, UnderlyingRisk>();
  private totals: RiskSums = sumRisk([]);
  private strategiesCache: Strategy[] | null = null;
  private readonly byId = new Map<string, Strategy>();
  /** Pin-risk subject per position key (a regex per position per tick otherwise). */
  private readonly pinOf = new Map<string, string>();
  /** What each position's contract is (parsed when the position arrives or changes). */
  private readonly instOf = new Map<string, Readonly<Instrument>>();

  // What changed since the last refresh.
  private readonly dirty = new Set<string>();
  private readonly legsChanged = new Set<string>();
  private readonly pricesChanged = new Set<string>();
  private membership = true;
  private benchChanged = false;

  constructor(inputs: RiskInputs) {
    this.inp = { ...inputs, positions: [], market: new Map(inputs.market), prices: new Map(inputs.prices) };
    this.setPositions(inputs.positions);
    this.refresh(inputs.now, true);
  }

  /** The inputs as they stand (buildRiskReport of these equals report()). */
  inputs(): RiskInputs {
    return { ...this.inp, positions: [...this.pos.values()] };
  }

  /** A newer (or equally new) market value of one held contract, as the full overlay takes it. */
  setMarket(broker: string, account: string, contractKey: string, m: ContractMarket): void {
    const k = marketKey(broker, account, contractKey);
    const cur = this.inp.market.get(k);
    if (cur && cur.eventTs > m.eventTs) return;
    this.inp.market.set(k, m);
    if (this.pos.has(k)) this.dirty.add(k);
  }

  /** A live price (quote): taken when at least as new as the one held. */
  setPrice(symbol: string, price: number, at: number): void {
    const cur = this.inp.prices.get(symbol);
    if (cur && (cur.at > at || (cur.at === at && cur.price === price && cur.source === 'quote'))) return;
    this.inp.prices.set(symbol, { price, at, source: 'quote' });
    this.pricesChanged.add(symbol); // a stock's risk reads the time too (updatedAt)
    if (symbol === this.inp.benchmark && cur?.price !== price) this.benchChanged = true;
  }

  /** The whole open-position list (live brokers' positions plus the database's for the others). */
  setPositions(list: RiskPositionInput[]): void {
    const seen = new Set<string>();
    for (const p of list) {
      const k = keyOf(p);
      seen.add(k);
      const cur = this.pos.get(k);
      if (cur && samePosition(cur, p)) continue;
      if (cur && cur.underlying !== p.underlying) {
        this.unlink(k, cur);
        this.legsChanged.add(groupKey(cur));
      }
      if (!cur || cur.underlying !== p.underlying) {
        this.link(k, p);
        this.membership = true;
      }
      this.pos.set(k, p);
      this.instOf.set(k, instrumentOf(p.contractKey, p.assetClass));
      this.dirty.add(k);
      this.legsChanged.add(groupKey(p));
    }
    for (const [k, cur] of this.pos) {
      if (seen.has(k)) continue;
      this.unlink(k, cur);
      this.pos.delete(k);
      this.instOf.delete(k);
      this.dirty.add(k);
      this.legsChanged.add(groupKey(cur));
      this.membership = true;
    }
  }

  private link(k: string, p: RiskPositionInput): void {
    if (!this.pinOf.has(k)) this.pinOf.set(k, pinSubject(p));
    for (const s of [p.underlying, p.contractKey]) {
      let set = this.readers.get(s);
      if (!set) this.readers.set(s, (set = new Set()));
      set.add(k);
    }
  }

  private unlink(k: string, p: RiskPositionInput): void {
    for (const s of [p.underlying, p.contractKey]) this.readers.get(s)?.delete(k);
  }

  /**
   * Recomputes what changed, at `now`; `all`: time moved, so DTE and the stale flag of every
   * position (timeFields, as positionRisk) and every strategy's DTE are brought to `now` too.
   * Returns the subjects touched.
   */
  refresh(now: number, all = false): RiskChanges {
    const inp = this.inp;
    inp.now = now;
    const changes = noChanges();
    const describe = new Set<string>();
    for (const s of this.pricesChanged) {
      for (const k of this.readers.get(s) ?? []) this.dirty.add(k);
      if (this.under.has(s) || this.underMembers.has(s)) changes.underlyings.add(s);
    }
    this.pricesChanged.clear();
    const bench = benchmarkPrice(inp);
    if (all) {
      // Time moved: DTE and the stale flag of every position, and so every strategy's DTE.
      for (const [k, r] of this.risk) {
        if (this.dirty.has(k)) continue;
        this.risk.set(k, { ...r, ...timeFields(this.instOf.get(k)!, r.updatedAt, inp) });
        changes.positions.add(k);
        changes.pins.add(this.pinOf.get(k)!);
        describe.add(groupKey(r));
      }
    }

    for (const k of this.dirty) {
      const p = this.pos.get(k);
      const old = this.risk.get(k);
      changes.positions.add(k);
      changes.pins.add(this.pinOf.get(k)!);
      if (old) changes.underlyings.add(old.underlying);
      if (!p) {
        this.risk.delete(k);
        continue;
      }
      const r = positionRisk(p, inp, bench, this.instOf.get(k));
      r.strategy = old?.strategy ?? null;
      this.risk.set(k, r);
      changes.underlyings.add(r.underlying);
      describe.add(groupKey(r));
    }
    if (this.benchChanged) {
      // Only BWD reads the benchmark price: recompute it where the position itself did not change.
      for (const [k, r] of this.risk) {
        if (this.dirty.has(k)) continue;
        const b = bwd(r.delta, r.beta, r.underlyingPrice, bench);
        if (b === r.bwd) continue;
        this.risk.set(k, { ...r, bwd: b });
        changes.underlyings.add(r.underlying);
      }
    }
    const touched = this.dirty.size > 0 || this.benchChanged || changes.underlyings.size > 0;
    this.dirty.clear();
    this.benchChanged = false;

    if (this.membership) this.reindex();
    for (const g of this.legsChanged) {
      describe.delete(g);
      this.recognize(g, changes);
    }
    this.legsChanged.clear();
    for (const g of describe) this.redescribe(g, changes);
    for (const u of changes.underlyings) {
      const members = this.underMembers.get(u);
      if (members) this.under.set(u, underlyingRisk(u, members.map((k) => this.risk.get(k)!), inp));
      else this.under.delete(u);
    }
    if (touched) {
      this.totals = sumRisk(this.ordered());
      changes.portfolio = true;
    }
    return changes;
  }

  private *ordered(): Iterable<PositionRisk> {
    for (const k of this.order) yield this.risk.get(k)!;
  }

  /** Report order and the member lists of groups and underlyings (membership changed). */
  private reindex(): void {
    const sorted = [...this.risk.values()].sort(positionOrder);
    this.order = sorted.map(keyOf);
    const groups = new Map<string, Group>();
    this.underMembers = new Map();
    for (const r of sorted) {
      const gk = groupKey(r);
      let g = groups.get(gk);
      if (!g) {
        const prev = this.groups.get(gk);
        groups.set(gk, (g = { broker: r.broker, account: r.account, underlying: r.underlying, members: [], strategies: prev?.strategies ?? [] }));
      }
      g.members.push(keyOf(r));
      const u = this.underMembers.get(r.underlying);
      if (u) u.push(keyOf(r));
      else this.underMembers.set(r.underlying, [keyOf(r)]);
    }
    for (const [gk, g] of this.groups) {
      if (groups.has(gk)) continue;
      this.gone.set(gk, g.strategies);
      this.legsChanged.add(gk);
    }
    this.groups = groups;
    this.membership = false;
    this.strategiesCache = null;
  }

  private recognize(gk: string, changes: RiskChanges): void {
    const g = this.groups.get(gk);
    const before = this.strategiesOf(gk);
    for (const s of before) {
      changes.strategyIds.add(s.id);
      this.byId.delete(s.id);
    }
    this.strategiesCache = null;
    if (!g) {
      this.gone.delete(gk);
      return;
    }
    // recognizeStrategies sets `strategy` on the legs it is given: give it fresh copies.
    const legs = g.members.map((k) => ({ ...this.risk.get(k)! }));
    g.strategies = recognizeStrategies(legs);
    for (const l of legs) this.risk.set(keyOf(l), l);
    for (const s of g.strategies) {
      changes.strategyIds.add(s.id);
      this.byId.set(s.id, s);
    }
  }

  /** Strategies of groups that vanished are remembered until their removal is reported. */
  private readonly gone = new Map<string, Strategy[]>();

  private strategiesOf(gk: string): Strategy[] {
    return this.groups.get(gk)?.strategies ?? this.gone.get(gk) ?? [];
  }

  private redescribe(gk: string, changes: RiskChanges): void {
    const g = this.groups.get(gk);
    if (!g) return;
    this.strategiesCache = null;
    // Legs unchanged: credit and payoff stand; only P&L and DTE move (strategyMarks, as describeStrategy).
    g.strategies = g.strategies.map((s) => ({ ...s, ...strategyMarks(s.legs.map((c) => this.risk.get(marketKey(g.broker, g.account, c))!)) }));
    for (const s of g.strategies) {
      changes.strategyIds.add(s.id);
      this.byId.set(s.id, s);
    }
  }

  /** Every strategy in report order. */
  strategies(): Strategy[] {
    if (!this.strategiesCache) {
      const out: Strategy[] = [];
      const done = new Set<string>();
      for (const k of this.order) {
        const r = this.risk.get(k)!;
        const gk = groupKey(r);
        if (done.has(gk)) continue;
        done.add(gk);
        out.push(...(this.groups.get(gk)?.strategies ?? []));
      }
      this.strategiesCache = out;
    }
    return this.strategiesCache;
  }

  strategy(id: string): Strategy | undefined {
    return this.byId.get(id);
  }

  underlying(symbol: string): UnderlyingRisk | undefined {
    return this.under.get(symbol);
  }

  portfolio(): RiskSums {
    return this.totals;
  }

  position(key: string): PositionRisk | undefined {
    return this.risk.get(key);
  }

  /** Positions in report order. */
  positions(): PositionRisk[] {
    return [...this.ordered()];
  }

  asOf(): number {
    return this.inp.now;
  }

  /** What the rules read (observe()), without the report's per-account and per-broker sums. */
  view(): Pick<RiskReport, 'strategies' | 'totals' | 'underlyings' | 'positions' | 'asOf'> {
    return { strategies: this.strategies(), totals: this.totals, underlyings: [...this.under.values()], positions: this.positions(), asOf: this.inp.now };
  }

  /** The report as of the last refresh (refresh(now, true) first for one exact at `now`). */
  report(): RiskReport {
    const underlyings = [...this.under.values()].sort((a, b) => (a.underlying < b.underlying ? -1 : a.underlying > b.underlying ? 1 : 0));
    return assembleReport(this.inputs(), this.positions(), this.strategies(), underlyings, this.totals);
  }
}

export const noChanges = (): RiskChanges => ({ pins: new Set(), positions: new Set(), strategyIds: new Set(), underlyings: new Set(), portfolio: false });

/** Adds `b` to `a` (changes seen by several refreshes before one evaluation). */
export function mergeChanges(a: RiskChanges, b: RiskChanges): RiskChanges {
  for (const x of b.pins) a.pins.add(x);
  for (const x of b.positions) a.positions.add(x);
  for (const x of b.strategyIds) a.strategyIds.add(x);
  for (const x of b.underlyings) a.underlyings.add(x);
  a.portfolio ||= b.portfolio;
  return a;
}

const STRATEGY_RULES = new Set(['take_profit', 'exit_dte', 'max_loss']);

/**
 * The observations of the subjects that changed (strategy rules, limits, pin risk; the
 * time-driven feed rules are left to the full evaluation), and the scope they cover: an open
 * alert in scope that is not observed any more is closed ('subject gone').
 */
export function observeChanges(engine: IncrementalRisk, c: RiskChanges, rules: RiskRules): [Observation[], (rule: string, subject: string) => boolean] {
  const out: Observation[] = [];
  for (const id of c.strategyIds) {
    const s = engine.strategy(id);
    if (s) observeStrategy(s, rules, out);
  }
  const limitChanged = (subject: string) => (subject === 'portfolio' ? c.portfolio : c.underlyings.has(subject));
  for (const l of rules.limits) {
    if (limitChanged(l.subject)) observeLimit(l, l.subject === 'portfolio' ? engine.portfolio() : engine.underlying(l.subject), out);
  }
  for (const k of c.positions) {
    const p = engine.position(k);
    if (p) observePin(p, rules, out);
  }
  const scope = (rule: string, subject: string) => (STRATEGY_RULES.has(rule) ? c.strategyIds.has(subject)
    : rule === 'pin_risk' ? c.pins.has(subject) : rule.startsWith('limit_') ? limitChanged(subject) : false);
  return [out, scope];
}
