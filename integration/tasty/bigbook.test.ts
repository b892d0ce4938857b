/**
 * A big book against the simulator with a per-message size limit (close 1009 past it, as the
 * real service does for a full chain): chunked, paced FEED_SUBSCRIPTIONs, every contract gets
 * Greeks, nothing the server sent is lost, and the whole set comes back, chunked, after a reconnect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bigBook } from '../../src/brokers/tasty/sim/index.js';
import { greeksKey, startHarness, waitFor, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const CONTRACTS = 300;
const ACCOUNTS = 20;
const LIMIT_BYTES = 2_048;
const CHUNK = 25;
// Greeks + Quote per option, plus the SPY quote.
const SUBS = CONTRACTS * 2 + 1;

describe('tasty big book (chunked, paced subscriptions)', () => {
  it('subscribes 300 contracts over 20 accounts in small messages; every contract streams; the set survives a reconnect', async () => {
    const { contracts, book } = bigBook(CONTRACTS, ACCOUNTS);
    h = await startHarness({
      sim: { contracts, book, dxlink: { tickMs: 400, maxMessageBytes: LIMIT_BYTES }, accountStreamer: false },
      env: { TASTY_SUBSCRIPTION_CHUNK: String(CHUNK), TASTY_SUBSCRIPTION_PACE_MS: '10' },
    });
    await h.stream.start();
    expect(h.events.filter((e) => e.kind === 'positions')).toHaveLength(ACCOUNTS);
    await waitFor(() => h!.sim.dxlink.subscriptions().size === SUBS, `all ${SUBS} subscriptions at the server`);
    await waitFor(() => new Set(h!.greeks().map((g) => g.contractKey)).size === CONTRACTS, 'greeks for every contract');

    const first = [...h.sim.dxlink.subscriptionMessages];
    expect(first.length).toBeGreaterThanOrEqual(Math.ceil(SUBS / CHUNK));
    expect(Math.max(...first.map((m) => m.add.length + m.remove.length))).toBeLessThanOrEqual(CHUNK);
    expect(Math.max(...first.map((m) => m.bytes))).toBeLessThanOrEqual(LIMIT_BYTES);
    expect(h.sim.dxlink.tooLongClosures()).toBe(0);

    // The server drops the connection: the SDK reconnects and the pacer replays the whole set.
    const before = [...h.sim.dxlink.subscriptions()].sort();
    h.sim.dxlink.closeAll(1012, 'reconnection required');
    await waitFor(() => h!.events.some((e) => e.kind === 'state' && e.state === 'disconnected'), 'disconnected state');
    await waitFor(
      () => h!.sim.dxlink.subscriptionMessages.length > first.length && h!.sim.dxlink.connections() === 1 && h!.sim.dxlink.subscriptions().size === SUBS,
      'resubscribed after reconnect',
    );
    expect([...h.sim.dxlink.subscriptions()].sort()).toEqual(before);
    const replay = h.sim.dxlink.subscriptionMessages.slice(first.length);
    expect(replay[0].reset).toBe(true);
    expect(replay.length).toBeGreaterThanOrEqual(Math.ceil(SUBS / CHUNK));
    expect(Math.max(...replay.map((m) => m.add.length + m.remove.length))).toBeLessThanOrEqual(CHUNK);
    expect(h.sim.dxlink.tooLongClosures()).toBe(0);

    // Nothing the server sent is lost.
    const n = h.greeks().length;
    await waitFor(() => h!.greeks().length > n + CONTRACTS, 'greeks after the reconnect');
    h.sim.dxKnobs.silent = true;
    const sent = h.sim.sentGreeks();
    const seen = () => new Set(h!.greeks().map((g) => greeksKey(g.contractKey, g.eventTs, g.seq)));
    await waitFor(() => {
      const s = seen();
      return sent.every((e) => s.has(greeksKey(e.contractKey, e.time, e.sequence)));
    }, 'every sent greeks event received');
  });

  it('the simulator enforces its limit: the book in one message is closed with 1009', async () => {
    const { contracts, book } = bigBook(CONTRACTS, ACCOUNTS);
    h = await startHarness({
      sim: { contracts, book, dxlink: { tickMs: 300, maxMessageBytes: LIMIT_BYTES }, accountStreamer: false },
      env: { TASTY_SUBSCRIPTION_CHUNK: String(SUBS) },
    });
    await h.stream.start();
    await waitFor(() => h!.sim.dxlink.tooLongClosures() >= 1, 'close 1009 for the oversized FEED_SUBSCRIPTION');
    expect(h.greeks()).toHaveLength(0);
  });
});
