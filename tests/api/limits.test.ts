import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { ApiLimits } from '../../src/api/limits.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { StorageError } from '../../src/db/errors.js';
import type { SnapshotRecord, Storage } from '../../src/db/types.js';

const log = pino({ level: 'silent' });

/** A storage whose snapshot reads wait until released (or fail with `fail`), to hold requests in flight. */
function heldStorage(fail?: () => Error) {
  const waiting: Array<() => void> = [];
  const never = async () => {
    throw new Error('not used');
  };
  const storage: Storage = {
    kind: 'postgres', writeSnapshots: never, replacePositions: never, writeTrades: never, latestSnapshots: never, listPositions: never,
    listAlerts: never, listTrades: never, query: never, ensurePartitions: async () => {}, dropSnapshotsBefore: async () => [], close: async () => {},
    querySnapshots: () => {
      if (fail) return Promise.reject(fail());
      return new Promise<SnapshotRecord[]>((resolve) => waiting.push(() => resolve([])));
    },
  };
  return { storage, waiting, releaseAll: () => waiting.splice(0).forEach((f) => f()) };
}

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function api(storage: Storage, limits: Partial<ApiLimits>, clock = new FakeClock(), logger = log, cpuMeter?: () => number): Promise<FastifyInstance> {
  const pipeline = new Pipeline({ storage, config: readAppConfig({}), log, journal: new MemoryJournal() });
  const app = await buildApi({ pipeline, storage, log: logger, clock, cpuMeter, limits: { maxConcurrent: 16, requestTimeoutMs: 10_000, statementTimeoutMs: 5000, heavyMaxConcurrent: 100, ...limits } });
  cleanup.push(() => pipeline.stop(100), () => app.close());
  return app;
}

/** A distinct snapshots URL per call: identical heavy reads would share one query (coalesce.ts). */
let n = 0;
const snapshots = () => `/v1/greeks/snapshots?limit=${++n}`;

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
};

