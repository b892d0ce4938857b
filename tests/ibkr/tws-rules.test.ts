import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { backoffDelay } from '../../src/core/backoff.js';
import { TWS_BACKOFF } from '../../src/brokers/ibkr/tws/stream.js';
import { Heartbeat } from '../../src/brokers/ibkr/tws/heartbeat.js';
import { classifyNotice } from '../../src/brokers/ibkr/tws/notices.js';
import { mapTwsPosition } from '../../src/brokers/ibkr/tws/positions.js';
import { SubscriptionBook } from '../../src/brokers/ibkr/tws/subscriptions.js';
import { cleanComputation, cleanPrice, computationRank, isEmptyComputation } from '../../src/brokers/ibkr/tws/ticks.js';

describe('tws ticks', () => {
  it('turns IB not-computed sentinels and MAX_VALUE into null', () => {
    const c = cleanComputation({ impliedVol: -1, delta: -2, gamma: -2, vega: -2, theta: -2, optPrice: -1, undPrice: Number.MAX_VALUE });
    expect(c).toEqual({ ok: true, value: { iv: null, delta: null, gamma: null, vega: null, theta: null, optPrice: null, undPrice: null } });
    expect(c.ok && isEmptyComputation(c.value)).toBe(true);
  });
  it('keeps real values, undefined becomes null', () => {
    const c = cleanComputation({ impliedVol: 0.21, delta: 0.55, gamma: 0.01, vega: 0.3, theta: -0.12, optPrice: 3.5, undPrice: undefined });
    expect(c).toEqual({ ok: true, value: { iv: 0.21, delta: 0.55, gamma: 0.01, vega: 0.3, theta: -0.12, optPrice: 3.5, undPrice: null } });
  });
  it('reports a NaN field as malformed', () => {
    expect(cleanComputation({ impliedVol: 0.2, delta: Number.NaN }).ok).toBe(false);
    expect(cleanPrice(Number.NaN).ok).toBe(false);
    expect(cleanPrice(-1)).toEqual({ ok: true, value: null });
  });
  it('ranks model above last above bid/ask, delayed just below live', () => {
    const r = (t: number) => computationRank(t)!;
    expect(r(13)).toBeGreaterThan(r(83));
    expect(r(83)).toBeGreaterThan(r(12));
    expect(r(12)).toBeGreaterThan(r(10));
    expect(r(10)).toBe(r(11));
    expect(r(10)).toBeGreaterThan(r(80));
    expect(computationRank(1)).toBeNull();
  });
});

describe('tws positions', () => {
  it('uses the OCC localSymbol: SPX weekly → SPXW key, SPX underlying, avgPrice per share', () => {
    const r = mapTwsPosition('DU1', { conId: 7, symbol: 'SPX', secType: 'OPT' as never, lastTradeDateOrContractMonth: '20261218', strike: 5000, right: 'P' as never, multiplier: 100, localSymbol: 'SPXW  261218P05000000', tradingClass: 'SPXW' }, -2, 1234.5);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.position).toMatchObject({ contractKey: 'SPXW  261218P05000000', underlying: 'SPX', quantity: -2, multiplier: 100, avgPrice: 12.345, assetClass: 'option' });
    expect(r.value.marketData).toMatchObject({ conId: 7, exchange: 'SMART', currency: 'USD' });
  });
  it('builds the key from fields and trading class without a localSymbol', () => {
    const r = mapTwsPosition('DU1', { symbol: 'SPY', secType: 'OPT' as never, lastTradeDateOrContractMonth: '20250117', strike: 502.5, right: 'C' as never, multiplier: 0, tradingClass: 'SPY' }, 3, 100);
    expect(r.ok && r.value.position.contractKey).toBe('SPY   250117C00502500');
    expect(r.ok && r.value.position.multiplier).toBe(100);
  });
  it('maps stocks to their symbol without market data, rejects a bad option', () => {
    const s = mapTwsPosition('DU1', { symbol: 'AAPL', secType: 'STK' as never }, 10, 190);
    expect(s.ok && s.value.position).toMatchObject({ contractKey: 'AAPL', assetClass: 'equity', multiplier: 1 });
    expect(s.ok && s.value.marketData).toBeUndefined();
    expect(mapTwsPosition('DU1', { symbol: 'SPY', secType: 'OPT' as never, lastTradeDateOrContractMonth: 'x', strike: 5, right: 'C' as never }, 1, 1).ok).toBe(false);
    expect(mapTwsPosition('DU1', { symbol: 'SPY', secType: 'STK' as never }, Number.NaN, 1).ok).toBe(false);
  });
});

