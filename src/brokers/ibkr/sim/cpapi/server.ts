/**
 * A simulated IBKR Client Portal gateway: HTTPS with a fresh self-signed certificate on
 * 127.0.0.1 (port 0 by default), the REST endpoints Riskwire uses under /v1/api, and the
 * WebSocket /v1/api/ws on the same server. Product code: `npm run demo` runs it in-process and
 * the integration tests drive it through its knobs.
 *
 * Faithful where clients trip: market data stays silent until GET /iserver/accounts; the
 * socket needs the `api=<session>` cookie; frames are strings with only changed fields; `smd`
 * subscriptions expire; a socket with no `tic` for `ticTimeoutMs` is closed; competing logins
 * flip `sts` and auth status until ssodh/init.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { systemClock, type Clock, type TimerHandle } from '../../../../core/clock.js';
import { defaultContracts, SimMarket, simContractKey, type SimContract } from '../../../simbook.js';
import { chance, closeServer, Connections, HoldBack, listen, SentLedger, startTicker } from '../../../simkit/index.js';
import { defaultBook, INDEX_UNDERLYINGS, positionRow, spreadBook, UNDERLYING_CONIDS, type SimBook } from './book.js';
import { makeSelfSignedCert } from './cert.js';
import { nextFrame, optionFields, toldGreeks, underlyingFields, type RecordedGreeks, type Subscription } from './feed.js';
import { CpapiFutures } from './futures.js';
import { futuresBook } from '../../../simfutures.js';

export interface CpapiSimOptions {
  clock?: Clock;
  port?: number;
  /** `system` heartbeat period (real gateway: about 10 s). */
  hbMs?: number;
  /** Close a socket that sent no `tic` for this long. Default 120 s: twice the 60 s client default. */
  ticTimeoutMs?: number;
  /** `smd` subscriptions stop after this long unless re-sent (the gateway's 10 minutes). */
  smdExpiryMs?: number;
  /** Market data period per subscription. */
  rateMs?: number;
  /** Probability that a changed greek is sent in this frame rather than a later one. */
  partial?: number;
  /** Probability that a data frame is sent twice (same `_updated`, same fields). */
  duplicates?: number;
  /** Probability that two consecutive frames of a contract swap order (both then carry every greek). */
  outOfOrder?: number;
  /** REST requests allowed per second before HTTP 429 (the gateway's ~10/s). */
  restPerSecond?: number;
  /** /iserver/marketdata/snapshot calls allowed per second before HTTP 429 (the endpoint's 10/s). */
  snapshotPerSecond?: number;
  /** Send socket frames as binary, as some gateway builds do. */
  binaryFrames?: boolean;
  seed?: number;
  contracts?: SimContract[];
  /** Accounts over which every contract is held once (a big book); default: the two-account demo book. */
  spreadAccounts?: number;
  /** Serve plain http even when openssl is available. */
  plainHttp?: boolean;
  /** Carry the futures book (src/brokers/simfutures.ts) in the first account. Default false. */
  futures?: boolean;
}

export interface CpapiSimStats {
  connections: number;
  rejectedUpgrades: number;
  tics: number;
  tickles: number;
  ticExpiries: number;
  ssodhInits: number;
  accountsCalls: number;
  restCalls: number;
  rateLimited: number;
  /** smd commands received, per conid. */
  smdRequests: Map<number, number>;
  /** Most smd commands received in any one second. */
  smdPeakPerSec: number;
  expiredSubscriptions: number;
  /** /iserver/marketdata/snapshot calls: all, pre-flights (first sight of a conid), answered 429. */
  snapshotCalls: number;
  snapshotPreflights: number;
  snapshot429: number;
  secdefCalls: number;
}

export interface CpapiSimulator {
  url: string;
  port: number;
  tls: boolean;
  book: SimBook;
  /** The futures book (FUT + FOPs), when started with futures: true. */
  futures: CpapiFutures | null;
  /** Mutable while running. */
  /**
   * silent: no market data (heartbeats go on); mute: the socket stays open but nothing at all
   * is sent (a dead socket, for the client's watchdog).
   */
  knobs: {
    duplicates: number; outOfOrder: number; partial: number; ticTimeoutMs: number; silent: boolean; mute: boolean;
    /** Conids that have gone quiet: subscribed, yet no market data frame is sent for them. */
    quietConids: number[];
    /** Snapshot calls per second before 429 (sliding 1 s window). */
    snapshotPerSecond: number;
  };
  stats: CpapiSimStats;
  /** Every unique greeks update sent, in send order (the client's merged view at each `_updated`): the simulator kit's ledger. */
  ledger: SentLedger<RecordedGreeks>;
  /** The ledger's entries. */
  greeksSent(): RecordedGreeks[];
  /** Conids currently subscribed (and not expired) on any open socket. */
  liveSubscriptions(): number[];
  openSockets(): number;
  /** Abrupt close of every socket (TCP reset, no close frame). */
  dropConnections(): void;
  /** Another login takes the session: sts competing, auth status false until ssodh/init. */
  competeSession(): void;
  close(): Promise<void>;
}