describe('API back-pressure', () => {
  it('answers 503 + Retry-After at once over the concurrency limit; health and metrics still answer; slots come back', async () => {
    const held = heldStorage();
    const app = await api(held.storage, { maxConcurrent: 2 });
    const first = [app.inject(snapshots()), app.inject(snapshots())];
    await until(() => held.waiting.length === 2);
    const busy = await app.inject(snapshots());
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json().error).toBe('the API is busy (2 requests in flight, API_MAX_CONCURRENT): retry after 1 s');
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    const metrics = await app.inject('/metrics');
    expect(metrics.body).toMatch(/^riskwire_api_rejected_total\{reason="busy"\} 1$/m);
    expect(metrics.body).toMatch(/^riskwire_api_in_flight 2$/m);
    held.releaseAll();
    expect((await Promise.all(first)).map((r) => r.statusCode)).toEqual([200, 200]);
    const again = app.inject(snapshots());
    await until(() => held.waiting.length === 1);
    held.releaseAll();
    expect((await again).statusCode).toBe(200);
  });

  it('answers 503 naming API_REQUEST_TIMEOUT_MS when a request runs past it, and frees its slot', async () => {
    const held = heldStorage();
    const clock = new FakeClock();
    const app = await api(held.storage, { maxConcurrent: 1, requestTimeoutMs: 100 }, clock);
    const pending = app.inject(snapshots());
    await until(() => held.waiting.length === 1);
    clock.advance(99);
    await new Promise((r) => setImmediate(r));
    expect(held.waiting).toHaveLength(1); // not yet
    clock.advance(1);
    const res = await pending;
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatch(/^the request took longer than 100 ms \(API_REQUEST_TIMEOUT_MS\): narrow the query/);
    held.releaseAll();
    const next = app.inject(snapshots());
    await until(() => held.waiting.length === 1);
    held.releaseAll();
    expect((await next).statusCode).toBe(200);
  });

  it('queues past the limit: a waiting request is served when a slot frees; a full queue is a 503 + Retry-After at once', async () => {
    const held = heldStorage();
    const app = await api(held.storage, { maxConcurrent: 1, queueMax: 1, queueWaitMs: 1000 });
    const first = app.inject(snapshots());
    await until(() => held.waiting.length === 1);
    const second = app.inject(snapshots()); // waits for the slot
    for (let i = 0; i < 200 && !/^riskwire_api_queued 1$/m.test((await app.inject('/metrics')).body); i++) await new Promise((r) => setImmediate(r));
    const full = await app.inject(snapshots());
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBe('1');
    expect(full.json().error).toBe('the API is busy (1 requests in flight, API_MAX_CONCURRENT; 1 waiting, API_QUEUE_MAX): retry after 1 s');
    expect((await app.inject('/metrics')).body).toMatch(/^riskwire_api_queued 1$/m);
    expect(held.waiting).toHaveLength(1); // the queued one has not reached the database
    held.releaseAll();
    expect((await first).statusCode).toBe(200);
    await until(() => held.waiting.length === 1); // the slot passed to the waiting request
    held.releaseAll();
    expect((await second).statusCode).toBe(200);
  });

  it('a request that waits longer than API_QUEUE_WAIT_MS for a slot gets 503 + Retry-After', async () => {
    const held = heldStorage();
    const clock = new FakeClock();
    const app = await api(held.storage, { maxConcurrent: 1, queueMax: 10, queueWaitMs: 500, requestTimeoutMs: 10_000 }, clock);
    const first = app.inject(snapshots());
    await until(() => held.waiting.length === 1);
    const second = app.inject(snapshots());
    await until(() => clock.pending() === 2); // first's request timer + second's queue timer
    clock.advance(500);
    const res = await second;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error).toBe('the API is busy (no slot within 500 ms (API_QUEUE_WAIT_MS)): retry after 1 s');
    held.releaseAll();
    expect((await first).statusCode).toBe(200);
    expect(held.waiting).toHaveLength(0); // the refused request never ran
  });

  it('API_CPU_BUDGET_PCT: once the API\'s CPU budget is spent, a request waits with slots free, and starts after half of API_QUEUE_WAIT_MS (no 503)', async () => {
    const held = heldStorage();
    const clock = new FakeClock();
    let cpu = 0; // the API thread's CPU clock (threadCpuMeter in the thread), driven by hand
    const app = await api(held.storage, { maxConcurrent: 16, queueMax: 10, queueWaitMs: 2000, cpuBudgetPct: 10 }, clock, log, () => cpu);
    const first = app.inject(snapshots());
    await until(() => held.waiting.length === 1); // a lone request within the burst starts at once
    cpu += 300; // it cost 300 ms of CPU: 200 ms over the 100 ms burst = 2 s at 10 % of a core
    held.releaseAll();
    expect((await first).statusCode).toBe(200);
    const paced = app.inject(snapshots());
    await until(() => clock.pending() >= 1);
    expect((await app.inject('/healthz')).statusCode).toBe(200); // not counted, not paced
    await clock.advanceAsync(900, 100);
    expect(held.waiting).toHaveLength(0); // 15 slots free, yet it waits
    await clock.advanceAsync(200, 100); // 1.1 s: past half of API_QUEUE_WAIT_MS
    await until(() => held.waiting.length === 1);
    held.releaseAll();
    expect((await paced).statusCode).toBe(200);
  });

  it('after a request timeout the handler finishing late sends nothing more (no FST_ERR_REP_ALREADY_SENT), resolved or failed', async () => {
    for (const outcome of ['resolve', 'reject'] as const) {
      const lines: string[] = [];
      const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) });
      const waiting: Array<{ ok(): void; fail(): void }> = [];
      const base = heldStorage().storage;
      const storage: Storage = {
        ...base,
        querySnapshots: () => new Promise<SnapshotRecord[]>((resolve, reject) => waiting.push({ ok: () => resolve([]), fail: () => reject(new Error('late failure')) })),
      };
      const clock = new FakeClock();
      const app = await api(storage, { maxConcurrent: 1, requestTimeoutMs: 100 }, clock, logger);
      const pending = app.inject(snapshots());
      await until(() => waiting.length === 1);
      clock.advance(100);
      const res = await pending;
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.json().error).toMatch(/^the request took longer than 100 ms \(API_REQUEST_TIMEOUT_MS\)/);
      if (outcome === 'resolve') waiting[0].ok();
      else waiting[0].fail();
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      const text = lines.join('');
      expect(text).not.toMatch(/already sent|FST_ERR_REP_ALREADY_SENT|Promise errored/i);
      expect(text).not.toMatch(/"level":50/); // no error line at all
      expect(text).toMatch(/API request timed out/);
      // The slot came back: the next request is served.
      const next = app.inject(snapshots());
      await until(() => waiting.length === 2);
      waiting[1].ok();
      expect((await next).statusCode).toBe(200);
    }
  });

  it('identical heavy reads share one database query; a different one queues behind the heavy gate', async () => {
    const held = heldStorage();
    const app = await api(held.storage, { heavyMaxConcurrent: 1, queueMax: 10, queueWaitMs: 1000 });
    const same = [app.inject('/v1/greeks/snapshots?limit=5'), app.inject('/v1/greeks/snapshots?limit=5')];
    const other = app.inject('/v1/greeks/snapshots?limit=6');
    await until(() => held.waiting.length === 1);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(held.waiting).toHaveLength(1); // one query for the two identical requests; the other waits for the heavy slot
    held.releaseAll();
    expect((await Promise.all(same)).map((r) => r.statusCode)).toEqual([200, 200]);
    await until(() => held.waiting.length === 1);
    held.releaseAll();
    expect((await other).statusCode).toBe(200);
  });

  it('a read cancelled by the statement timeout is a 503 naming API_STATEMENT_TIMEOUT_MS', async () => {
    const held = heldStorage(() => new StorageError('querySnapshots failed (57014): canceling statement due to statement timeout', false, '57014'));
    const app = await api(held.storage, { statementTimeoutMs: 250 });
    const res = await app.inject(snapshots());
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatch(/^the query ran longer than 250 ms \(API_STATEMENT_TIMEOUT_MS\)/);
  });

  it('does not count or time out a client asking for an event stream', async () => {
    const held = heldStorage();
    const clock = new FakeClock();
    const app = await api(held.storage, { maxConcurrent: 1, requestTimeoutMs: 50 }, clock);
    const sse = app.inject({ url: snapshots(), headers: { accept: 'text/event-stream' } });
    await until(() => held.waiting.length === 1);
    expect(clock.pending()).toBe(0); // no request timer for an exempt request
    const other = app.inject(snapshots());
    await until(() => held.waiting.length === 2); // the exempt one held no slot
    held.releaseAll();
    expect((await sse).statusCode).toBe(200);
    expect((await other).statusCode).toBe(200);
  });
});
