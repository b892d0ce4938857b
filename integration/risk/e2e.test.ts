import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import type { Storage } from '../../src/db/types.js';
import { runCli } from '../helpers/cli.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';

/**
 * End to end: both simulated brokers through the real plugins into a fresh PostgreSQL database
 * (npm run demo), then `npm run risk -- --json` as a child process, compared with the risk.md
 * numbers recomputed here straight from the tables.
 */
describePg('risk --json equals a recomputation from the database after a simulator run', () => {
  let db: { url: string; drop(): Promise<void> };
  let storage: Storage;
  beforeAll(async () => {
    db = await freshPostgresUrl();
  });
  afterAll(async () => {
    await storage?.close();
    await db?.drop();
  });

  it('per position and in total: delta (stock = qty), $delta, gamma, theta, vega, unrealized P&L', { timeout: 180_000 }, async () => {
    const demo = runCli('demo', ['--duration=10'], { DEMO_DATABASE_URL: db.url }); // the demo writes to its own database only
    expect(await demo.exit, demo.stderr()).toBe(0);
    const risk = runCli('risk', ['--json'], { DATABASE_URL: db.url, LOG_LEVEL: 'warn', RISK_RULES_FILE: 'config/risk-rules.example.json' });
    expect(await risk.exit, risk.stderr()).toBe(0);
    const doc = JSON.parse(risk.stdout());

    storage = await openStorage({ databaseUrl: db.url, log: testLogger });
    const rows = await storage.query<Record<string, unknown>>(`
      SELECT p.broker, p.account, p.contract_key, p.asset_class, p.quantity::float8 AS q, p.multiplier::float8 AS m, p.avg_price,
             s.delta, s.gamma, s.theta, s.vega, s.mark, s.underlying_price,
             (SELECT underlying_price FROM greek_snapshots g WHERE g.underlying = p.underlying AND g.underlying_price IS NOT NULL
               ORDER BY event_ts DESC LIMIT 1) AS last_price
        FROM positions p
        LEFT JOIN LATERAL (SELECT * FROM greek_snapshots g WHERE g.broker = p.broker AND g.account = p.account AND g.contract_key = p.contract_key
                            ORDER BY event_ts DESC, seq DESC LIMIT 1) s ON true`);
    expect(rows.length).toBeGreaterThan(5);
    expect(doc.positions).toHaveLength(rows.length);
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    const totals = { delta: 0, gamma: 0, theta: 0, vega: 0, unrealized: 0, dollar: 0 };
    let stocks = 0;
    let futures = 0;
    for (const r of rows) {
      const p = doc.positions.find((x: { broker: string; account: string; contract_key: string }) => x.broker === r.broker && x.account === r.account && x.contract_key === r.contract_key);
      expect(p, `${r.broker} ${r.account} ${r.contract_key}`).toBeDefined();
      const q = Number(r.q);
      const m = Number(r.m);
      const stock = r.asset_class === 'equity';
      // A future (risk.md): delta = qty × multiplier, no other Greek; priced like the underlying it is.
      const future = r.asset_class === 'future';
      const mark = future ? n(p.mark) : stock ? n(r.last_price) : n(r.mark);
      const price = stock ? n(r.last_price) : future ? n(p.mark) : n(r.underlying_price);
      const expected = {
        delta: stock ? q : future ? q * m : n(r.delta) === null ? null : n(r.delta)! * q * m,
        gamma: stock || future ? null : n(r.gamma) === null ? null : n(r.gamma)! * q * m,
        theta: stock || future ? null : n(r.theta) === null ? null : n(r.theta)! * q * m,
        vega: stock || future ? null : n(r.vega) === null ? null : n(r.vega)! * q * m,
        unrealized: mark === null || n(r.avg_price) === null ? null : (mark - n(r.avg_price)!) * q * (stock ? 1 : m),
      };
      if (stock) stocks++;
      if (future) {
        futures++;
        expect(mark, `mark of ${String(r.contract_key)}`).not.toBeNull();
      }
      for (const [k, v] of Object.entries({ delta: p.delta, gamma: p.gamma, theta: p.theta, vega: p.vega, unrealized: p.unrealized_pnl })) {
        const e = expected[k as keyof typeof expected];
        if (e === null) expect(v, `${k} of ${String(r.contract_key)}`).toBeNull();
        else expect(v, `${k} of ${String(r.contract_key)}`).toBeCloseTo(e, 6);
      }
      if (expected.delta !== null && price !== null) expect(p.dollar_delta).toBeCloseTo(expected.delta * price, 4);
      totals.delta += expected.delta ?? 0;
      totals.gamma += expected.gamma ?? 0;
      totals.theta += expected.theta ?? 0;
      totals.vega += expected.vega ?? 0;
      totals.unrealized += expected.unrealized ?? 0;
    }
    expect(stocks).toBeGreaterThanOrEqual(2); // 100 SPY at the Tastytrade simulator and a stock at the Alpaca one: they count in delta
    expect(futures).toBeGreaterThan(0); // the simulators' futures book (/ESH7 at both brokers)
    expect(doc.totals.delta).toBeCloseTo(totals.delta, 6);
    expect(doc.totals.gamma).toBeCloseTo(totals.gamma, 6);
    expect(doc.totals.theta).toBeCloseTo(totals.theta, 6);
    expect(doc.totals.vega).toBeCloseTo(totals.vega, 6);
    expect(doc.totals.unrealized_pnl).toBeCloseTo(totals.unrealized, 6);
    expect(doc.benchmark.symbol).toBe('SPY');
    expect(doc.benchmark.price).toBeGreaterThan(0);
    const sumUnderlyings = doc.underlyings.reduce((s: number, u: { delta: number | null }) => s + (u.delta ?? 0), 0);
    expect(sumUnderlyings).toBeCloseTo(doc.totals.delta, 6);
    // every position is in exactly one strategy
    const legs = doc.strategies.flatMap((s: { broker: string; account: string; legs: string[] }) => s.legs.map((l) => `${s.broker}|${s.account}|${l}`));
    expect(new Set(legs).size).toBe(rows.length);
  });
});
