/**
 * A small JSON client for the gateway's REST side, with the cookie jar the gateway relies on
 * (`/tickle` sets cookies that the WebSocket upgrade must carry). node:https rather than
 * fetch, because fetch (undici) takes no https.Agent and undici is not a dependency here.
 * The self-signed certificate is accepted only when tlsInsecure is set.
 */
import http from 'node:http';
import https from 'node:https';
import { systemClock, type Clock } from '../../../core/clock.js';

export interface CpapiRest {
  get(path: string): Promise<unknown>;
  post(path: string, body?: unknown): Promise<unknown>;
  /** Cookies collected so far, as one Cookie header value (without the `api` cookie). */
  cookies(): string;
  close(): void;
}

export class RestError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = 'RestError';
  }
}

/** `https://localhost:5000` → `https://localhost:5000/v1/api` (kept as is when already there). */
export function apiBase(gatewayUrl: string): string {
  const u = gatewayUrl.replace(/\/+$/, '');
  return /\/v1\/api$/.test(u) ? u : `${u}/v1/api`;
}

/** `https://host:port/...` → `wss://host:port/v1/api/ws`. */
export function wsUrl(gatewayUrl: string): string {
  return apiBase(gatewayUrl).replace(/^http/, 'ws') + '/ws';
}

export interface RestOptions {
  clock?: Clock;
  timeoutMs?: number;
  /**
   * Least time between two request starts. The gateway allows about 10 requests/s across all
   * its clients; 120 ms keeps us under 9/s even in a reconnect burst.
   */
  minSpacingMs?: number;
}

export function createRest(gatewayUrl: string, tlsInsecure: boolean, opts: RestOptions = {}): CpapiRest {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const spacing = opts.minSpacingMs ?? 120;
  let nextSlot = 0;
  /** Resolves when this request may start; slots are handed out in call order. */
  const pace = (): Promise<void> => {
    const now = clock.now();
    const at = Math.max(now, nextSlot);
    nextSlot = at + spacing;
    return at <= now ? Promise.resolve() : new Promise((r) => clock.setTimeout(r, at - now));
  };
  const base = new URL(apiBase(gatewayUrl) + '/');
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true, rejectUnauthorized: !tlsInsecure }) : new http.Agent({ keepAlive: true });
  const jar = new Map<string, string>();

  const cookies = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

  async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    await pace();
    return send(method, path, body);
  }

  function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path.replace(/^\//, ''), base);
    const payload = body === undefined ? (method === 'POST' ? '' : undefined) : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'riskwire' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (jar.size > 0) headers.cookie = cookies();
    const mod = secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
        for (const c of res.headers['set-cookie'] ?? []) {
          const [pair] = c.split(';');
          const eq = pair.indexOf('=');
          if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          // The path only: query strings and bodies may carry account data, never echo them.
          if (status < 200 || status >= 300) return reject(new RestError(`${method} ${url.pathname} answered HTTP ${status}`, status));
          if (text.trim() === '') return resolve(null);
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new RestError(`${method} ${url.pathname} answered non-JSON`, status));
          }
        });
      });
      req.on('timeout', () => req.destroy(new RestError(`${method} ${url.pathname} timed out after ${timeoutMs} ms`, null)));
      req.on('error', (err) => reject(err instanceof RestError ? err : new RestError(`${method} ${url.pathname} failed: ${err.message}`, null)));
      req.end(payload);
    });
  }

  return {
    get: (path) => request('GET', path),
    post: (path, body) => request('POST', path, body),
    cookies,
    close: () => agent.destroy(),
  };
}
