import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { openSse, type SseStream } from '../helpers/sse.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'events-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

/** GET /v1/events over a real socket, fed by a sim actor in a real worker thread, API_TOKEN on. */
describe('GET /v1/events', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  let base: string;
  const streams: SseStream[] = [];
  beforeAll(async () => {
    t = await openTestStorage('pglite');
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, token: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '400' } });
  }, 90_000);
  afterAll(async () => {
    for (const s of streams) s.close();
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  }, 90_000);

  const ticket = async () => {
    const res = await fetch(`${base}/v1/events/ticket`, { method: 'POST', headers: auth });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.expires_in_ms).toBeGreaterThan(0);
    return body.ticket as string;
  };
  const open = async (query = '', headers: Record<string, string> = {}) => {
    const s = await openSse(`${base}/v1/events${query}`, headers);
    streams.push(s);
    return s;
  };

  it('needs the bearer token or a one-time ticket', async () => {
    expect((await open()).status).toBe(401);
    expect((await open('?ticket=made-up-ticket-value')).status).toBe(401);
    expect((await fetch(`${base}/v1/events/ticket`, { method: 'POST' })).status).toBe(401);
    const tk = await ticket();
    const first = await open(`?ticket=${tk}`);
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    expect((await open(`?ticket=${tk}`)).status).toBe(401); // used once: a leaked URL is useless
    // a ticket opens only the SSE streams, not the rest of the API
    expect((await fetch(`${base}/v1/streaming/status?ticket=${await ticket()}`)).status).toBe(401);
    const withHeader = await open('', auth);
    expect(withHeader.status).toBe(200);
    first.close();
    withHeader.close();
  });

  it('rejects unknown parameters with a 400', async () => {
    const res = await fetch(`${base}/v1/events?underlying=SPY`, { headers: auth });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/unknown parameter underlying/);
  });

  it('sends hello, a snapshot of every position, then conflated changes and the actor status', async () => {
    let updates = 0;
    const off = pipeline.processor.onLatest(() => updates++);
    const held = pipeline.processor.heldPositions().length;
    expect(held).toBeGreaterThanOrEqual(10);
    let s: SseStream;
    try {
      await waitFor(() => pipeline.processor.latestGreeks().length === held, `greeks for all ${held} sim positions`);
      s = await open(`?ticket=${await ticket()}`);
      await waitFor(() => s.events.filter((e) => e.event === 'greeks' && !e.data.snapshot).length >= 4, 'four greeks batches');
    } finally {
      off();
    }
    const [hello, snapshot] = s.events;
    expect(hello).toMatchObject({ event: 'hello', data: { risk: true, alerts: true } }); // buildApi always has the risk engine
    expect(snapshot.event).toBe('greeks');
    expect(snapshot.data.snapshot).toBe(true);
    expect(snapshot.data.rows.length).toBe(held);
    expect(Object.keys(snapshot.data.rows[0]).sort()).toEqual([
      'account', 'ask', 'bid', 'broker', 'contract_key', 'delta', 'event_ts', 'gamma', 'iv', 'mark', 'multiplier',
      'quantity', 'received_at', 'theta', 'underlying', 'underlying_price', 'vega',
    ]);
    const status = s.events.find((e) => e.event === 'status');
    expect(status?.data.actors).toEqual([expect.objectContaining({ actor: 'sim', broker: 'sim', state: 'connected' })]);
    const batches = s.events.filter((e) => e.event === 'greeks' && !e.data.snapshot).map((e) => e.data.rows as { broker: string; account: string; contract_key: string }[]);
    let sent = 0;
    for (const rows of batches) {
      const keys = rows.map((r) => `${r.broker}|${r.account}|${r.contract_key}`);
      expect(new Set(keys).size).toBe(keys.length); // one row per position per batch
      sent += rows.length;
    }
    // 400 updates/s over the sim's positions: the page gets at most one row per position per batch, never every tick
    expect(sent).toBeLessThan(updates);
    expect(sent).toBeLessThanOrEqual(batches.length * held);
    s.close();
  });

  it('drops the processor listener when the last page leaves', async () => {
    const s = await open('', auth);
    await waitFor(() => s.events.length >= 2, 'the first events');
    s.close();
    for (const other of streams) other.close();
    // once every stream is gone the hub stops: no greeks listener left on the processor
    await waitFor(() => ((pipeline.processor as unknown as { listeners: Set<unknown> }).listeners.size === 0), 'the hub to stop');
  });

  it('ends open streams when the server closes', async () => {
    const log = testLogger;
    const other = await buildApi({ pipeline, storage: t.storage, log });
    await other.listen({ host: '127.0.0.1', port: 0 });
    const s = await openSse(`http://127.0.0.1:${(other.server.address() as { port: number }).port}/v1/events`);
    await waitFor(() => s.events.length >= 2, 'the first events');
    await other.close(); // would wait forever on the open stream without the preClose hook
    await s.ended;
  });
});
