import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import type { LiveSnapshot } from '../../src/risk/live.js';
import type { LiveState } from '../../src/risk/load.js';
import { parseRules } from '../../src/risk/rules.js';
import { RiskService, type AlertJson } from '../../src/risk/service.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

// The incremental alert loop (D77) on fake time: a processor update is evaluated on the next 1 s
// tick; time-driven rules (broker down here) wait for the 5 s full pass.
describe('alert loop: updates within 1 s through the incremental path, time-driven rules on the 5 s pass', () => {
  let db: TestStorage;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  const key = 'SPY   261218C00520000';
  let snap: LiveSnapshot = { broker: 'sim', account: 'S1', contractKey: key, bid: 9, ask: 10, mark: 9.5, underlyingPrice: 520, iv: 0.2, delta: 0.3, gamma: 0.01, theta: -0.1, vega: 0.5, eventTs: clock.now() };
  const live: LiveState = {
    positions: () => [{ broker: 'sim', account: 'S1', contractKey: key, underlying: 'SPY', quantity: -10, multiplier: 100, avgPrice: null, assetClass: 'option', updatedAt: clock.now() }],
    latest: () => [{ broker: 'sim', account: 'S1', contractKey: key, market: { ...snap } }],
    prices: () => [{ symbol: 'SPY', price: 520, at: clock.now() }],
  };
  const seen: AlertJson[] = [];
  let service: RiskService;
  let state = 'connected';

  beforeAll(async () => {
    db = await openTestStorage('pglite');
    const rules = parseRules('{"limits": [{"metric": "delta", "subject": "portfolio", "max": 400}], "broker_down_s": 2}', 'test');
    service = new RiskService({ storage: db.storage, rules, benchmark: 'SPY', clock, log: testLogger, live, feeds: () => [{ broker: 'sim', state }] });
    await service.start();
    service.onAlert((a) => seen.push(a));
    clock.advance(1000); // t = 1 s: the first evaluation loads the state (full)
    await waitFor(() => service.counters.evaluations === 1, 'the first evaluation');
  });
  afterAll(async () => {
    service?.close();
    await db?.close();
  });

  const tick = async () => {
    const n = service.counters.evaluations;
    clock.advance(1000);
    await waitFor(() => service.counters.evaluations === n + 1, 'the tick');
  };

  it('a breaching processor update (notify with the snapshot) opens on the next 1 s tick', async () => {
    expect(seen).toEqual([]); // |delta| 300 < 400
    snap = { ...snap, delta: 0.5, eventTs: clock.now() }; // |−500| ≥ 400
    service.notify(snap);
    await tick(); // t = 2 s: a data tick, not the full pass
    expect(seen.map((a) => [a.rule, a.subject, a.value, a.opened_at])).toEqual([['limit_delta', 'portfolio', 500, new Date(clock.now()).toISOString()]]);
  });

  it('a broker down is seen by the 5 s full pass, not by the data ticks in between', async () => {
    state = 'disconnected'; // polled from t = 3 s on
    await tick(); // t = 3 s
    await tick(); // t = 4 s: down 1 s
    expect(seen).toHaveLength(1);
    await tick(); // t = 5 s: the full pass: down 2 s ≥ 2 s
    expect(seen.map((a) => [a.rule, a.subject, a.value])).toEqual([['limit_delta', 'portfolio', 500], ['broker_down', 'sim', 2]]);
  });
});
