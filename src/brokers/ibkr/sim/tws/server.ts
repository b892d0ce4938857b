/**
 * A minimal TWS / IB Gateway on a local TCP port, speaking the socket protocol @stoqey/ib
 * expects. Product code: `npm run demo` runs it in-process; tests use its knobs and its record
 * of what was sent. Scenarios: rate, duplicates, out-of-order, abrupt close, connectivity and
 * farm notices (1100/1101/1102, 2103/2104/2108), a hung TWS, a competing session (10197) and
 * malformed frames.
 */
import net from 'node:net';
import { defaultContracts, SimMarket, type SimContract } from '../../../simbook.js';
import { Connections, FaultLine, SentLedger, closeServer, listen, startTicker, type FaultKnobs } from '../../../simkit/index.js';
import { defaultHoldings, futuresTws, toTwsContracts, type TwsSimContract, type TwsSimHolding } from './book.js';
import { ES_PRICE, futureOptionGreeks, futuresBook } from '../../../simfutures.js';
import { encodeFrame, type Field } from './codec.js';
import * as msg from './messages.js';
import { SimSession, type SimHost, type SimRequest, type SimSubscription, type TwsSimKnobs } from './session.js';

export type { TwsSimKnobs } from './session.js';

export interface TwsSimulatorOptions {
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Announced server version (157-193, within @stoqey/ib's range); default 176. */
  serverVersion?: number;
  accounts?: string[];
  contracts?: SimContract[];
  holdings?: (contracts: TwsSimContract[], accounts: string[]) => TwsSimHolding[];
  /** Carry the futures book (src/brokers/simfutures.ts: FUT + FOPs) in the first account. Default false. */
  futures?: boolean;
  /** Milliseconds between tick rounds; 0 = only when tick() is called. Default 250. */
  intervalMs?: number;
  seed?: number;
  knobs?: Partial<TwsSimKnobs>;
}

/** One greeks update as sent (IV as a fraction, IB units). */
export interface SentGreeks {
  contractKey: string;
  iv: number;
  delta: number;
  gamma: number;
  vega: number;
  theta: number;
  optPrice: number;
  undPrice: number;
}

export type MalformedKind = 'truncated' | 'unknown-id' | 'not-a-number' | 'bad-json';

export interface TwsSimulator {
  host: string;
  port: number;
  serverVersion: number;
  accounts: string[];
  contracts: TwsSimContract[];
  holdings: TwsSimHolding[];
  /** Change while running. */
  knobs: TwsSimKnobs;
  /** Sends one round of quotes and greeks for every live request now. */
  tick(): void;
  /** Sends a notice (reqId -1) to every client, with TWS's side effects on subscriptions. */
  notice(code: 1100 | 1101 | 1102 | 2103 | 2104 | 2108): void;
  /** Another session takes the live data: every live request gets 10197 and goes silent. */
  competingSession(): void;
  /** Abrupt close of every client socket (RST); the server keeps listening. */
  dropConnections(): void;
  /** Sends one malformed message to every client. */
  sendMalformed(kind: MalformedKind): void;
  /** Every unique greeks update sent, in send order (the simulator kit's ledger). */
  ledger: SentLedger<SentGreeks>;
  /** Unique greeks updates sent, per contract key (the ledger grouped). */
  sentGreeks(): Map<string, SentGreeks[]>;
  /** Contract keys with a live market-data request, over all clients. */
  liveContracts(): string[];
  stats(): { connections: number; activeConnections: number; requests: Record<SimRequest, number>; linesInUse: number; peakLines: number; error100: number; error101: number };
  close(): Promise<void>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export async function startTwsSimulator(options: TwsSimulatorOptions = {}): Promise<TwsSimulator> {
  const serverVersion = Math.max(157, Math.min(193, options.serverVersion ?? 176));
  const accounts = options.accounts ?? ['DU1000001', 'DU1000002'];
  const contracts = toTwsContracts(options.contracts ?? defaultContracts());
  const holdings = (options.holdings ?? defaultHoldings)(contracts, accounts);
  const fb = options.futures ? futuresBook(Date.now()) : null;
  if (fb) {
    const extra = futuresTws(fb, contracts.length, accounts[0]);
    contracts.push(...extra.contracts);
    holdings.push(...extra.holdings);
  }
  let esPrice = ES_PRICE;
  const knobs: TwsSimKnobs = { duplicates: 0, outOfOrder: 0, hung: false, lineLimit: 100, maxRequestsPerSec: 50, ...options.knobs };
  const market = new SimMarket(contracts.map((c) => c.sim), options.seed ?? 7);
  const sessions = new Connections<SimSession>({ drop: (s) => void s.socket.resetAndDestroy() });
  const requests: Record<SimRequest, number> = { startApi: 0, reqMktData: 0, cancelMktData: 0, reqPositions: 0, cancelPositions: 0, reqCurrentTime: 0, reqMarketDataType: 0, other: 0 };
  const ledger = new SentLedger<SentGreeks>();
  let connections = 0;
  let paused = false; // between 1100 and 1101/1102: IB is unreachable, nothing flows

  const lineStats = { peakLines: 0, error100: 0, error101: 0 };
  let recent: number[] = []; // market-data requests of the last second
  const linesInUse = () => {
    let n = 0;
    for (const s of sessions) n += s.liveSubscriptions().length;
    return n;
  };
  const host: SimHost = {
    serverVersion, accounts, contracts, holdings, knobs, now: () => Date.now(), count: (r) => void requests[r]++,
    linesInUse,
    paced() {
      const now = Date.now();
      recent = recent.filter((t) => t > now - 1000);
      if (knobs.maxRequestsPerSec > 0 && recent.length >= knobs.maxRequestsPerSec) return false;
      recent.push(now);
      return true;
    },
    lineOpened: () => void (lineStats.peakLines = Math.max(lineStats.peakLines, linesInUse())),
    rejected: (code) => void (code === 100 ? lineStats.error100++ : lineStats.error101++),
  };

  /** A greeks frame, what it says, and the client it is for. */
  type Update = { s: SimSession; fields: Field[]; g: SentGreeks };
  // The knobs seen through the kit's fault names (live: tests change sim.knobs while running).
  const faultKnobs: FaultKnobs = {
    drop: 0, delayMs: 0, silent: false,
    get duplicate() { return knobs.duplicates; },
    get reorder() { return knobs.outOfOrder; },
  };
  // Held back (out-of-order knob) per subscription; recorded once actually sent: an update still
  // held back was never "sent". A duplicate's copy is the same update (not a new ledger entry).
  const faults = new FaultLine<SimSubscription, Update>({
    knobs: faultKnobs,
    rand: () => market.random(),
    deliver(u, _sub, copy) {
      u.s.send(u.fields);
      if (!copy) ledger.record(u.g);
    },
  });

  const tickSubscription = (s: SimSession, sub: SimSubscription, update: { g: SentGreeks }, prices: { bid: number; ask: number; last: number }) => {
    const delayed = s.marketDataType >= 3;
    if (!sub.computed) {
      sub.computed = true;
      s.send(msg.tickOptionComputation(s.version, sub.reqId, delayed ? 83 : 13, msg.NOT_COMPUTED));
    }
    s.send(msg.tickPrice(sub.reqId, delayed ? 66 : 1, prices.bid, 10));
    s.send(msg.tickPrice(sub.reqId, delayed ? 67 : 2, prices.ask, 12));
    s.send(msg.tickPrice(sub.reqId, delayed ? 68 : 4, prices.last, 1));
    const fields = msg.tickOptionComputation(s.version, sub.reqId, delayed ? 83 : 13, {
      iv: update.g.iv, delta: update.g.delta, optPrice: update.g.optPrice, pvDividend: 0,
      gamma: update.g.gamma, vega: update.g.vega, theta: update.g.theta, undPrice: update.g.undPrice,
    });
    faults.offer(sub, { s, fields, g: update.g });
  };

  const tick = () => {
    if (paused || knobs.hung) return;
    const now = Date.now();
    for (const c of contracts) {
      const subscribers: [SimSession, SimSubscription][] = [];
      for (const s of sessions) for (const sub of s.liveSubscriptions()) if (sub.contract === c) subscribers.push([s, sub]);
      if (subscribers.length === 0) continue;
      if (c.fop) esPrice = Math.round(esPrice * (1 + (market.random() - 0.5) * 0.001) * 4) / 4;
      const g = c.fop ? futureOptionGreeks(c.fop, esPrice, 0.16 + 0.02 * (c.index % 2), now) : market.step(c.index, now);
      const undPrice = c.fop ? esPrice : market.spotOf(c.sim.underlying);
      const update = { g: { contractKey: c.contractKey, iv: g.iv, delta: g.delta, gamma: g.gamma, vega: g.vega, theta: g.theta, optPrice: g.price, undPrice } };
      const prices = { bid: round2(Math.max(0.01, g.price * 0.99)), ask: round2(g.price * 1.01 + 0.01), last: round2(g.price) };
      for (const [s, sub] of subscribers) tickSubscription(s, sub, update, prices);
    }
  };

  const broadcast = (fields: Field[]) => {
    for (const s of sessions) if (s.started) s.send(fields);
  };

  const server = net.createServer((socket) => {
    connections++;
    const session = new SimSession(socket, host);
    sessions.add(session);
    socket.on('close', () => sessions.delete(session));
  });
  const address = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1');
  const intervalMs = options.intervalMs ?? 250;
  const ticker = intervalMs > 0 ? startTicker({ periodMs: intervalMs, onTick: tick }) : undefined;

  const anyLiveSub = (): [SimSession, SimSubscription] | undefined => {
    for (const s of sessions) for (const sub of s.liveSubscriptions()) return [s, sub];
    return undefined;
  };

  return {
    host: address.host,
    port: address.port,
    serverVersion,
    accounts,
    contracts,
    holdings,
    knobs,
    tick,
    notice(code) {
      broadcast(msg.errorMessage(serverVersion, -1, code, msg.NOTICE_TEXT[code]));
      if (code === 1100) paused = true;
      if (code === 1101 || code === 1102) paused = false;
      // 1101 (data lost) and a broken farm drop every request: only new requests bring data back.
      if (code === 1101 || code === 2103) for (const s of sessions) for (const sub of s.subs.values()) sub.live = false;
    },
    competingSession() {
      for (const s of sessions) {
        for (const sub of s.liveSubscriptions()) {
          s.send(msg.errorMessage(s.version, sub.reqId, 10197, msg.NOTICE_TEXT[10197]));
          sub.live = false;
        }
      }
    },
    dropConnections: () => sessions.dropAll(),
    sendMalformed(kind) {
      const live = anyLiveSub();
      for (const s of sessions) {
        if (!s.started) continue;
        if (kind === 'truncated') s.send([msg.IN.TICK_OPTION_COMPUTATION, live?.[1].reqId ?? 1, 13]);
        else if (kind === 'unknown-id') s.send([999]);
        else if (kind === 'bad-json') s.sendRaw(encodeFrame([msg.IN.ERR_MSG, 2, 1, 200, 'bad reject', '{not json']));
        else {
          const sub = s.liveSubscriptions()[0];
          if (sub) s.send([msg.IN.TICK_OPTION_COMPUTATION, sub.reqId, 13, 0, 0.2, 'not-a-number', 1, 0, 0.01, 0.1, -0.05, 100]);
        }
      }
    },
    ledger,
    sentGreeks: () => ledger.groupBy((g) => g.contractKey),
    liveContracts() {
      const keys = new Set<string>();
      for (const s of sessions) for (const sub of s.liveSubscriptions()) keys.add(sub.contract.contractKey);
      return [...keys].sort();
    },
    stats: () => ({ connections, activeConnections: sessions.size, requests: { ...requests }, linesInUse: linesInUse(), ...lineStats }),
    async close() {
      ticker?.stop();
      faults.close();
      for (const s of sessions) s.socket.destroy();
      await closeServer(server);
    },
  };
}
