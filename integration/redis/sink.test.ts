/**
 * The Redis fan-out against the local server (shared: a unique key prefix per run, cleaned up).
 * The sink's flush timer runs on a FakeClock and the tests call flush() themselves; Redis I/O is real.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import { RedisSink } from '../../src/redis/sink.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { cleanPrefix, describeRedis, REDIS_TEST_URL, subscriber, uniquePrefix } from './helpers.js';

describeRedis('redis sink: keys, TTL, pub/sub, conflation, outage', () => {
  const prefix = uniquePrefix();
  let admin: Redis;
  const sinks: RedisSink[] = [];
  const make = (url = REDIS_TEST_URL, clock = new FakeClock()) => {
    const sink = new RedisSink({ url, clock, log: testLogger, prefix, commandTimeoutMs: 500 });
    sinks.push(sink);
    sink.start();
    return { sink, clock };
  };
  beforeAll(() => { admin = new Redis(REDIS_TEST_URL); });
  afterEach(async () => {
    for (const s of sinks.splice(0)) await s.close();
    await cleanPrefix(admin, prefix);
  });
  afterAll(async () => {
    await cleanPrefix(admin, prefix);
    admin.disconnect();
  });

  it('writes price:{symbol} {price,bid,ask,timestamp} with a 300 s TTL and publishes price.updated {symbol,price}, conflated per flush', async () => {
    const sub = await subscriber([`${prefix}price.updated`]);
    try {
      const { sink, clock } = make();
      await waitFor(() => sink.stats().up, 'the sink to connect');
      const t = clock.now();
      sink.offerPrice({ symbol: 'SPY', price: 500, bid: 499.99, ask: 500.01, at: t - 30 });
      sink.offerPrice({ symbol: 'SPY', price: 501, bid: 500.99, ask: 501.01, at: t - 20 });
      sink.offerPrice({ symbol: 'QQQ', price: 400.5, bid: 400.4, ask: 400.6, at: t - 10 });
      sink.offerPrice({ symbol: 'SPY', price: 502.5, bid: 502.49, ask: 502.51, at: t });
      expect(sink.stats().pendingKeys).toBe(2);
      await sink.flush();

      expect(JSON.parse((await admin.get(`${prefix}price:SPY`))!)).toEqual({ price: 502.5, bid: 502.49, ask: 502.51, timestamp: new Date(t).toISOString() });
      expect(JSON.parse((await admin.get(`${prefix}price:QQQ`))!)).toEqual({ price: 400.5, bid: 400.4, ask: 400.6, timestamp: new Date(t - 10).toISOString() });
      const ttl = await admin.pttl(`${prefix}price:SPY`);
      expect(ttl).toBeGreaterThan(295_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
      await waitFor(() => sub.messages.length >= 2, 'two price.updated messages');
      // One message per symbol per flush: the latest price, not one per tick.
      expect(sub.messages.map((m) => JSON.parse(m.message)).sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([{ symbol: 'QQQ', price: 400.5 }, { symbol: 'SPY', price: 502.5 }]);
      const s = sink.stats();
      expect(s).toMatchObject({ conflated: 2, dropped: 0, keysWritten: 2, published: 2, flushes: 1, pendingKeys: 0 });
      expect(s.updates.price).toBe(4);

      // Nothing new: a flush sends nothing.
      await sink.flush();
      expect(sink.stats().flushes).toBe(1);
    } finally {
      sub.close();
    }
  });

  it('writes greeks:{contract_key}, risk:summary and risk:pnl (replaced whole: a closed position disappears)', async () => {
    const sub = await subscriber([`${prefix}risk.updated`]);
    try {
      const { sink, clock } = make();
      await waitFor(() => sink.stats().up, 'the sink to connect');
      const key = 'SPY   261219C00500000';
      sink.offerGreeks({
        broker: 'sim', account: 'A1', contractKey: key, underlying: 'SPY', bid: 10, ask: 10.2, mark: 10.1, underlyingPrice: 502,
        iv: 0.2, delta: 0.55, gamma: 0.01, theta: -0.05, vega: 0.3, rho: 0.1, eventTs: clock.now(),
      });
      const pos = (ck: string, pnl: number) => ({ broker: 'sim', account: 'A1', contract_key: ck, unrealized_pnl: pnl });
      sink.offerRisk({ asOf: clock.now(), summary: { totals: { delta: 55 } }, totals: { delta: 55 }, positions: [pos(key, 120), pos('SPY', -30)] });
      await sink.flush();
      expect(JSON.parse((await admin.get(`${prefix}greeks:${key}`))!)).toMatchObject({ contract_key: key, delta: 0.55, mark: 10.1, underlying_price: 502 });
      expect(JSON.parse((await admin.get(`${prefix}risk:summary`))!)).toEqual({ totals: { delta: 55 } });
      const pnl = await admin.hgetall(`${prefix}risk:pnl`);
      expect(Object.keys(pnl).sort()).toEqual([`sim|A1|${key}`, 'sim|A1|SPY'].sort());
      expect(JSON.parse(pnl[`sim|A1|${key}`]!).unrealized_pnl).toBe(120);
      expect(await admin.pttl(`${prefix}risk:pnl`)).toBeGreaterThan(295_000);

      sink.offerRisk({ asOf: clock.now(), summary: { totals: { delta: 0 } }, totals: { delta: 0 }, positions: [pos('SPY', -40)] });
      await sink.flush();
      expect(Object.keys(await admin.hgetall(`${prefix}risk:pnl`))).toEqual(['sim|A1|SPY']);
      await waitFor(() => sub.messages.length >= 2, 'two risk.updated messages');
      expect(JSON.parse(sub.messages[1]!.message).totals).toEqual({ delta: 0 });
    } finally {
      sub.close();
    }
  });

  it('Redis away: drops and counts, never queues in the client; on reconnect writes the latest state again', async () => {
    const proxy: TcpProxy = await startProxy(Number(new URL(REDIS_TEST_URL).port || 6379), new URL(REDIS_TEST_URL).hostname);
    try {
      const { sink, clock } = make(proxy.url(REDIS_TEST_URL));
      await waitFor(() => sink.stats().up, 'the sink to connect');
      sink.offerPrice({ symbol: 'SPY', price: 500, bid: null, ask: null, at: clock.now() });
      await sink.flush();
      expect(JSON.parse((await admin.get(`${prefix}price:SPY`))!).price).toBe(500);

      proxy.cut();
      await waitFor(() => !sink.stats().up, 'the sink to see the outage');
      for (let i = 1; i <= 5; i++) sink.offerPrice({ symbol: 'SPY', price: 500 + i, bid: null, ask: null, at: clock.now() });
      await sink.flush(); // not ready: nothing sent, nothing buffered in the client
      expect(sink.stats()).toMatchObject({ up: false, dropped: 4, pendingKeys: 1, flushes: 1 });
      expect(JSON.parse((await admin.get(`${prefix}price:SPY`))!).price).toBe(500);
      // As if Redis had restarted empty meanwhile: the catch-up must rewrite unchanged keys too.
      sink.offerGreeks({ broker: 'sim', account: 'A1', contractKey: 'K', underlying: 'SPY', bid: null, ask: null, mark: null, underlyingPrice: null, iv: null, delta: 0.5, gamma: null, theta: null, vega: null, rho: null, eventTs: clock.now() });
      await admin.del(`${prefix}price:SPY`);

      proxy.restore();
      await waitFor(() => sink.stats().up, 'the sink to reconnect', 15_000);
      expect(sink.stats().reconnects).toBe(1);
      await sink.flush();
      expect(JSON.parse((await admin.get(`${prefix}price:SPY`))!).price).toBe(505);
      expect(JSON.parse((await admin.get(`${prefix}greeks:K`))!).delta).toBe(0.5);
      expect(sink.stats()).toMatchObject({ flushes: 2, pendingKeys: 0 });
    } finally {
      proxy.restore();
      for (const s of sinks.splice(0)) await s.close();
      await proxy.close();
    }
  });

  it('a key whose TTL ran out during the outage is not resurrected by the catch-up', async () => {
    const proxy = await startProxy(Number(new URL(REDIS_TEST_URL).port || 6379), new URL(REDIS_TEST_URL).hostname);
    try {
      const { sink, clock } = make(proxy.url(REDIS_TEST_URL));
      await waitFor(() => sink.stats().up, 'the sink to connect');
      proxy.cut();
      await waitFor(() => !sink.stats().up, 'the sink to see the outage');
      sink.offerPrice({ symbol: 'OLD', price: 1, bid: null, ask: null, at: clock.now() });
      clock.advance(301_000);
      sink.offerPrice({ symbol: 'NEW', price: 2, bid: null, ask: null, at: clock.now() });
      proxy.restore();
      await waitFor(() => sink.stats().up, 'the sink to reconnect', 15_000);
      await sink.flush();
      expect(await admin.exists(`${prefix}price:OLD`)).toBe(0);
      expect(JSON.parse((await admin.get(`${prefix}price:NEW`))!).price).toBe(2);
    } finally {
      proxy.restore();
      for (const s of sinks.splice(0)) await s.close();
      await proxy.close();
    }
  });
});

describeRedis('redis sink: /metrics families', () => {
  it('exports status and counters as riskwire_redis_*', async () => {
    const { Registry } = await import('prom-client');
    const { registerRedisMetrics } = await import('../../src/api/metrics/redis.js');
    const registry = new Registry();
    const stats = {
      up: true, updates: { price: 7, greeks: 3, risk: 1 }, conflated: 4, dropped: 2, keysWritten: 5, published: 2,
      flushes: 2, flushErrors: 1, reconnects: 1, pendingKeys: 0, lastFlushAt: 1_700_000_000_000, lastError: null,
    };
    registerRedisMetrics(registry, () => stats);
    const text = await registry.metrics();
    expect(text).toMatch(/^riskwire_redis_up 1$/m);
    expect(text).toMatch(/^riskwire_redis_updates_total\{kind="price"\} 7$/m);
    expect(text).toMatch(/^riskwire_redis_dropped_total 2$/m);
    expect(text).toMatch(/^riskwire_redis_reconnects_total 1$/m);
    expect(text).toMatch(/^riskwire_redis_last_flush_timestamp_seconds 1700000000$/m);
    stats.up = false;
    expect(await registry.metrics()).toMatch(/^riskwire_redis_up 0$/m);
  });
});
