/**
 * GET / and GET /assets/<file>: the web page (src/web) and uPlot, straight from node_modules,
 * so the page works offline and needs no build step. Files are read and gzipped once at start
 * (the whole page is a few hundred KB at most), served with an ETag and revalidated on every
 * load (no-cache), so an upgraded server never meets a stale script. The page holds no data:
 * it is public even with API_TOKEN set (app.ts) and asks for the token itself. specs/web.md.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../errors.js';

const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const require = createRequire(import.meta.url);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Only same-origin scripts and styles; no framing; no referrer (SSE tickets ride in a URL). */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface Asset {
  type: string;
  raw: Buffer;
  gzip: Buffer;
  etag: string;
}

function asset(file: string, edit: (text: string) => string = (t) => t): Asset {
  const raw = Buffer.from(edit(readFileSync(file, 'utf8')));
  return {
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    raw,
    gzip: gzipSync(raw, { level: 9 }),
    etag: `"${createHash('sha1').update(raw).digest('base64url')}"`,
  };
}

/**
 * With API_TOKEN set the page says so in a <meta name="riskwire-auth" content="bearer">, so a
 * first visit asks for the token at once instead of learning it from 401s (console errors).
 */
const AUTH_META = '<meta name="riskwire-auth" content="bearer">';

/** Every file the page loads, by URL path. */
export function loadAssets(opts: { auth?: boolean } = {}): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(WEB_DIR)) {
    if (!TYPES[extname(name)]) continue;
    if (name === 'index.html') assets.set('/', asset(join(WEB_DIR, name), (t) => (opts.auth ? t.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n${AUTH_META}`) : t)));
    else assets.set(`/assets/${name}`, asset(join(WEB_DIR, name)));
  }
  assets.set('/assets/uplot.min.js', asset(require.resolve('uplot/dist/uPlot.iife.min.js')));
  assets.set('/assets/uplot.min.css', asset(require.resolve('uplot/dist/uPlot.min.css')));
  return assets;
}

export function isPagePath(path: string): boolean {
  return path === '/' || path.startsWith('/assets/');
}

export function registerPage(app: FastifyInstance, opts: { auth?: boolean } = {}): void {
  const assets = loadAssets(opts);
  const handler = async (req: { url: string; headers: Record<string, string | string[] | undefined> }, reply: import('fastify').FastifyReply) => {
    const path = req.url.split('?')[0];
    const a = assets.get(path);
    if (!a) throw notFound(`no asset ${path}: the page's files are ${[...assets.keys()].join(', ')}`);
    reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').header('etag', a.etag).header('vary', 'accept-encoding').type(a.type);
    if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(a.gzip);
    return reply.send(a.raw);
  };
  app.get('/', handler);
  app.get('/assets/:file', handler);
}
