import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import postgres from 'postgres';
import { runCli } from '../helpers/cli.js';
import { describePg, freshPostgresUrl } from '../helpers/pg.js';

describe('npm run greeks against the Tastytrade simulator', () => {
  let tasty: TastySimulator;
  beforeAll(async () => {
    tasty = await startTastySimulator();
  });
  afterAll(() => tasty?.close());

  /** Every (account, contract) option holding of the simulator's book. */
  const heldOptions = () =>
    tasty.accounts.flatMap((account) => tasty.holdings(account).filter((h) => h.instrumentType === 'Equity Option').map((h) => ({ account, contract_key: h.symbol, quantity: h.quantity })));

  it('--once --json prints one line per held option with its greeks, then exits 0', { timeout: 60_000 }, async () => {
    const run = runCli('greeks', ['--broker=tasty', '--once', '--json', '--no-db', '--timeout=30s'], tasty.env);
    expect(await run.exit, run.stderr()).toBe(0);
    const lines = run.stdout().trim().split('\n').map((l) => JSON.parse(l));
    const got = lines.map((l) => ({ account: l.account, contract_key: l.contract_key, quantity: l.quantity }));
    expect(got.sort(byKey)).toEqual(heldOptions().sort(byKey));
    for (const l of lines) {
      expect(l.broker).toBe('tasty');
      expect(typeof l.delta).toBe('number');
      expect(l.contract_key).toHaveLength(21);
    }
  });

  it('--underlying filters the table, and plain output has no escape codes when not at a terminal', { timeout: 60_000 }, async () => {
    const run = runCli('greeks', ['--broker=tasty', '--once', '--no-db', '--underlying=SPY'], tasty.env);
    expect(await run.exit, run.stderr()).toBe(0);
    const out = run.stdout();
    expect(out).not.toMatch(/\x1b\[/);
    expect(out).toMatch(/tasty: connected/);
    const rows = out.split('\n').filter((l) => /^[A-Z]+ \d{6}[CP][\d.]+ /.test(l));
    for (const l of out.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    const spyHeld = heldOptions().filter((h) => h.contract_key.startsWith('SPY '));
    expect(rows).toHaveLength(spyHeld.length);
    for (const r of rows) expect(r.startsWith('SPY ')).toBe(true);
  });
});

describePg('npm run greeks writes only with --db', () => {
  let tasty: TastySimulator;
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    tasty = await startTastySimulator();
    db = await freshPostgresUrl();
  });
  afterAll(async () => {
    await tasty?.close();
    await db?.drop();
  });

  const rows = async () => {
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`.catch(() => [{ n: 0 }]);
      return r.n as number;
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  it('watching (the default) leaves the database untouched; --db persists what it showed', { timeout: 90_000 }, async () => {
    const watch = runCli('greeks', ['--broker=tasty', '--once', '--json', '--timeout=30s'], { ...tasty.env, DATABASE_URL: db.url });
    expect(await watch.exit, watch.stderr()).toBe(0);
    expect(watch.stdout().trim().split('\n').length).toBeGreaterThan(0);
    expect(await rows()).toBe(0);

    const persist = runCli('greeks', ['--broker=tasty', '--once', '--json', '--db', '--timeout=30s'], { ...tasty.env, DATABASE_URL: db.url });
    expect(await persist.exit, persist.stderr()).toBe(0);
    expect(await rows()).toBeGreaterThan(0);
  });
});

const byKey = (a: { account: string; contract_key: string }, b: { account: string; contract_key: string }) =>
  (a.account + a.contract_key).localeCompare(b.account + b.contract_key);
