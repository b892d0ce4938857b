/**
 * Issue 17 items 3–4 at Tastytrade, against the simulator with the real SDKs (@tastytrade/api
 * REST, @dxfeed/dxlink-api feed) into a real database (PostgreSQL):
 *  - the futures book: /ESH7-style future and ./ESH7 EW3G7 … options, multiplier 50 from the
 *    position (never the FOP instrument's 1.0), DXLink symbols from /instruments/futures, Greeks
 *    rows for the options with multiplier 50, the future quoted under its key;
 *  - /market-metrics polled into market_metrics with every volatility number a fraction.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import type { GreeksEvent, MetricsEvent, PositionsEvent, QuoteEvent } from '../../src/core/types.js';
import { readMarketMetrics } from '../../src/db/marketMetrics.js';
import { futureOptionStreamerSymbol } from '../../src/brokers/tasty/symbols.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { startHarness, waitFor, type Harness } from '../tasty/harness.js';
import { SIM_METRICS } from '../../src/brokers/tasty/sim/metrics.js';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';

// PostgreSQL only: the embedded engine adds ~25 s here for nothing this test is about.
describePg('tasty futures book and market metrics', () => {
  let db: TestStorage;
  let h: Harness | undefined;
  beforeEach(async () => {
    db = await openTestStorage('postgres');
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await db.close();
  });

  it('streams the futures book with multiplier 50 and stores market metrics as fractions', async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    h = await startHarness({ sim: { futures: true, dxlink: { tickMs: 20 } }, env: { MARKET_METRICS_POLL_MS: '600000' }, emit: (e) => processor.ingest([e]) });
    const fb = h.sim.futures!;
    const [call, put] = fb.options;
    await h.stream.start();
    await waitFor(() => {
      const keys = new Set(h!.greeks().map((g) => g.contractKey));
      // A call update after the future's first quote: the row then carries the future's price.
      const quoted = h!.events.findIndex((e) => e.kind === 'quote' && e.key === fb.future.key);
      const priced = quoted >= 0 && h!.events.some((e, i) => i > quoted && e.kind === 'greeks' && e.contractKey === call.key);
      return keys.has(call.key) && keys.has(put.key) && priced && h!.events.some((e) => e.kind === 'metrics');
    }, 'FOP greeks after a future quote, and metrics');

    // Positions: keys in interface.md form, multiplier 50 for the future and both options.
    const pos = h.events.filter((e): e is PositionsEvent => e.kind === 'positions').flatMap((e) => e.positions);
    const byKey = new Map(pos.map((p) => [p.contractKey, p]));
    expect(fb.future.key).toMatch(/^\/ES[HMUZ]\d$/);
    expect(byKey.get(fb.future.key)).toMatchObject({ assetClass: 'future', multiplier: 50, quantity: 1, underlying: fb.future.key });
    expect(byKey.get(call.key)).toMatchObject({ assetClass: 'option', multiplier: 50, quantity: -2, underlying: fb.future.key });
    expect(byKey.get(put.key)).toMatchObject({ multiplier: 50, quantity: 3 });
    expect(call.key).toMatch(/^\.\/ES[HMUZ]\d EW3[FGHJKMNQUVXZ]\d \d{6}C\d+$/);
    // One /instruments/futures call resolved the DXLink symbols.
    expect(h.sim.rest.counts.get('GET /instruments/futures')).toBe(1);
    expect(h.stream.health().subscriptions).toBeGreaterThan(0);
    expect(futureOptionStreamerSymbol(call.key, 'XCME')).toMatch(/^\.\/EW3[FGHJKMNQUVXZ]\d{2}C\d+:XCME$/);

    // FOP greeks are Black-76-like numbers under the FOP key; the future is quoted under /ESH7.
    const g = h.greeks().find((e): e is GreeksEvent => e.contractKey === put.key)!;
    expect(g.delta).toBeLessThan(0);
    const q = h.events.find((e): e is QuoteEvent => e.kind === 'quote' && e.key === fb.future.key)!;
    expect(q.bid).toBeGreaterThan(4000);

    await h.stream.stop();
    await processor.drain();
    const fopRows = await db.storage.querySnapshots({ broker: 'tasty', contractKey: call.key, limit: 1_000 });
    expect(fopRows.length).toBeGreaterThan(0);
    for (const r of fopRows) expect(r).toMatchObject({ contractKey: call.key, multiplier: 50, quantity: -2, underlying: fb.future.key });
    expect(fopRows.some((r) => r.underlyingPrice !== null && r.underlyingPrice > 4000)).toBe(true);

    // Market metrics: held underlyings (SPY, SPX, AAPL and the future's product /ES), fractions.
    const m = h.events.filter((e): e is MetricsEvent => e.kind === 'metrics').flatMap((e) => e.metrics);
    expect(m.map((x) => x.symbol).sort()).toEqual(['/ES', 'AAPL', 'SPX', 'SPY']);
    await waitFor(async () => (await readMarketMetrics(db.storage)).length === 4, 'metrics rows written');
    const stored = await readMarketMetrics(db.storage, ['AAPL', fb.future.key]);
    const aapl = stored.find((r) => r.symbol === 'AAPL')!;
    const want = SIM_METRICS.AAPL;
    expect(aapl.ivRank).toBeCloseTo(want.ivRank, 10); // sent as a 0–1 fraction: kept
    expect(aapl.iv30).toBeCloseTo(want.iv30 / 100, 10); // sent in percent points: / 100
    expect(aapl.hv90).toBeCloseTo(want.hv90 / 100, 10);
    expect(aapl.ivIndex).toBeCloseTo(want.ivIndex, 10);
    expect(aapl.beta).toBeCloseTo(want.beta, 10);
    expect(aapl.earningsDate).toBe(want.earnings);
    // A future is answered by its product's row, under the asked key.
    expect(stored.find((r) => r.symbol === fb.future.key)).toMatchObject({ beta: 1, source: 'tasty' });
    expect(h.sim.rest.counts.get('GET /market-metrics')).toBe(1);

    // GET /v1/market-metrics?symbols= answers the same fractions (validated response schema).
    const pipeline = new Pipeline({ storage: db.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    const app = await buildApi({ pipeline, storage: db.storage, log: testLogger });
    try {
      const res = await app.inject({ method: 'GET', url: `/v1/market-metrics?symbols=aapl,${encodeURIComponent(fb.future.key)},NOPE` });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.missing).toEqual(['NOPE']);
      expect(body.metrics.map((x: { symbol: string }) => x.symbol)).toEqual([fb.future.key, 'AAPL']);
      expect(body.metrics[1]).toMatchObject({ iv_rank: want.ivRank, beta: want.beta, earnings_date: want.earnings, source: 'tasty' });
      expect(body.metrics[1].hv30).toBeCloseTo(want.hv30 / 100, 10);
      const bad = await app.inject({ method: 'GET', url: '/v1/market-metrics?symbols=' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error ?? bad.body).toMatch(/symbols needs a value/);
    } finally {
      await app.close();
      await pipeline.stop();
    }
  });
});
