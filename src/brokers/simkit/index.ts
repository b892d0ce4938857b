/**
 * The simulator kit: what every broker simulator shares (specs/kit.md, "Simulator kit").
 * - listener: bind 127.0.0.1 on port 0, close with connections cut;
 * - ticker: the tick loop on an injectable Clock (interval or fixed-rate);
 * - faults: FaultKnobs (drop, duplicate, reorder by hold-back, delay, silence), FaultLine,
 *   HoldBack, chance/maybe, Connections (disconnect, silence);
 * - ledger: SentLedger, the record of unique updates sent, named `ledger` on every simulator.
 */
export { listen, closeServer, startWsServer, closeWsServer, type Bound } from './listener.js';
export { startTicker, type Ticker, type TickerOptions } from './ticker.js';
export { chance, maybe, defaultFaultKnobs, FaultLine, HoldBack, Connections, type FaultKnobs, type FaultLineOptions } from './faults.js';
export { SentLedger } from './ledger.js';
