import { describe, expect, it } from 'vitest';
import { rng } from '../../src/brokers/simbook.js';
import { AlertBook, type Transition } from '../../src/risk/alertBook.js';
import { observe } from '../../src/risk/alertRules.js';
import { IncrementalRisk, observeChanges } from '../../src/risk/incremental.js';
import { buildRiskReport } from '../../src/risk/report.js';
import { parseRules } from '../../src/risk/rules.js';
import { marketKey, type ContractMarket, type RiskInputs, type RiskPositionInput } from '../../src/risk/types.js';
import { NOW } from './fixtures.js';

const RULES = parseRules(JSON.stringify({
  limits: [
    { metric: 'delta', subject: 'portfolio', max: 300 }, { metric: 'vega', subject: 'SPY', max: 40 },
    { metric: 'bwd', subject: 'QQQ', max: 150 }, { metric: 'dollar_delta', subject: 'IWM', max: 20_000 },
  ],
  hysteresis_pct: 10,
}), 'test');
const FEED_RULES = new Set(['stale_feed', 'broker_down']);
const ALL_RULES = new Set(['take_profit', 'exit_dte', 'max_loss', 'pin_risk', ...RULES.limits.map((l) => `limit_${l.metric}`)]);

const SPOTS: Record<string, number> = { SPY: 500, QQQ: 400, IWM: 200 };
// Expiries from today (0 DTE) to past the 21-DTE exit line, so time steps cross DTE and pin thresholds.
const EXPIRIES = ['261120', '261123', '261127', '261211', '261218'];
const CONTRACTS: { key: string; underlying: string; strike: number | null }[] = [];
for (const [u, spot] of Object.entries(SPOTS)) {
  CONTRACTS.push({ key: u, underlying: u, strike: null });
  for (const e of EXPIRIES.slice(0, u === 'SPY' ? 5 : 3)) {
    for (const k of [spot * 0.98, spot, spot * 1.02]) {
      for (const r of ['C', 'P']) CONTRACTS.push({ key: `${u.padEnd(6)}${e}${r}${String(Math.round(k * 1000)).padStart(8, '0')}`, underlying: u, strike: k });
    }
  }
}
const HOLDERS = [['tasty', 'A1'], ['tasty', 'A2'], ['ibkr', 'U1']] as const;

/** The inputs a full build reads, changed the way the service changes them (newer values win). */
class Reference {
  inputs: RiskInputs;
  constructor(now: number) {
    this.inputs = {
      now, positions: [], market: new Map(), benchmark: 'SPY', staleMs: 300_000,
      prices: new Map(Object.entries(SPOTS).map(([s, p]) => [s, { price: p, at: now - 60_000, source: 'snapshot' }])),
      dayMarks: new Map([['SPY', { mark: 498, basis: 'close', day: '2026-11-19' }]]),
      betas: new Map([['QQQ', { beta: 1.2, source: 'config' }]]),
      realized: new Map([[marketKey('tasty', 'A1', 'SPY'), 125]]),
    };
  }
  setMarket(k: string, m: ContractMarket) {
    const cur = this.inputs.market.get(k);
    if (!cur || cur.eventTs <= m.eventTs) this.inputs.market.set(k, m);
  }
  setPrice(symbol: string, price: number, at: number) {
    const cur = this.inputs.prices.get(symbol);
    if (!cur || cur.at <= at) this.inputs.prices.set(symbol, { price, at, source: 'quote' });
  }
}

const norm = (ts: Transition[]) => ts.map((t) => `${t.kind} ${t.alert.rule} ${t.alert.subject} ${t.kind === 'open' ? t.alert.value : t.alert.closeValue}`).sort();
const openOf = (b: AlertBook) => b.openAlerts().map((a) => `${a.rule} ${a.subject} ${a.openedAt}`).sort();

