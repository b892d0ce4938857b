/**
 * The alpaca plugin (REST through the SDK's API classes, streams through the SDK's stream classes
 * on our connection kit) against the Alpaca simulator: positions, Greeks rows (one per distinct
 * snapshot), quotes, a fill stored once, the REST budget, and recovery from what users hit:
 * a silent socket followed by 406 while the old one lingers, 429 on the upgrade, bad keys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseAlpacaConfig } from '../../src/brokers/alpaca/config.js';
import { createAlpacaRest } from '../../src/brokers/alpaca/rest.js';
import { startAlpacaSimulator, type AlpacaKnobs, type AlpacaSimulator } from '../../src/brokers/alpaca/sim/index.js';
import { AlpacaStream, type AlpacaStreamOptions } from '../../src/brokers/alpaca/stream.js';
import { alpacaSymbolOf } from '../../src/brokers/alpaca/symbols.js';
import { systemClock } from '../../src/core/clock.js';
import { Processor } from '../../src/core/processor.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

let sim: AlpacaSimulator | undefined;
let stream: AlpacaStream | undefined;
let db: TestStorage | undefined;
afterEach(async () => {
  await stream?.stop();
  stream = undefined;
  await sim?.close();
  sim = undefined;
  await db?.close();
  db = undefined;
});

interface Run {
  stream: AlpacaStream;
  events: BrokerEvent[];
  channel(name: string): Record<string, number | string | null>;
}

async function run(o: { knobs?: Partial<AlpacaKnobs>; env?: Record<string, string>; opts?: AlpacaStreamOptions; emit?: (e: BrokerEvent) => void; start?: boolean } = {}): Promise<Run> {
  sim = await startAlpacaSimulator({ knobs: { tickMs: 50, restPerMinute: 100_000, ...o.knobs } });
  const config = parseAlpacaConfig({ ...sim.env, ALPACA_GREEKS_POLL_MS: '50', ALPACA_REST_RATE: '6000', ...o.env });
  const events: BrokerEvent[] = [];
  stream = new AlpacaStream(config, { emit: (e) => (events.push(e), o.emit?.(e)), log: testLogger, clock: systemClock }, { random: () => 0.5, backoffBaseMs: 50, backoffMaxMs: 2000, limitFloorMs: 200, startWaitMs: 5000, ...o.opts });
  const s = stream;
  if (o.start !== false) await s.start();
  return { stream: s, events, channel: (name) => (s.health().details!.channels as Record<string, Record<string, number | string | null>>)[name]! };
}

const greeks = (events: BrokerEvent[]) => events.filter((e): e is GreeksEvent => e.kind === 'greeks');

describePg('alpaca plugin against the simulator (postgres)', () => {
  it('positions, one Greeks row per distinct snapshot, stock and option quotes, a fill stored once', async () => {
    db = await openTestStorage('postgres');
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    const r = await run({ knobs: { optionQuoteProb: 0.2 }, emit: (e) => processor.ingest([e]) });
    const s = sim!;

    const positions = r.events.find((e) => e.kind === 'positions');
    const held = positions?.kind === 'positions' ? positions.positions : [];
    expect(held.map((p) => [p.contractKey.replace(/ /g, ''), p.quantity, p.multiplier, p.assetClass]).sort()).toEqual(
      s.server.holdings.map((h) => [h.symbol, h.qty, s.market.contracts.has(h.symbol) ? 100 : 1, s.market.contracts.has(h.symbol) ? 'option' : 'equity']).sort(),
    );
    expect(held.filter((p) => p.assetClass === 'option').every((p) => /^[A-Z]+ +\d{6}[CP]\d{8}$/.test(p.contractKey) && p.contractKey.length === 21)).toBe(true);

    await waitFor(() => (r.stream.health().details!.greeksPolls as number) >= 8 && greeks(r.events).length >= 6, 'polls and greeks');
    const g = greeks(r.events);
    // Every row's event_ts is the quote time of a snapshot the server served; no (contract, ts, seq) twice.
    const served = new Set(s.ledger.entries().map((x) => `${x.symbol}|${x.t}|${x.delta}`));
    for (const e of g) expect(served.has(`${alpacaSymbolOf(e.contractKey)}|${e.eventTs}|${e.delta}`)).toBe(true);
    expect(new Set(g.map((e) => `${e.contractKey}|${e.eventTs}|${e.seq}`)).size).toBe(g.length);
    expect(r.stream.health().details!.snapshotDuplicates as number).toBeGreaterThan(0); // unchanged snapshots were polled and dropped
    expect(g.every((e) => e.delta !== null && e.iv !== null && e.account === 'PA3SIMALPACA')).toBe(true);
    expect(s.server.counters.snapshotMaxSymbols).toBeLessThanOrEqual(100);

    const quotes = r.events.filter((e) => e.kind === 'quote');
    expect(quotes.some((q) => q.kind === 'quote' && q.key === 'SPY' && q.bid! > 0)).toBe(true);
    expect(quotes.some((q) => q.kind === 'quote' && /^SPY +\d{6}[CP]\d{8}$/.test(q.key))).toBe(true);
    await waitFor(() => greeks(r.events).some((e) => e.underlyingPrice !== null), 'underlying price from the stock stream');

    const option = [...s.market.contracts.keys()][0]!;
    const fill = { event: 'fill' as const, symbol: option, side: 'buy' as const, qty: 1, price: 25.5, executionId: 'exec-1' };
    s.pushTradeUpdate(fill);
    s.pushTradeUpdate(fill); // the same execution delivered again (the simulator's book moves twice; the record must not)
    await waitFor(() => r.events.some((e) => e.kind === 'trade'), 'trade event');
    await waitFor(async () => (await db!.storage.listTrades({ broker: 'alpaca' })).length === 1, 'trade row');
    await processor.drain();
    const trades = await db.storage.listTrades({ broker: 'alpaca' });
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ tradeId: 'exec-1', side: 'buy', quantity: 1, price: 25.5, account: 'PA3SIMALPACA', source: 'alpaca:trade_updates' });
    expect(r.events.filter((e) => e.kind === 'trade')).toHaveLength(1);
    // The fill moved the book: the positions were re-read at once.
    await waitFor(() => r.events.some((e) => e.kind === 'positions' && e.positions.some((p) => p.contractKey === trades[0]!.contractKey && p.quantity === s.server.holdings.find((h) => h.symbol === option)!.qty)), 'positions after the fill');
    await r.stream.stop();
    // One event per distinct snapshot served (the simulator's ledger); at most one in-flight poll (3 symbols) unseen.
    const final = greeks(r.events).length;
    expect(final).toBeLessThanOrEqual(s.ledger.size);
    expect(final).toBeGreaterThanOrEqual(s.ledger.size - 3);
    await processor.drain();
    const rows = await db.storage.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT (contract_key, event_ts, seq)) AS d FROM greek_snapshots WHERE broker = 'alpaca'`);
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    expect(rows[0]!.n).toBe(rows[0]!.d);
  });
});

describe('alpaca plugin recovery (no database)', () => {
  it('a silent option socket is rebuilt; the 406 while the old one lingers is backed off, not stormed', async () => {
    const r = await run({ knobs: { lingerMs: 1000 }, env: { ALPACA_SILENCE_MS: '500' }, opts: { limitFloorMs: 300 } });
    await waitFor(() => r.events.some((e) => e.kind === 'quote' && e.key.length === 21), 'option quotes');
    const upgradesBefore = sim!.server.counters.upgrades.options;
    sim!.server.silence('options');
    await waitFor(() => (r.channel('options').silences as number) >= 1, 'silence detected');
    await waitFor(() => (r.channel('options').limit406 as number) >= 1, '406 while the old socket lingers');
    await waitFor(() => r.channel('options').state === 'ready', 'options ready again');
    const after = r.events.length;
    await waitFor(() => r.events.slice(after).some((e) => e.kind === 'quote' && e.key.length === 21), 'option quotes again');
    expect(sim!.server.counters.errorsSent['406']).toBeGreaterThanOrEqual(1);
    // After a 406 the next attempt waits at least the floor: a few upgrades in the 1 s linger, never a storm.
    const times = sim!.server.counters.upgradeTimes.options.slice(upgradesBefore);
    expect(times.length).toBeGreaterThanOrEqual(3);
    expect(times.length).toBeLessThanOrEqual(6);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(290);
  });

  it('HTTP 429 on the upgrade: waits Retry-After, then reconnects once', async () => {
    const r = await run({ knobs: { upgradesPerWindow: 1, upgradeWindowMs: 1000 } });
    const before = sim!.server.counters.upgrades.stocks;
    const dropAt = Date.now();
    sim!.server.drop('stocks');
    await waitFor(() => (r.channel('stocks').limit429 as number) >= 1, '429 seen');
    await waitFor(() => r.channel('stocks').state === 'ready', 'stocks ready again');
    expect(Date.now() - dropAt).toBeGreaterThanOrEqual(900); // Retry-After honoured (≥ 1 s from the 429)
    expect(sim!.server.counters.upgrade429).toBe(1);
    expect(sim!.server.counters.upgrades.stocks - before).toBe(1);
  });

  it('REST stays inside its budget: no 429 from the server while Greeks are polled fast', async () => {
    const r = await run({ knobs: { restPerMinute: 30 }, env: { ALPACA_REST_RATE: '20', ALPACA_GREEKS_POLL_MS: '50' } });
    await waitFor(() => (r.stream.health().details!.rest as { budgetWaits: number }).budgetWaits > 0, 'the budget paces the poll');
    expect(sim!.server.counters.rest429).toBe(0);
    expect(sim!.server.counters.restMaxPerMinute).toBeLessThanOrEqual(20);
  });

  it('keys the streams refuse: terminal with a one-line fix, no retries', async () => {
    sim = await startAlpacaSimulator();
    const good = parseAlpacaConfig(sim.env);
    const bad = { ...good, secretKey: 'wrong' };
    stream = new AlpacaStream(bad, { emit: () => {}, log: testLogger, clock: systemClock }, { rest: createAlpacaRest(good, systemClock), startWaitMs: 5000 });
    await expect(stream.start()).rejects.toThrow(/^Alpaca \w+ stream refused the API keys \(402 auth failed\): check ALPACA_KEY_ID/);
    await new Promise((res) => setTimeout(res, 300));
    expect(sim.server.counters.upgrades).toEqual({ stocks: 1, options: 1, trading: 1 });
  });
});
