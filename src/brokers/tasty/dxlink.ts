/**
 * One DXLink connection through the real SDK: DXLinkWebSocketClient + one FEED channel
 * (DXLinkFeed, COMPACT, explicit fields, 0.1 s aggregation). The SDK owns the protocol,
 * keepalives, its own reconnects and the replay of SETUP/AUTH/CHANNEL/FEED_SETUP/SUBSCRIPTION.
 *
 * We tap every inbound text frame before the SDK sees it, because (a) the watchdog must count
 * any message, KEEPALIVE included, and the SDK exposes none of them; (b) the 0.3.0 DXLinkFeed
 * decodes only the first [type, values] pair of FEED_DATA, so we decode data ourselves; (c) a
 * frame that is not JSON never reaches any SDK listener, and we must count it as malformed.
 * The tap wraps the connector's (private) message handler of the pinned 0.3.0 client.
 */
import {
  DXLinkFeed,
  DXLinkLogLevel,
  DXLinkWebSocketClient,
  FeedContract,
  FeedDataFormat,
  DXLinkChannelState,
} from '@dxfeed/dxlink-api';
import { WebSocket as WsWebSocket } from 'ws';
import type { Clock } from '../../core/clock.js';
import { SubscriptionPacer, type PacerStats } from './pacer.js';
import type { Sub } from './subscriptions.js';

export const GREEKS_FIELDS = ['eventType', 'eventSymbol', 'eventTime', 'eventFlags', 'time', 'sequence', 'price', 'volatility', 'delta', 'gamma', 'theta', 'rho', 'vega'];
export const QUOTE_FIELDS = ['eventType', 'eventSymbol', 'eventTime', 'sequence', 'timeNanoPart', 'bidTime', 'bidPrice', 'bidSize', 'askTime', 'askPrice', 'askSize'];

export type ConnState = 'NOT_CONNECTED' | 'CONNECTING' | 'CONNECTED';
export type AuthState = 'UNAUTHORIZED' | 'AUTHORIZING' | 'AUTHORIZED';

export interface FeedHandlers {
  /** Every inbound text frame; return false to keep it from the SDK (it is garbage). */
  onFrame(text: string): boolean;
  onConnectionState(state: ConnState, prev: ConnState): void;
  onAuthState(state: AuthState, prev: AuthState): void;
  onError(type: string, message: string): void;
  /** The server closed our FEED channel: the SDK will not reopen it. */
  onChannelClosed(): void;
}

export interface FeedOptions {
  aggregationPeriod: number;
  /** Most subscriptions per FEED_SUBSCRIPTION message. */
  subscriptionChunk: number;
  /** Pause between two FEED_SUBSCRIPTION messages (0 = only the SDK's own batching). */
  subscriptionPaceMs?: number;
  /** For the drain timeout of drainAndClose. */
  clock: Clock;
}

export interface FeedConnection {
  readonly channelId: number;
  add(subs: Sub[]): void;
  remove(subs: Sub[]): void;
  /** Re-sends every subscription (FEED_SUBSCRIPTION reset:true + add). */
  replaceAll(subs: Sub[]): void;
  /** Subscription changes not yet sent, batches sent (big books go out chunked and paced). */
  subscriptionStats?(): PacerStats;
  /** Re-authenticates the live connection with a new token. */
  setToken(token: string): void;
  connectionState(): ConnState;
  authState(): AuthState;
  close(): void;
  /**
   * Ends the stream without losing what is on the wire: CHANNEL_CANCEL, keep decoding until the
   * server's CHANNEL_CLOSED (everything it sent before that has arrived) or `timeoutMs`, then close.
   */
  drainAndClose?(timeoutMs: number): Promise<void>;
}

export type FeedConnector = (url: string, token: string, handlers: FeedHandlers, opts: FeedOptions) => FeedConnection;

/**
 * `ws` with a permanent no-op 'error' listener. The SDK removes its own listeners before it
 * closes a socket; closing one that is still connecting then makes ws emit an 'error' with no
 * listener, which Node turns into an uncaught exception that would kill the worker.
 */
export class SafeWebSocket extends WsWebSocket {
  constructor(...args: ConstructorParameters<typeof WsWebSocket>) {
    super(...args);
    this.on('error', () => {});
  }
}

/** Node 20 has no global WebSocket; the SDK needs one. */
export function ensureWebSocketGlobal(): void {
  const g = globalThis as { WebSocket?: unknown };
  if (typeof g.WebSocket === 'undefined' || g.WebSocket === WsWebSocket) g.WebSocket = SafeWebSocket;
}

// The SDK's own byte chunking (key length + 21 per subscription) stays as a backstop for
// pathologically long symbols; the pacer bounds the count per message.
const MAX_BYTES_PER_SUB = 128;

/** The private parts of the pinned 0.3.0 DXLinkFeed that pacing needs. */
interface FeedInternals {
  subscriptions: Map<string, { type: string; symbol: string }>;
  processPendings: () => void;
  resubscribe: () => void;
}

