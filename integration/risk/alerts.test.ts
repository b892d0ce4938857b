import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import { listAlerts } from '../../src/db/alerts.js';
import type { LiveState } from '../../src/risk/load.js';
import { parseRules } from '../../src/risk/rules.js';
import { RiskService, type AlertJson } from '../../src/risk/service.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describe('alerts: open on breach, close past the hysteresis band, one open per (rule, subject), on fake time', () => {
  let db: TestStorage;
  const clock = new FakeClock(Date.parse('2026-11-20T15:00:00Z'));
  let delta = 0.5;
  const key = 'SPY   261218C00520000';
  const live: LiveState = {
    // short 10 calls: position delta = delta × -10 × 100
    positions: () => [{ broker: 'sim', account: 'S1', contractKey: key, underlying: 'SPY', quantity: -10, multiplier: 100, avgPrice: null, assetClass: 'option', updatedAt: clock.now() }],
    latest: () => [{ broker: 'sim', account: 'S1', contractKey: key, market: { bid: 9, ask: 10, mark: 9.5, underlyingPrice: 520, iv: 0.2, delta, gamma: 0.01, theta: -0.1, vega: 0.5, eventTs: clock.now() } }],
    prices: () => [{ symbol: 'SPY', price: 520, at: clock.now() }],
  };
  const seen: AlertJson[] = [];
  let service: RiskService;

  beforeAll(async () => {
    db = await openTestStorage('pglite');
    const rules = parseRules('{"limits": [{"metric": "delta", "subject": "portfolio", "max": 400}], "hysteresis_pct": 10}', 'test');
    service = new RiskService({ storage: db.storage, rules, benchmark: 'SPY', clock, log: testLogger, live });
    await service.start();
    service.onAlert((a) => seen.push(a));
  });
  afterAll(async () => {
    service?.close();
    await db?.close();
  });

  it('a breaching update opens the alert within 1 s of the Clock, stored and delivered once', async () => {
    service.notify();
    clock.advance(1000); // the 1 s tick: evaluated within 1 s of the update
    await waitFor(() => seen.length === 1, 'the open alert');
    expect(seen[0]).toMatchObject({ rule: 'limit_delta', subject: 'portfolio', value: 500, threshold: 400, closed_at: null, opened_at: new Date(clock.now()).toISOString() });
    const stored = await listAlerts(db.storage, { open: true });
    expect(stored.map((a) => [a.rule, a.subject, a.value])).toEqual([['limit_delta', 'portfolio', 500]]);
    clock.advance(1000); // the 1 s tick re-evaluates: still breaching, still one open alert
    await service.evaluateNow();
    expect(seen).toHaveLength(1);
    expect(await listAlerts(db.storage, { open: true })).toHaveLength(1);
  });

  it('back under the threshold but inside the band (≥ 360) stays open; past it closes with the value', async () => {
    delta = 0.37; // |−370|
    expect(await service.evaluateNow()).toEqual([]);
    expect(seen).toHaveLength(1);
    delta = 0.35; // |−350| < 400 − 10 %
    const before = clock.now();
    clock.advance(1000); // the 1 s tick evaluates (evaluateNow waits for it, then finds nothing new)
    await service.evaluateNow();
    expect(seen).toHaveLength(2);
    expect(seen[1]).toMatchObject({ rule: 'limit_delta', value: 500, close_value: 350 });
    const closedAt = Date.parse(seen[1].closed_at!);
    expect(closedAt).toBeGreaterThan(before);
    expect(closedAt).toBeLessThanOrEqual(before + 1000); // within the tick after the update
    expect(await listAlerts(db.storage, { open: true })).toHaveLength(0);
  });

  it('a new breach opens a new alert (a new row), and a restarted service picks the open one up instead of duplicating it', async () => {
    delta = 0.45;
    await service.evaluateNow();
    const all = await listAlerts(db.storage);
    expect(all.map((a) => a.closedAt === null)).toEqual([true, false]);
    const again = new RiskService({ storage: db.storage, rules: parseRules('{"limits": [{"metric": "delta", "subject": "portfolio", "max": 400}]}', 't'), benchmark: 'SPY', clock, log: testLogger, live });
    await again.start();
    expect(await again.evaluateNow()).toEqual([]);
    again.close();
    expect(await listAlerts(db.storage)).toHaveLength(2);
  });
});
