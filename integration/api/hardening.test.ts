/**
 * The API against hostile or careless input over a real database (both backends): a small fuzz
 * of every route's parameters and bodies (every answer a 2xx or a 400 with a one-line reason,
 * never a 500), the Host check on a real socket, /healthz and /openapi.json, and the API's
 * statement timeout on its own PostgreSQL pool.
 */
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readApiLimits } from '../../src/api/limits.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { StorageError } from '../../src/db/errors.js';
import { openReadStorage } from '../../src/db/index.js';
import { describeBackends, describePg, freshPostgresUrl, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { FIXTURE, T0 } from '../timeline/fixture.js';

const NASTY = [
  '', ' ', '\u0000', 'a\u0000b', '%', '\u001b[31m', '\uffff', '😀', 'x'.repeat(5000), "'; DROP TABLE trades; --", '-1', '0', '1e400', '1.5',
  '9999999999999999', '99999999999999999999', '-9999999999999', '0000-01-01', '10000-01-01', '2025-02-30', '2025-13-01T00:00:00Z',
  '9999-12-31T23:59:59Z', '99999999d', '0.0001ms', '1e9d', 'NaN', 'Infinity', 'true', '[]', '{}', 'SPY251219C00500000',
];

const ROUTES: Record<string, string[]> = {
  '/v1/greeks/snapshots': ['broker', 'account', 'contract_key', 'underlying', 'from', 'to', 'limit'],
  '/v1/trades': ['broker', 'account', 'contract_key', 'from', 'to', 'limit'],
  '/v1/risk/timeline': ['since', 'from', 'to', 'bucket', 'stale', 'account', 'underlying', 'broker', 'all_accounts', 'tz'],
};

const TRADE = { broker: 'manual', account: 'ACC1', trade_id: 'fz-1', contract_key: 'SPY   251219C00500000', side: 'buy', quantity: 1, price: 1, executed_at: '2025-01-02T15:00:00Z', fee: 1.25 };
const BODY_VALUES: unknown[] = [null, true, 0, -1, 1e308, 'x'.repeat(300), '\u0000', '', [], {}, { a: 1 }, '2025-02-30', 99999999999999999, '9999999999999999', 'SPY'];

describeBackends('API input hardening', (backend) => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots(FIXTURE);
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    // Input fuzzing, not load: the heavy reads' duty-cycle budget (D74) would answer the fuzzer's
    // hundreds of back-to-back timeline/snapshot reads with 503s.
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, now: () => T0 + 240_000, limits: { ...readApiLimits({}), heavyRestFactor: 0 } });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });

  const expectSafe = (what: string, res: { statusCode: number; body: string }) => {
    expect([200, 201, 400], `${what} → ${res.statusCode} ${res.body.slice(0, 200)}`).toContain(res.statusCode);
    if (res.statusCode === 400) {
      const { error } = JSON.parse(res.body) as { error: string };
      expect(error, what).toMatch(/\S/);
      expect(error, what).not.toContain('\n');
    }
  };

  it('every query parameter of every GET route: 200 or a one-line 400, never a 500', async () => {
    let checked = 0;
    for (const [route, params] of Object.entries(ROUTES)) {
      for (const name of params) {
        for (const value of NASTY) {
          const url = `${route}?${name}=${encodeURIComponent(value)}`;
          expectSafe(url, await app.inject({ method: 'GET', url }));
          checked++;
        }
        expectSafe(`${route} ${name} twice`, await app.inject({ method: 'GET', url: `${route}?${name}=a&${name}=b` }));
      }
    }
    expect(checked).toBe(23 * NASTY.length);
  });

  it('raw bytes in the query string (invalid UTF-8, bare %) are a 400 or ignored, never a 500', async () => {
    for (const qs of ['broker=%ff%fe', 'broker=%', 'from=%00', 'limit=%', '%00=1', 'a[b]=1', 'limit[]=1']) {
      expectSafe(qs, await app.inject({ method: 'GET', url: `/v1/greeks/snapshots?${qs}` }));
    }
  });

  it('every field of POST /v1/trades and /v1/streaming/*: 2xx or a one-line 400, never a 500', async () => {
    let n = 0;
    for (const field of Object.keys(TRADE)) {
      for (const value of BODY_VALUES) {
        const payload = { ...TRADE, trade_id: `fz-${n++}`, [field]: value };
        expectSafe(`trades ${field}=${JSON.stringify(value).slice(0, 40)}`, await app.inject({ method: 'POST', url: '/v1/trades', payload }));
      }
    }
    for (const value of BODY_VALUES) {
      for (const route of ['/v1/streaming/start', '/v1/streaming/stop']) {
        const res = await app.inject({ method: 'POST', url: route, payload: { broker: value } as object });
        expect(res.statusCode, `${route} broker=${JSON.stringify(value)}`).toBe(400);
      }
    }
  });

  it('out-of-range and NUL inputs get their own messages', async () => {
    const err = async (url: string) => (await app.inject({ method: 'GET', url })).json().error as string;
    expect(await err('/v1/greeks/snapshots?from=9999999999999999')).toBe('from=9999999999999999 is out of range: use a time from 1970-01-01 to 9999-12-31');
    expect(await err('/v1/greeks/snapshots?broker=a%00b')).toBe('broker must be printable text of at most 256 characters');
    expect(await err('/v1/risk/timeline?since=99999999d&bucket=1d')).toBe('since=99999999d is too long: use at most 3650d');
  });

  it('risk and alert routes: the schema gives the same 400 messages the handlers gave', async () => {
    const err = async (url: string) => {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(400);
      return res.json().error as string;
    };
    expect(await err('/v1/risk/positions?x=1')).toBe('unknown parameter x: use account, underlying, broker, benchmark');
    expect(await err('/v1/risk/summary?broker=a&broker=b')).toBe('parameter broker is given more than once: give it once (comma lists where supported)');
    expect(await err('/v1/risk/summary?broker=')).toBe('broker needs a value');
    expect(await err('/v1/risk/scenarios?mode=sideways')).toBe('mode=sideways is not valid: use underlying or beta');
    expect(await err('/v1/risk/scenarios?x=1')).toBe('unknown parameter x: use account, underlying, broker, benchmark, mode');
    expect(await err('/v1/alerts?open=2')).toBe('open=2 is not valid: use open=1 or open=0');
    expect(await err('/v1/alerts?limit=0')).toBe('limit=0 is not valid: use 1 to 10000');
    expect(await err('/v1/alerts?since=x')).toBe('since=x is not a duration: use 30s, 5m, 2h, 1d (or seconds)');
    expect(await err('/v1/alerts?x=1')).toBe('unknown parameter x: use open, since, limit');
    expect(await err('/v1/alerts/stream?x=1')).toBe('unknown parameter x: use ');
    expect(await err('/v1/alerts?account=a%00b')).toBe('unknown parameter account: use open, since, limit');
    expect(await err('/v1/risk/positions?account=a%00b')).toBe('account must be printable text of at most 256 characters');
  });

  it('GET /healthz is {"status":"ok"}', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET /openapi.json describes every route with the parameters and bodies the API validates', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/healthz', '/metrics', '/v1/greeks/snapshots', '/v1/risk/timeline', '/v1/streaming/start', '/v1/streaming/status', '/v1/streaming/stop', '/v1/trades',
      '/v1/risk/positions', '/v1/risk/summary', '/v1/risk/scenarios', '/v1/alerts',
    ]));
    const snapParams = doc.paths['/v1/greeks/snapshots'].get.parameters;
    expect(snapParams.map((p: { name: string }) => p.name)).toEqual(ROUTES['/v1/greeks/snapshots']);
    expect(snapParams.find((p: { name: string }) => p.name === 'limit').schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000 });
    // The risk and alert routes validate by their schemas too, so /openapi.json lists what they take.
    const names = (path: string) => doc.paths[path].get.parameters.map((p: { name: string }) => p.name);
    expect(names('/v1/risk/positions')).toEqual(['account', 'underlying', 'broker', 'benchmark']);
    expect(names('/v1/risk/summary')).toEqual(['account', 'underlying', 'broker', 'benchmark']);
    expect(names('/v1/risk/scenarios')).toEqual(['account', 'underlying', 'broker', 'benchmark', 'mode']);
    expect(names('/v1/alerts')).toEqual(['open', 'since', 'limit']);
    expect(names('/v1/events')).toEqual(['ticket']);
    const body = doc.paths['/v1/trades'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['broker', 'account', 'trade_id', 'contract_key', 'side', 'quantity', 'price', 'executed_at']);
    expect(body.properties.side.enum).toEqual(['buy', 'sell']);
  });
});

