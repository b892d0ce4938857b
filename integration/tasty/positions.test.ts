/** Position changes while streaming: new contracts are streamed and stored, closed ones unsubscribed. */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import type { PositionsEvent } from '../../src/core/types.js';
import { optionHolding, SIM_ACCOUNTS } from '../../src/brokers/tasty/sim/index.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { describeBackends, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { startHarness, waitFor, type Harness } from './harness.js';

describeBackends('tasty position changes', (backend) => {
  let db: TestStorage;
  let h: Harness | undefined;
  beforeEach(async () => {
    db = await openTestStorage(backend);
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await db.close();
  });

  it('streams and stores a contract opened while streaming, and unsubscribes a closed one', async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    h = await startHarness({ env: { TASTY_POSITIONS_POLL_MS: '200' }, emit: (e) => processor.ingest([e]) });
    await h.stream.start();
    const [, , , aapl, qqq] = h.sim.contracts;
    const qqqKey = simContractKey(qqq);
    const aaplSym = '.AAPL' + simContractKey(aapl).slice(6, 12) + 'C200';
    await waitFor(() => h!.sim.dxlink.subscriptions().has(`Greeks:${aaplSym}`), 'AAPL subscribed');
    expect(h.greeks().some((g) => g.contractKey === qqqKey)).toBe(false);

    // Account 2 closes AAPL and sells the QQQ put.
    const account = SIM_ACCOUNTS[1];
    h.sim.setHoldings(account, [...h.sim.holdings(account).filter((x) => x.symbol !== simContractKey(aapl)), optionHolding(qqq, -6)]);

    await waitFor(() => h!.events.some((e) => e.kind === 'positions' && e.account === account && e.positions.some((p) => p.contractKey === qqqKey)), 'positions event with QQQ');
    const last = h.events.filter((e): e is PositionsEvent => e.kind === 'positions' && e.account === account).at(-1)!;
    expect(last.positions.map((p) => [p.contractKey, p.quantity]).sort()).toEqual(
      [[simContractKey(h.sim.contracts[0]), -3], [qqqKey, -6]].sort(),
    );
    await waitFor(() => !h!.sim.dxlink.subscriptions().has(`Greeks:${aaplSym}`), 'AAPL unsubscribed');
    await waitFor(() => h!.greeks().filter((g) => g.contractKey === qqqKey).length >= 3, 'QQQ greeks');
    await processor.drain();
    await waitFor(async () => (await db.storage.querySnapshots({ broker: 'tasty', contractKey: qqqKey })).length >= 3, 'QQQ rows stored');
    const rows = await db.storage.querySnapshots({ broker: 'tasty', contractKey: qqqKey });
    expect(new Set(rows.map((r) => r.account))).toEqual(new Set([account]));
    expect(rows.every((r) => r.quantity === -6)).toBe(true);
    // Only the accounts' own positions events: one per account at start, one for the change.
    expect(h.events.filter((e) => e.kind === 'positions')).toHaveLength(3);
  });
});
