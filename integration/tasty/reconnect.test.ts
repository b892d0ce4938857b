/** Connection resilience against the simulator: close 1012, silent feeds, malformed frames. */
import { afterEach, describe, expect, it } from 'vitest';
import { advanceUntil, FakeClock, greeksKey, startHarness, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const seenKeys = (h: Harness) => new Set(h.greeks().map((g) => greeksKey(g.contractKey, g.eventTs, g.seq)));
const greeksAfter = (h: Harness, n: number) => h.greeks().length > n;

describe('tasty stream resilience', () => {
  it('reconnects after close 1012, resubscribes everything and loses nothing the server sent', async () => {
    h = await startHarness({ sim: { dxlink: { tickMs: 20 } } });
    await h.stream.start();
    await waitFor(() => h!.sim.dxlink.subscriptions().size === 11, 'all 11 subscriptions at the server');
    const before = [...h.sim.dxlink.subscriptions()].sort();
    await waitFor(() => h!.greeks().length >= 20, 'greeks before the close');

    h.sim.dxlink.closeAll(1012, 'reconnection required');
    await waitFor(() => h!.events.some((e) => e.kind === 'state' && e.state === 'disconnected'), 'disconnected state');
    const n = h.greeks().length;
    await waitFor(() => h!.sim.dxlink.connections() === 1 && h!.sim.dxlink.subscriptions().size === 11, 'resubscribed after reconnect');
    await waitFor(() => greeksAfter(h!, n + 20), 'greeks after the reconnect');
    expect([...h.sim.dxlink.subscriptions()].sort()).toEqual(before);
    expect(h.stream.health().reconnects).toBeGreaterThanOrEqual(1);
    expect(h.stream.health().state).toBe('connected');
    // The SDK reconnected by itself with the same token: no new quote token was needed.
    expect(h.sim.quoteTokensIssued()).toBe(1);

    h.sim.dxKnobs.silent = true;
    const sent = h.sim.sentGreeks();
    await waitFor(() => sent.every((s) => seenKeys(h!).has(greeksKey(s.contractKey, s.time, s.sequence))), 'every sent greeks event received');
  });

  it('detects a feed silent past the keepalive bound and rebuilds it (fake clock)', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock });
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 5, 'greeks before silence');
    h.sim.dxlink.silenceConnections();
    const start = clock.now();
    clock.advance(30_000);
    expect(h.stream.health().state).toBe('connected'); // 30 s of silence is within the bound
    expect(h.events.some((e) => e.kind === 'state' && e.state === 'degraded')).toBe(false);
    advanceUntil(clock, () => h!.stream.health().state === 'degraded', 40_000);
    expect(clock.now() - start).toBeGreaterThan(60_000);
    const n = h.greeks().length;
    await waitFor(() => h!.stream.health().state === 'connected', 'connected again');
    await waitFor(() => greeksAfter(h!, n + 5), 'greeks after the rebuild');
    expect(h.sim.quoteTokensIssued()).toBe(2); // the rebuild fetched a fresh token
    await waitFor(() => h!.sim.dxlink.connections() === 1, 'the silent connection closed');
  });

  it('keeps counting time from any inbound message, KEEPALIVE included', async () => {
    const clock = new FakeClock(Date.now());
    h = await startHarness({ clock, sim: { dxlink: { keepaliveMs: 50 } } });
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 1, 'first greeks');
    h.sim.dxKnobs.tickMs = 3_600_000; // no more data: only keepalives from now on
    for (let i = 0; i < 14; i++) {
      const inbound = () => Number(h!.stream.health().details?.inboundMessages);
      const last = inbound();
      await waitFor(() => inbound() > last, 'a keepalive');
      clock.advance(5_000);
    }
    expect(h.events.some((e) => e.kind === 'state' && e.state === 'degraded')).toBe(false);
    expect(h.sim.quoteTokensIssued()).toBe(1);
  });

  it('counts malformed frames and keeps streaming', async () => {
    h = await startHarness();
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 3, 'greeks');
    h.sim.dxlink.sendRaw('{not json');
    h.sim.dxlink.sendRaw(JSON.stringify({ type: 'FEED_DATA', channel: 1, data: ['Greeks', ['Greeks', '.SPY']] }));
    h.sim.dxlink.sendRaw(JSON.stringify({ type: 'FEED_DATA', channel: 1, data: ['Candle', ['Candle', 'SPY']] }));
    await waitFor(() => h!.events.filter((e) => e.kind === 'malformed').length >= 3, '3 malformed events');
    const n = h.greeks().length;
    await waitFor(() => greeksAfter(h!, n + 3), 'greeks after garbage');
    expect(h.stream.health().malformed).toBeGreaterThanOrEqual(3);
  });

  it('survives server ERROR messages, and takes ERROR UNAUTHORIZED as a reason for a new token', async () => {
    h = await startHarness();
    await h.stream.start();
    await waitFor(() => h!.greeks().length >= 3, 'greeks');
    h.sim.dxlink.sendError('UNKNOWN', 'simulated hiccup');
    await waitFor(() => /simulated hiccup/.test(h!.stream.health().lastError ?? ''), 'error seen');
    let n = h.greeks().length;
    await waitFor(() => greeksAfter(h!, n + 3), 'greeks after a harmless ERROR');
    expect(h.sim.quoteTokensIssued()).toBe(1);

    h.sim.dxlink.sendError('UNAUTHORIZED', 'token expired');
    await waitFor(() => h!.sim.quoteTokensIssued() === 2, 'a new quote token');
    n = h.greeks().length;
    await waitFor(() => greeksAfter(h!, n + 3), 'greeks with the new token');
    expect(h.sim.dxlink.auths.at(-1)!.accepted).toBe(true);
  });
});
