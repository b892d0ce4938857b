/**
 * The issue's own failure, reproduced and closed: the database is cut (proxy) while the
 * Tastytrade simulator's account streamer pushes a fill and a position change (the SPY put of
 * the first account goes from -5 to 9), while POST /v1/trades is called, and while the account
 * streamer itself is dropped and a second fill happens before it reconnects (only the order
 * history over REST knows it). When the database is back: every trade is stored exactly once
 * and `positions` equals the simulator's final book. Real plugin, real SDKs, real PostgreSQL.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { optionHolding, SIM_ACCOUNTS, type SimHolding } from '../../src/brokers/tasty/sim/index.js';
import { canonicalOcc } from '../../src/core/contract.js';
import { openStorage, type Storage } from '../../src/db/index.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { startHarness, type Harness } from '../tasty/harness.js';

const bookOf = (holdings: SimHolding[]) =>
  Object.fromEntries(holdings.map((h) => [h.instrumentType === 'Equity Option' ? canonicalOcc(h.symbol) : h.symbol, h.quantity]));

describePg('fault: database outage while the Tastytrade account streamer and POST /v1/trades deliver trades and a position change', () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let storage: Storage;
  let journalDir: string;
  let h: Harness | undefined;
  beforeAll(async () => {
    db = await freshPostgresUrl();
    proxy = await startProxy(Number(new URL(db.url).port || 5432));
    journalDir = await mkdtemp(join(tmpdir(), 'rw-fault-tasty-'));
    storage = await openStorage({ databaseUrl: proxy.url(db.url), log: testLogger, maxConnections: 4, connectTimeoutSec: 1 });
  });
  afterAll(async () => {
    await h?.stop();
    proxy?.restore();
    await storage?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
    if (journalDir) await rm(journalDir, { recursive: true, force: true });
  });

  it('stores every trade exactly once and ends with positions equal to the broker book', { timeout: 120_000 }, async () => {
    const pipeline = new Pipeline({ storage, config: readAppConfig({ JOURNAL_DIR: journalDir, TRADE_ACCEPT_WAIT_MS: '1000' }), log: testLogger });
    const app = await buildApi({ pipeline, storage, log: testLogger });
    // An hour between position polls: only the account streamer (and its catch-up) can tell us.
    h = await startHarness({ env: { TASTY_POSITIONS_POLL_MS: '3600000' }, emit: (e) => pipeline.processor.ingest([e]) });
    await h.stream.start();
    const sim = h.sim;
    const acct = sim.accountStreamer!;
    await waitFor(() => SIM_ACCOUNTS.every((a) => acct.subscribedAccounts().has(a)), 'account streamer subscribed');
    await waitFor(async () => (await storage.listPositions({ broker: 'tasty' })).length > 0, 'initial positions stored');
    const [spyCall, spyPut] = sim.contracts;
    const [A0, A1] = SIM_ACCOUNTS as [string, string];

    proxy.cut();
    const fillA = sim.pushFill(A0, { symbol: simContractKey(spyCall!), underlying: 'SPY', action: 'Sell to Close', quantity: 2, price: 24.4 });
    sim.pushPositionChange(A0, optionHolding(spyPut!, 9, 3.1)); // -5 → 9, as in the issue
    const posted = await app.inject({
      method: 'POST', url: '/v1/trades',
      payload: { broker: 'manual', account: A1, trade_id: 'manual-1', contract_key: simContractKey(spyCall!), side: 'buy', quantity: 1, price: 23.9, executed_at: new Date().toISOString() },
    });
    expect(posted.statusCode).toBe(202); // accepted into the journal while the database is cut
    // The streamer drops; a fill happens before it is back: only GET /accounts/{a}/orders has it.
    acct.closeAll();
    const fillB = sim.pushFill(A1, { symbol: simContractKey(spyCall!), underlying: 'SPY', action: 'Buy to Close', quantity: 1, price: 23.8 });
    await waitFor(() => acct.connectionsOpened() >= 2 && acct.subscribedAccounts().size === SIM_ACCOUNTS.length, 'account streamer reconnected');
    await waitFor(() => h!.events.some((e) => e.kind === 'trade' && e.tradeId === fillB), 'the missed fill fetched from REST after the reconnect');
    expect(h.events.find((e) => e.kind === 'trade' && e.tradeId === fillB)).toMatchObject({ source: 'orders-rest', account: A1, side: 'buy', quantity: 1, price: 23.8 });
    expect(sim.rest.counts.get('GET /accounts/:a/orders')).toBeGreaterThanOrEqual(SIM_ACCOUNTS.length);
    await waitFor(() => pipeline.processor.stats().trades.retries > 0 && pipeline.processor.stats().positions.retries > 0, 'trade and position writes failing during the outage', 20_000);
    const during = pipeline.processor.stats();
    expect(during.positionWriteErrors).toBeGreaterThan(0);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^riskwire_position_write_errors_total [1-9]/m);
    expect(metrics).toMatch(/^riskwire_trades_accepted_to_journal_total 1$/m);

    proxy.restore();
    const want = new Set([fillA, fillB, 'manual-1']);
    await waitFor(async () => {
      const rows = [...(await storage.listTrades({ broker: 'tasty' })), ...(await storage.listTrades({ broker: 'manual' }))];
      return rows.length === want.size;
    }, 'every trade stored after the outage', 60_000);
    for (const account of SIM_ACCOUNTS) {
      await waitFor(async () => {
        const rows = await storage.listPositions({ broker: 'tasty', account });
        return sameBook(rows, sim.holdings(account));
      }, `positions of ${account} equal the broker book`, 30_000);
    }
    await pipeline.processor.drain();
    const all = await storage.query<{ broker: string; trade_id: string; n: number }>('SELECT broker, trade_id, count(*)::int AS n FROM trades GROUP BY 1, 2 ORDER BY 2');
    expect(new Set(all.map((r) => r.trade_id))).toEqual(want);
    expect(all.every((r) => r.n === 1)).toBe(true); // exactly once
    // Fill A reached us twice (streamed, then again in the catch-up's order history): still one row.
    expect(h.events.filter((e) => e.kind === 'trade' && e.tradeId === fillA).length).toBe(2);
    for (const account of SIM_ACCOUNTS) {
      const rows = await storage.listPositions({ broker: 'tasty', account });
      expect(Object.fromEntries(rows.map((r) => [r.contractKey, r.quantity]))).toEqual(bookOf(sim.holdings(account)));
    }
    const end = pipeline.processor.stats();
    expect(end.trades.rejected + end.positions.rejected).toBe(0);
    await app.close();
    await pipeline.stop();
  });
});

function sameBook(rows: { contractKey: string; quantity: number }[], holdings: SimHolding[]): boolean {
  const want = bookOf(holdings);
  const got = Object.fromEntries(rows.map((r) => [r.contractKey, r.quantity]));
  return Object.keys(want).length === Object.keys(got).length && Object.entries(want).every(([k, q]) => got[k] === q);
}
