/** Account streamer against the simulator: fills land in `trades`, position pushes subscribe at once. */
import { afterEach, describe, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import { optionHolding, SIM_ACCOUNTS } from '../../src/brokers/tasty/sim/index.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { startHarness, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
let db: TestStorage | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await db?.close();
  db = undefined;
});

describePg('tasty account streamer (postgres)', () => {
  it('stores a pushed fill once (replays dedupe) and streams a pushed new position before any poll', async () => {
    db = await openTestStorage('postgres');
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    // An hour between polls: only the account streamer can make the new position visible.
    h = await startHarness({ env: { TASTY_POSITIONS_POLL_MS: '3600000' }, emit: (e) => processor.ingest([e]) });
    await h.stream.start();
    const acct = h.sim.accountStreamer!;
    await waitFor(() => SIM_ACCOUNTS.every((a) => acct.subscribedAccounts().has(a)), 'account streamer subscribed to both accounts');

    const [spyCall, , , , qqq] = h.sim.contracts;
    const spyKey = simContractKey(spyCall!);
    const filledAt = new Date(Date.UTC(2025, 0, 2, 15, 31, 7, 250));
    const fill = { symbol: spyKey, underlying: 'SPY', action: 'Sell to Close' as const, quantity: 3, price: 24.35, fillId: 'sim-fill-A', filledAt };
    h.sim.pushFill(SIM_ACCOUNTS[0]!, fill);
    h.sim.pushFill(SIM_ACCOUNTS[0]!, fill); // the same fill again (e.g. after a reconnect)
    await waitFor(() => h!.events.filter((e) => e.kind === 'trade').length === 2, 'two trade events');
    await processor.drain();
    await waitFor(async () => (await db!.storage.listTrades({ broker: 'tasty' })).length >= 1, 'trade row stored');
    const rows = await db.storage.listTrades({ broker: 'tasty' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ broker: 'tasty', account: SIM_ACCOUNTS[0], tradeId: 'sim-fill-A', contractKey: spyKey, side: 'sell', quantity: 3, price: 24.35, executedAt: filledAt.getTime(), source: 'account-streamer' });

    const qqqKey = simContractKey(qqq!);
    expect(h.greeks().some((g) => g.contractKey === qqqKey)).toBe(false);
    h.sim.pushPositionChange(SIM_ACCOUNTS[1]!, optionHolding(qqq!, -6));
    await waitFor(() => h!.greeks().some((g) => g.contractKey === qqqKey), 'QQQ greeks after the position push');
    expect(h.events.some((e) => e.kind === 'positions' && e.account === SIM_ACCOUNTS[1] && e.positions.some((p) => p.contractKey === qqqKey && p.quantity === -6))).toBe(true);
    expect(acct.connectionsOpened()).toBe(1);
  });
});

describe('tasty account streamer (no database)', () => {
  it('is never connected for a custom TASTY_API_URL without TASTY_ACCOUNT_STREAMER_URL', async () => {
    h = await startHarness({ env: { TASTY_ACCOUNT_STREAMER_URL: '' } });
    expect(h.config.accountStreamerUrl).toBeNull();
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 3, 'greeks flowing');
    expect(h.sim.accountStreamer!.connectionsOpened()).toBe(0);
    expect(h.stream.health().details?.accountStreamer).toBeNull();
    expect(h.sim.rest.counts.get('POST /oauth/token')).toBe(1); // no extra token fetch for a streamer
  });

  it('reconnects after the server drops it, and malformed frames are counted, not fatal', async () => {
    h = await startHarness();
    await h.stream.start();
    const acct = h.sim.accountStreamer!;
    await waitFor(() => acct.subscribedAccounts().size === SIM_ACCOUNTS.length, 'subscribed');
    acct.sendRaw('not json');
    await waitFor(() => h!.events.some((e) => e.kind === 'malformed' && e.reason.includes('not JSON')), 'malformed counted');
    acct.closeAll();
    await waitFor(() => acct.connectionsOpened() === 2 && acct.subscribedAccounts().size === SIM_ACCOUNTS.length, 'reconnected and subscribed');
    h.sim.pushFill(SIM_ACCOUNTS[1]!, { symbol: simContractKey(h.sim.contracts[0]!), underlying: 'SPY', action: 'Buy to Open', quantity: 1, price: 2 });
    await waitFor(() => h!.events.some((e) => e.kind === 'trade' && e.side === 'buy' && e.account === SIM_ACCOUNTS[1]), 'trade after reconnect');
    expect(h.stream.health().state).toBe('connected');
  });
});