describe('tws notices', () => {
  it('maps the connectivity codes to recovery actions', () => {
    expect(classifyNotice(1100, 'lost', -1).kind).toBe('degraded');
    expect(classifyNotice(1101, 'restored, data lost', -1).kind).toBe('restored-resubscribe');
    expect(classifyNotice(1102, 'restored, data kept', -1).kind).toBe('restored');
    expect(classifyNotice(2103, 'farm broken', -1).kind).toBe('farm-broken');
    expect(classifyNotice(2104, 'farm ok', -1).kind).toBe('farm-ok');
    expect(classifyNotice(2108, 'farm inactive', -1).kind).toBe('info');
    expect(classifyNotice(10197, 'competing', 3).kind).toBe('competing');
    expect(classifyNotice(10167, 'delayed', 3).kind).toBe('delayed-data');
    expect(classifyNotice(354, 'not subscribed', 3).kind).toBe('not-subscribed');
    expect(classifyNotice(505, 'Underrun error', -1).kind).toBe('malformed');
    expect(classifyNotice(200, 'no security definition', 4).kind).toBe('request-error');
  });
});

describe('tws subscription stamps', () => {
  it('gives distinct updates growing seqs even at the same receipt time, and repeats the stamp of a duplicate', () => {
    const book = new SubscriptionBook();
    expect(book.stamp('K', 'a', 1000)).toEqual({ eventTs: 1000, seq: 1, duplicate: false });
    expect(book.stamp('K', 'b', 1000)).toEqual({ eventTs: 1000, seq: 2, duplicate: false });
    expect(book.stamp('K', 'b', 1005)).toEqual({ eventTs: 1000, seq: 2, duplicate: true });
    expect(book.stamp('K', 'a', 1005)).toEqual({ eventTs: 1005, seq: 3, duplicate: false });
    expect(book.stamp('L', 'a', 1005)).toEqual({ eventTs: 1005, seq: 1, duplicate: false });
    book.clear();
    expect(book.stamp('K', 'c', 1006).seq).toBe(4);
  });
});

describe('tws heartbeat', () => {
  it('pings every interval and stays quiet while replies come back', () => {
    const clock = new FakeClock();
    let pings = 0;
    let timeouts = 0;
    const hb = new Heartbeat(clock, { intervalMs: 60_000, ping: () => pings++, onTimeout: () => timeouts++ });
    hb.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(60_000);
      clock.advance(500);
      hb.ack();
    }
    expect(pings).toBe(3);
    expect(timeouts).toBe(0);
    hb.stop();
  });
  it('times out once when no reply comes within the bound, and stops pinging', () => {
    const clock = new FakeClock();
    let pings = 0;
    const waited: number[] = [];
    const hb = new Heartbeat(clock, { intervalMs: 60_000, ping: () => pings++, onTimeout: (w) => waited.push(w) });
    hb.start();
    clock.advance(60_000);
    clock.advance(9_999);
    expect(waited).toEqual([]);
    clock.advance(1);
    expect(waited).toEqual([10_000]);
    clock.advance(600_000);
    expect(pings).toBe(1);
    expect(waited).toHaveLength(1);
  });
  it('keeps the first deadline when the bound equals the interval', () => {
    const clock = new FakeClock();
    let pings = 0;
    const waited: number[] = [];
    const hb = new Heartbeat(clock, { intervalMs: 1000, ping: () => pings++, onTimeout: (w) => waited.push(w) });
    hb.start();
    clock.advance(2000);
    expect(waited).toEqual([1000]);
    expect(pings).toBe(1);
  });
});

describe('tws backoff', () => {
  it('doubles from the base, caps at the max, and jitters within [half, full]', () => {
    const policy = TWS_BACKOFF;
    expect(policy).toMatchObject({ baseMs: 500, maxMs: 30_000 });
    expect(backoffDelay(0, policy, () => 0)).toBe(250);
    expect(backoffDelay(0, policy, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, policy, () => 0)).toBe(15_000);
    expect(backoffDelay(20, policy, () => 0.999999)).toBe(30_000);
  });
});
