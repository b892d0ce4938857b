/**
 * Watchlist and REST snapshot against the simulated Client Portal gateway (HTTPS, WebSocket):
 * a watched, unheld index streams over `smd` after a runtime watchlist change; when its stream
 * goes quiet the quote comes from /iserver/marketdata/snapshot, pre-flight first (two calls the
 * first time, one afterwards), within TTL + one call.
 */
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import { UNDERLYING_CONIDS } from '../../src/brokers/ibkr/sim/cpapi/book.js';
import { systemClock } from '../../src/core/clock.js';
import type { QuoteEvent, QuoteRow } from '../../src/core/types.js';
import { createIbkrQuoteFetcher } from '../../src/quotes/ibkrRest.js';
import { RestQuoteQueue } from '../../src/quotes/restQueue.js';
import { QuoteService } from '../../src/quotes/service.js';
import { parseSymbol } from '../../src/quotes/symbols.js';
import { silentLog, startRig, waitFor, type Rig } from '../ibkr/cpapi-helpers.js';
import { createRest } from '../../src/brokers/ibkr/cpapi/rest.js';
import { resolveConid } from '../../src/brokers/ibkr/cpapi/secdef.js';
import { simContractKey } from '../../src/brokers/simbook.js';

const TTL = 600;
const XSP = UNDERLYING_CONIDS.XSP!;

describe('watchlist and quotes at the IBKR Client Portal simulator', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig({ restPerSecond: 50 }); // the test's own secdef client shares the gateway with the actor: pacing is not what this file tests
  });
  afterAll(() => rig?.stop());

  const xspQuotes = () => rig.events.filter((e): e is QuoteEvent => e.kind === 'quote' && e.key === 'XSP');

  it('streams a watched, unheld index after a runtime change, and serves it from the snapshot when it goes quiet', async () => {
    expect(rig.sim.liveSubscriptions()).not.toContain(XSP);
    await rig.stream.setWatchlist!([parseSymbol('XSP')]);
    await waitFor(() => xspQuotes().some((q) => q.bid !== null), 'XSP quotes over smd');
    expect(rig.sim.liveSubscriptions()).toContain(XSP);
    expect(rig.stream.health().details?.watchlist).toMatchObject({ symbols: 1, subscriptions: 1, unresolved: [] });

    const memory = (symbols: string[]): QuoteRow[] => {
      const q = xspQuotes().at(-1);
      if (!q || !symbols.includes('XSP')) return [];
      return [{ symbol: 'XSP', broker: 'ibkr', source: 'stream', bid: q.bid, ask: q.ask, mid: null, mark: q.mark ?? null, last: q.last ?? null, eventTs: q.eventTs, receivedAt: q.receivedAt, iv: null, delta: null, gamma: null, theta: null, vega: null }];
    };
    const config = parseIbkrConfig({ IBKR_GATEWAY_URL: rig.sim.url, IBKR_TLS_INSECURE: '1' });
    const queue = new RestQuoteQueue(createIbkrQuoteFetcher(config, systemClock), { clock: systemClock, ratePerSec: 2, log: silentLog });
    const service = new QuoteService({ clock: systemClock, ttlMs: TTL, queues: [queue], memory });
    try {
      expect((await service.lookup([parseSymbol('XSP')]))[0]).toMatchObject({ source: 'stream', stale: false });
      expect(rig.sim.stats.snapshotCalls).toBe(0);

      rig.sim.knobs.quietConids = [XSP];
      const quietAt = Date.now();
      await waitFor(() => Date.now() - xspQuotes().at(-1)!.receivedAt > TTL, 'the XSP stream to go stale');
      const [a] = await service.lookup([parseSymbol('XSP')]);
      expect(a).toMatchObject({ symbol: 'XSP', source: 'rest', broker: 'ibkr', stale: false });
      expect(a!.bid).toBeGreaterThan(0);
      expect(Date.now() - quietAt).toBeLessThan(TTL + 3000);
      // The first snapshot of a conid is the pre-flight: two calls, paced like any other.
      expect(rig.sim.stats.snapshotCalls).toBe(2);
      expect(rig.sim.stats.snapshotPreflights).toBe(1);
      expect(queue.stats().calls).toBe(2);

      await new Promise((r) => setTimeout(r, TTL + 20));
      const [b] = await service.lookup([parseSymbol('XSP')]);
      expect(b).toMatchObject({ source: 'rest', stale: false });
      expect(rig.sim.stats.snapshotCalls).toBe(3); // primed: one call now
      expect(rig.sim.stats.snapshot429).toBe(0);
    } finally {
      service.close();
      rig.sim.knobs.quietConids = [];
    }
  });

  it('resolves watched symbols to conids with secdef: stocks, indices, and OCC options by expiry and strike', async () => {
    const rest = createRest(rig.sim.url, true, { clock: systemClock });
    try {
      expect(await resolveConid(rest, parseSymbol('SPY'))).toBe(UNDERLYING_CONIDS.SPY);
      expect(await resolveConid(rest, parseSymbol('XSP'))).toBe(XSP);
      const i = rig.sim.book.contracts.findIndex((c) => c.underlying === 'SPX');
      expect(await resolveConid(rest, parseSymbol(simContractKey(rig.sim.book.contracts[i]!)))).toBe(rig.sim.book.optionConid(i));
      expect(await resolveConid(rest, parseSymbol('SPY251219C00999000'))).toBeNull(); // no such strike
      expect(await resolveConid(rest, parseSymbol('/ESH7'))).toBeNull(); // futures: not resolved here
    } finally {
      rest.close();
    }
  });
});
