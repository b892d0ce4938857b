/** Alpaca plugin pieces that need no sockets: config, symbols, the REST budget on fake time, the sim protocol. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock.js';
import { parseAlpacaConfig } from '../../../src/brokers/alpaca/config.js';
import { RestBudget } from '../../../src/brokers/alpaca/rest.js';
import { alpacaSymbolOf, contractKeyOf, underlyingOfOption } from '../../../src/brokers/alpaca/symbols.js';
import { MarketDataSession, TradingSession } from '../../../src/brokers/alpaca/sim/protocol.js';

const KEYS = { ALPACA_KEY_ID: 'PK1', ALPACA_SECRET_KEY: 's3cret' };

describe('alpaca config', () => {
  it('defaults to paper and Alpaca hosts; the trading stream follows the API URL', () => {
    const c = parseAlpacaConfig(KEYS);
    expect(c).toMatchObject({ paper: true, apiUrl: 'https://paper-api.alpaca.markets', dataUrl: 'https://data.alpaca.markets', streamUrl: 'wss://stream.data.alpaca.markets', tradingStreamUrl: 'wss://paper-api.alpaca.markets/stream', greeksPollMs: 5000, stockFeed: 'iex', optionFeed: 'indicative' });
    expect(parseAlpacaConfig({ ...KEYS, ALPACA_PAPER: '0' }).tradingStreamUrl).toBe('wss://api.alpaca.markets/stream');
    expect(parseAlpacaConfig({ ...KEYS, ALPACA_API_URL: 'http://127.0.0.1:9/' }).tradingStreamUrl).toBe('ws://127.0.0.1:9/stream');
  });

  it('bad or missing settings are one line naming the variable', () => {
    expect(() => parseAlpacaConfig({})).toThrow(/ALPACA_KEY_ID and ALPACA_SECRET_KEY/);
    expect(() => parseAlpacaConfig({ ...KEYS, ALPACA_PAPER: 'yes' })).toThrow(/ALPACA_PAPER="yes"/);
    expect(() => parseAlpacaConfig({ ...KEYS, ALPACA_STREAM_URL: 'https://x' })).toThrow(/ALPACA_STREAM_URL.*wss or ws/);
    expect(() => parseAlpacaConfig({ ...KEYS, ALPACA_GREEKS_POLL_MS: '0' })).toThrow(/ALPACA_GREEKS_POLL_MS/);
    expect(() => parseAlpacaConfig({ ...KEYS, ALPACA_STOCK_FEED: 'nasdaq' })).toThrow(/iex or sip/);
  });
});

describe('alpaca symbols', () => {
  it('maps unpadded OCC to the padded key and back', () => {
    expect(contractKeyOf('SPXW240327P04925000')).toBe('SPXW  240327P04925000');
    expect(contractKeyOf('AAPL240315C00172500')).toBe('AAPL  240315C00172500');
    expect(alpacaSymbolOf('SPY   251219C00500000')).toBe('SPY251219C00500000');
    expect(underlyingOfOption('SPXW240327P04925000')).toBe('SPX');
    expect(() => contractKeyOf('SPY')).toThrow();
  });
});

describe('alpaca REST budget (fake clock)', () => {
  it('at most perMinute requests in any 60 s window; a 429 cooldown holds everything', async () => {
    const clock = new FakeClock();
    const b = new RestBudget(clock, 3);
    await b.take();
    await clock.advanceAsync(20_000);
    await b.take();
    await b.take();
    expect(b.waitMs()).toBe(40_000); // the first of the three leaves the window 60 s after it went
    let done = false;
    void b.take().then(() => (done = true));
    await clock.advanceAsync(39_999);
    expect(done).toBe(false);
    await clock.advanceAsync(1);
    expect(done).toBe(true);
    expect(b.waitMs()).toBe(20_000); // the 2nd and 3rd (t = 20 s) still in the window: wait for t = 80 s
    await clock.advanceAsync(20_000);
    expect(b.waitMs()).toBe(0);
    b.cooldown(5000);
    expect(b.waitMs()).toBe(5000);
    await clock.advanceAsync(5000);
    expect(b.waitMs()).toBe(0);
    expect(b.taken).toBe(4);
  });
});

describe('alpaca simulator protocol', () => {
  const md = (kind: 'stocks' | 'options', codec: 'json' | 'msgpack', slot = true) => {
    const sent: Record<string, unknown>[][] = [];
    let closed = false;
    const s = new MarketDataSession(kind, codec, { send: (f) => sent.push(f), close: () => (closed = true), checkKeys: (k, x) => k === 'K' && x === 'S', claimSlot: () => slot, symbolLimit: 3 });
    s.open();
    return { s, sent, closed: () => closed };
  };

  it('greets, authenticates, answers subscriptions with the full set, and refuses what the real server refuses', () => {
    const { s, sent } = md('stocks', 'json');
    expect(sent[0]).toEqual([{ T: 'success', msg: 'connected' }]);
    s.receive({ action: 'subscribe', quotes: ['SPY'] });
    expect(sent[1]).toEqual([{ T: 'error', code: 401, msg: 'not authenticated' }]);
    s.receive({ action: 'auth', key: 'K', secret: 'S' });
    expect(sent[2]).toEqual([{ T: 'success', msg: 'authenticated' }]);
    s.receive({ action: 'auth', key: 'K', secret: 'S' });
    expect(sent[3]).toEqual([{ T: 'error', code: 403, msg: 'already authenticated' }]);
    s.receive({ action: 'subscribe', quotes: ['SPY'] });
    s.receive({ action: 'subscribe', quotes: ['AAPL'], trades: ['SPY'] });
    const full = sent[5]![0] as Record<string, string[]>;
    expect(full.T).toBe('subscription');
    expect(full.quotes).toEqual(['SPY', 'AAPL']);
    expect(full.trades).toEqual(['SPY']);
    s.receive({ action: 'subscribe', quotes: ['A', 'B'] });
    expect(sent[6]![0]).toMatchObject({ T: 'error', code: 405 });
    expect(s.subs.get('quotes')!.size).toBe(2); // unchanged after 405
    s.receive({ action: 'unsubscribe', quotes: ['SPY'] });
    expect((sent[7]![0] as Record<string, string[]>).quotes).toEqual(['AAPL']);
  });

  it('option stream: JSON is refused with 412, * quotes with 413; bad keys 402 and a taken slot 406 end the connection', () => {
    const json = md('options', 'json');
    expect(json.sent[0]![0]).toMatchObject({ T: 'error', code: 412 });
    expect(json.closed()).toBe(true);
    const mp = md('options', 'msgpack');
    mp.s.receive({ action: 'auth', key: 'K', secret: 'S' });
    mp.s.receive({ action: 'subscribe', quotes: ['*'] });
    expect(mp.sent.at(-1)![0]).toMatchObject({ T: 'error', code: 413 });
    const bad = md('stocks', 'json');
    bad.s.receive({ action: 'auth', key: 'K', secret: 'nope' });
    expect(bad.sent.at(-1)![0]).toMatchObject({ T: 'error', code: 402 });
    expect(bad.closed()).toBe(true);
    const taken = md('stocks', 'json', false);
    taken.s.receive({ action: 'auth', key: 'K', secret: 'S' });
    expect(taken.sent.at(-1)![0]).toMatchObject({ T: 'error', code: 406, msg: 'connection limit exceeded' });
    expect(taken.closed()).toBe(true);
  });

  it('trading: authenticate → authorization, listen → listening (trade_updates only)', () => {
    const sent: Record<string, unknown>[] = [];
    const t = new TradingSession({ send: (m) => sent.push(m), close: () => {}, checkKeys: (k, s) => k === 'K' && s === 'S', claimSlot: () => true });
    t.receive({ action: 'listen', data: { streams: ['trade_updates'] } });
    expect(sent[0]).toEqual({ stream: 'authorization', data: { action: 'listen', status: 'unauthorized' } });
    t.receive({ action: 'authenticate', data: { key_id: 'K', secret_key: 'S' } });
    expect(sent[1]).toEqual({ stream: 'authorization', data: { action: 'authenticate', status: 'authorized' } });
    t.receive({ action: 'listen', data: { streams: ['trade_updates', 'bogus'] } });
    expect(sent[2]).toEqual({ stream: 'listening', data: { streams: ['trade_updates'] } });
  });
});
