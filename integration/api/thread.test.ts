import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readApiLimits } from '../../src/api/limits.js';
import { startApiThread, type ApiThread } from '../../src/api/thread/host.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { openSse } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

/**
 * serve's API on PostgreSQL (D73): a worker thread of its own with its own read pool, the
 * pipeline seen through messages. Real sockets, a real sim actor in its worker, real PostgreSQL.
 */
describePg('the API in a thread of its own', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let api: ApiThread;
  let base: string;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    api = await startApiThread({
      pipeline, storage: t.storage, target: t.storage.target!, limits: readApiLimits({}), host: '127.0.0.1', port: 0, log: testLogger, actorFlags: { rate: '100' },
    });
    base = `http://127.0.0.1:${api.port}`;
  });
  afterAll(async () => {
    await api?.close();
    await pipeline?.stop();
    await t?.close();
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : await res.text() };
  };

  it('starts an actor on request; status, snapshots, timeline, trades and /metrics answer from the thread', async () => {
    const started = await call('POST', '/v1/streaming/start', { broker: 'sim' });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ result: 'started', actor: 'sim', phase: 'running' });
    // Rows flushed by the pipeline's thread show in the thread's status (its state messages) and in the database.
    const written = await waitFor(async () => {
      const s = await call('GET', '/v1/streaming/status');
      return s.body.processor.rows_written > 0 && s.body;
    }, 'rows written in the status');
    expect(written.actors.map((a: { actor: string; state: string }) => a.actor)).toEqual(['sim']);
    const snaps = await call('GET', '/v1/greeks/snapshots?limit=3');
    expect(snaps.status).toBe(200);
    expect(snaps.body.count).toBe(3);
    const timeline = await call('GET', '/v1/risk/timeline?since=10m&bucket=1m');
    expect(timeline.status).toBe(200);
    expect(timeline.body.rows.length).toBeGreaterThan(0);
    const trade = { broker: 'manual', account: 'ACC1', trade_id: 'thread-1', contract_key: 'SPY   251219C00500000', side: 'buy', quantity: 2, price: 3.1, executed_at: new Date().toISOString() };
    expect((await call('POST', '/v1/trades', trade)).status).toBe(201);
    expect((await call('POST', '/v1/trades', trade)).body).toMatchObject({ duplicate: true });
    expect((await call('GET', '/v1/trades?broker=manual')).body.count).toBe(1);
    const metrics = await call('GET', '/metrics');
    expect(metrics.body).toMatch(/^riskwire_rows_written_total [1-9]/m);
    const bad = await call('POST', '/v1/streaming/start', { broker: 'sim', actor: 'sim' });
    expect(bad.body.result).toBe('already running');
  });

  it('answers while the pipeline\'s thread is blocked: the request never waits on it', () => {
    // spawnSync blocks this (the pipeline's) thread until curl exits: an API on this thread could not answer.
    for (const path of ['/healthz', '/v1/streaming/status', '/v1/greeks/snapshots?limit=1']) {
      const r = spawnSync('curl', ['-sS', '--max-time', '30', `${base}${path}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toBeTypeOf('object');
    }
  });

  it('streams the pipeline\'s latest Greeks to /v1/events through the thread', async () => {
    const sse = await openSse(`${base}/v1/events`);
    try {
      expect(sse.status).toBe(200);
      await waitFor(() => sse.events.some((e) => e.event === 'greeks' && e.data.rows.length > 0), 'greeks rows on /v1/events');
      expect(sse.events.find((e) => e.event === 'status')?.data.actors[0].actor).toBe('sim');
    } finally {
      sse.close();
    }
    const stopped = await call('POST', '/v1/streaming/stop', { broker: 'sim' });
    expect(stopped.body).toMatchObject({ result: 'stopped', phase: 'stopped' });
  });
});
