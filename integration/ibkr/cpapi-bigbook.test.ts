/**
 * A big Client Portal book within the gateway's pacing: positions paged over REST under the
 * simulator's 10 requests/s (HTTP 429 past it), smd subscriptions paced on the websocket; every
 * contract streams Greeks, no request is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bigBook } from '../../src/brokers/tasty/sim/index.js';
import { startRig, waitFor, type Rig } from './cpapi-helpers.js';

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

describe('cpapi big book', () => {
  it('200 positions over 2 accounts: no 429, smd paced, Greeks for every contract', async () => {
    const contracts = bigBook(200, 1).contracts;
    rig = await startRig({ contracts, spreadAccounts: 2, restPerSecond: 10, rateMs: 250 }, { IBKR_SMD_PER_SEC: '200' });
    expect(rig.events.filter((e) => e.kind === 'positions')).toHaveLength(2);
    await waitFor(() => new Set(rig!.greeks().map((g) => g.contractKey)).size === 200, 'greeks for all 200 contracts', 20_000);
    const st = rig.sim.stats;
    expect(st.rateLimited).toBe(0);
    expect(st.smdRequests.size).toBe(201); // 200 options + SPY
    expect(st.smdPeakPerSec).toBeLessThanOrEqual(240); // 200/s, evenly: 20 per 100 ms (timer jitter aside)
    expect(st.smdPeakPerSec).toBeGreaterThan(0);
    expect(rig.stream.health().details).toMatchObject({ smdPending: 0 });
  });
});
