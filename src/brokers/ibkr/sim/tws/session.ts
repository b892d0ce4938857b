/**
 * One client connection to the TWS simulator: handshake, request handling, and the live
 * market-data requests of that client. The server (server.ts) drives ticks and scenarios.
 */
import type { Socket } from 'node:net';
import type { TwsSimContract, TwsSimHolding } from './book.js';
import { encodeFrame, FrameReader, type Field } from './codec.js';
import * as msg from './messages.js';

export interface TwsSimKnobs {
  /** Probability (0..1) that a greeks update is sent twice in a row. */
  duplicates: number;
  /** Probability (0..1) that a greeks update is held back and sent after the next one. */
  outOfOrder: number;
  /** A hung TWS: no currentTime replies and no ticks (the socket stays open). */
  hung: boolean;
  /**
   * Market-data lines of the account, over all clients (real TWS: 100 by default): a
   * reqMktData past it gets error 101 "Max number of tickers has been reached". 0 = no limit.
   */
  lineLimit: number;
  /** reqMktData + cancelMktData per sliding second (real TWS: lines / 2); past it error 100. 0 = no limit. */
  maxRequestsPerSec: number;
}

export type SimRequest = 'startApi' | 'reqMktData' | 'cancelMktData' | 'reqPositions' | 'cancelPositions' | 'reqCurrentTime' | 'reqMarketDataType' | 'other';

/** What a session needs from the simulator around it. */
export interface SimHost {
  readonly serverVersion: number;
  readonly accounts: string[];
  readonly contracts: TwsSimContract[];
  readonly holdings: TwsSimHolding[];
  readonly knobs: TwsSimKnobs;
  now(): number;
  count(request: SimRequest): void;
  /** Live market-data requests over all clients. */
  linesInUse(): number;
  /** Records a market-data request; false when it is past the pacing limit. */
  paced(): boolean;
  /** A live line was added (for the peak). */
  lineOpened(): void;
  /** An error 100/101 was sent. */
  rejected(code: 100 | 101): void;
}

export interface SimSubscription {
  reqId: number;
  contract: TwsSimContract;
  /** False once TWS dropped it (1101, 2103, competing session): only a new request revives data. */
  live: boolean;
  /** The first tick of a request is "not computed yet", as with real TWS. */
  computed: boolean;
}

export class SimSession {
  readonly subs = new Map<number, SimSubscription>();
  version = 0;
  started = false;
  marketDataType = 1;
  private readonly reader = new FrameReader();

  constructor(readonly socket: Socket, private readonly host: SimHost) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
  }

  send(fields: Field[]): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(encodeFrame(fields));
  }

  /** Sends raw bytes (malformed frames). */
  sendRaw(bytes: Buffer): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.write(bytes);
  }

  liveSubscriptions(): SimSubscription[] {
    return [...this.subs.values()].filter((s) => s.live);
  }

  private onData(chunk: Buffer): void {
    for (const m of this.reader.push(chunk)) {
      if (m.kind === 'bad') return void this.socket.destroy();
      if (m.kind === 'hello') {
        this.version = Math.min(m.maxVersion, this.host.serverVersion);
        if (this.version < m.minVersion) return void this.socket.destroy();
        this.send(msg.serverHello(this.version, new Date(this.host.now())));
        continue;
      }
      this.onRequest(m.fields);
    }
  }

  private onRequest(f: string[]): void {
    const id = Number(f[0]);
    switch (id) {
      case msg.OUT.START_API:
        this.host.count('startApi');
        this.started = true;
        this.send(msg.managedAccounts(this.host.accounts));
        this.send(msg.nextValidId(1));
        // Real TWS greets every client with its farm status; clients must not treat it as a recovery.
        this.send(msg.errorMessage(this.version, -1, 2104, msg.NOTICE_TEXT[2104]));
        return;
      case msg.OUT.REQ_MARKET_DATA_TYPE:
        this.host.count('reqMarketDataType');
        this.marketDataType = Number(f[2]) || 1;
        return;
      case msg.OUT.REQ_POSITIONS:
        this.host.count('reqPositions');
        for (const h of this.host.holdings) this.send(msg.position(h.account, h.contract, h.quantity, h.avgCost));
        this.send(msg.positionEnd());
        return;
      case msg.OUT.CANCEL_POSITIONS:
        this.host.count('cancelPositions');
        return;
      case msg.OUT.REQ_MKT_DATA:
        this.host.count('reqMktData');
        if (!this.host.paced()) return this.pacingViolation(Number(f[2]));
        return this.onReqMktData(f);
      case msg.OUT.CANCEL_MKT_DATA:
        this.host.count('cancelMktData');
        if (!this.host.paced()) return this.pacingViolation(Number(f[2]));
        this.subs.delete(Number(f[2]));
        return;
      case msg.OUT.REQ_CURRENT_TIME:
        this.host.count('reqCurrentTime');
        if (!this.host.knobs.hung) this.send(msg.currentTime(Math.floor(this.host.now() / 1000)));
        return;
      default:
        this.host.count('other');
    }
  }

  private pacingViolation(reqId: number): void {
    this.host.rejected(100);
    this.send(msg.errorMessage(this.version, reqId, 100, 'Max rate of messages per second has been exceeded:max=' + this.host.knobs.maxRequestsPerSec));
  }

  /** REQ_MKT_DATA v11: [1, 11, reqId, conId, symbol, secType, expiry, strike, right, multiplier, exchange, ...]. */
  private onReqMktData(f: string[]): void {
    const reqId = Number(f[2]);
    const conId = Number(f[3]);
    const exchange = f[10] ?? '';
    const contract = this.host.contracts.find((c) => c.ib.conId === conId);
    if (!contract) return this.send(msg.errorMessage(this.version, reqId, 200, 'No security definition has been found for the request'));
    if (!exchange) return this.send(msg.errorMessage(this.version, reqId, 321, 'Error validating request.-\'bW\' : cause - Please enter exchange'));
    const limit = this.host.knobs.lineLimit;
    if (limit > 0 && this.host.linesInUse() >= limit) {
      this.host.rejected(101);
      return this.send(msg.errorMessage(this.version, reqId, 101, `Max number of tickers has been reached:max=${limit}`));
    }
    this.subs.set(reqId, { reqId, contract, live: true, computed: false });
    this.host.lineOpened();
    if (this.marketDataType !== 1) this.send(msg.marketDataType(reqId, this.marketDataType));
  }
}
