/**
 * A TCP proxy the fault tests control: 127.0.0.1:<port> → target. It stands in for "the network
 * between us and a server", so a test can take a database or a broker away and give it back on
 * the same address without touching the real server:
 *
 *   const proxy = await startProxy(5432);      // proxy.port, proxy.url('postgres://…')
 *   proxy.cut();                                // every open connection reset, new ones refused
 *   proxy.blackhole();                          // sockets stay open, nothing passes, nothing answers
 *   proxy.restore();                            // accepted and forwarded again, same port
 *                                               // (after a blackhole the silent sockets are reset)
 *   proxy.setTarget(otherPort);                 // new connections go to another server
 *   proxy.onServerData = (chunk, c) => chunk;   // optional tap/rewrite of server → client bytes
 *   proxy.onClientData = (chunk, c) => chunk;   // the same for client → server bytes
 *   await proxy.close();
 *
 * While cut, the listener stays bound (so nobody else can take the port) and every new
 * connection is reset at once: to a client that is an ECONNRESET on connect, the same verdict
 * as a refused connection ("nobody there, try later").
 */
import net from 'node:net';

export interface ProxyConnection {
  client: net.Socket;
  server: net.Socket;
  /** Writes bytes to the client as if the server had sent them. */
  toClient(bytes: Buffer): void;
}

export interface TcpProxy {
  port: number;
  /** Rewrites a URL's host and port to this proxy (keeps user, password, path, query). */
  url(target: string): string;
  readonly isCut: boolean;
  /** Connections accepted and forwarded so far. */
  readonly accepted: number;
  /** Connections reset because the proxy was cut. */
  readonly refused: number;
  open(): ProxyConnection[];
  cut(): void;
  /** Packets vanish: open connections stay open but silent, new ones are accepted and never answered. */
  blackhole(): void;
  readonly isBlackholed: boolean;
  restore(): void;
  setTarget(port: number, host?: string): void;
  /** Server → client bytes pass through here when set (return what to forward). */
  onServerData?: (chunk: Buffer, conn: ProxyConnection) => Buffer;
  /** Client → server bytes pass through here when set (return what to forward). */
  onClientData?: (chunk: Buffer, conn: ProxyConnection) => Buffer;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let target = { port: targetPort, host: targetHost };
  let cut = false;
  let hole = false;
  /** Clients accepted during a blackhole: never connected upstream. */
  const held = new Set<net.Socket>();
  let accepted = 0;
  let refused = 0;
  const conns = new Set<ProxyConnection>();

  const kill = (s: net.Socket) => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    client.on('error', () => undefined);
    if (cut) {
      refused++;
      kill(client);
      return;
    }
    if (hole) {
      held.add(client);
      client.on('close', () => held.delete(client));
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    upstream.on('error', () => kill(client));
    const conn: ProxyConnection = {
      client,
      server: upstream,
      toClient: (bytes) => void (client.destroyed || client.write(bytes)),
    };
    conns.add(conn);
    upstream.on('data', (chunk: Buffer) => {
      if (hole) return;
      const out = proxy.onServerData ? proxy.onServerData(chunk, conn) : chunk;
      if (out.length > 0 && !client.destroyed) client.write(out);
    });
    client.on('data', (chunk: Buffer) => {
      if (hole || upstream.destroyed) return;
      const out = proxy.onClientData ? proxy.onClientData(chunk, conn) : chunk;
      if (out.length > 0 && !upstream.destroyed) upstream.write(out);
    });
    const end = () => {
      conns.delete(conn);
      kill(client);
      kill(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  const proxy: TcpProxy = {
    port,
    url(raw) {
      const u = new URL(raw);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    get isCut() {
      return cut;
    },
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    open: () => [...conns],
    cut() {
      cut = true;
      for (const h of [...held]) kill(h);
      held.clear();
      for (const c of [...conns]) {
        conns.delete(c);
        kill(c.client);
        kill(c.server);
      }
    },
    blackhole() {
      hole = true;
    },
    get isBlackholed() {
      return hole;
    },
    restore() {
      cut = false;
      if (hole) {
        // Whatever was sent into the hole is gone: those connections are reset (as a TCP
        // retransmission timeout would end them), new ones are forwarded again.
        hole = false;
        for (const c of [...conns]) {
          conns.delete(c);
          kill(c.client);
          kill(c.server);
        }
        for (const h of [...held]) kill(h);
        held.clear();
      }
    },
    setTarget(p, host = '127.0.0.1') {
      target = { port: p, host };
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  return proxy;
}
