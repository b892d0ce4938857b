/**
 * The WebSocket edge, behind a tiny interface so the stream logic is unit-tested with a fake.
 */
import WebSocket from 'ws';

export interface SocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(code: number, reason: string): void;
  onError(err: Error): void;
}

export interface CpapiSocket {
  send(text: string): void;
  close(): void;
}

export type SocketFactory = (url: string, cookie: string, tlsInsecure: boolean, handlers: SocketHandlers) => CpapiSocket;

export const openWsSocket: SocketFactory = (url, cookie, tlsInsecure, h) => {
  const ws = new WebSocket(url, {
    headers: { cookie },
    rejectUnauthorized: !tlsInsecure,
    handshakeTimeout: 10_000,
  });
  ws.on('open', () => h.onOpen());
  // The gateway sends JSON in binary frames as often as in text frames.
  ws.on('message', (data) => h.onMessage(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8')));
  ws.on('close', (code, reason) => h.onClose(code, reason.toString('utf8')));
  ws.on('error', (err) => h.onError(err));
  return {
    send(text) {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close() {
      ws.removeAllListeners('message');
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
      // A close handshake that never completes must not keep the process alive.
      ws.once('close', () => undefined);
      // Not logic but a guard that must not keep the process alive (unref), which a Clock timer cannot say.
      // eslint-disable-next-line no-restricted-globals
      setTimeout(() => ws.terminate(), 2000).unref();
    },
  };
};
