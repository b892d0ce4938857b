/**
 * A local DXLink WebSocket server speaking the dxLink protocol as the AsyncAPI spec and the
 * 0.3.0 JS client expect: SETUP → AUTH_STATE UNAUTHORIZED (greeting) → AUTH → AUTHORIZED →
 * CHANNEL_REQUEST/OPENED → FEED_SETUP/FEED_CONFIG → FEED_SUBSCRIPTION → FEED_DATA, KEEPALIVE
 * both ways. FEED_CONFIG announces a type's fields before its first FEED_DATA; only the fields
 * the client accepted are sent; a new subscriber gets the latest event again (like dxFeed).
 * Knobs change behaviour while running: rate, duplicates, out-of-order, NaN, numbers as text,
 * mixed-type messages, silence, token rejection, ERROR messages, close 1012.
 */
import type { WebSocket } from 'ws';
import { closeWsServer, Connections, maybe, startTicker, startWsServer } from '../../simkit/index.js';
import { KNOWN_FIELDS, wireValue, type DxEvent, type MarketFeed } from './market-feed.js';

export interface DxKnobs {
  /** Market tick period: every tick each subscribed symbol gets one event. */
  tickMs: number;
  /** Probability that an event is sent again in the next tick (a duplicate). */
  duplicateRate: number;
  /** Probability that a tick also sends an older (but new) event after the newest one. */
  outOfOrderRate: number;
  /** Probability of each Greeks value being "NaN". */
  nanRate: number;
  /** Send every number as text with an exponent ("1.37E7"). */
  numbersAsStrings: boolean;
  /** Put Greeks and Quote pairs in one FEED_DATA (legal, though real servers send one type). */
  mixTypes: boolean;
  /** Announce fields in reverse order (after eventType) to catch clients that assume order. */
  reorderFields: boolean;
  /** Server KEEPALIVE period. */
  keepaliveMs: number;
  /** Close a connection whose client sent nothing for this long. */
  clientTimeoutMs: number;
  /** Send nothing at all (no data, no keepalive) on every connection. */
  silent: boolean;
  /** The next n AUTH messages are answered UNAUTHORIZED. */
  rejectNextAuths: number;
  /** After a rejection, also send ERROR UNAUTHORIZED and close the socket. */
  closeOnReject: boolean;
  /** Send the AUTH_STATE UNAUTHORIZED greeting after SETUP (servers that skip it exist). */
  greeting: boolean;
  /**
   * A client message longer than this (bytes) closes the connection with 1009 "message too
   * long", as a full-chain FEED_SUBSCRIPTION does on the real service (0 = no limit). The real
   * limit is not published: 64 KiB fails a 5,000-contract book in one message (~450 KB), as
   * a ~20k-symbol chain fails there, and passes chunks of 500 subscriptions (~25 KB).
   */
  maxMessageBytes: number;
  /** Streamer symbols that have gone quiet: subscribed, yet no event of any type is sent for them. */
  quietSymbols: string[];
}

export const defaultDxKnobs = (): DxKnobs => ({
  tickMs: 100, duplicateRate: 0, outOfOrderRate: 0, nanRate: 0, numbersAsStrings: false, mixTypes: false,
  reorderFields: false, keepaliveMs: 10_000, clientTimeoutMs: 60_000, silent: false, rejectNextAuths: 0, closeOnReject: false, greeting: true, quietSymbols: [],
  maxMessageBytes: 65_536,
});

interface Channel {
  format: 'COMPACT' | 'FULL';
  aggregationPeriod: number;
  accepted: Map<string, string[]>;
  announced: Map<string, string[]>;
  subs: Set<string>;
}

interface Session {
  ws: WebSocket;
  setup: boolean;
  authorized: boolean;
  lastInbound: number;
  channels: Map<number, Channel>;
  keepalive: NodeJS.Timeout;
}

export interface SubscriptionRecord { channel: number; reset: boolean; add: string[]; remove: string[]; /** wall-clock ms of arrival */ at: number; /** message size in bytes */ bytes: number }

