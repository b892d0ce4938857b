/**
 * The Tastytrade simulator: a local REST server (what @tastytrade/api calls) and a DXLink
 * WebSocket server (whose URL /api-quote-tokens hands out), sharing one book and one market.
 * Product code: `npm run demo` starts it in-process; tests use its knobs and its record of
 * the unique Greeks events it sent.
 */
import { defaultContracts, type SimContract } from '../../simbook.js';
import type { SentLedger } from '../../simkit/index.js';
import { startAccountStreamerServer, type AccountStreamerServer, type SimFill } from './account-streamer-server.js';
import { defaultBook, futuresHoldings, SIM_ACCOUNTS, type SimHolding } from './book.js';
import { ES_PRICE, futuresBook, type SimFuturesBook } from '../../simfutures.js';
import { defaultDxKnobs, startDxServer, type DxKnobs, type DxServer } from './dxlink-server.js';
import { MarketFeed, type SentGreeks } from './market-feed.js';
import { defaultRestKnobs, startRestServer, type RestKnobs, type RestServer } from './rest-server.js';
import { occToStreamer } from '../symbols.js';

export { SIM_ACCOUNTS, bigBook, optionHolding, simAccount, type SimHolding } from './book.js';
export type { SentGreeks } from './market-feed.js';
export type { SimFill } from './account-streamer-server.js';

export interface TastySimulatorOptions {
  clientSecret?: string;
  refreshToken?: string;
  contracts?: SimContract[];
  /** Holdings per account; default: two accounts from the simbook, long and short. */
  book?: Map<string, SimHolding[]>;
  seed?: number;
  rest?: Partial<RestKnobs>;
  dxlink?: Partial<DxKnobs>;
  /** Start the account streamer (default true; its URL goes into env as TASTY_ACCOUNT_STREAMER_URL). */
  accountStreamer?: boolean;
  /** REST port (TASTY_API_URL); 0 (default) = any free port. */
  port?: number;
  /**
   * Carry the futures book (src/brokers/simfutures.ts: an ES future and two options on it,
   * multiplier 50) in the first account, with /instruments/futures and DXLink quotes and Greeks
   * for it. Default false (the demo and `npm run sim` turn it on).
   */
  futures?: boolean;
}

export interface TastySimulator {
  /** Use as TASTY_API_URL. */
  apiUrl: string;
  dxlinkUrl: string;
  clientSecret: string;
  refreshToken: string;
  /** Env for the tasty plugin pointing at this simulator. */
  env: Record<string, string>;
  accounts: string[];
  contracts: SimContract[];
  /** The futures book, when started with futures: true. */
  futures: SimFuturesBook | null;
  restKnobs: RestKnobs;
  dxKnobs: DxKnobs;
  rest: RestServer;
  dxlink: DxServer;
  /** null when started with accountStreamer: false. */
  accountStreamer: AccountStreamerServer | null;
  /** Pushes a filled order for the account over the account streamer; returns the fill id. */
  pushFill(account: string, fill: SimFill): string;
  /** Changes one holding in the book (quantity 0 removes it) and pushes a CurrentPosition message. */
  pushPositionChange(account: string, holding: SimHolding): void;
  /** Replaces an account's holdings (the next position poll sees it). */
  setHoldings(account: string, holdings: SimHolding[]): void;
  holdings(account: string): SimHolding[];
  /** Every unique Greeks event (symbol, time, sequence) that reached a subscriber, in send order (the simulator kit's ledger). */
  ledger: SentLedger<SentGreeks>;
  /** The ledger's entries. */
  sentGreeks(): SentGreeks[];
  /** Quote tokens issued so far. */
  quoteTokensIssued(): number;
  close(): Promise<void>;
}

