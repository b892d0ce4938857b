import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { riskTimeline } from '../../src/db/timeline.js';
import { loadTimelineWeights } from '../../src/risk/timelineWeights.js';
import { parsePrometheus } from '../../tests/api/prometheus.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { FIXTURE, T0 } from '../timeline/fixture.js';

const iso = (sec: number) => new Date(T0 + sec * 1000).toISOString();

describe('HTTP API routes over a real database (app.inject)', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestStorage('pglite');
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots(FIXTURE);
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, now: () => T0 + 240_000 });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });

  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };
  const post = async (url: string, payload: unknown) => {
    const res = await app.inject({ method: 'POST', url, payload: payload as object });
    return { status: res.statusCode, body: res.json() };
  };

  describe('GET /v1/greeks/snapshots', () => {
    it('returns the filtered snapshots newest first, times as ISO', async () => {
      const r = await get(`/v1/greeks/snapshots?broker=tasty&contract_key=SPY251219C00500000&to=${T0 + 300_000}`);
      expect(r.status).toBe(200);
      expect(r.body.snapshots.map((s: { event_ts: string; seq: number; delta: number }) => [s.event_ts, s.seq, s.delta])).toEqual([
        [iso(70), 1, 0.6], [iso(70), 0, 0.55], [iso(10), 0, 0.5],
      ]);
      expect(r.body.snapshots[0]).toMatchObject({ broker: 'tasty', account: 'ACC1', contract_key: 'SPY   251219C00500000', quantity: 2, multiplier: 100 });
    });

    it('honours limit, from (epoch ms or ISO) and underlying', async () => {
      expect((await get('/v1/greeks/snapshots?limit=2')).body.count).toBe(2);
      const r = await get(`/v1/greeks/snapshots?underlying=qqq&from=${encodeURIComponent(iso(0))}`);
      expect(r.body.snapshots.map((s: { contract_key: string }) => s.contract_key)).toEqual(['QQQ   251219C00400000']);
    });

    it.each([
      ['limit=0', /limit=0 is not valid: use a whole number from 1 to 10000/],
      ['limit=10001', /from 1 to 10000/],
      ['from=yesterday', /from=yesterday is not a time/],
      ['contractKey=x', /unknown parameter contractKey/],
      ['broker=a&broker=b', /broker is given more than once/],
    ])('400 for %s, with the reason', async (qs, message) => {
      const r = await get(`/v1/greeks/snapshots?${qs}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(message);
    });
  });

  describe('GET /v1/risk/timeline', () => {
    it('gives the same numbers as the query behind npm run timeline', async () => {
      const r = await get(`/v1/risk/timeline?from=${T0}&to=${T0 + 240_000}&bucket=1m&stale=3m&all_accounts=true`);
      expect(r.status).toBe(200);
      const direct = await riskTimeline(t.storage, { from: T0, to: T0 + 240_000, bucketMs: 60_000, staleMs: 180_000, allAccounts: true });
      expect(r.body.rows).toHaveLength(direct.length);
      expect(r.body.rows[1]).toMatchObject({ as_of: iso(60), underlying: 'SPY', positions: 3, brokers: 2 });
      expect(r.body.rows[1].delta).toBeCloseTo(110, 9);
      r.body.rows.forEach((row: { delta: number; dollar_delta: number | null }, i: number) => {
        expect(row.delta).toBe(direct[i].delta);
        expect(row.dollar_delta).toBe(direct[i].dollarDelta);
      });
      expect(r.body).toMatchObject({ bucket_ms: 60_000, stale_ms: 180_000, all_accounts: true, from: iso(0) });
    });

    it('adds bwd (benchmark SPY at each bucket\'s price, null without a beta) and unrealized_pnl, as the CLI query', async () => {
      const r = await get(`/v1/risk/timeline?from=${T0}&to=${T0 + 120_000}&bucket=1m&stale=3m&benchmark=spy`);
      expect(r.status).toBe(200);
      expect(r.body.benchmark).toBe('SPY');
      const weights = await loadTimelineWeights(t.storage, 'SPY', { betas: new Map() });
      const direct = await riskTimeline(t.storage, { from: T0, to: T0 + 120_000, bucketMs: 60_000, staleMs: 180_000, weights });
      expect(r.body.rows.map((x: { bwd: number | null; unrealized_pnl: number | null }) => [x.bwd, x.unrealized_pnl]))
        .toEqual(direct.map((d) => [d.bwd, d.unrealizedPnl]));
      const spy = r.body.rows.find((x: { as_of: string; underlying: string; account: string }) => x.as_of === iso(60) && x.underlying === 'SPY' && x.account === 'ACC1');
      expect(spy.bwd).toBeCloseTo(39980 / 501, 9); // $delta / SPY's price at 60 s (C's 501, fixture.ts); beta(SPY) = 1
      expect(spy.benchmark_price).toBe(501);
      expect(r.body.rows.filter((x: { underlying: string }) => x.underlying === 'QQQ').every((x: { bwd: null }) => x.bwd === null)).toBe(true);
    });

    it('400 for a benchmark that is not a symbol', async () => {
      const r = await get('/v1/risk/timeline?since=2m&benchmark=not%20a%20symbol');
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/benchmark "NOT A SYMBOL" is not a symbol/);
    });

    it('takes since relative to now and the same filters', async () => {
      const r = await get('/v1/risk/timeline?since=2m&stale=3m&broker=ibkr&underlying=QQQ');
      expect(r.body.rows.map((x: { as_of: string; account: string; delta: number }) => [x.as_of, x.account, x.delta])).toEqual([
        [iso(180), 'U1', 50], [iso(240), 'U1', 50],
      ]);
    });

    it('tz aligns buckets to the zone\'s wall clock as the CLI --tz (a 1d bucket is a New York day); times stay UTC', async () => {
      const range = `from=${T0}&to=${T0 + 240_000}&bucket=1d&stale=3m&all_accounts=true`;
      const utc = await get(`/v1/risk/timeline?${range}`);
      const ny = await get(`/v1/risk/timeline?${range}&tz=America/New_York`);
      expect(utc.body).toMatchObject({ tz: 'UTC', from: '2025-01-02T00:00:00.000Z' });
      expect(ny.status).toBe(200);
      expect(ny.body).toMatchObject({ tz: 'America/New_York', from: '2025-01-02T05:00:00.000Z' }); // EST midnight
      const direct = await riskTimeline(t.storage, { from: T0, to: T0 + 240_000, bucketMs: 86_400_000, staleMs: 180_000, allAccounts: true, alignOffsetMs: -5 * 3_600_000 });
      expect(ny.body.rows.map((x: { bucket_start: string; underlying: string; delta: number }) => [x.bucket_start, x.underlying, x.delta]))
        .toEqual(direct.map((d) => [new Date(d.bucketStart).toISOString(), d.underlying, d.delta]));
      expect(ny.body.rows[0].bucket_start).toBe('2025-01-02T05:00:00.000Z');
    });

    it.each([
      ['tz=Mars/Olympus', /^tz=Mars\/Olympus is not a time zone: use an IANA name such as America\/New_York/],
      ['tz=', /^tz needs a zone name/],
      ['bucket=soon', /bucket=soon is not a duration/],
      ['since=1h&from=1', /since and from\/to exclude each other/],
      ['since=30d&bucket=1s', /at most 5000/],
      ['all_accounts=maybe', /all_accounts=maybe is not valid/],
    ])('400 for %s, with the reason', async (qs, message) => {
      const r = await get(`/v1/risk/timeline?${qs}`);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(message);
    });
  });

  describe('/v1/trades', () => {
    const trade = { broker: 'manual', account: 'ACC1', trade_id: 'fill-1', contract_key: 'SPY   251219C00500000', side: 'buy', quantity: 2, price: 3.1, executed_at: iso(30) };

    it('records a trade (201), treats a repeat of (broker, trade_id) as done (200), and lists it', async () => {
      const first = await post('/v1/trades', trade);
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ created: true, trade: { ...trade, source: 'manual' } });
      const again = await post('/v1/trades', { ...trade, price: 9 });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, duplicate: true, trade_id: 'fill-1' });
      const list = await get('/v1/trades?broker=manual&contract_key=SPY251219C00500000');
      expect(list.body.trades).toEqual([{ ...trade, source: 'manual', fee: null }]); // the first one is kept; no fee given = null
    });

    it('400 for a bad body, with the reason', async () => {
      expect((await post('/v1/trades', { ...trade, side: 'hold' })).body.error).toMatch(/side must be/);
      const res = await app.inject({ method: 'POST', url: '/v1/trades', headers: { 'content-type': 'application/json' }, payload: '{bad' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatch(/not valid JSON/);
    });

    it('400 for bad list filters', async () => {
      expect((await get('/v1/trades?limit=abc')).status).toBe(400);
      expect((await get('/v1/trades?underlying=SPY')).body.error).toMatch(/unknown parameter underlying/);
    });
  });

  describe('streaming control errors', () => {
    it('an unknown broker is a 400 naming the valid ones', async () => {
      const r = await post('/v1/streaming/start', { broker: 'nope' });
      expect(r.status).toBe(400);
      expect(r.body.error).toMatch(/unknown broker "nope": use one of .*tasty.*ibkr.*sim|unknown broker "nope": use one of .*sim/);
    });

    it('a body that is not an object, or has unknown fields, is a 400', async () => {
      expect((await post('/v1/streaming/start', ['sim'])).status).toBe(400);
      expect((await post('/v1/streaming/stop', { broker: 'sim', force: true })).body.error).toMatch(/unknown field force/);
    });

    it('stopping an actor that does not exist is a 404 listing the actors', async () => {
      const r = await post('/v1/streaming/stop', { broker: 'sim' });
      expect(r.status).toBe(404);
      expect(r.body.error).toMatch(/no actor named sim/);
    });

    it('status lists no actors and the processor counters', async () => {
      const r = await get('/v1/streaming/status');
      expect(r.status).toBe(200);
      expect(r.body.actors).toEqual([]);
      expect(r.body.processor).toMatchObject({ events_in: 0, rows_written: 0, queue_depth: 0 });
    });
  });

  it('GET /metrics is Prometheus text', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(parsePrometheus(res.body).types.riskwire_persist_latency_seconds).toBe('histogram');
  });

  it('an unknown route is a JSON 404', async () => {
    const r = await get('/v1/nope');
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/no route GET \/v1\/nope/);
  });
});
