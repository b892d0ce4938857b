/** Quote token lifecycle: rotation before expiry, rejection at connect and on re-auth. */
import { afterEach, describe, expect, it } from 'vitest';
import { advanceUntil, FakeClock, restRequests, startHarness, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/**
 * FakeClock.advance() jumps minutes at once while real frames and HTTP answers only arrive
 * between jumps: stretch the watchdog bound (10 min) and the position poll (1 h) so that the
 * jumps below (<= 6.5 min at a time) test token rotation and nothing else.
 */
const FAKE_MINUTES_ENV = { TASTY_KEEPALIVE_TIMEOUT_MS: '600000', TASTY_POSITIONS_POLL_MS: '3600000' };

const moreGreeks = async (h: Harness, n: number, what: string) => {
  const base = h.greeks().length;
  await waitFor(() => h.greeks().length >= base + n, what);
};

describe('tasty quote token', () => {
  it('rotates the token before it expires and re-authenticates the live connection', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock, env: FAKE_MINUTES_ENV, sim: { rest: { quoteTokenTtlMs: 8 * 60_000 } } });
    await h.stream.start();
    await moreGreeks(h, 3, 'greeks with the first token');
    clock.advance(5 * 60_000);
    expect(h.sim.quoteTokensIssued()).toBe(1); // not yet: rotation is at 3/4 of 8 min
    const before = restRequests(h);
    advanceUntil(clock, () => restRequests(h!) > before, 2 * 60_000);
    await waitFor(() => h!.sim.dxlink.auths.length === 2, 're-AUTH with the new token');
    const [first, second] = h.sim.dxlink.auths;
    expect(second.token).not.toBe(first.token);
    expect(second.accepted).toBe(true);
    expect(h.sim.dxlink.connections()).toBe(1); // same socket, no rebuild
    await waitFor(() => h!.sim.dxlink.subscriptions().size === 11, 'subscriptions back after re-auth');
    await moreGreeks(h, 3, 'greeks after rotation');
  });

  it('fetches a new token when the server rejects the first one, then streams', async () => {
    h = await startHarness({ sim: { dxlink: { rejectNextAuths: 1 } } });
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 3, 'greeks after the rejection');
    expect(h.sim.dxlink.auths.map((a) => a.accepted)).toEqual([false, true]);
    expect(h.sim.quoteTokensIssued()).toBe(2);
  });

  it('replaces a client the server closed after rejecting its token', async () => {
    h = await startHarness({ sim: { dxlink: { rejectNextAuths: 1, closeOnReject: true } } });
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 3, 'greeks after the rejection and close');
    expect(h.sim.dxlink.auths[0].accepted).toBe(false);
    expect(h.sim.dxlink.auths.at(-1)!.accepted).toBe(true);
  });

  it('recovers when a rotated token is rejected on the live connection', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock, env: FAKE_MINUTES_ENV, sim: { rest: { quoteTokenTtlMs: 8 * 60_000 } } });
    await h.stream.start();
    await moreGreeks(h, 3, 'greeks');
    h.sim.dxKnobs.rejectNextAuths = 1;
    const before = restRequests(h);
    advanceUntil(clock, () => restRequests(h!) > before, 7 * 60_000);
    await waitFor(() => h!.sim.dxlink.auths.some((a) => !a.accepted), 'rotated token rejected');
    await waitFor(() => h!.sim.dxlink.auths.at(-1)!.accepted && h!.sim.quoteTokensIssued() === 3, 'third token accepted');
    await moreGreeks(h, 3, 'greeks after recovery');
  });

  it('rejects an expired token and fetches a fresh one', async () => {
    h = await startHarness({ sim: { rest: { quoteTokenTtlMs: 0 } } });
    await h.stream.start();
    await waitFor(() => h!.sim.dxlink.auths.length >= 1, 'first AUTH');
    h.sim.restKnobs.quoteTokenTtlMs = 86_400_000;
    await waitFor(() => h!.greeks().length >= 3, 'greeks with a fresh token', 20_000);
    expect(h.sim.dxlink.auths[0].accepted).toBe(false);
  });

  it('rebuilds a connection that never gets authorized, even while keepalives flow (fake clock)', async () => {
    const clock = new FakeClock(Date.now());
    // No greeting: the rejection is the first AUTH_STATE, which the 0.3.0 client ignores.
    h = await startHarness({ clock, env: { TASTY_POSITIONS_POLL_MS: '3600000' }, sim: { dxlink: { greeting: false, rejectNextAuths: 1, keepaliveMs: 50 } } });
    await h.stream.start();
    await waitFor(() => h!.sim.dxlink.auths.length === 1, 'first AUTH (rejected)');
    const inbound = () => Number(h!.stream.health().details?.inboundMessages);
    const before = restRequests(h);
    // 5 s steps, each after a real keepalive arrived: the socket is never silent, only unauthorized.
    for (let i = 0; i < 14 && restRequests(h) === before; i++) {
      const seen = inbound();
      await waitFor(() => inbound() > seen, 'a keepalive on the unauthorized socket');
      if (i === 6) expect(h.sim.quoteTokensIssued()).toBe(1); // 30 s: still waiting
      clock.advance(5_000);
    }
    expect(h.stream.health().lastError).toMatch(/not authorized/);
    await waitFor(() => h!.greeks().length >= 3, 'greeks after the rebuild');
    expect(h.sim.dxlink.auths.map((a) => a.accepted)).toEqual([false, true]);
  });
});