function run(seed: number, steps: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const maybe = (x: number) => (r() < 0.1 ? null : x);
  let now = NOW;
  const ref = new Reference(now);
  const positions = new Map<string, RiskPositionInput>();
  const randomPosition = (): RiskPositionInput => {
    const [broker, account] = pick(HOLDERS);
    const c = pick(CONTRACTS);
    const stock = c.strike === null;
    return {
      broker, account, contractKey: c.key, underlying: c.underlying, quantity: pick(stock ? [100, -50, 200] : [1, -1, 2, -2, 3]),
      multiplier: stock ? 1 : 100, avgPrice: r() < 0.1 ? null : Math.round(r() * 800) / 100 + (stock ? SPOTS[c.underlying] - 5 : 0.5),
      assetClass: stock ? 'equity' : 'option', updatedAt: now,
    };
  };
  for (let i = 0; i < 25; i++) {
    const p = randomPosition();
    positions.set(marketKey(p.broker, p.account, p.contractKey), p);
  }
  ref.inputs.positions = [...positions.values()];
  const engine = new IncrementalRisk(ref.inputs);
  const inc = new AlertBook(RULES.hysteresis);
  const full = new AlertBook(RULES.hysteresis);
  const counts = { partial: 0, fullSteps: 0, transitions: 0, smallSteps: 0 };
  // A new state is evaluated in full first (as the service does after every load).
  const first = observe(buildRiskReport(ref.inputs), RULES).filter((o) => !FEED_RULES.has(o.rule));
  expect(norm(inc.apply(observe(engine.view(), RULES).filter((o) => !FEED_RULES.has(o.rule)), now, ALL_RULES))).toEqual(norm(full.apply(first, now, ALL_RULES)));

  for (let step = 0; step < steps; step++) {
    const op = r();
    let timeMoved = false;
    if (op < 0.45) {
      const held = [...positions.values()];
      const p = r() < 0.9 && held.length ? pick(held) : randomPosition();
      const spot = SPOTS[p.underlying] * (0.97 + r() * 0.06);
      const m: ContractMarket = {
        bid: maybe(1), ask: maybe(1.2), mark: r() < 0.2 ? null : Math.round(r() * 1000) / 100, last: null, underlyingPrice: r() < 0.1 ? null : spot, iv: maybe(0.2 + r() / 5),
        delta: maybe(r() * 2 - 1), gamma: maybe(r() / 20), theta: maybe(-r()), vega: maybe(r()), eventTs: now - Math.floor(r() * 5000),
      };
      engine.setMarket(p.broker, p.account, p.contractKey, m);
      ref.setMarket(marketKey(p.broker, p.account, p.contractKey), m);
    } else if (op < 0.7) {
      const s = pick([...Object.keys(SPOTS), 'SPY']);
      const price = Math.round(SPOTS[s] * (0.97 + r() * 0.06) * 100) / 100;
      const at = now - Math.floor(r() * 3000);
      engine.setPrice(s, price, at);
      ref.setPrice(s, price, at);
    } else if (op < 0.88) {
      const held = [...positions.keys()];
      const what = r();
      if (what < 0.35 || held.length < 3) {
        const p = randomPosition();
        positions.set(marketKey(p.broker, p.account, p.contractKey), p);
      } else if (what < 0.65) {
        positions.delete(pick(held));
      } else {
        const k = pick(held);
        const cur = positions.get(k)!;
        positions.set(k, { ...cur, quantity: r() < 0.5 ? -cur.quantity : cur.quantity * 2, avgPrice: r() < 0.5 ? cur.avgPrice : 1 + r() * 5, updatedAt: now });
      }
      ref.inputs.positions = [...positions.values()];
      engine.setPositions(ref.inputs.positions);
    } else {
      now += Math.floor(r() * 36 * 3_600_000); // up to 1.5 days: DTE, pin and exit lines move
      timeMoved = true;
    }
    if (!timeMoved && r() < 0.5) continue; // several changes before one refresh
    ref.inputs.now = now;
    const changes = engine.refresh(now, timeMoved);
    const expected = buildRiskReport(ref.inputs);
    expect(engine.report()).toEqual(expected);
    // Alerts: the incremental evaluation against a full observation of the rebuilt report.
    let a: Transition[];
    let b: Transition[];
    const all = observe(expected, RULES).filter((o) => !FEED_RULES.has(o.rule));
    if (timeMoved) {
      counts.fullSteps++;
      a = inc.apply(observe(engine.view(), RULES).filter((o) => !FEED_RULES.has(o.rule)), now, ALL_RULES);
      b = full.apply(all, now, ALL_RULES);
    } else {
      counts.partial++;
      const [obs, scope] = observeChanges(engine, changes, RULES);
      if (obs.length < all.length) counts.smallSteps++;
      a = inc.apply(obs, now, scope);
      b = full.apply(all, now, ALL_RULES);
    }
    expect(norm(a)).toEqual(norm(b));
    expect(openOf(inc)).toEqual(openOf(full));
    counts.transitions += a.length;
  }
  return counts;
}

