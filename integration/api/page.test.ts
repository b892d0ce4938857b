import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { loadAssets } from '../../src/api/routes/page.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';

const TOKEN = 'page-test-token-0123456789';
/** The budget for everything the page loads, gzipped. */
const PAGE_BUDGET_BYTES = 300 * 1024;

describe('GET / and /assets (the page)', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestStorage('pglite');
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, token: TOKEN });
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('serves the page and its files without the token (they hold no data), and nothing else', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<table id="positions">');
    // with API_TOKEN the page says a token is needed, so it asks before its first call (no 401s); without, it does not
    expect(page.body).toContain('<meta name="riskwire-auth" content="bearer">');
    expect(loadAssets().get('/')!.raw.toString()).not.toContain('riskwire-auth');
    expect((await get('/v1/streaming/status')).statusCode).toBe(401);
    expect((await get('/assets/nope.js')).statusCode).toBe(404);
    expect((await get('/assets/..%2F..%2Fpackage.json', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(404);
  });

  it('serves uPlot from node_modules (no CDN) and every file the page references', async () => {
    const html = (await get('/')).body;
    const refs = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(refs).toEqual(expect.arrayContaining(['/assets/uplot.min.js', '/assets/uplot.min.css', '/assets/app.js', '/assets/app.css']));
    expect(html).not.toMatch(/https?:\/\//);
    const uplot = await get('/assets/uplot.min.js');
    expect(uplot.body).toMatch(/uPlot/);
    // every ES module import of app.js resolves to a served file
    const app = (await get('/assets/app.js')).body;
    for (const m of app.matchAll(/from '\.\/([\w-]+\.js)'/g)) expect((await get(`/assets/${m[1]}`)).statusCode).toBe(200);
  });

  it('sends gzip when asked, revalidates with an ETag', async () => {
    const plain = await get('/assets/app.js');
    const gz = await get('/assets/app.js', { 'accept-encoding': 'gzip, br' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
    const etag = String(plain.headers.etag);
    expect(plain.headers['cache-control']).toBe('no-cache');
    expect((await get('/assets/app.js', { 'if-none-match': etag })).statusCode).toBe(304);
  });

  it(`weighs at most ${PAGE_BUDGET_BYTES / 1024} KB gzipped in all`, async () => {
    // every file the server can serve for the page, so the sum bounds what a browser loads
    const files = [...loadAssets().keys()];
    let total = 0;
    for (const f of files) total += (await get(f, { 'accept-encoding': 'gzip' })).rawPayload.length;
    process.stdout.write(`page weight: ${files.length} files, ${(total / 1024).toFixed(1)} KB gzipped\n`);
    expect(total).toBeLessThanOrEqual(PAGE_BUDGET_BYTES);
    expect(total).toBeGreaterThan(20 * 1024); // uPlot alone is ~22 KB: the sum is real
  });
});