export async function startTastySimulator(options: TastySimulatorOptions = {}): Promise<TastySimulator> {
  const clientSecret = options.clientSecret ?? 'sim-client-secret';
  const refreshToken = options.refreshToken ?? 'sim-refresh-token';
  const contracts = options.contracts ?? defaultContracts();
  const book = options.book ?? defaultBook(contracts);
  const feed = new MarketFeed(contracts, options.seed ?? 7);
  const futures = options.futures ? futuresBook(Date.now()) : null;
  if (futures) {
    feed.addFutures(futures, ES_PRICE);
    const first = [...book.keys()][0];
    if (first !== undefined) book.set(first, [...(book.get(first) ?? []), ...futuresHoldings(futures)]);
  }
  const tokens = new Map<string, number>(); // quote token → expiry
  const orders = new Map<string, Record<string, unknown>[]>();
  let issued = 0;

  const dxlink = await startDxServer(feed, (t) => (tokens.get(t) ?? 0) > Date.now(), { ...defaultDxKnobs(), ...options.dxlink });
  const rest = await startRestServer(
    {
      clientSecret,
      refreshToken,
      book,
      orders,
      dxlinkUrl: () => dxlink.url,
      ...(futures ? { futures } : {}),
      marketData: (type, symbol) => marketDataItem(feed, type, symbol),
      issueQuoteToken(ttlMs) {
        const issuedAt = Date.now();
        const token = `sim-quote-${++issued}-${Math.random().toString(36).slice(2, 10)}`;
        tokens.set(token, issuedAt + ttlMs);
        return { token, issuedAt, expiresAt: issuedAt + ttlMs };
      },
    },
    { ...defaultRestKnobs(), ...options.rest },
    options.port ?? 0,
  );

  const acct = options.accountStreamer === false ? null : await startAccountStreamerServer(orders);
  const needAcct = (): AccountStreamerServer => {
    if (!acct) throw new Error('tasty simulator started without account streamer');
    return acct;
  };

  return {
    apiUrl: rest.url,
    dxlinkUrl: dxlink.url,
    clientSecret,
    refreshToken,
    env: {
      TASTY_API_URL: rest.url,
      TASTY_CLIENT_SECRET: clientSecret,
      TASTY_REFRESH_TOKEN: refreshToken,
      ...(acct ? { TASTY_ACCOUNT_STREAMER_URL: acct.url } : {}),
    },
    accounts: [...book.keys()],
    contracts,
    futures,
    restKnobs: rest.knobs,
    dxKnobs: dxlink.knobs,
    rest,
    dxlink,
    accountStreamer: acct,
    pushFill: (account, fill) => needAcct().pushFill(account, fill),
    pushPositionChange(account, holding) {
      const server = needAcct();
      const rest = (book.get(account) ?? []).filter((h) => h.symbol !== holding.symbol);
      book.set(account, holding.quantity === 0 ? rest : [...rest, holding]);
      server.pushPosition(account, holding);
    },
    setHoldings: (account, holdings) => void book.set(account, holdings),
    holdings: (account) => book.get(account) ?? [],
    ledger: feed.ledger,
    sentGreeks: () => feed.sentGreeks(),
    quoteTokensIssued: () => issued,
    async close() {
      await Promise.all([dxlink.close(), rest.close(), acct?.close()]);
    },
  };
}

export { SIM_ACCOUNTS as TASTY_SIM_ACCOUNTS };

const INSTRUMENT_TYPE: Record<string, string> = {
  equity: 'Equity', index: 'Index', 'equity-option': 'Equity Option', future: 'Future', 'future-option': 'Future Option',
};

/** One GET /market-data/by-type item from the simulated market (string decimals, like the API). */
export function marketDataItem(feed: MarketFeed, type: string, symbol: string, now = Date.now()): Record<string, unknown> | null {
  if (!INSTRUMENT_TYPE[type]) return null;
  let streamer = symbol;
  if (type === 'equity-option') {
    try {
      streamer = occToStreamer(symbol);
    } catch {
      return null;
    }
  }
  const q = feed.quote(streamer, now);
  const bid = Number(q.bidPrice);
  const ask = Number(q.askPrice);
  const mid = (bid + ask) / 2;
  const g = type === 'equity-option' ? feed.latestGreeks(streamer) : undefined;
  return {
    symbol, 'instrument-type': INSTRUMENT_TYPE[type], 'updated-at': new Date(now).toISOString(),
    bid: bid.toFixed(2), 'bid-size': '10.0', ask: ask.toFixed(2), 'ask-size': '12.0', mid: mid.toFixed(3), mark: mid.toFixed(3),
    last: mid.toFixed(2), 'close-price-type': 'Regular', 'is-trading-halted': false, 'halt-start-time': -1, 'halt-end-time': -1,
    ...(g ? { volatility: String(g.volatility), delta: String(g.delta), gamma: String(g.gamma), theta: String(g.theta), vega: String(g.vega), 'theo-price': String(g.price) } : {}),
  };
}