/** GET over a real socket with any Host header (fetch would not let us set it). */
function getWithHost(port: number, host: string, path = '/v1/streaming/status', headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host header on a real loopback socket', () => {
  let t: TestStorage;
  const apps: FastifyInstance[] = [];
  const pipelines: Pipeline[] = [];
  beforeAll(async () => {
    t = await openTestStorage('pglite');
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    for (const p of pipelines) await p.stop();
    await t?.close();
  });
  const listen = async (token?: string) => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    const app = await buildApi({ pipeline, storage: t.storage, log: testLogger, token });
    pipelines.push(pipeline);
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    return (app.server.address() as { port: number }).port;
  };

  it('without a token: only localhost, 127.0.0.1 and [::1] with the bound port; others get 421 with the reason', async () => {
    const port = await listen();
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) expect((await getWithHost(port, host)).status, host).toBe(200);
    for (const host of [`evil.example:${port}`, `localhost:${port + 1}`, 'localhost', `127.0.0.1.nip.io:${port}`]) {
      const res = await getWithHost(port, host);
      expect(res.status, host).toBe(421);
      expect(JSON.parse(res.body).error).toMatch(/is not this server: without API_TOKEN the API answers only localhost:\d+, 127\.0\.0\.1:\d+, \[::1\]:\d+ \(DNS-rebinding protection\)/);
    }
  });

  it('with a token any Host passes (the bearer token is the protection); /healthz needs no token', async () => {
    const token = 'hardening-test-token-0123456789';
    const port = await listen(token);
    expect((await getWithHost(port, `evil.example:${port}`, '/v1/streaming/status', { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await getWithHost(port, `evil.example:${port}`)).status).toBe(401);
    expect((await getWithHost(port, `proxy.example`, '/healthz')).status).toBe(200);
  });
});

describePg("the API's read pool", () => {
  it('cancels a read past API_STATEMENT_TIMEOUT_MS (SQLSTATE 57014), on its own connections', async () => {
    const db = await freshPostgresUrl();
    const reader = (await openReadStorage({ databaseUrl: db.url, log: testLogger, statementTimeoutMs: 200 }))!;
    try {
      const err = await reader.query('SELECT pg_sleep(2)').then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).code).toBe('57014');
      const [row] = await reader.query<{ app: string; timeout: string }>(`SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS timeout`);
      expect(row).toEqual({ app: 'riskwire-api', timeout: '200ms' });
    } finally {
      await reader.close();
      await db.drop();
    }
  });
});
