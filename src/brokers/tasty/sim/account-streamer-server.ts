/**
 * Simulated Tastytrade account streamer: answers connect/heartbeat like the real one and pushes
 * Order (with legs and fills) and CurrentPosition messages, kebab-case, {"type","data"} shaped,
 * to the sockets that subscribed to the account.
 */
import type { WebSocket } from 'ws';
import { closeWsServer, Connections, startWsServer } from '../../simkit/index.js';
import type { SimHolding } from './book.js';

export interface SimFill {
  /** OCC symbol of the option leg. */
  symbol: string;
  underlying: string;
  action: 'Buy to Open' | 'Buy to Close' | 'Sell to Open' | 'Sell to Close';
  quantity: number;
  price: number;
  /** Defaults: a fresh id and now. */
  fillId?: string;
  filledAt?: Date;
}

export interface AccountStreamerServer {
  url: string;
  /** Sockets ever opened (a run without an account streamer must leave this at 0). */
  connectionsOpened(): number;
  /** Accounts subscribed by the open sockets. */
  subscribedAccounts(): Set<string>;
  heartbeats(): number;
  /** Sends an Order message with status Filled and one fill; returns the fill id. */
  pushFill(account: string, fill: SimFill): string;
  pushPosition(account: string, holding: SimHolding): void;
  sendRaw(text: string): void;
  closeAll(): void;
  close(): Promise<void>;
}

interface Session {
  ws: WebSocket;
  accounts: Set<string>;
}

/** Every order pushed, per account, oldest first: what GET /accounts/{a}/orders serves (fills sent to nobody included). */
export type OrderHistory = Map<string, Record<string, unknown>[]>;

export async function startAccountStreamerServer(history: OrderHistory = new Map()): Promise<AccountStreamerServer> {
  const { wss, port } = await startWsServer();
  const sessions = new Connections<Session>({ drop: (s) => s.ws.terminate() });
  let opened = 0;
  let heartbeats = 0;
  let orderId = 1000;
  let fillSeq = 0;

  const send = (s: Session, msg: unknown) => {
    if (s.ws.readyState === s.ws.OPEN) s.ws.send(JSON.stringify(msg));
  };
  const push = (account: string, type: string, data: unknown) => {
    for (const s of sessions) if (s.accounts.has(account)) send(s, { type, data, timestamp: Date.now() });
  };

  wss.on('connection', (ws) => {
    opened++;
    const s: Session = { ws, accounts: new Set() };
    sessions.add(s);
    ws.on('message', (raw) => {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(raw.toString());
      } catch {
        return;
      }
      const reply = { action: m.action, 'request-id': m['request-id'] };
      if (typeof m['auth-token'] !== 'string' || m['auth-token'] === '') {
        send(s, { ...reply, status: 'error', message: 'auth-token required' });
        return;
      }
      if (m.action === 'connect') {
        const value = Array.isArray(m.value) ? m.value : [m.value];
        for (const a of value) s.accounts.add(String(a));
        send(s, { ...reply, status: 'ok', value, 'web-socket-session-id': `sim-${opened}` });
      } else if (m.action === 'heartbeat') {
        heartbeats++;
        send(s, { ...reply, status: 'ok' });
      }
    });
    ws.on('close', () => sessions.delete(s));
    ws.on('error', () => ws.terminate());
  });

  return {
    url: `ws://127.0.0.1:${port}`,
    connectionsOpened: () => opened,
    subscribedAccounts() {
      const all = new Set<string>();
      for (const s of sessions) for (const a of s.accounts) all.add(a);
      return all;
    },
    heartbeats: () => heartbeats,
    pushFill(account, f) {
      const id = ++orderId;
      const fillId = f.fillId ?? `sim-fill-${id}-${++fillSeq}`;
      const filledAt = (f.filledAt ?? new Date()).toISOString();
      const order = {
        id,
        'account-number': account,
        'time-in-force': 'Day',
        'order-type': 'Limit',
        size: f.quantity,
        'underlying-symbol': f.underlying,
        'underlying-instrument-type': 'Equity',
        price: f.price.toFixed(2),
        'price-effect': f.action.startsWith('Buy') ? 'Debit' : 'Credit',
        status: 'Filled',
        'received-at': filledAt,
        'updated-at': Date.parse(filledAt),
        'terminal-at': filledAt,
        legs: [
          {
            'instrument-type': 'Equity Option',
            symbol: f.symbol,
            quantity: f.quantity,
            'remaining-quantity': 0,
            action: f.action,
            fills: [{ 'ext-group-fill-id': String(id), 'ext-exec-id': `x${id}`, 'fill-id': fillId, quantity: f.quantity, 'fill-price': f.price.toFixed(2), 'filled-at': filledAt, 'destination-venue': 'SIM' }],
          },
        ],
      };
      // The order book keeps it whether or not a socket was there to hear about it.
      history.set(account, [...(history.get(account) ?? []), order]);
      push(account, 'Order', order);
      return fillId;
    },
    pushPosition(account, h) {
      push(account, 'CurrentPosition', {
        'account-number': account,
        symbol: h.symbol,
        'instrument-type': h.instrumentType,
        'underlying-symbol': h.underlying,
        quantity: Math.abs(h.quantity),
        'quantity-direction': h.quantity > 0 ? 'Long' : h.quantity < 0 ? 'Short' : 'Zero',
        multiplier: h.multiplier,
        'average-open-price': String(h.averageOpenPrice),
        'updated-at': new Date().toISOString(),
      });
    },
    sendRaw(text) {
      for (const s of sessions) if (s.ws.readyState === s.ws.OPEN) s.ws.send(text);
    },
    closeAll: () => sessions.closeAll(),
    close: () => closeWsServer(wss),
  };
}
