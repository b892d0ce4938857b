/**
 * Server → client TWS messages as field lists, laid out exactly as @stoqey/ib's decoder reads
 * them for the announced server version (core/io/decoder.js). A wrong field count makes the
 * client report error 505, so every layout here is pinned to a version threshold.
 */
import type { Field } from './codec.js';

/** In-message ids (IN_MSG_ID). */
export const IN = { TICK_PRICE: 1, ERR_MSG: 4, NEXT_VALID_ID: 9, MANAGED_ACCTS: 15, TICK_OPTION_COMPUTATION: 21, CURRENT_TIME: 49, MARKET_DATA_TYPE: 58, POSITION: 61, POSITION_END: 62 } as const;

/** Out-message ids (OUT_MSG_ID) the simulator understands. */
export const OUT = { REQ_MKT_DATA: 1, CANCEL_MKT_DATA: 2, REQ_CURRENT_TIME: 49, REQ_MARKET_DATA_TYPE: 59, REQ_POSITIONS: 61, CANCEL_POSITIONS: 64, START_API: 71 } as const;

/** MIN_SERVER_VER thresholds that change the layouts below. */
export const PRICE_BASED_VOLATILITY = 156;
export const ADVANCED_ORDER_REJECT = 166;

export interface PositionContract {
  conId: number;
  symbol: string;
  secType: string;
  expiry: string; // YYYYMMDD, '' for stock
  strike: number;
  right: string; // 'C' | 'P' | ''
  multiplier: number | '';
  exchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

export interface Computation {
  iv: number;
  delta: number;
  optPrice: number;
  pvDividend: number;
  gamma: number;
  vega: number;
  theta: number;
  undPrice: number;
}

/** The handshake answer: server version and connection time ("yyyymmdd hh:mm:ss zone"). */
export function serverHello(version: number, at: Date): Field[] {
  const iso = at.toISOString();
  return [version, `${iso.slice(0, 10).replace(/-/g, '')} ${iso.slice(11, 19)} UTC`];
}

export const managedAccounts = (accounts: string[]): Field[] => [IN.MANAGED_ACCTS, 1, accounts.join(',')];
export const nextValidId = (orderId: number): Field[] => [IN.NEXT_VALID_ID, 1, orderId];
export const currentTime = (epochSeconds: number): Field[] => [IN.CURRENT_TIME, 1, epochSeconds];
export const marketDataType = (reqId: number, type: number): Field[] => [IN.MARKET_DATA_TYPE, 1, reqId, type];
export const positionEnd = (): Field[] => [IN.POSITION_END, 1];

/** POSITION version 3: with trading class and average cost. */
export function position(account: string, c: PositionContract, quantity: number, avgCost: number): Field[] {
  return [IN.POSITION, 3, account, c.conId, c.symbol, c.secType, c.expiry, c.strike, c.right, c.multiplier, c.exchange, c.currency, c.localSymbol, c.tradingClass, quantity, avgCost];
}

/** TICK_PRICE version 3: price, size, attribute mask. */
export function tickPrice(reqId: number, tickType: number, price: number, size: number): Field[] {
  return [IN.TICK_PRICE, 3, reqId, tickType, price, size, 0];
}

/** TICK_OPTION_COMPUTATION: from 156 no version field but a tickAttrib; before, version 6. */
export function tickOptionComputation(serverVersion: number, reqId: number, tickType: number, c: Computation): Field[] {
  const values = [c.iv, c.delta, c.optPrice, c.pvDividend, c.gamma, c.vega, c.theta, c.undPrice];
  return serverVersion >= PRICE_BASED_VOLATILITY
    ? [IN.TICK_OPTION_COMPUTATION, reqId, tickType, 0, ...values]
    : [IN.TICK_OPTION_COMPUTATION, 6, reqId, tickType, ...values];
}

/** "Not computed yet": IB's sentinels, -1 for prices and IV, -2 for greeks. */
export const NOT_COMPUTED: Computation = { iv: -1, delta: -2, optPrice: -1, pvDividend: -1, gamma: -2, vega: -2, theta: -2, undPrice: -1 };

/** ERR_MSG version 2; from 166 with an (empty) advanced-order-reject JSON. reqId -1 = notice. */
export function errorMessage(serverVersion: number, reqId: number, code: number, message: string, advancedJson = ''): Field[] {
  const base: Field[] = [IN.ERR_MSG, 2, reqId, code, message];
  return serverVersion >= ADVANCED_ORDER_REJECT ? [...base, advancedJson] : base;
}

/** The texts TWS uses for the notices the simulator can send. */
export const NOTICE_TEXT: Record<number, string> = {
  1100: 'Connectivity between IB and Trader Workstation has been lost.',
  1101: 'Connectivity between IB and Trader Workstation has been restored - data lost.',
  1102: 'Connectivity between IB and Trader Workstation has been restored - data maintained.',
  2103: 'Market data farm connection is broken:usopt',
  2104: 'Market data farm connection is OK:usopt',
  2108: 'Market data farm connection is inactive but should be available upon demand.usopt',
  10197: 'No market data during competing live session',
};
