/**
 * The Alpaca simulator driven by the REAL SDK (@alpacahq/alpaca-trade-api 4.x), unchanged: if the
 * SDK works against it, the simulator speaks Alpaca's wire (REST shapes, msgpack stock/option
 * streams, binary trade_updates, error codes, rate limit).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { marketData, streaming, trading } from '@alpacahq/alpaca-trade-api';
import { WebSocket } from 'ws';
import { startAlpacaSimulator, type AlpacaSimulator } from '../../src/brokers/alpaca/sim/index.js';
import { waitFor } from '../helpers/wait.js';

let sim: AlpacaSimulator | undefined;
const streams: streaming.AlpacaWebSocket[] = [];
afterEach(async () => {
  for (const s of streams.splice(0)) s.disconnect();
  await sim?.close();
  sim = undefined;
});

const creds = (s: AlpacaSimulator, secret = s.env.ALPACA_SECRET_KEY!) => ({ keyId: s.env.ALPACA_KEY_ID!, secret });
const sdkOpts = { reconnect: false, pingIntervalMs: 0 };
function track<T extends streaming.AlpacaWebSocket>(s: T): T {
  streams.push(s);
  s.onError(() => {});
  return s;
}

describe('alpaca simulator with the real SDK', () => {
  it('REST: positions (strings, negative shorts), contract multiplier, snapshots with greeks; >100 symbols is a 400', async () => {
    sim = await startAlpacaSimulator();
    const conf = { ...creds(sim), basePath: sim.url, timeoutMs: 5000 };
    const positions = await new trading.PositionsApi(new trading.Configuration(conf)).getAllOpenPositions();
    const short = positions.find((p) => p.side === 'short')!;
    expect(short.qty).toMatch(/^-\d+$/);
    expect(Number(short.marketValue)).toBeLessThan(0);
    expect(positions.find((p) => p.symbol === 'SPY')?.assetClass).toBe('us_equity');
    const opt = positions.find((p) => p.assetClass === 'us_option')!;
    const contract = await new trading.AssetsApi(new trading.Configuration(conf)).getOptionContractSymbolOrId({ symbolOrId: opt.symbol });
    expect(contract.multiplier).toBe('100');
    expect(contract.symbol).toBe(opt.symbol);
    const api = new marketData.OptionApi(new marketData.Configuration(conf));
    const snaps = await api.optionSnapshots({ symbols: opt.symbol });
    const snap = snaps.snapshots![opt.symbol]!;
    expect(snap.greeks?.delta).toEqual(expect.any(Number));
    expect(snap.latestQuote?.t).toBeInstanceOf(Date);
    const many = Array.from({ length: 101 }, (_, i) => `SPY2501${String(10 + (i % 18)).padStart(2, '0')}C${String(100000 + i * 1000).padStart(8, '0')}`);
    await expect(api.optionSnapshots({ symbols: many.join(',') })).rejects.toMatchObject({ status: 400 });
  });

  it('REST rate limit: 429 with Retry-After the SDK reads', async () => {
    sim = await startAlpacaSimulator({ knobs: { restPerMinute: 2 } });
    const api = new trading.AccountsApi(new trading.Configuration({ ...creds(sim), basePath: sim.url, timeoutMs: 5000 }));
    await api.getAccount();
    await api.getAccount();
    const err = await api.getAccount().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429 });
    expect((err as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(sim.server.counters.rest429).toBe(1);
  });

  it('stock (msgpack, the SDK default) and option streams: auth, full-set subscription replies, quotes with timestamps', async () => {
    sim = await startAlpacaSimulator({ knobs: { tickMs: 50 } });
    const option = [...sim.market.contracts.keys()][0]!;
    const stocks = track(new streaming.StockDataStream({ credentials: creds(sim), url: `${sim.env.ALPACA_STREAM_URL}/v2/iex`, ...sdkOpts }));
    const subs: string[][] = [];
    const quotes: streaming.StreamQuote[] = [];
    stocks.on(streaming.EVENT.SUBSCRIPTION, (s: Record<string, string[]>) => subs.push(s.quotes!));
    stocks.onQuote((q) => quotes.push(q));
    stocks.onConnect(() => {
      stocks.subscribeForQuotes(['SPY']);
      stocks.subscribeForQuotes(['AAPL']);
    });
    stocks.connect();
    expect((await stocks.waitForAuthenticationResult(5000)).authenticated).toBe(true);
    await waitFor(() => subs.length >= 2 && quotes.length > 0, 'subscriptions and a quote');
    expect(subs.at(-1)).toEqual(['SPY', 'AAPL']); // the full set, not the delta
    expect(quotes[0]!.timestamp).toBeInstanceOf(Date);
    expect(quotes[0]!.timestampRaw).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

    const options = track(new streaming.OptionDataStream({ credentials: creds(sim), url: `${sim.env.ALPACA_STREAM_URL}/v1beta1/indicative`, ...sdkOpts }));
    const oq: streaming.StreamQuote[] = [];
    options.onQuote((q) => oq.push(q));
    options.onConnect(() => options.subscribeForQuotes([option]));
    options.connect();
    await waitFor(() => oq.length > 0, 'an option quote');
    expect(oq[0]!.symbol).toBe(option);
    expect(oq[0]!.bidPrice).toBeGreaterThan(0);
  });

  it('option stream over JSON is refused (412); a second socket on one endpoint gets 406; wrong keys 402 (terminal in the SDK)', async () => {
    sim = await startAlpacaSimulator();
    const raw = new WebSocket(`${sim.env.ALPACA_STREAM_URL}/v1beta1/opra`);
    const first = await new Promise<string>((resolve) => raw.once('message', (d) => resolve(String(d))));
    expect(JSON.parse(first)).toEqual([{ T: 'error', code: 412, msg: expect.any(String) }]);
    raw.terminate();

    const url = `${sim.env.ALPACA_STREAM_URL}/v2/sip`;
    const a = track(new streaming.StockDataStream({ credentials: creds(sim), url, ...sdkOpts }));
    a.connect();
    expect((await a.waitForAuthenticationResult(5000)).authenticated).toBe(true);
    const b = track(new streaming.StockDataStream({ credentials: creds(sim), url, ...sdkOpts }));
    const errors: string[] = [];
    b.onError((e) => errors.push(e));
    b.connect();
    await waitFor(() => errors.includes('connection limit exceeded'), '406 for the second socket');

    const bad = track(new streaming.StockDataStream({ credentials: creds(sim, 'wrong'), url: `${sim.env.ALPACA_STREAM_URL}/v2/iex`, ...sdkOpts }));
    bad.connect();
    const r = await bad.waitForAuthenticationResult(5000);
    expect(r).toMatchObject({ authenticated: false, status: streaming.STREAM_AUTH_STATUS.SERVER_REJECTED, code: 402 });
  });

  it('trade_updates: the SDK authorizes, listens, and decodes the binary fill frames', async () => {
    sim = await startAlpacaSimulator();
    const option = [...sim.market.contracts.keys()][1]!;
    const t = track(new streaming.TradingStream({ credentials: creds(sim), url: sim.env.ALPACA_TRADING_STREAM_URL!, ...sdkOpts }));
    const updates: streaming.TradeUpdate[] = [];
    let listening: unknown;
    t.on(streaming.EVENT.SUBSCRIPTION, (s: unknown) => (listening = s));
    t.onTradeUpdate((u) => updates.push(u));
    t.onConnect(() => t.subscribeTradeUpdates());
    t.connect();
    await waitFor(() => listening, 'listening');
    expect(listening).toEqual(['trade_updates']);
    const id = sim.pushTradeUpdate({ event: 'fill', symbol: option, side: 'sell', qty: 2, price: 3.4 });
    await waitFor(() => updates.length === 1, 'a trade update');
    expect(updates[0]).toMatchObject({ event: 'fill', executionId: id, qty: '2', price: '3.4', positionQty: '-5' });
    expect(updates[0]!.order.symbol).toBe(option);

    // Paper sends binary frames: check on a raw socket.
    const raw = new WebSocket(sim.env.ALPACA_TRADING_STREAM_URL!);
    await new Promise((r) => raw.once('open', r));
    raw.send(JSON.stringify({ action: 'authenticate', data: { key_id: sim.env.ALPACA_KEY_ID, secret_key: sim.env.ALPACA_SECRET_KEY } }));
    const [data, binary] = await new Promise<[string, boolean]>((resolve) => raw.once('message', (d, isBinary) => resolve([String(d), isBinary])));
    expect(binary).toBe(true);
    expect(JSON.parse(data)).toEqual({ stream: 'authorization', data: { action: 'authenticate', status: 'unauthorized', message: 'connection limit exceeded' } });
    raw.terminate();
  });
});
