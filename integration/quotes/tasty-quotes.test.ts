/**
 * Watchlist and quote cache against the Tastytrade simulator, through real worker threads and
 * the real SDKs (@tastytrade/api, @dxfeed/dxlink-api), into PostgreSQL:
 *  - a watched, unheld symbol streams (and lands in `quotes`, batched), a watched unheld option
 *    added at runtime (a message to the worker) streams quotes and Greeks;
 *  - a symbol whose stream goes quiet is served from REST within TTL + one call;
 *  - a 429 opens a cooldown: a storm of stale lookups makes no further request (counted at the simulator).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { systemClock } from '../../src/core/clock.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { createQuoteService } from '../../src/quotes/setup.js';
import { parseSymbol } from '../../src/quotes/symbols.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { vi } from 'vitest';
import { runQuote } from '../../src/cli/quote.js';

const TTL = 600;

describePg('watchlist and quotes at the Tastytrade simulator', () => {
  let t: TestStorage;
  let sim: TastySimulator;
  let pipeline: Pipeline;
  const saved = { ...process.env };

  beforeAll(async () => {
    t = await openTestStorage('postgres');
    sim = await startTastySimulator({ accountStreamer: false, rest: { quotesPerSecond: 2 }, dxlink: { tickMs: 50 } });
    // The actor's worker reads the plugin's configuration from the environment.
    Object.assign(process.env, sim.env, { TASTY_ACCOUNT_STREAMER_URL: '' });
    const config = readAppConfig({ WATCHLIST: 'XSP', FLUSH_INTERVAL_MS: '100' });
    pipeline = new Pipeline({ storage: t.storage, config, log: testLogger, journal: new MemoryJournal() });
    await pipeline.startActor({ id: 'tasty', broker: 'tasty' });
  });
  afterAll(async () => {
    await pipeline?.stop();
    await sim?.close();
    await t?.close();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('streams a watched, unheld symbol and an option added at runtime (quotes and Greeks), into quotes', async () => {
    // Nobody holds XSP: only the watchlist makes it stream.
    expect(sim.holdings(sim.accounts[0]).some((h) => h.underlying === 'XSP')).toBe(false);
    await waitFor(() => pipeline.processor.latestQuotes(['XSP'])[0]?.bid != null, 'XSP quotes from the stream');
    expect([...sim.dxlink.subscriptions()]).toContain('Quote:XSP');
    const row = await waitFor(async () => (await t.storage.readQuotes!(['XSP']))[0], 'XSP in the quotes table');
    expect(row).toMatchObject({ symbol: 'XSP', broker: 'tasty', source: 'stream' });
    expect(row.mid).toBeCloseTo((row.bid! + row.ask!) / 2, 6);

    // The QQQ put is in the market but held by nobody; adding it reaches the running worker.
    const qqq = simContractKey(sim.contracts[4]!);
    const dropsBefore = pipeline.processor.stats().drops.not_held;
    await pipeline.setWatchlist([...pipeline.watchlist(), parseSymbol(qqq)]);
    const q = await waitFor(() => {
      const r = pipeline.processor.latestQuotes([qqq])[0];
      return r && r.delta !== null && r.bid !== null ? r : undefined;
    }, 'greeks and quotes of the watched option');
    expect(q!.iv).toBeGreaterThan(0);
    expect(pipeline.processor.stats().drops.not_held).toBe(dropsBefore); // watched greeks are not "unheld" drops
    await waitFor(async () => (await t.storage.readQuotes!([qqq]))[0]?.delta != null, 'the option with its Greeks in quotes');
    // Writes are batched: far fewer statements than quote events.
    const s = pipeline.processor.stats();
    expect(s.quotes!.batches).toBeLessThan(s.perBroker.tasty!.quotesIn / 4);
  });

  it('serves a symbol whose stream went quiet from REST within TTL + one call; a 429 opens a cooldown without a request storm', async () => {
    const service = createQuoteService({
      env: process.env, clock: systemClock, log: testLogger, ttlMs: TTL, ratePerSec: 2, random: () => 1,
      memory: (s) => pipeline.processor.latestQuotes(s), readQuotes: (s) => t.storage.readQuotes!(s), writeQuotes: (r) => t.storage.writeQuotes!(r),
    });
    try {
      const [fresh] = await service.lookup([parseSymbol('XSP')]);
      expect(fresh).toMatchObject({ source: 'stream', stale: false });
      const callsBefore = sim.rest.byTypeCalls.length;
      expect(callsBefore).toBe(0);

      sim.dxKnobs.quietSymbols = ['XSP'];
      const quietAt = Date.now();
      await waitFor(() => Date.now() - pipeline.processor.latestQuotes(['XSP'])[0]!.receivedAt > TTL, 'the XSP stream quote to go stale');
      const [viaRest] = await service.lookup([parseSymbol('XSP')]);
      expect(viaRest).toMatchObject({ symbol: 'XSP', source: 'rest', broker: 'tasty', stale: false });
      expect(viaRest.bid).toBeGreaterThan(0);
      expect(viaRest.age_ms!).toBeLessThanOrEqual(TTL);
      expect(Date.now() - quietAt).toBeLessThan(TTL + 3000); // within TTL + one call (wide: a loaded machine)
      expect(sim.rest.byTypeCalls.length - callsBefore).toBe(1);
      // Within the TTL the REST answer is reused, by this process and (through quotes) by others.
      await Promise.all(Array.from({ length: 20 }, () => service.lookup([parseSymbol('XSP')])));
      expect(sim.rest.byTypeCalls.length - callsBefore).toBe(1);
      await waitFor(async () => (await t.storage.readQuotes!(['XSP']))[0]?.source === 'rest', 'the REST answer stored in quotes');

      // Tastytrade throttles: every by-type call now answers 429.
      sim.restKnobs.quotes429 = 1_000;
      await new Promise((r) => setTimeout(r, TTL + 50)); // the REST answer goes stale too
      const stormStart = sim.rest.byTypeCalls.length;
      const stormAt = Date.now();
      const answers = [];
      for (let i = 0; i < 10; i++) {
        answers.push(...(await Promise.all(Array.from({ length: 20 }, () => service.lookup([parseSymbol('XSP')])))));
        await new Promise((r) => setTimeout(r, 40));
      }
      const stormMs = Date.now() - stormAt;
      const made = sim.rest.byTypeCalls.slice(stormStart);
      // 200 stale lookups: one call answered 429, then nothing until the cooldown ends (1 s with
      // this randomness, then 2 s, 4 s ...). A slow machine may stretch the storm past a
      // cooldown: then one more call, never sooner than the cooldown allows.
      expect(made.length).toBeGreaterThanOrEqual(1);
      expect(made.length).toBeLessThanOrEqual(1 + Math.floor(Math.log2(stormMs / 1000 + 1)));
      expect(made.every((c) => c.status === 429)).toBe(true);
      for (let k = 1; k < made.length; k++) expect(made[k]!.at - made[k - 1]!.at).toBeGreaterThanOrEqual(1000 * 2 ** (k - 1) - 20);
      const [queue] = service.queues();
      expect(queue!.stats().rateLimited).toBe(made.length);
      expect(queue!.stats().cooldownsOpened).toBe(made.length);
      expect(queue!.stats().cooldownSkips).toBeGreaterThan(100);
      // Meanwhile the answer is the last quote known, marked stale, with the reason.
      const last = answers[answers.length - 1]![0]!;
      expect(last).toMatchObject({ symbol: 'XSP', stale: true });
      expect(last.note).toMatch(/cooldown/);
    } finally {
      service.close();
      sim.dxKnobs.quietSymbols = [];
      sim.restKnobs.quotes429 = 0;
    }
  });

  // The command's code as `npm run quote` runs it (in this process, to spare a child's start-up):
  // only the database and the broker's REST are shared with the running pipeline.
  it('npm run quote mid-run answers fresh quotes: the stream\'s from the table, a quiet one over REST', async () => {
    sim.dxKnobs.quietSymbols = ['XSP'];
    try {
      await waitFor(() => Date.now() - pipeline.processor.latestQuotes(['XSP'])[0]!.receivedAt > TTL + 100, 'the XSP stream to go stale');
      const calls = sim.rest.byTypeCalls.length;
      Object.assign(process.env, { DATABASE_URL: t.url, QUOTE_TTL_MS: String(TTL * 2), LOG_LEVEL: 'silent' });
      let out = '';
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
      let code: number;
      try {
        code = await runQuote(['XSP', 'SPY', '--json']);
      } finally {
        write.mockRestore();
      }
      expect(code).toBe(0);
      const [xsp, spy] = out.trim().split('\n').map((l) => JSON.parse(l));
      expect(xsp).toMatchObject({ symbol: 'XSP', source: 'rest', broker: 'tasty', stale: false });
      expect(spy).toMatchObject({ symbol: 'SPY', source: 'stream', broker: 'tasty', stale: false });
      expect(spy.age_ms).toBeLessThanOrEqual(TTL * 2);
      expect(sim.rest.byTypeCalls.length - calls).toBe(1); // XSP alone, one call
    } finally {
      sim.dxKnobs.quietSymbols = [];
    }
  });
});
