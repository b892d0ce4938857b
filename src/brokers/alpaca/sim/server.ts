/**
 * The Alpaca simulator's transport: one HTTP server for the trading REST API, the market-data
 * REST API and the three WebSocket endpoints (stocks `/v2/{iex,sip,…}`, options
 * `/v1beta1/{indicative,opra}`, trade updates `/stream`). Kept thin: the wire protocol lives in
 * protocol.ts, the market in market.ts.
 *
 * What real users hit is reproduced with knobs: a REST rate limit (429 with Retry-After and
 * X-RateLimit-*), one connection per endpoint and key (406, with the slot of an uncleanly closed
 * socket held for `lingerMs` like the real server's ~90 s), 429 on WebSocket upgrade storms,
 * sockets that go silent (no data, no pong), the 10 s auth deadline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { encode as msgpackEncode, decode as msgpackDecode } from '@msgpack/msgpack';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { closeServer, Connections, listen, SentLedger, startTicker, type Ticker } from '../../simkit/index.js';
import { MarketDataSession, TradingSession, rfc3339Nanos, type MdKind } from './protocol.js';
import { SIM_ACCOUNT, type AlpacaMarket, type AlpacaSimHolding } from './market.js';

export type EndpointKind = MdKind | 'trading';

export interface AlpacaKnobs {
  /** Market step and stream push period. */
  tickMs: number;
  optionQuoteProb: number;
  /** REST requests per minute per key (token bucket, burst = the whole minute). */
  restPerMinute: number;
  authTimeoutMs: number;
  /** How long the slot of a socket that went away without a close frame stays taken (real: ~90 s). */
  lingerMs: number;
  /** WebSocket upgrades allowed per endpoint per window before 429. */
  upgradesPerWindow: number;
  upgradeWindowMs: number;
  /** Symbols per channel (405 beyond). */
  symbolLimit: number;
}

export function defaultAlpacaKnobs(): AlpacaKnobs {
  return { tickMs: 200, optionQuoteProb: 0.5, restPerMinute: 200, authTimeoutMs: 10_000, lingerMs: 0, upgradesPerWindow: 30, upgradeWindowMs: 10_000, symbolLimit: 1000 };
}

export interface SimTradeUpdate {
  event: 'fill' | 'partial_fill' | 'new' | 'canceled';
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  price: number;
  at?: number;
  orderId?: string;
  executionId?: string;
}

export interface AlpacaCounters {
  rest: Record<string, number>;
  rest429: number;
  /** Most REST requests seen in any 60 s window. */
  restMaxPerMinute: number;
  /** Largest symbols= list a snapshot call carried. */
  snapshotMaxSymbols: number;
  upgrades: Record<EndpointKind, number>;
  /** Epoch ms of every accepted upgrade, per kind (to check reconnect pacing). */
  upgradeTimes: Record<EndpointKind, number[]>;
  upgrade429: number;
  errorsSent: Record<string, number>;
  tradeUpdatesSent: number;
}

interface Conn {
  kind: EndpointKind;
  slot: string;
  ws: WebSocket;
  md?: MarketDataSession;
  trading?: TradingSession;
  authed: boolean;
}

/** One option snapshot that went out over REST: the simulator's ledger (ground truth for Greeks rows). */
export interface ServedSnapshot {
  symbol: string;
  /** The snapshot's quote time (epoch ms): the row's event_ts. */
  t: number;
  delta: number;
}

const isFill = (e: string) => e === 'fill' || e === 'partial_fill';

