import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe('tasty plugin against the simulator (real SDKs over loopback)', () => {
  it('streams greeks for every held option and quotes for underlyings', async () => {
    h = await startHarness();
    await h.stream.start();
    await waitFor(() => new Set(h!.greeks().map((g) => g.contractKey)).size >= 4, 'greeks for 4 contracts');
    const keys = new Set(h.greeks().map((g) => g.contractKey));
    expect(keys.size).toBe(4); // QQQ put is in the market but not held
    expect(h.events.filter((e) => e.kind === 'positions')).toHaveLength(2);
    await waitFor(() => h!.events.some((e) => e.kind === 'quote' && e.key === 'SPY'), 'SPY underlying quote');
    expect(h.events.some((e) => e.kind === 'state' && e.state === 'connected')).toBe(true);
    expect(h.sim.dxlink.subscriptions().has('Greeks:SPY')).toBe(false);
  });

  it('sends subscriptions in chunks', async () => {
    h = await startHarness({ env: { TASTY_SUBSCRIPTION_CHUNK: '2' } });
    await h.stream.start();
    await waitFor(() => h!.sim.dxlink.subscriptions().size === 11, 'all 11 subscriptions at the server');
    const adds = h.sim.dxlink.subscriptionMessages.filter((m) => m.add.length > 0);
    expect(adds.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...adds.map((m) => m.add.length))).toBeLessThanOrEqual(3);
  });
});
