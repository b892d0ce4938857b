/**
 * Listeners of the simulator kit: every simulator binds 127.0.0.1, port 0 unless asked, and
 * closes its server the same way (open connections cut, then the listener).
 */
import type http from 'node:http';
import type net from 'node:net';
import { WebSocketServer } from 'ws';

export interface Bound {
  host: string;
  port: number;
}

/** Starts listening (port 0 = any free port, host 127.0.0.1) and resolves with the bound address. */
export async function listen(server: net.Server, port = 0, host = '127.0.0.1'): Promise<Bound> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as net.AddressInfo;
  return { host: a.address, port: a.port };
}

/** Closes a listener; an http(s) server first cuts its open connections (keep-alive included). */
export function closeServer(server: net.Server | http.Server): Promise<void> {
  (server as http.Server).closeAllConnections?.();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A standalone WebSocket server, listening when the promise resolves. */
export async function startWsServer(port = 0, host = '127.0.0.1'): Promise<{ wss: WebSocketServer } & Bound> {
  const wss = new WebSocketServer({ host, port });
  await new Promise<void>((resolve, reject) => {
    wss.once('error', reject);
    wss.once('listening', () => {
      wss.off('error', reject);
      resolve();
    });
  });
  const a = wss.address() as net.AddressInfo;
  return { wss, host: a.address, port: a.port };
}

/** Closes a WebSocket server after `hangUp` ran on every client it still has. */
export function closeWsServer(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  return new Promise<void>((resolve) => wss.close(() => resolve()));
}
