/** The REST control plane against the simulator: backoff on 429/5xx, clear one-line errors. */
import { afterEach, describe, expect, it } from 'vitest';
import { plugin } from '../../src/brokers/tasty/index.js';
import { TastyStream } from '../../src/brokers/tasty/stream.js';
import { parseTastyConfig } from '../../src/brokers/tasty/config.js';
import { systemClock } from '../../src/core/clock.js';
import { FakeClock, log, restRequests, startHarness, waitFor, type Harness } from './harness.js';
import { closedPort } from '../helpers/net.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});


const retries = (h: Harness) => Number(h.stream.health().details?.restRetries);

describe('tasty REST control plane', () => {
  it('backs off on 429 as long as Retry-After says, without a request storm', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock, sim: { rest: { fail429: 2, retryAfterSec: 5 } } });
    const started = h.stream.start();
    await waitFor(() => retries(h!) === 1, 'first back-off');
    expect(h.sim.rest.totalRequests()).toBe(1);
    clock.advance(4_900);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.sim.rest.totalRequests()).toBe(1); // still waiting: Retry-After is 5 s
    clock.advance(100);
    await waitFor(() => retries(h!) === 2, 'second back-off');
    expect(h.sim.rest.totalRequests()).toBe(2);
    clock.advance(5_000);
    await started;
    await waitFor(() => h!.greeks().length > 0, 'streaming after the rate limit');
    expect(h.sim.rest.counts.get('POST /oauth/token')).toBe(3); // 2 × 429, then the real refresh
    // Start = token + accounts + 2 positions + quote token, plus the 2 refused attempts.
    expect(h.sim.rest.totalRequests()).toBe(7);
  });

  it('retries a 503 and a slow answer, then starts', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock, env: { TASTY_REST_TIMEOUT_MS: '2000' }, sim: { rest: { fail5xx: 1, retryAfterSec: null } } });
    const started = h.stream.start();
    await waitFor(() => retries(h!) === 1, 'back-off after 503');
    h.sim.restKnobs.delayMs = 300; // the next answer comes late: after our (fake) 2 s timeout
    const before = restRequests(h);
    clock.advance(1_300); // the 503 back-off (1 s ± 20 %)
    await waitFor(() => restRequests(h!) > before, 'retry after 503');
    clock.advance(2_000); // the slow request times out on our clock
    await waitFor(() => retries(h!) === 2, 'back-off after timeout');
    h.sim.restKnobs.delayMs = 0;
    clock.advance(3_000);
    await started;
    expect(h.stream.health().state).not.toBe('stopped');
  });

  it('fails start with a one-line error when TASTY_API_URL is unreachable', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const config = parseTastyConfig({ TASTY_API_URL: url, TASTY_CLIENT_SECRET: 'x-secret-x', TASTY_REFRESH_TOKEN: 'x-refresh-x' });
    const stream = new TastyStream(config, { emit: () => {}, log, clock: systemClock });
    const err = await stream.start().then(() => null, (e: Error) => e);
    expect(err).not.toBeNull();
    expect(err!.message).toContain(url);
    expect(err!.message).toMatch(/cannot reach.*TASTY_API_URL/);
    expect(err!.message).not.toContain('\n');
    expect(err!.message).not.toContain('x-secret-x');
    expect(stream.health().state).toBe('stopped');
  });

  it('fails start with a one-line error naming the variables when the credentials are wrong', async () => {
    h = await startHarness({ env: { TASTY_REFRESH_TOKEN: 'wrong-refresh' } });
    const err = await h.stream.start().then(() => null, (e: Error) => e);
    expect(err!.message).toMatch(/TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN/);
    expect(err!.message).not.toContain('wrong-refresh');
    expect(h.sim.rest.totalRequests()).toBe(1); // no retries on bad credentials
  });

  it('plugin.parseConfig reports missing credentials as a ConfigError', () => {
    expect(() => plugin.parseConfig({}, {})).toThrow(/TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN/);
  });
});

describe('tasty order history (the account streamer catch-up)', () => {
  it('pages through GET /accounts/{a}/orders from the start date, oldest first, every fill included', async () => {
    const { startTastySimulator, SIM_ACCOUNTS } = await import('../../src/brokers/tasty/sim/index.js');
    const { createTastyRest } = await import('../../src/brokers/tasty/rest.js');
    const { mapOrder } = await import('../../src/brokers/tasty/account-streamer.js');
    const sim = await startTastySimulator();
    try {
      const account = SIM_ACCOUNTS[0]!;
      const symbol = 'SPY   261218C00500000';
      sim.pushFill(account, { symbol, underlying: 'SPY', action: 'Buy to Open', quantity: 1, price: 1, fillId: 'old', filledAt: new Date('2026-01-05T15:00:00Z') });
      const since = Date.parse('2026-02-01T00:00:00Z');
      for (let i = 0; i < 230; i++) {
        sim.pushFill(account, { symbol, underlying: 'SPY', action: 'Buy to Open', quantity: 1, price: 1, fillId: `f${i}`, filledAt: new Date(since + 3_600_000 + i * 1000) });
      }
      const rest = createTastyRest(parseTastyConfig(sim.env), log, systemClock);
      const orders = await rest.orders!(account, since);
      rest.close();
      const ids = orders.flatMap((o) => mapOrder(o).trades.map((t) => t.tradeId));
      expect(ids).toEqual(Array.from({ length: 230 }, (_, i) => `f${i}`)); // 'old' is before start-date
      expect(sim.rest.counts.get('GET /accounts/:a/orders')).toBe(2); // 200 + 30
    } finally {
      await sim.close();
    }
  });
});