export class AlpacaSimServer {
  readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, autoPong: false, perMessageDeflate: false });
  /** Open sockets per endpoint kind (the kit's Connections: drop, silence). */
  private readonly links: Record<EndpointKind, Connections<Conn>>;
  /** Every distinct option snapshot served (symbol, quote time, values). */
  readonly ledger = new SentLedger<ServedSnapshot>((x) => `${x.symbol}|${x.t}|${x.delta}`);
  /** Slot → expiry of a lingering (uncleanly closed) socket, or Infinity while held by a live one. */
  private readonly slots = new Map<string, number>();
  private readonly upgradesAt = new Map<string, number[]>();
  private tokens: number;
  private lastRefill = Date.now();
  private readonly restTimes: number[] = [];
  private ticker: Ticker | undefined;
  private execSeq = 0;
  readonly counters: AlpacaCounters = {
    rest: {}, rest429: 0, restMaxPerMinute: 0, snapshotMaxSymbols: 0, upgrades: { stocks: 0, options: 0, trading: 0 }, upgradeTimes: { stocks: [], options: [], trading: [] }, upgrade429: 0, errorsSent: {}, tradeUpdatesSent: 0,
  };

  constructor(
    private readonly market: AlpacaMarket,
    readonly holdings: AlpacaSimHolding[],
    readonly knobs: AlpacaKnobs,
    private readonly keys: { keyId: string; secretKey: string },
  ) {
    this.tokens = knobs.restPerMinute;
    const io = { drop: (c: Conn) => c.ws.terminate(), close: (c: Conn, code?: number, reason?: string) => c.ws.close(code, reason) };
    this.links = { stocks: new Connections(io), options: new Connections(io), trading: new Connections(io) };
    this.server = createServer((req, res) => this.rest(req, res));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    const bound = await listen(this.server, port, host);
    this.ticker = startTicker({ periodMs: () => this.knobs.tickMs, onTick: (now) => this.tick(now) });
    return bound.port;
  }

  async close(): Promise<void> {
    this.ticker?.stop();
    for (const k of Object.values(this.links)) k.dropAll();
    await closeServer(this.server);
  }

  private *conns(): Generator<Conn> {
    for (const k of Object.values(this.links)) yield* k;
  }

  private silent(c: Conn): boolean {
    return this.links[c.kind].isSilenced(c);
  }

  /** Sockets open per endpoint kind (authenticated or not). */
  open(kind: EndpointKind): number {
    return this.links[kind].size;
  }

  /** Makes the current sockets of `kind` silent (no data, no pong, client messages ignored). New sockets are normal. */
  silence(kind: EndpointKind): void {
    this.links[kind].silenceAll();
  }

  /** Closes every socket of `kind` abruptly (as a network cut would). */
  drop(kind: EndpointKind): void {
    this.links[kind].dropAll();
  }

  /** A trade update to every listening trade_updates socket (binary frames, as paper sends them); fills move the book. */
  pushTradeUpdate(u: SimTradeUpdate): string {
    const at = u.at ?? Date.now();
    const executionId = u.executionId ?? `sim-exec-${++this.execSeq}`;
    let positionQty = this.holdings.find((h) => h.symbol === u.symbol)?.qty ?? 0;
    if (isFill(u.event)) {
      positionQty += u.side === 'buy' ? u.qty : -u.qty;
      const h = this.holdings.find((x) => x.symbol === u.symbol);
      if (h) h.qty = positionQty;
      else this.holdings.push({ symbol: u.symbol, qty: positionQty, avgPrice: u.price });
      const i = this.holdings.findIndex((x) => x.qty === 0);
      if (i >= 0) this.holdings.splice(i, 1);
    }
    const ts = rfc3339Nanos(at);
    const orderId = u.orderId ?? `sim-order-${this.execSeq}`;
    const option = this.market.contracts.has(u.symbol);
    const data = {
      event: u.event,
      timestamp: ts,
      ...(isFill(u.event) ? { execution_id: executionId, price: String(u.price), qty: String(u.qty), position_qty: String(positionQty) } : {}),
      order: {
        id: orderId, client_order_id: `cid-${orderId}`, created_at: ts, updated_at: ts, submitted_at: ts, filled_at: isFill(u.event) ? ts : null,
        expired_at: null, canceled_at: null, failed_at: null, replaced_at: null, replaced_by: null, replaces: null,
        asset_id: `asset-${u.symbol}`, symbol: u.symbol, asset_class: option ? 'us_option' : 'us_equity', notional: null,
        qty: String(u.qty), filled_qty: isFill(u.event) ? String(u.qty) : '0', filled_avg_price: isFill(u.event) ? String(u.price) : null,
        order_class: '', order_type: 'market', type: 'market', side: u.side, position_intent: u.side === 'buy' ? 'buy_to_open' : 'sell_to_close',
        time_in_force: 'day', limit_price: null, stop_price: null, status: u.event === 'fill' ? 'filled' : u.event === 'partial_fill' ? 'partially_filled' : u.event,
        extended_hours: false, legs: null, trail_percent: null, trail_price: null, hwm: null,
      },
    };
    for (const c of this.links.trading) {
      if (!c.trading?.authenticated || !c.trading.streams.has('trade_updates') || this.silent(c)) continue;
      c.ws.send(Buffer.from(JSON.stringify({ stream: 'trade_updates', data })), { binary: true });
      this.counters.tradeUpdatesSent++;
    }
    return executionId;
  }

  // ---- WebSocket --------------------------------------------------------------------------

  private kindOf(path: string): EndpointKind | null {
    if (/^\/v2\/(iex|sip|delayed_sip|test)\/?$/.test(path)) return 'stocks';
    if (/^\/v1beta1\/(indicative|opra)\/?$/.test(path)) return 'options';
    if (/^\/stream\/?$/.test(path)) return 'trading';
    return null;
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const kind = this.kindOf(path);
    if (!kind) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const now = Date.now();
    const recent = (this.upgradesAt.get(path) ?? []).filter((t) => now - t < this.knobs.upgradeWindowMs);
    if (recent.length >= this.knobs.upgradesPerWindow) {
      this.counters.upgrade429++;
      const retry = Math.max(1, Math.ceil((this.knobs.upgradeWindowMs - (now - recent[0])) / 1000));
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${retry}\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\ntoo many requests.`);
      this.upgradesAt.set(path, recent);
      return;
    }
    recent.push(now);
    this.upgradesAt.set(path, recent);
    this.counters.upgrades[kind]++;
    this.counters.upgradeTimes[kind].push(now);
    const codec = /msgpack/i.test(String(req.headers['content-type'] ?? '')) ? 'msgpack' : 'json';
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, kind, path, codec));
  }

  private onSocket(ws: WebSocket, kind: EndpointKind, path: string, codec: 'json' | 'msgpack'): void {
    const conn: Conn = { kind, slot: `${this.keys.keyId} ${path}`, ws, authed: false };
    this.links[kind].add(conn);
    const checkKeys = (k: unknown, s: unknown) => k === this.keys.keyId && s === this.keys.secretKey;
    const claimSlot = () => {
      const held = this.slots.get(conn.slot);
      if (held !== undefined && held > Date.now()) return false;
      this.slots.set(conn.slot, Infinity);
      conn.authed = true;
      return true;
    };
    const close = () => setImmediate(() => ws.close(1000));
    if (kind === 'trading') {
      conn.trading = new TradingSession({
        send: (msg) => ws.send(Buffer.from(JSON.stringify(msg)), { binary: true }),
        close, checkKeys, claimSlot,
      });
    } else {
      conn.md = new MarketDataSession(kind, codec, {
        send: (frames) => {
          for (const f of frames) if (f.T === 'error') this.counters.errorsSent[String(f.code)] = (this.counters.errorsSent[String(f.code)] ?? 0) + 1;
          ws.send(codec === 'msgpack' ? msgpackEncode(frames) : JSON.stringify(frames));
        },
        close, checkKeys, claimSlot, symbolLimit: this.knobs.symbolLimit,
      });
      conn.md.open();
      const deadline = setTimeout(() => conn.md?.authTimeout(), this.knobs.authTimeoutMs);
      ws.once('close', () => clearTimeout(deadline));
    }
    ws.on('ping', (data) => {
      if (!this.silent(conn)) ws.pong(data);
    });
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      if (this.silent(conn)) return;
      const buf = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
      let msg: unknown;
      try {
        msg = codec === 'msgpack' && isBinary && kind !== 'trading' ? msgpackDecode(buf) : JSON.parse(buf.toString('utf8'));
      } catch {
        msg = null;
      }
      if (conn.trading) conn.trading.receive(msg);
      else conn.md!.receive(msg);
    });
    ws.on('close', (code: number) => {
      this.links[kind].delete(conn);
      if (!conn.authed) return;
      // A socket that vanished without a close frame keeps its slot for a while, like the real server.
      // A silent (half-dead) socket's slot lingers whatever the close looked like: the real server never saw it.
      if ((code === 1006 || this.silent(conn)) && this.knobs.lingerMs > 0) this.slots.set(conn.slot, Date.now() + this.knobs.lingerMs);
      else this.slots.delete(conn.slot);
    });
    ws.on('error', () => {});
  }

  private tick(now: number): void {
    const changed = this.market.tick(now, this.knobs.optionQuoteProb);
    for (const c of this.conns()) {
      if (!c.md?.authenticated || this.silent(c) || c.md.closed) continue;
      const frames: Record<string, unknown>[] = [];
      for (const s of changed) {
        if (!c.md.wants('quotes', s)) continue;
        const q = this.market.quote(s)!;
        const stock = c.kind === 'stocks';
        if (stock === this.market.contracts.has(s)) continue;
        const t = c.md.codec === 'msgpack' ? new Date(q.t) : rfc3339Nanos(q.t, 123);
        frames.push(stock ? { T: 'q', S: s, bx: 'V', bp: q.bp, bs: q.bs, ax: 'V', ap: q.ap, as: q.as, c: ['R'], z: 'A', t } : { T: 'q', S: s, t, bx: 'C', bp: q.bp, bs: q.bs, ax: 'C', ap: q.ap, as: q.as, c: ' ' });
      }
      if (frames.length === 0) continue;
      c.ws.send(c.md.codec === 'msgpack' ? msgpackEncode(frames) : JSON.stringify(frames));
    }
  }

  // ---- REST ---------------------------------------------------------------------------------

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** Token bucket per key; true when the request may go through. Sets the X-RateLimit-* headers. */
  private admit(res: ServerResponse): boolean {
    const now = Date.now();
    const limit = this.knobs.restPerMinute;
    this.tokens = Math.min(limit, this.tokens + ((now - this.lastRefill) * limit) / 60_000);
    this.lastRefill = now;
    const reset = Math.ceil((now + ((limit - this.tokens) * 60_000) / limit) / 1000);
    const headers = { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Reset': String(reset) };
    if (this.tokens < 1) {
      this.counters.rest429++;
      const retry = Math.max(1, Math.ceil(((1 - this.tokens) * 60_000) / limit / 1000));
      this.json(res, 429, { code: 42910000, message: 'too many requests.' }, { ...headers, 'X-RateLimit-Remaining': '0', 'Retry-After': String(retry) });
      return false;
    }
    this.tokens -= 1;
    res.setHeader('X-RateLimit-Limit', headers['X-RateLimit-Limit']);
    res.setHeader('X-RateLimit-Remaining', String(Math.floor(this.tokens)));
    res.setHeader('X-RateLimit-Reset', headers['X-RateLimit-Reset']);
    this.restTimes.push(now);
    while (this.restTimes.length && now - this.restTimes[0] >= 60_000) this.restTimes.shift();
    this.counters.restMaxPerMinute = Math.max(this.counters.restMaxPerMinute, this.restTimes.length);
    return true;
  }

  private rest(req: IncomingMessage, res: ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const path = u.pathname.replace(/\/+$/, '');
    const route = path.replace(/\/v2\/options\/contracts\/.+$/, '/v2/options/contracts/{symbol}');
    this.counters.rest[route] = (this.counters.rest[route] ?? 0) + 1;
    if (req.method !== 'GET') return this.json(res, 405, { code: 40510000, message: 'method not allowed' });
    if (req.headers['apca-api-key-id'] !== this.keys.keyId || req.headers['apca-api-secret-key'] !== this.keys.secretKey) {
      return this.json(res, 401, { code: 40110000, message: 'request is not authorized' });
    }
    if (!this.admit(res)) return;
    if (path === '/v2/account') return this.json(res, 200, this.account());
    if (path === '/v2/positions') return this.json(res, 200, this.positions());
    const contract = path.match(/^\/v2\/options\/contracts\/([^/]+)$/);
    if (contract) {
      const body = this.contract(decodeURIComponent(contract[1]));
      return body ? this.json(res, 200, body) : this.json(res, 404, { code: 40410000, message: 'option contract not found' });
    }
    if (path === '/v1beta1/options/snapshots') {
      const symbols = (u.searchParams.get('symbols') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (symbols.length === 0) return this.json(res, 400, { code: 42210000, message: 'symbols is required' });
      if (symbols.length > 100) return this.json(res, 400, { code: 42210000, message: `too many symbols: ${symbols.length} (max 100)` });
      this.counters.snapshotMaxSymbols = Math.max(this.counters.snapshotMaxSymbols, symbols.length);
      const snapshots: Record<string, unknown> = {};
      for (const s of symbols) {
        const snap = this.market.snapshot(s);
        if (!snap) continue;
        this.ledger.record({ symbol: s, t: snap.quote.t, delta: snap.greeks.delta });
        const t = rfc3339Nanos(snap.quote.t, 456);
        snapshots[s] = {
          latestQuote: { ap: snap.quote.ap, as: snap.quote.as, ax: 'C', bp: snap.quote.bp, bs: snap.quote.bs, bx: 'C', c: ' ', t },
          latestTrade: { c: 'I', p: Math.round(((snap.quote.ap + snap.quote.bp) / 2) * 100) / 100, s: 1, t, x: 'C' },
          greeks: { delta: snap.greeks.delta, gamma: snap.greeks.gamma, rho: snap.greeks.rho, theta: snap.greeks.theta, vega: snap.greeks.vega },
          impliedVolatility: snap.greeks.iv,
        };
      }
      return this.json(res, 200, { snapshots, next_page_token: null });
    }
    return this.json(res, 404, { code: 40410000, message: 'endpoint not found' });
  }

  private account(): Record<string, unknown> {
    return {
      id: 'sim-account-id', account_number: SIM_ACCOUNT, status: 'ACTIVE', currency: 'USD', cash: '100000', equity: '150000', last_equity: '149000',
      buying_power: '200000', options_buying_power: '100000', portfolio_value: '150000', options_approved_level: 3, options_trading_level: 3,
      pattern_day_trader: false, trading_blocked: false, account_blocked: false, created_at: '2024-01-02T15:00:00Z', multiplier: '2', shorting_enabled: true,
    };
  }

  private positions(): Record<string, unknown>[] {
    return this.holdings.map((h) => {
      const c = this.market.contracts.get(h.symbol);
      const q = this.market.quote(h.symbol);
      const price = q ? (q.bp + q.ap) / 2 : h.avgPrice;
      const mult = c ? c.multiplier : 1;
      const mv = price * h.qty * mult;
      const cost = h.avgPrice * h.qty * mult;
      const s = (x: number) => String(Math.round(x * 100) / 100);
      return {
        asset_id: `asset-${h.symbol}`, symbol: h.symbol, exchange: c ? '' : 'ARCA', asset_class: c ? 'us_option' : 'us_equity', asset_marginable: !c,
        qty: String(h.qty), qty_available: String(h.qty), avg_entry_price: String(h.avgPrice), side: h.qty < 0 ? 'short' : 'long',
        market_value: s(mv), cost_basis: s(cost), unrealized_pl: s(mv - cost), unrealized_plpc: cost ? String((mv - cost) / Math.abs(cost)) : '0',
        unrealized_intraday_pl: '0', unrealized_intraday_plpc: '0', current_price: s(price), lastday_price: s(price), change_today: '0',
      };
    });
  }

  private contract(symbolOrId: string): Record<string, unknown> | null {
    const sym = symbolOrId.startsWith('asset-') ? symbolOrId.slice(6) : symbolOrId;
    const c = this.market.contracts.get(sym);
    if (!c) return null;
    return {
      id: `asset-${sym}`, symbol: sym, name: `${c.underlying} ${c.expiry} ${c.right === 'C' ? 'Call' : 'Put'} ${c.strike}`, status: 'active', tradable: true,
      expiration_date: c.expiry, root_symbol: c.root, underlying_symbol: c.underlying, underlying_asset_id: `asset-${c.underlying}`,
      type: c.right === 'C' ? 'call' : 'put', style: c.underlying === 'SPX' ? 'european' : 'american', strike_price: String(c.strike),
      multiplier: String(c.multiplier), size: String(c.multiplier), open_interest: '1234', open_interest_date: c.expiry, close_price: '1.00', close_price_date: c.expiry,
    };
  }
}
