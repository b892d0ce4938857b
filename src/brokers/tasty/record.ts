/**
 * Record and replay of the tasty transports: REST results (channel `rest`, keyed by method and
 * arguments), DXLink frames and client callbacks (channel `dxlink`), the account streamer's
 * socket (channel `account`). TastyStream runs unchanged on either.
 */
import type { ReplayFeed } from '../kit/replay.js';
import { decodeArgs, encodeArgs, type WireRecording } from '../kit/wire.js';
import { AccountStreamer, wsSocketFactory, type AccountSocketFactory, type AccountStreamerOptions } from './account-streamer.js';
import type { AuthState, ConnState, FeedConnection, FeedConnector, FeedHandlers } from './dxlink.js';
import { TastyRestError, type TastyRest } from './rest.js';
import type { TastyStreamDeps } from './stream.js';

/** Not wire traffic: local counters and shutdown. */
const LOCAL = new Set(['stats', 'close']);

export function recordingRest(rest: TastyRest, wire: WireRecording): TastyRest {
  return new Proxy(rest, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || typeof name !== 'string' || LOCAL.has(name)) return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) =>
        Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args)).then(
          (result) => {
            const t = wire.now();
            wire.record({ t, ch: 'rest', conn: 0, kind: 'reply', key: `${name} ${encodeArgs(args)}`, text: encodeArgs([result]) });
            wire.pinUntilIdle(t);
            return result;
          },
          (err: unknown) => {
            const t = wire.now();
            const e = err as { message?: string; kind?: string; status?: number };
            wire.record({ t, ch: 'rest', conn: 0, kind: 'error', key: `${name} ${encodeArgs(args)}`, text: JSON.stringify({ message: e?.message ?? String(err), kind: e?.kind ?? null, status: e?.status ?? null }) });
            wire.pinUntilIdle(t);
            throw err;
          },
        );
    },
  });
}

export function replayRest(feed: ReplayFeed): TastyRest {
  const call = (name: string) => async (...args: unknown[]) => {
    const rec = await feed.request('rest', `${name} ${encodeArgs(args)}`);
    if (rec.kind === 'error') {
      const e = JSON.parse(rec.text ?? '{}') as { message: string; kind: string | null; status: number | null };
      throw new TastyRestError(e.message, (e.kind ?? 'network') as ConstructorParameters<typeof TastyRestError>[1], e.status ?? undefined);
    }
    return decodeArgs(rec.text)[0];
  };
  return new Proxy({ stats: () => ({ requests: 0, retries: 0, waitingUntil: null }), close: () => {} } as unknown as TastyRest, {
    get: (target, name) => (typeof name === 'string' && !LOCAL.has(name) ? call(name) : Reflect.get(target, name)),
  });
}

export function recordingConnector(connect: FeedConnector, wire: WireRecording): FeedConnector {
  let n = 0;
  return (url, token, h, opts) => {
    const conn = ++n;
    const rec = (key: string, args: unknown[]) => {
      const t = wire.now();
      wire.record({ t, ch: 'dxlink', conn, kind: 'msg', key, text: key === 'frame' ? String(args[0]) : encodeArgs(args) });
      return t;
    };
    const handlers: FeedHandlers = {
      onFrame: (text) => wire.at(rec('frame', [text]), () => h.onFrame(text)),
      onConnectionState: (s, p) => wire.at(rec('state', [s, p]), () => h.onConnectionState(s, p)),
      onAuthState: (s, p) => wire.at(rec('auth', [s, p]), () => h.onAuthState(s, p)),
      onError: (type, message) => wire.at(rec('error', [type, message]), () => h.onError(type, message)),
      onChannelClosed: () => wire.at(rec('channelClosed', []), () => h.onChannelClosed()),
    };
    const c = connect(url, token, handlers, opts);
    wire.record({ t: wire.now(), ch: 'dxlink', conn, kind: 'open', text: JSON.stringify({ channelId: c.channelId }) });
    return c;
  };
}

export function replayConnector(feed: ReplayFeed): FeedConnector {
  const sockets = feed.sockets('dxlink');
  return (_url, _token, h) => {
    let channelId = -1;
    let state: ConnState = 'CONNECTING';
    let auth: AuthState = 'UNAUTHORIZED';
    const s = sockets.open((rec) => {
      if (rec.kind === 'open') channelId = (JSON.parse(rec.text ?? '{}') as { channelId: number }).channelId;
      else if (rec.key === 'frame') h.onFrame(rec.text ?? '');
      else {
        const a = decodeArgs(rec.text);
        if (rec.key === 'state') h.onConnectionState((state = a[0] as ConnState), a[1] as ConnState);
        else if (rec.key === 'auth') h.onAuthState((auth = a[0] as AuthState), a[1] as AuthState);
        else if (rec.key === 'error') h.onError(String(a[0]), String(a[1]));
        else if (rec.key === 'channelClosed') h.onChannelClosed();
      }
    });
    const conn: FeedConnection = {
      get channelId() {
        return channelId;
      },
      add: () => {},
      remove: () => {},
      replaceAll: () => {},
      setToken: () => {},
      connectionState: () => state,
      authState: () => auth,
      close: () => s.close(),
      drainAndClose: async () => s.close(),
    };
    return conn;
  };
}

export function recordingAccountSockets(open: AccountSocketFactory, wire: WireRecording): AccountSocketFactory {
  let n = 0;
  return (url, h) => {
    const conn = ++n;
    // After the stream closed the socket itself, its callbacks are not news (the stream ignores them).
    let closedByUs = false;
    const rec = (kind: 'open' | 'msg' | 'close', text?: string) => {
      const t = wire.now();
      if (closedByUs) return t;
      wire.record({ t, ch: 'account', conn, kind, ...(text !== undefined ? { text } : {}) });
      return t;
    };
    const socket = open(url, {
      onOpen: () => wire.at(rec('open'), () => h.onOpen()),
      onMessage: (text) => wire.at(rec('msg', text), () => h.onMessage(text)),
      onClose: (reason) => wire.at(rec('close', reason), () => h.onClose(reason)),
    });
    return {
      send: (text) => socket.send(text),
      close: () => {
        closedByUs = true;
        socket.close();
      },
    };
  };
}

export function replayAccountSockets(feed: ReplayFeed): AccountSocketFactory {
  const sockets = feed.sockets('account');
  return (_url, h) => {
    const s = sockets.open((rec) => {
      if (rec.kind === 'open') h.onOpen();
      else if (rec.kind === 'msg') h.onMessage(rec.text ?? '');
      else if (rec.kind === 'close') h.onClose(rec.text ?? 'closed');
    });
    return { send: () => {}, close: () => s.close() };
  };
}

/** TastyStream's dependencies while recording. */
export function recordingDeps(rest: TastyRest, connect: FeedConnector, wire: WireRecording): TastyStreamDeps {
  const socket = recordingAccountSockets(wsSocketFactory, wire);
  return {
    rest: recordingRest(rest, wire),
    connect: recordingConnector(connect, wire),
    accountStreamer: (o: AccountStreamerOptions) => new AccountStreamer({ ...o, socket }),
  };
}

/** TastyStream's dependencies over a replay feed (random 0: no reconnect later than recorded). */
export function replayDeps(feed: ReplayFeed): TastyStreamDeps {
  const socket = replayAccountSockets(feed);
  return {
    rest: replayRest(feed),
    connect: replayConnector(feed),
    random: () => 0,
    accountStreamer: (o: AccountStreamerOptions) => new AccountStreamer({ ...o, socket }),
  };
}
