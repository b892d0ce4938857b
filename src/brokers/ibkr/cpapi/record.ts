/**
 * Record and replay of the Client Portal transports: REST replies (channel `rest`) and socket
 * messages (channel `ws`). The stream runs unchanged on either (see specs/kit.md, "Record → replay").
 */
import type { ReplayFeed } from '../../kit/replay.js';
import type { WireRecording } from '../../kit/wire.js';
import { RestError, type CpapiRest } from './rest.js';
import type { SocketFactory } from './socket.js';

export function recordingRest(rest: CpapiRest, wire: WireRecording): CpapiRest {
  const call = (method: 'GET' | 'POST', path: string, fn: () => Promise<unknown>) =>
    fn().then(
      (body) => {
        const t = wire.now();
        wire.record({ t, ch: 'rest', conn: 0, kind: 'reply', key: `${method} ${path}`, text: JSON.stringify(body ?? null) });
        wire.pinUntilIdle(t);
        return body;
      },
      (err: unknown) => {
        const t = wire.now();
        const e = err as { message?: string; status?: number | null };
        wire.record({ t, ch: 'rest', conn: 0, kind: 'error', key: `${method} ${path}`, text: JSON.stringify({ message: e?.message ?? String(err), status: e?.status ?? null }) });
        wire.pinUntilIdle(t);
        throw err;
      },
    );
  return {
    get: (path) => call('GET', path, () => rest.get(path)),
    post: (path, body) => call('POST', path, () => rest.post(path, body)),
    cookies: () => rest.cookies(),
    close: () => rest.close(),
  };
}

export function recordingSockets(open: SocketFactory, wire: WireRecording): SocketFactory {
  let n = 0;
  return (url, cookie, tlsInsecure, h) => {
    const conn = ++n;
    // After the stream closed the socket itself, its callbacks are not news (the stream ignores them).
    let closedByUs = false;
    const rec = (kind: 'open' | 'msg' | 'close' | 'error', text?: string) => {
      const t = wire.now();
      if (closedByUs) return t;
      wire.record({ t, ch: 'ws', conn, kind, ...(text !== undefined ? { text } : {}) });
      return t;
    };
    const socket = open(url, cookie, tlsInsecure, {
      onOpen: () => wire.at(rec('open'), () => h.onOpen()),
      onMessage: (text) => wire.at(rec('msg', text), () => h.onMessage(text)),
      onClose: (code, reason) => wire.at(rec('close', JSON.stringify({ code, reason })), () => h.onClose(code, reason)),
      onError: (err) => wire.at(rec('error', JSON.stringify({ message: err.message })), () => h.onError(err)),
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

export function replayRest(feed: ReplayFeed): CpapiRest {
  const call = async (method: string, path: string) => {
    const rec = await feed.request('rest', `${method} ${path}`);
    const body = JSON.parse(rec.text ?? 'null') as unknown;
    if (rec.kind === 'error') {
      const e = body as { message: string; status: number | null };
      throw new RestError(e.message, e.status);
    }
    return body;
  };
  return { get: (path) => call('GET', path), post: (path) => call('POST', path), cookies: () => '', close: () => {} };
}

export function replaySockets(feed: ReplayFeed): SocketFactory {
  const sockets = feed.sockets('ws');
  return (_url, _cookie, _tls, h) => {
    const s = sockets.open((rec) => {
      if (rec.kind === 'open') h.onOpen();
      else if (rec.kind === 'msg') h.onMessage(rec.text ?? '');
      else if (rec.kind === 'close') {
        const { code, reason } = JSON.parse(rec.text ?? '{}') as { code: number; reason: string };
        h.onClose(code, reason);
      } else if (rec.kind === 'error') h.onError(new Error((JSON.parse(rec.text ?? '{}') as { message: string }).message));
    });
    return { send: () => {}, close: () => s.close() };
  };
}
