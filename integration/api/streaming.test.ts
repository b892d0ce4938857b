import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'test-token-0123456789abcdef';

interface ActorJson {
  actor: string;
  broker: string;
  state: string;
  phase: string;
  events_in: number;
  events_out: number;
}

/** Two sim actors in real worker threads, the API on a real socket (port 0), bearer token on. */
describe('start/stop of one actor over HTTP leaves the other streaming', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    t = await openTestStorage('pglite');
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, token: TOKEN, actorFlags: { rate: '50' } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    await pipeline.startActor({ id: 'sim-a', broker: 'sim', flags: { rate: '50' } });
    await pipeline.startActor({ id: 'sim-b', broker: 'sim', flags: { rate: '50', seed: '2' } });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown, token: string | null = TOKEN) => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? await res.json() : await res.text() };
  };
  const actors = async (): Promise<Record<string, ActorJson>> =>
    Object.fromEntries(((await call('GET', '/v1/streaming/status')).body.actors as ActorJson[]).map((a) => [a.actor, a]));

  it('every route needs the bearer token, /metrics included', async () => {
    for (const path of ['/v1/streaming/status', '/metrics', '/v1/trades']) {
      const r = await call('GET', path, undefined, null);
      expect(r.status).toBe(401);
      expect(r.body.error).toMatch(/bearer token/);
      expect((await call('GET', path, undefined, 'wrong-token-0123456789')).status).toBe(401);
    }
  });

  it('reports both actors connected with events flowing', async () => {
    await waitFor(async () => {
      const a = await actors();
      return a['sim-a']?.state === 'connected' && a['sim-b']?.state === 'connected' && a['sim-a'].events_in > 0 && a['sim-b'].events_in > 0;
    }, 'both sim actors to stream');
    const a = await actors();
    expect(a['sim-a'].events_out).toBeGreaterThan(0);
  });

  it('stops sim-a only: sim-a stays still, sim-b keeps counting', async () => {
    const r = await call('POST', '/v1/streaming/stop', { broker: 'sim', actor: 'sim-a' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ result: 'stopped', actor: 'sim-a', state: 'stopped' });
    const before = await actors();
    await waitFor(async () => (await actors())['sim-b'].events_in > before['sim-b'].events_in + 20, 'sim-b to keep streaming');
    const after = await actors();
    expect(after['sim-a'].events_in).toBe(before['sim-a'].events_in);
    expect(after['sim-a'].state).toBe('stopped');
    expect(after['sim-b'].state).toBe('connected');
    expect((await call('POST', '/v1/streaming/stop', { broker: 'sim', actor: 'sim-a' })).body.result).toBe('already stopped');
  });

  it('starts sim-a again (idempotently) without touching sim-b', async () => {
    const b = (await actors())["sim-b"];
    const r = await call('POST', '/v1/streaming/start', { broker: 'sim', actor: 'sim-a' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ result: 'started', actor: 'sim-a', phase: 'running' });
    const again = await call('POST', '/v1/streaming/start', { broker: 'sim', actor: 'sim-a' });
    expect(again.status).toBe(200);
    expect(again.body.result).toBe('already running');
    const before = (await actors())['sim-a'].events_in;
    await waitFor(async () => (await actors())['sim-a'].events_in > before, 'sim-a to stream again');
    expect((await actors())['sim-b']).toMatchObject({ state: 'connected', phase: 'running' });
    expect((await actors())['sim-b'].events_in).toBeGreaterThanOrEqual(b.events_in);
  });

  it('refuses to reuse an actor name for another broker (409)', async () => {
    const r = await call('POST', '/v1/streaming/start', { broker: 'tasty', actor: 'sim-b' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/actor sim-b runs broker sim/);
  });

  it('exposes each actor state and reconnects in /metrics', async () => {
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/riskwire_actor_state\{actor="sim-b",broker="sim",state="connected"\} 1/);
    expect(r.body).toMatch(/riskwire_actor_reconnects_total\{actor="sim-a",broker="sim"\} \d+/);
  });
});