interface Conn {
  ws: WebSocket;
  lastTicAt: number;
  subs: Map<number, Subscription>;
  /** A frame held back to be sent after the next one (out-of-order knob), per conid. */
  held: HoldBack<number, string>;
}

export async function startCpapiSimulator(options: CpapiSimOptions = {}): Promise<CpapiSimulator> {
  const clock = options.clock ?? systemClock;
  const smdTimes: number[] = [];
  const book = options.spreadAccounts ? spreadBook(options.contracts ?? defaultContracts(clock.now()), options.spreadAccounts) : defaultBook(clock.now(), options.contracts);
  const market = new SimMarket(book.contracts, options.seed ?? 7);
  const rand = market.random.bind(market);
  const futures = options.futures ? new CpapiFutures(futuresBook(clock.now()), book.accounts[0], rand) : null;
  const knownOption = (conid: number) => book.indexOfConid(conid) >= 0 || (futures?.isOption(conid) ?? false);
  const hbMs = options.hbMs ?? 10_000;
  const smdExpiryMs = options.smdExpiryMs ?? 10 * 60_000;
  const restPerSecond = options.restPerSecond ?? 10;
  const knobs = {
    duplicates: options.duplicates ?? 0,
    outOfOrder: options.outOfOrder ?? 0,
    partial: options.partial ?? 0.6,
    ticTimeoutMs: options.ticTimeoutMs ?? 120_000,
    silent: false,
    mute: false,
    quietConids: [] as number[],
    snapshotPerSecond: options.snapshotPerSecond ?? 10,
  };
  const stats: CpapiSimStats = {
    connections: 0, rejectedUpgrades: 0, tics: 0, tickles: 0, ticExpiries: 0, ssodhInits: 0, accountsCalls: 0, restCalls: 0, rateLimited: 0,
    smdRequests: new Map(), smdPeakPerSec: 0, expiredSubscriptions: 0, snapshotCalls: 0, snapshotPreflights: 0, snapshot429: 0, secdefCalls: 0,
  };
  /** Conids a snapshot was asked for before: the first call for a conid is the pre-flight. */
  const snapshotPrimed = new Set<number>();
  let snapshotTimes: number[] = [];
  const session = { id: newSessionId(rand), authenticated: true, competing: false, accountsPrimed: false };
  const conns = new Connections<Conn>({ drop: (c) => c.ws.terminate() });
  const ledger = new SentLedger<RecordedGreeks>();
  const restTimes: number[] = [];
  const price = new Map<number, number>(book.contracts.map((c, i) => [i, market.step(i, clock.now()).price]));

  // ---- REST --------------------------------------------------------------------------------

  const authStatus = () => ({
    authenticated: session.authenticated, competing: session.competing, connected: true, message: '', MAC: '00:00:00:00:00:00',
    serverInfo: { serverName: 'SimGateway', serverVersion: 'Build 10.30.0' }, fail: '',
  });

  /** Current fields of a conid (option or underlying), as the snapshot answers them; null when unknown. */
  function fieldsOf(conid: number): Record<string, string> | null {
    const i = book.indexOfConid(conid);
    if (i >= 0) return optionFields(market.step(i, clock.now()), UNDERLYING_CONIDS[book.contracts[i].underlying] ?? 0);
    const sym = book.underlyingOfConid(conid);
    return sym ? underlyingFields(market.spotOf(sym)) : null;
  }

  function secdef(path: string, q: URLSearchParams): { status: number; body: unknown } | null {
    if (path === '/iserver/secdef/search') {
      stats.secdefCalls++;
      const symbol = (q.get('symbol') ?? '').toUpperCase();
      const conid = UNDERLYING_CONIDS[symbol];
      if (!conid) return { status: 200, body: [] };
      const secType = INDEX_UNDERLYINGS.has(symbol) ? 'IND' : 'STK';
      return { status: 200, body: [{ conid: String(conid), companyHeader: `${symbol} - SIM`, companyName: symbol, symbol, description: secType === 'IND' ? 'CBOE' : 'ARCA', sections: [{ secType }, { secType: 'OPT', months: 'JAN27;FEB27' }] }] };
    }
    if (path === '/iserver/secdef/info') {
      stats.secdefCalls++;
      const und = book.underlyingOfConid(Number(q.get('conid')));
      const month = (q.get('month') ?? '').toUpperCase();
      const strike = Number(q.get('strike'));
      const right = (q.get('right') ?? '').toUpperCase();
      const rows = book.contracts.map((c, i) => ({ c, i })).filter(({ c }) => {
        const [y, m] = c.expiry.split('-');
        const mon = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'][Number(m) - 1] + y.slice(2);
        return c.underlying === und && mon === month && c.strike === strike && c.right === right;
      });
      return {
        status: 200,
        body: rows.map(({ c, i }) => ({
          conid: book.optionConid(i), symbol: c.underlying, secType: 'OPT', exchange: 'SMART', right: c.right, strike: c.strike,
          currency: 'USD', maturityDate: c.expiry.replace(/-/g, ''), multiplier: String(c.multiplier), tradingClass: simContractKey(c).slice(0, 6).trim(),
        })),
      };
    }
    if (path === '/iserver/marketdata/snapshot') {
      stats.snapshotCalls++;
      const now = clock.now();
      snapshotTimes = snapshotTimes.filter((t) => t > now - 1000);
      if (snapshotTimes.length >= knobs.snapshotPerSecond) {
        stats.snapshot429++;
        stats.rateLimited++;
        return { status: 429, body: { error: 'too many requests' } };
      }
      snapshotTimes.push(now);
      const conids = (q.get('conids') ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
      const wanted = new Set((q.get('fields') ?? '').split(',').filter(Boolean));
      let preflight = false;
      const body = conids.map((conid) => {
        if (!snapshotPrimed.has(conid)) {
          // The first call for a conid only starts the server-side stream (WEB: "pre-flight").
          snapshotPrimed.add(conid);
          preflight = true;
          return { conid, conidEx: String(conid) };
        }
        const f = fieldsOf(conid) ?? {};
        const picked = Object.fromEntries(Object.entries(f).filter(([id]) => wanted.size === 0 || wanted.has(id)));
        return { conid, conidEx: String(conid), _updated: now, server_id: 'q1', ...picked };
      });
      if (preflight) stats.snapshotPreflights++;
      return { status: 200, body };
    }
    return null;
  }

  function route(method: string, path: string, query: URLSearchParams = new URLSearchParams()): { status: number; body: unknown; cookies?: string[] } {
    if (method === 'POST' && path === '/iserver/auth/status') return { status: 200, body: authStatus() };
    if (method === 'POST' && path === '/iserver/auth/ssodh/init') {
      stats.ssodhInits++;
      Object.assign(session, { authenticated: true, competing: false, accountsPrimed: false });
      return { status: 200, body: authStatus() };
    }
    if (method === 'POST' && path === '/tickle') {
      stats.tickles++;
      return {
        status: 200,
        body: { session: session.id, ssoExpires: 460_000, collission: session.competing, userId: 1, hmds: { error: 'no bridge' }, iserver: { authStatus: authStatus() } },
        cookies: [`x-sess-uuid=${session.id.slice(0, 8)}; Path=/; Secure; HttpOnly`],
      };
    }
    if (!session.authenticated) return { status: 401, body: { error: 'not authenticated' } };
    if (method === 'GET' && path === '/iserver/accounts') {
      stats.accountsCalls++;
      session.accountsPrimed = true;
      return { status: 200, body: { accounts: book.accounts, acctProps: {}, aliases: {}, selectedAccount: book.accounts[0], isPaper: true } };
    }
    if (method === 'GET' && path === '/portfolio/accounts') {
      return { status: 200, body: book.accounts.map((id) => ({ id, accountId: id, accountVan: id, type: 'DEMO', currency: 'USD' })) };
    }
    if (method === 'GET') {
      const r = secdef(path, query);
      if (r) return r;
    }
    const m = path.match(/^\/portfolio\/([^/]+)\/positions\/(\d+)$/);
    if (method === 'GET' && m) {
      const rows = [...book.holdings.filter((h) => h.account === m[1]).map((h) => positionRow(book, h, price.get(h.index) ?? 1)), ...(futures?.positionRows(m[1]) ?? [])];
      const page = Number(m[2]);
      return { status: 200, body: rows.slice(page * 100, page * 100 + 100) };
    }
    return { status: 404, body: { error: `no route ${method} ${path}` } };
  }

  function onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    req.on('end', () => {
      stats.restCalls++;
      const now = clock.now();
      while (restTimes.length > 0 && restTimes[0] <= now - 1000) restTimes.shift();
      restTimes.push(now);
      const path = (req.url ?? '').split('?')[0].replace(/^\/v1\/api/, '');
      const query = new URL(req.url ?? '/', 'http://sim').searchParams;
      const r = restTimes.length > restPerSecond ? ((stats.rateLimited++), { status: 429, body: { error: 'too many requests' } }) : route(req.method ?? 'GET', path, query);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
      if (r.cookies) headers['set-cookie'] = r.cookies;
      res.writeHead(r.status, headers).end(JSON.stringify(r.body));
    });
  }

  const cert = options.plainHttp ? null : makeSelfSignedCert();
  const server = cert ? https.createServer({ key: cert.key, cert: cert.cert }, onRequest) : http.createServer(onRequest);

  // ---- WebSocket ---------------------------------------------------------------------------

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/v1/api/ws' || !hasSessionCookie(req.headers.cookie, session.id)) {
      stats.rejectedUpgrades++;
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  });

  const send = (c: Conn, msg: unknown) => {
    if (c.ws.readyState === c.ws.OPEN && !knobs.mute) c.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg), { binary: options.binaryFrames ?? false });
  };

  function onConnection(ws: WebSocket): void {
    stats.connections++;
    const c: Conn = { ws, lastTicAt: clock.now(), subs: new Map(), held: new HoldBack() };
    conns.add(c);
    ws.on('close', () => conns.delete(c));
    ws.on('error', () => conns.delete(c));
    ws.on('message', (data) => onCommand(c, data.toString()));
    send(c, { topic: 'system', success: 'simuser', isFT: false, isPaper: true });
    send(c, { topic: 'act', args: { accounts: book.accounts, acctProps: {}, aliases: {}, allowFeatures: {}, selectedAccount: book.accounts[0] } });
    send(c, { topic: 'sts', args: { authenticated: session.authenticated, competing: session.competing, connected: true, message: '', fail: '', serverName: 'SimGateway' } });
  }

  function onCommand(c: Conn, text: string): void {
    const t = text.trim();
    if (t === 'tic' || t === 'ech+hb') {
      stats.tics++;
      c.lastTicAt = clock.now();
      send(c, t === 'tic' ? { topic: 'tic', alive: true, id: session.id.slice(0, 8), lastAccessed: clock.now() } : { topic: 'echo', alive: true });
      return;
    }
    const smd = t.match(/^smd\+(\d+)\+(.*)$/s);
    if (smd) {
      const conid = Number(smd[1]);
      if (book.indexOfConid(conid) < 0 && book.underlyingOfConid(conid) === null && !futures?.knows(conid)) {
        send(c, { topic: `smd+${conid}`, error: `unknown conid ${conid}` });
        return;
      }
      stats.smdRequests.set(conid, (stats.smdRequests.get(conid) ?? 0) + 1);
      const at = clock.now();
      while (smdTimes.length > 0 && smdTimes[0] <= at - 1000) smdTimes.shift();
      smdTimes.push(at);
      stats.smdPeakPerSec = Math.max(stats.smdPeakPerSec, smdTimes.length);
      const existing = c.subs.get(conid);
      if (existing) existing.subscribedAt = clock.now();
      else {
        c.subs.set(conid, { conid, subscribedAt: clock.now(), frames: 0, told: {} });
        // The first frame of a new subscription carries no data.
        send(c, { server_id: 'q0', conidEx: String(conid), conid, _updated: clock.now(), topic: `smd+${conid}` });
      }
      return;
    }
    const umd = t.match(/^umd\+(\d+)\+/);
    if (umd) c.subs.delete(Number(umd[1]));
  }

  // ---- timers --------------------------------------------------------------------------------

  function tick(): void {
    const now = clock.now();
    for (const c of conns) {
      if (now - c.lastTicAt > knobs.ticTimeoutMs) {
        stats.ticExpiries++;
        c.ws.close(1000, 'session expired: no tic');
        conns.delete(c);
      }
    }
    if (knobs.silent) {
      // Falling silent never swallows a frame held back for reordering: what was recorded is sent.
      for (const c of conns) for (const [, text] of c.held.drain()) send(c, text);
      return;
    }
    if (!session.authenticated || !session.accountsPrimed) return;
    const live = new Set<number>();
    for (const c of conns) for (const s of c.subs.values()) if (now - s.subscribedAt < smdExpiryMs) live.add(s.conid);
    const fieldsNow = new Map<number, Record<string, string>>();
    for (const conid of live) {
      const i = book.indexOfConid(conid);
      if (i >= 0) {
        const g = market.step(i, now);
        price.set(i, g.price);
        fieldsNow.set(conid, optionFields(g, UNDERLYING_CONIDS[book.contracts[i].underlying] ?? 0));
      }
    }
    for (const conid of live) {
      const sym = book.underlyingOfConid(conid);
      // An underlying no option of the book moves (a watched index) walks on its own.
      if (sym) fieldsNow.set(conid, underlyingFields(book.contracts.some((c) => c.underlying === sym) ? market.spotOf(sym) : market.walk(sym)));
      const ff = futures?.fields(conid, now);
      if (ff) fieldsNow.set(conid, ff);
    }
    const quiet = new Set(knobs.quietConids);
    for (const c of conns) {
      for (const s of c.subs.values()) {
        if (now - s.subscribedAt >= smdExpiryMs) {
          c.subs.delete(s.conid);
          stats.expiredSubscriptions++;
          continue;
        }
        if (quiet.has(s.conid)) continue;
        sendFrame(c, s, fieldsNow.get(s.conid)!, now);
      }
    }
  }

  function sendFrame(c: Conn, s: Subscription, now: Record<string, string>, ts: number): void {
    const isOption = knownOption(s.conid);
    const held = c.held.peek(s.conid);
    const swap = isOption && held === undefined && s.frames >= 2 && chance(rand, knobs.outOfOrder);
    const fields = nextFrame(s, now, rand, { partial: knobs.partial, full: swap || held !== undefined });
    if (Object.keys(fields).length === 0) return;
    const text = JSON.stringify({ server_id: 'q0', conidEx: String(s.conid), conid: s.conid, _updated: ts, ...fields, topic: `smd+${s.conid}` });
    if (isOption && Object.keys(fields).some((id) => id.startsWith('73') || id === '7633')) record(s, ts);
    if (swap) {
      c.held.hold(s.conid, text);
      return;
    }
    send(c, text);
    if (held !== undefined) send(c, c.held.take(s.conid)!);
    if (chance(rand, knobs.duplicates)) send(c, text);
  }

  function record(s: Subscription, eventTs: number): void {
    const fop = futures?.option(s.conid);
    const contractKey = fop ? fop.key : simContractKey(book.contracts[book.indexOfConid(s.conid)]);
    ledger.record({ conid: s.conid, contractKey, eventTs, ...toldGreeks(s) });
  }

  const tickers = [
    startTicker({ clock, periodMs: options.rateMs ?? 250, onTick: tick }),
    startTicker({
      clock,
      periodMs: hbMs,
      onTick: () => {
        for (const c of conns) send(c, { topic: 'system', hb: clock.now() });
      },
    }),
  ];

  const { port } = await listen(server, options.port ?? 0);

  return {
    url: `${cert ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    tls: cert !== null,
    book,
    futures,
    knobs,
    stats,
    ledger,
    greeksSent: () => ledger.entries(),
    liveSubscriptions: () => {
      const now = clock.now();
      const out = new Set<number>();
      for (const c of conns) for (const s of c.subs.values()) if (now - s.subscribedAt < smdExpiryMs) out.add(s.conid);
      return [...out].sort((a, b) => a - b);
    },
    openSockets: () => conns.size,
    dropConnections: () => conns.dropAll(),
    competeSession() {
      Object.assign(session, { authenticated: false, competing: true });
      for (const c of conns) send(c, { topic: 'sts', args: { authenticated: false, competing: true, connected: true, message: 'competing session', fail: '' } });
    },
    async close() {
      for (const t of tickers) t.stop();
      conns.dropAll();
      wss.close();
      await closeServer(server);
    },
  };
}

function newSessionId(rand: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

/** The socket must carry `api=<session>` (or the JSON form `api={"session":"..."}`). */
function hasSessionCookie(header: string | undefined, id: string): boolean {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== 'api') continue;
    const v = decodeURIComponent(part.slice(eq + 1).trim());
    if (v === id || v.includes(`"${id}"`)) return true;
  }
  return false;
}
