/**
 * The Alpaca wire protocols as the server speaks them, free of any transport: a session gets
 * decoded client messages through receive() and answers through its hooks. The WebSocket
 * server (server.ts) is a thin shell around these, so the same logic can sit on a shared
 * simulator kit later.
 *
 * Market data (docs.alpaca.markets/docs/streaming-market-data): greeting
 * `[{"T":"success","msg":"connected"}]`, `{"action":"auth","key","secret"}` within 10 s,
 * `[{"T":"success","msg":"authenticated"}]`, subscribe/unsubscribe answered with the FULL set,
 * every message an array, errors `[{"T":"error","code":N,"msg":"..."}]`. The option stream is
 * msgpack only (412 otherwise) and refuses `*` for quotes (413).
 * Trading (docs.alpaca.markets/docs/websocket-streaming): `authenticate` → `authorization`,
 * `listen` → `listening`, then `trade_updates`; paper sends binary frames.
 */

export const MD_ERRORS: Record<number, string> = {
  400: 'invalid syntax',
  401: 'not authenticated',
  402: 'auth failed',
  403: 'already authenticated',
  404: 'auth timeout',
  405: 'symbol limit exceeded',
  406: 'connection limit exceeded',
  407: 'slow client',
  409: 'insufficient subscription',
  410: 'invalid subscribe action for this feed',
  412: 'option messages are only available in MsgPack format',
  413: 'star subscription is not allowed for option quotes and trades',
  500: 'internal error',
};

export type MdKind = 'stocks' | 'options';

export interface MdHooks {
  /** One wire message (always an array of frames). */
  send(frames: Record<string, unknown>[]): void;
  /** Ends the connection after what was sent. */
  close(): void;
  /** Are these the account's keys? */
  checkKeys(key: unknown, secret: unknown): boolean;
  /** Takes the account's one connection slot for this endpoint; false = another holds it (406). */
  claimSlot(): boolean;
  /** Max symbols per channel (405 beyond). */
  symbolLimit: number;
}

const STOCK_CHANNELS = ['trades', 'quotes', 'bars', 'updatedBars', 'dailyBars', 'statuses', 'lulds', 'corrections', 'cancelErrors'] as const;
const OPTION_CHANNELS = ['trades', 'quotes'] as const;

export class MarketDataSession {
  authenticated = false;
  closed = false;
  readonly subs = new Map<string, Set<string>>();
  private readonly channels: readonly string[];

  constructor(readonly kind: MdKind, readonly codec: 'json' | 'msgpack', private readonly h: MdHooks) {
    this.channels = kind === 'stocks' ? STOCK_CHANNELS : OPTION_CHANNELS;
    for (const c of this.channels) this.subs.set(c, new Set());
  }

  /** The connection is open: greet (or refuse JSON on the option stream). */
  open(): void {
    if (this.kind === 'options' && this.codec !== 'msgpack') return this.fail(412);
    this.h.send([{ T: 'success', msg: 'connected' }]);
  }

  /** The client did not authenticate in time. */
  authTimeout(): void {
    if (!this.authenticated && !this.closed) this.fail(404);
  }

  /** True when `symbol` is subscribed on `channel` (a `*` subscription counts). */
  wants(channel: string, symbol: string): boolean {
    const s = this.subs.get(channel);
    return !!s && (s.has(symbol) || s.has('*'));
  }

  receive(msg: unknown): void {
    if (this.closed) return;
    if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return this.error(400);
    const m = msg as Record<string, unknown>;
    switch (m.action) {
      case 'auth':
        if (this.authenticated) return this.error(403);
        if (!this.h.checkKeys(m.key, m.secret)) return this.fail(402);
        if (!this.h.claimSlot()) return this.fail(406);
        this.authenticated = true;
        return this.h.send([{ T: 'success', msg: 'authenticated' }]);
      case 'subscribe':
      case 'unsubscribe': {
        if (!this.authenticated) return this.error(401);
        const asks: [string, string[]][] = [];
        for (const c of this.channels) {
          const v = m[c];
          if (v === undefined) continue;
          if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) return this.error(400);
          asks.push([c, v as string[]]);
        }
        if (this.kind === 'options' && m.action === 'subscribe' && asks.some(([, v]) => v.includes('*'))) return this.error(413);
        if (m.action === 'subscribe') {
          for (const [c, v] of asks) {
            const next = new Set([...this.subs.get(c)!, ...v]);
            // 405: the subscription is left unchanged.
            if (next.size > this.h.symbolLimit) return this.error(405);
          }
          for (const [c, v] of asks) for (const s of v) this.subs.get(c)!.add(s);
        } else {
          for (const [c, v] of asks) for (const s of v) this.subs.get(c)!.delete(s);
        }
        const reply: Record<string, unknown> = { T: 'subscription' };
        for (const c of this.channels) reply[c] = [...this.subs.get(c)!];
        return this.h.send([reply]);
      }
      default:
        return this.error(400);
    }
  }

  private error(code: number): void {
    this.h.send([{ T: 'error', code, msg: MD_ERRORS[code] ?? 'error' }]);
  }

  /** An error that ends the connection. */
  private fail(code: number): void {
    this.error(code);
    this.closed = true;
    this.h.close();
  }
}

export interface TradingHooks {
  send(msg: Record<string, unknown>): void;
  close(): void;
  checkKeys(key: unknown, secret: unknown): boolean;
  claimSlot(): boolean;
}

export class TradingSession {
  authenticated = false;
  closed = false;
  streams = new Set<string>();

  constructor(private readonly h: TradingHooks) {}

  receive(msg: unknown): void {
    if (this.closed) return;
    const m = (msg && typeof msg === 'object' ? msg : {}) as { action?: unknown; data?: Record<string, unknown> };
    if (m.action === 'authenticate' || m.action === 'auth') {
      const d = m.data ?? {};
      const ok = m.action === 'authenticate' ? this.h.checkKeys(d.key_id, d.secret_key) : this.h.checkKeys((m as Record<string, unknown>).key, (m as Record<string, unknown>).secret);
      if (!ok) {
        this.h.send({ stream: 'authorization', data: { action: 'authenticate', status: 'unauthorized' } });
        this.closed = true;
        return this.h.close();
      }
      if (!this.h.claimSlot()) {
        this.h.send({ stream: 'authorization', data: { action: 'authenticate', status: 'unauthorized', message: 'connection limit exceeded' } });
        this.closed = true;
        return this.h.close();
      }
      this.authenticated = true;
      return this.h.send({ stream: 'authorization', data: { action: 'authenticate', status: 'authorized' } });
    }
    if (m.action === 'listen') {
      if (!this.authenticated) return this.h.send({ stream: 'authorization', data: { action: 'listen', status: 'unauthorized' } });
      const streams = m.data?.streams;
      if (!Array.isArray(streams)) return this.h.send({ stream: 'listening', data: { error: 'invalid syntax', streams: [...this.streams] } });
      this.streams = new Set(streams.filter((s): s is string => s === 'trade_updates'));
      return this.h.send({ stream: 'listening', data: { streams: [...this.streams] } });
    }
    this.h.send({ action: 'error', data: { error_message: 'invalid action' } });
  }
}

/** RFC-3339 with nanoseconds, as Alpaca's JSON streams print times. */
export function rfc3339Nanos(ms: number, extraNanos = 0): string {
  const iso = new Date(ms).toISOString(); // …T07:56:53.639Z
  const nanos = (ms % 1000) * 1_000_000 + extraNanos;
  return `${iso.slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
}