export const connectDxLink: FeedConnector = (url, token, handlers, opts) => {
  ensureWebSocketGlobal();
  let closed = false;
  let draining = false;
  let drained: (() => void) | null = null;
  // The SDK logs to the console; our own listeners report everything worth knowing.
  const client = new DXLinkWebSocketClient({ logLevel: DXLinkLogLevel.ERROR });
  client.addConnectionStateChangeListener((s, p) => !closed && handlers.onConnectionState(s as ConnState, p as ConnState));
  client.addAuthStateChangeListener((s, p) => !closed && handlers.onAuthState(s as AuthState, p as AuthState));
  client.addErrorListener((e) => !closed && handlers.onError(String(e.type), String(e.message ?? '')));
  client.connect(url);
  tapFrames(client, (text) => {
    if (closed) return false;
    if (drained && text.includes('"CHANNEL_CLOSED"')) {
      try {
        if (JSON.parse(text).channel === feed.id) drained();
      } catch {
        /* not for us */
      }
    }
    return handlers.onFrame(text);
  });
  client.setAuthToken(token);

  const feed = new DXLinkFeed(client, FeedContract.AUTO, {
    batchSubscriptionsTime: 50,
    maxSendSubscriptionChunkSize: Math.max(1, opts.subscriptionChunk) * MAX_BYTES_PER_SUB,
    // Our decoder handles FEED_DATA; the SDK's own parse of multi-type frames would only log noise.
    logLevel: (DXLinkLogLevel.ERROR + 1) as DXLinkLogLevel,
  });
  feed.configure({
    acceptAggregationPeriod: opts.aggregationPeriod,
    acceptDataFormat: FeedDataFormat.COMPACT,
    acceptEventFields: { Greeks: GREEKS_FIELDS, Quote: QUOTE_FIELDS },
  });
  feed.addStateChangeListener((s) => {
    if (!closed && !draining && s === DXLinkChannelState.CLOSED) handlers.onChannelClosed();
  });
  feed.getChannel().addErrorListener((e) => !closed && handlers.onError(String(e.type), String(e.message ?? '')));

  // Chunked and paced subscriptions: each pacer batch becomes one FEED_SUBSCRIPTION at once.
  const internals = feedInternals(feed);
  const pacer = new SubscriptionPacer({
    clock: opts.clock,
    chunk: opts.subscriptionChunk,
    paceMs: opts.subscriptionPaceMs ?? 0,
    send({ add, remove }) {
      if (closed) return;
      if (remove.length > 0) feed.removeSubscriptions(remove.map((s) => ({ type: s.type, symbol: s.symbol })));
      if (add.length > 0) feed.addSubscriptions(add.map((s) => ({ type: s.type, symbol: s.symbol })));
      internals.processPendings(); // now, not after the SDK's batching delay (its timer then finds nothing)
    },
  });
  // The SDK replays every subscription at once when its channel reopens (its own reconnects):
  // replay them through the pacer instead, the whole set, with reset:true on the first message.
  internals.resubscribe = () => {
    const all = [...internals.subscriptions.values()].map((s) => ({ type: s.type as Sub['type'], symbol: s.symbol }));
    internals.subscriptions.clear();
    if (all.length === 0) return;
    feed.clearSubscriptions();
    pacer.requeue(all);
  };

  return {
    channelId: feed.id,
    add: (subs) => subs.length > 0 && pacer.add(subs),
    remove: (subs) => subs.length > 0 && pacer.remove(subs),
    replaceAll(subs) {
      internals.subscriptions.clear();
      feed.clearSubscriptions();
      pacer.replaceAll(subs);
    },
    subscriptionStats: () => pacer.stats(),
    setToken: (t) => client.setAuthToken(t),
    connectionState: () => client.getConnectionState() as ConnState,
    authState: () => client.getAuthState() as AuthState,
    close() {
      if (closed) return;
      closed = true;
      pacer.close();
      try {
        feed.close();
      } catch {
        // CHANNEL_CANCEL on a dead socket: nothing to cancel.
      }
      client.close();
    },
    async drainAndClose(timeoutMs) {
      if (closed || draining) return;
      draining = true;
      if (client.getConnectionState() === 'CONNECTED' && feed.getState() === DXLinkChannelState.OPENED) {
        await new Promise<void>((resolve) => {
          const timer = opts.clock.setTimeout(resolve, timeoutMs);
          drained = () => {
            opts.clock.clearTimeout(timer);
            resolve();
          };
          try {
            feed.close(); // sends CHANNEL_CANCEL
          } catch {
            resolve();
          }
        });
      }
      drained = null;
      this.close();
    },
  };
};

type MessageHandler = (ev: { data: unknown }) => void;

function feedInternals(feed: DXLinkFeed<FeedContract>): FeedInternals {
  const f = feed as unknown as Partial<FeedInternals>;
  if (!(f.subscriptions instanceof Map) || typeof f.processPendings !== 'function' || typeof f.resubscribe !== 'function') {
    throw new Error('unsupported @dxfeed/dxlink-feed: no subscriptions/processPendings/resubscribe to pace (expected 0.3.x)');
  }
  return f as FeedInternals;
}

function tapFrames(client: DXLinkWebSocketClient, onFrame: (text: string) => boolean): void {
  const connector = (client as unknown as { connector?: { handleMessage?: MessageHandler } }).connector;
  const original = connector?.handleMessage;
  if (!connector || typeof original !== 'function') {
    throw new Error('unsupported @dxfeed/dxlink-websocket-client: no connector message handler to tap (expected 0.3.x)');
  }
  // handleOpen registers this.handleMessage on each new socket, so replacing the property
  // before the socket opens covers this connection and every SDK reconnect of it.
  connector.handleMessage = (ev) => {
    const text = typeof ev.data === 'string' ? ev.data : String(ev.data);
    if (onFrame(text)) original(ev);
  };
}