export interface DxServer {
  url: string;
  knobs: DxKnobs;
  /** AUTH messages seen, with the verdict. */
  auths: { token: string; accepted: boolean }[];
  subscriptionMessages: SubscriptionRecord[];
  /** Connections closed with 1009 because a client message exceeded knobs.maxMessageBytes. */
  tooLongClosures(): number;
  connections(): number;
  /** Every connection's current subscriptions, as 'Type:symbol'. */
  subscriptions(): Set<string>;
  closeAll(code?: number, reason?: string): void;
  /** Makes the current connections silent (new ones are served normally). */
  silenceConnections(): void;
  sendError(error: string, message: string): void;
  /** Sends a text frame as is to every connection (for malformed-input tests). */
  sendRaw(text: string): void;
  close(): Promise<void>;
}

const sub = (type: string, symbol: string) => `${type}:${symbol}`;

export async function startDxServer(feed: MarketFeed, isValidToken: (t: string) => boolean, knobs: DxKnobs = defaultDxKnobs()): Promise<DxServer> {
  const { wss, port } = await startWsServer();
  const sessions = new Connections<Session>({
    drop: (s) => s.ws.terminate(),
    close: (s, code, reason) => s.ws.close(code, reason),
  });
  const auths: DxServer['auths'] = [];
  const subscriptionMessages: SubscriptionRecord[] = [];
  let pendingDuplicates: DxEvent[] = [];
  let tooLong = 0;
  const rand = () => feed.market.random();

  /** Sends one message; false when it did not go out (silent, or the socket is closing). */
  const out = (s: Session, msg: Record<string, unknown>): boolean => {
    if (knobs.silent || sessions.isSilenced(s) || s.ws.readyState !== s.ws.OPEN) return false;
    s.ws.send(JSON.stringify(msg));
    return true;
  };

  const fieldsFor = (ch: Channel, type: string): string[] => {
    const known = KNOWN_FIELDS[type];
    const asked = ch.accepted.get(type);
    let fields = asked && asked.length > 0 ? asked.filter((f) => known.includes(f)) : [...known];
    if (!fields.includes('eventType')) fields = ['eventType', ...fields];
    if (!fields.includes('eventSymbol')) fields.splice(1, 0, 'eventSymbol');
    return knobs.reorderFields ? [fields[0], ...fields.slice(1).reverse()] : fields;
  };

  const announce = (s: Session, id: number, ch: Channel, types: string[]) => {
    const eventFields: Record<string, string[]> = {};
    for (const t of types) {
      const f = fieldsFor(ch, t);
      ch.announced.set(t, f);
      eventFields[t] = f;
    }
    out(s, { type: 'FEED_CONFIG', channel: id, dataFormat: ch.format, aggregationPeriod: ch.aggregationPeriod, ...(types.length ? { eventFields } : {}) });
  };

  /**
   * Sends events (already filtered to the channel's subscriptions), one type per message unless
   * mixTypes, and records the Greeks that really went out.
   */
  const sendEvents = (s: Session, id: number, ch: Channel, events: DxEvent[]): void => {
    if (events.length === 0) return;
    const record = (sent: boolean, evs: DxEvent[]) => {
      if (sent) for (const e of evs) if (e.eventType === 'Greeks') feed.recordSent(e);
    };
    const byType = new Map<string, DxEvent[]>();
    for (const e of events) {
      const t = String(e.eventType);
      const list = byType.get(t);
      if (list) list.push(e);
      else byType.set(t, [e]);
    }
    for (const t of byType.keys()) if (!ch.announced.has(t)) announce(s, id, ch, [t]);
    if (ch.format === 'FULL') {
      const data = events.map((e) => Object.fromEntries(ch.announced.get(String(e.eventType))!.map((f) => [f, wireValue(e[f] ?? 0, knobs.numbersAsStrings)])));
      return record(out(s, { type: 'FEED_DATA', channel: id, data }), events);
    }
    const pairs: [string, unknown[], DxEvent[]][] = [];
    for (const [t, evs] of byType) {
      const fields = ch.announced.get(t)!;
      pairs.push([t, evs.flatMap((e) => fields.map((f) => wireValue(e[f] ?? 0, knobs.numbersAsStrings))), evs]);
    }
    if (knobs.mixTypes) record(out(s, { type: 'FEED_DATA', channel: id, data: pairs.flatMap(([t, v]) => [t, v]) }), events);
    else for (const [t, v, evs] of pairs) record(out(s, { type: 'FEED_DATA', channel: id, data: [t, v] }), evs);
  };

  const live = () => [...sessions].filter((s) => s.authorized && !sessions.isSilenced(s) && !knobs.silent);

  const tick = () => {
    const now = Date.now();
    const wanted = new Set<string>();
    for (const s of live()) for (const ch of s.channels.values()) for (const k of ch.subs) wanted.add(k);
    const events: DxEvent[] = [...pendingDuplicates];
    pendingDuplicates = [];
    const quiet = new Set(knobs.quietSymbols);
    for (const k of wanted) {
      const [type, symbol] = [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)];
      if (quiet.has(symbol)) continue;
      if (type === 'Greeks') {
        const older = maybe(rand, knobs.outOfOrderRate) ? feed.nextGreeks(symbol, now - 1 - Math.floor(feed.market.random() * 500), knobs.nanRate, true) : null;
        const ev = feed.nextGreeks(symbol, now, knobs.nanRate);
        if (ev) events.push(ev);
        if (older) events.push(older); // the older event arrives after the newer one
        if (ev && maybe(rand, knobs.duplicateRate)) pendingDuplicates.push(ev); // sent again next tick
      } else if (type === 'Quote') {
        events.push(feed.quote(symbol, now));
      }
    }
    deliver(events);
  };

  const deliver = (events: DxEvent[]) => {
    for (const s of live()) {
      for (const [id, ch] of s.channels) {
        sendEvents(s, id, ch, events.filter((e) => ch.subs.has(sub(String(e.eventType), String(e.eventSymbol)))));
      }
    }
  };

  // Fixed-rate ticks: the offered rate holds when a tick takes a few milliseconds of work; the
  // period is read before every tick (tests change knobs.tickMs while running).
  const ticker = startTicker({ mode: 'fixed-rate', periodMs: () => knobs.tickMs, onTick: () => tick() });

  const onMessage = (s: Session, text: string) => {
    s.lastInbound = Date.now();
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(text);
      if (!m || typeof m !== 'object' || typeof m.type !== 'string' || typeof m.channel !== 'number') throw new Error('bad envelope');
    } catch {
      return out(s, { type: 'ERROR', channel: 0, error: 'INVALID_MESSAGE', message: 'not a dxLink message' });
    }
    const id = m.channel as number;
    if (id === 0) {
      switch (m.type) {
        case 'SETUP':
          s.setup = true;
          out(s, { type: 'SETUP', channel: 0, keepaliveTimeout: 60, acceptKeepaliveTimeout: 60, version: '1.0-riskwire-sim' });
          if (knobs.greeting) out(s, { type: 'AUTH_STATE', channel: 0, state: 'UNAUTHORIZED' });
          return;
        case 'AUTH': {
          const token = String(m.token ?? '');
          const ok = knobs.rejectNextAuths <= 0 && isValidToken(token);
          if (knobs.rejectNextAuths > 0) knobs.rejectNextAuths--;
          auths.push({ token, accepted: ok });
          s.authorized = ok;
          if (ok) return out(s, { type: 'AUTH_STATE', channel: 0, state: 'AUTHORIZED', userId: 'sim-user' });
          s.channels.clear();
          out(s, { type: 'AUTH_STATE', channel: 0, state: 'UNAUTHORIZED' });
          if (knobs.closeOnReject) {
            out(s, { type: 'ERROR', channel: 0, error: 'UNAUTHORIZED', message: 'token rejected' });
            s.ws.close(1008, 'unauthorized');
          }
          return;
        }
        case 'KEEPALIVE':
          return;
        case 'ERROR':
          return;
        default:
          return out(s, { type: 'ERROR', channel: 0, error: 'BAD_ACTION', message: `unexpected ${String(m.type)}` });
      }
    }
    if (!s.authorized) return out(s, { type: 'ERROR', channel: 0, error: 'UNAUTHORIZED', message: 'authorize first' });
    switch (m.type) {
      case 'CHANNEL_REQUEST': {
        if (m.service !== 'FEED') return out(s, { type: 'CHANNEL_CLOSED', channel: id });
        const params = (m.parameters ?? {}) as Record<string, unknown>;
        // A repeated request (the client re-authenticated) reopens the channel from scratch.
        s.channels.set(id, { format: 'FULL', aggregationPeriod: 0.1, accepted: new Map(), announced: new Map(), subs: new Set() });
        return out(s, { type: 'CHANNEL_OPENED', channel: id, service: 'FEED', parameters: { contract: params.contract ?? 'AUTO', subFormat: 'LIST' } });
      }
      case 'CHANNEL_CANCEL':
        s.channels.delete(id);
        return out(s, { type: 'CHANNEL_CLOSED', channel: id });
    }
    const ch = s.channels.get(id);
    if (!ch) return out(s, { type: 'ERROR', channel: id, error: 'BAD_ACTION', message: 'channel not open' });
    if (m.type === 'FEED_SETUP') {
      if (m.acceptDataFormat === 'COMPACT' || m.acceptDataFormat === 'FULL') ch.format = m.acceptDataFormat;
      if (typeof m.acceptAggregationPeriod === 'number') ch.aggregationPeriod = Math.max(0.1, m.acceptAggregationPeriod);
      const fields = (m.acceptEventFields ?? {}) as Record<string, unknown>;
      for (const [t, list] of Object.entries(fields)) if (KNOWN_FIELDS[t] && Array.isArray(list)) ch.accepted.set(t, list.map(String));
      return announce(s, id, ch, Object.keys(fields).filter((t) => KNOWN_FIELDS[t]));
    }
    if (m.type === 'FEED_SUBSCRIPTION') {
      const list = (v: unknown) => (Array.isArray(v) ? v : []).map((x) => x as { type?: unknown; symbol?: unknown }).filter((x) => typeof x.type === 'string' && typeof x.symbol === 'string');
      const add = list(m.add).map((x) => sub(String(x.type), String(x.symbol)));
      const remove = list(m.remove).map((x) => sub(String(x.type), String(x.symbol)));
      subscriptionMessages.push({ channel: id, reset: m.reset === true, add, remove, at: Date.now(), bytes: Buffer.byteLength(text) });
      if (m.reset === true) ch.subs.clear();
      for (const k of remove) ch.subs.delete(k);
      const fresh = add.filter((k) => !ch.subs.has(k) && KNOWN_FIELDS[k.slice(0, k.indexOf(':'))]);
      for (const k of fresh) ch.subs.add(k);
      // Like dxFeed: a new subscriber gets the latest event at once.
      const snapshot = fresh.filter((k) => k.startsWith('Greeks:')).map((k) => feed.latestGreeks(k.slice(7))).filter((e): e is DxEvent => !!e);
      sendEvents(s, id, ch, snapshot);
      return;
    }
    return out(s, { type: 'ERROR', channel: id, error: 'BAD_ACTION', message: `unexpected ${String(m.type)}` });
  };

  wss.on('connection', (ws) => {
    const s: Session = {
      ws, setup: false, authorized: false, lastInbound: Date.now(), channels: new Map(),
      keepalive: setInterval(() => {
        if (Date.now() - s.lastInbound > knobs.clientTimeoutMs) {
          out(s, { type: 'ERROR', channel: 0, error: 'TIMEOUT', message: 'no keepalive from client' });
          ws.close(1000, 'timeout');
          return;
        }
        out(s, { type: 'KEEPALIVE', channel: 0 });
      }, knobs.keepaliveMs),
    };
    sessions.add(s);
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
      if (knobs.maxMessageBytes > 0 && bytes > knobs.maxMessageBytes) {
        tooLong++;
        ws.close(1009, 'message too long');
        return;
      }
      onMessage(s, isBinary ? '' : data.toString());
    });
    ws.on('close', () => {
      clearInterval(s.keepalive);
      sessions.delete(s);
    });
    ws.on('error', () => ws.terminate());
  });

  return {
    url: `ws://127.0.0.1:${port}/realtime`,
    knobs,
    auths,
    subscriptionMessages,
    tooLongClosures: () => tooLong,
    connections: () => sessions.size,
    subscriptions() {
      const all = new Set<string>();
      for (const s of sessions) for (const ch of s.channels.values()) for (const k of ch.subs) all.add(k);
      return all;
    },
    closeAll: (code = 1012, reason = 'reconnection required') => sessions.closeAll(code, reason),
    silenceConnections: () => sessions.silenceAll(),
    sendError(error, message) {
      for (const s of sessions) out(s, { type: 'ERROR', channel: 0, error, message });
    },
    sendRaw(text) {
      for (const s of sessions) if (s.ws.readyState === s.ws.OPEN) s.ws.send(text);
    },
    close: () => {
      ticker.stop();
      for (const s of sessions) clearInterval(s.keepalive);
      return closeWsServer(wss);
    },
  };
}
