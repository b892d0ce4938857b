/**
 * Puts extra WebSocket frames into a server's stream, between its own frames, through a TcpProxy
 * (plain ws:// only). For malformed-input tests against a simulator that has no "send garbage"
 * knob: the client sees the frames as if the server had sent them.
 *
 *   const inj = injectWsFrames(proxy);
 *   inj.upgraded()                 // WebSocket connections seen through the proxy
 *   inj.send(textFrame('{oops'))   // to every upgraded connection, at the next frame boundary
 *
 * Only the first HTTP response of each connection is looked at: a 101 makes it a WebSocket,
 * anything else (REST) passes through untouched.
 */
import type { ProxyConnection, TcpProxy } from './proxy.js';

/** An unmasked (server → client) frame: opcode 1 = text, 2 = binary. */
export function wsFrame(payload: Buffer, opcode: 1 | 2): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (n < 126) head[1] = n;
  else if (n < 65536) {
    head[1] = 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  return Buffer.concat([head, payload]);
}

export const textFrame = (text: string) => wsFrame(Buffer.from(text, 'utf8'), 1);
export const binaryFrame = (bytes: Buffer) => wsFrame(bytes, 2);

interface State {
  phase: 'http' | 'ws' | 'plain';
  http: Buffer;
  head: Buffer;
  remaining: number;
  queue: Buffer[];
}

/** Header length once enough bytes are known, else null. */
function headerLength(h: Buffer): number | null {
  if (h.length < 2) return null;
  const len7 = h[1] & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
}

function payloadLength(h: Buffer): number {
  const len7 = h[1] & 0x7f;
  if (len7 === 126) return h.readUInt16BE(2);
  if (len7 === 127) return Number(h.readBigUInt64BE(2));
  return len7;
}

export interface WsInjector {
  upgraded(): number;
  send(frame: Buffer): void;
}

export function injectWsFrames(proxy: TcpProxy): WsInjector {
  const states = new Map<ProxyConnection, State>();
  const stateOf = (c: ProxyConnection) => {
    let s = states.get(c);
    if (!s) states.set(c, (s = { phase: 'http', http: Buffer.alloc(0), head: Buffer.alloc(0), remaining: 0, queue: [] }));
    return s;
  };
  const atBoundary = (s: State) => s.remaining === 0 && s.head.length === 0;

  const frames = (s: State, chunk: Buffer, out: Buffer[]) => {
    let i = 0;
    while (i < chunk.length) {
      if (s.remaining > 0) {
        const n = Math.min(s.remaining, chunk.length - i);
        out.push(chunk.subarray(i, i + n));
        i += n;
        s.remaining -= n;
      } else {
        s.head = Buffer.concat([s.head, chunk.subarray(i, i + 1)]);
        i++;
        if (s.head.length !== headerLength(s.head)) continue;
        out.push(s.head);
        s.remaining = payloadLength(s.head);
        s.head = Buffer.alloc(0);
      }
      if (atBoundary(s)) out.push(...s.queue.splice(0));
    }
  };

  proxy.onServerData = (chunk, conn) => {
    const s = stateOf(conn);
    if (s.phase === 'plain') return chunk;
    if (s.phase === 'ws') {
      const out: Buffer[] = [];
      frames(s, chunk, out);
      return Buffer.concat(out);
    }
    s.http = Buffer.concat([s.http, chunk]);
    const end = s.http.indexOf('\r\n\r\n');
    if (end < 0) return Buffer.alloc(0);
    const head = s.http.subarray(0, end + 4);
    const rest = s.http.subarray(end + 4);
    s.http = Buffer.alloc(0);
    if (!/^HTTP\/1\.1 101/.test(head.toString('latin1'))) {
      s.phase = 'plain';
      return Buffer.concat([head, rest]);
    }
    s.phase = 'ws';
    const out: Buffer[] = [head];
    frames(s, rest, out);
    return Buffer.concat(out);
  };

  const live = () => proxy.open().filter((c) => states.get(c)?.phase === 'ws');
  return {
    upgraded: () => live().length,
    send(frame) {
      for (const c of live()) {
        const s = states.get(c)!;
        if (atBoundary(s)) c.toClient(frame);
        else s.queue.push(frame);
      }
    },
  };
}