describe('incremental risk state (the alert loop) equals the full rebuild', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: after random updates, positions, prices and time steps, report and alerts equal buildRiskReport', (seed) => {
    const counts = run(seed, 300);
    // The sequences really exercise both paths and alerts really open and close.
    expect(counts.partial).toBeGreaterThan(50);
    expect(counts.fullSteps).toBeGreaterThan(5);
    expect(counts.transitions).toBeGreaterThan(0);
    expect(counts.smallSteps).toBeGreaterThan(0);
  });

  it('one contract update recomputes one position, its group and underlying, and the portfolio; nothing else', () => {
    const base = new Reference(NOW);
    const legs: RiskPositionInput[] = [
      { broker: 'tasty', account: 'A1', contractKey: 'SPY   261218P00490000', underlying: 'SPY', quantity: 1, multiplier: 100, avgPrice: 2, assetClass: 'option', updatedAt: NOW },
      { broker: 'tasty', account: 'A1', contractKey: 'SPY   261218P00500000', underlying: 'SPY', quantity: -1, multiplier: 100, avgPrice: 4, assetClass: 'option', updatedAt: NOW },
      { broker: 'tasty', account: 'A1', contractKey: 'QQQ', underlying: 'QQQ', quantity: 100, multiplier: 1, avgPrice: 390, assetClass: 'equity', updatedAt: NOW },
    ];
    base.inputs.positions = legs;
    const engine = new IncrementalRisk(base.inputs);
    expect(engine.refresh(NOW).positions.size).toBe(0); // nothing changed since the build
    engine.setMarket('tasty', 'A1', 'SPY   261218P00500000', { bid: 3, ask: 3.2, mark: 3.1, underlyingPrice: 501, iv: 0.2, delta: -0.4, gamma: 0.01, theta: -0.1, vega: 0.3, eventTs: NOW });
    const c = engine.refresh(NOW);
    expect([...c.positions]).toEqual([marketKey('tasty', 'A1', 'SPY   261218P00500000')]);
    expect([...c.underlyings]).toEqual(['SPY']);
    expect([...c.strategyIds]).toEqual(['tasty:A1:vertical:SPY261218P00490000+SPY261218P00500000']);
    expect(c.portfolio).toBe(true);
    expect(engine.strategy([...c.strategyIds][0])).toMatchObject({ kind: 'vertical', credit: 200, unrealizedPnl: null }); // the long leg has no mark yet
    base.setMarket(marketKey('tasty', 'A1', 'SPY   261218P00500000'), { bid: 3, ask: 3.2, mark: 3.1, underlyingPrice: 501, iv: 0.2, delta: -0.4, gamma: 0.01, theta: -0.1, vega: 0.3, eventTs: NOW });
    expect(engine.report()).toEqual(buildRiskReport(base.inputs));
  });
});
