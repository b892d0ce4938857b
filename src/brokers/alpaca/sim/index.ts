/**
 * The Alpaca simulator: trading REST, market-data REST, stock and option quote streams and the
 * trade_updates stream on one local port, faithful to the wire (see protocol.ts, server.ts).
 * `npm run sim -- alpaca`, the demo and the tests start it; the real SDK talks to it unchanged.
 */
import { defaultContracts, type SimContract } from '../../simbook.js';
import { AlpacaMarket, defaultHoldings, seeded, SIM_ACCOUNT, type AlpacaSimHolding } from './market.js';
import { AlpacaSimServer, defaultAlpacaKnobs, type AlpacaKnobs, type SimTradeUpdate } from './server.js';

export { SIM_ACCOUNT, optionSymbol, type AlpacaSimHolding } from './market.js';
export type { AlpacaKnobs, SimTradeUpdate, EndpointKind, ServedSnapshot } from './server.js';

export interface AlpacaSimulatorOptions {
  port?: number;
  keyId?: string;
  secretKey?: string;
  contracts?: SimContract[];
  holdings?: AlpacaSimHolding[];
  seed?: number;
  knobs?: Partial<AlpacaKnobs>;
}

export interface AlpacaSimulator {
  url: string;
  /** Env for the alpaca plugin pointing at this simulator. */
  env: Record<string, string>;
  server: AlpacaSimServer;
  /** Every distinct option snapshot served (the kit's SentLedger): what Greeks rows must match. */
  ledger: AlpacaSimServer['ledger'];
  knobs: AlpacaKnobs;
  market: AlpacaMarket;
  pushTradeUpdate(u: SimTradeUpdate): string;
  close(): Promise<void>;
}

export async function startAlpacaSimulator(o: AlpacaSimulatorOptions = {}): Promise<AlpacaSimulator> {
  const keyId = o.keyId ?? 'PKSIMULATOR00000000';
  const secretKey = o.secretKey ?? 'simulator-secret-key-0000000000000000000';
  const contracts = o.contracts ?? defaultContracts();
  const market = new AlpacaMarket(contracts, seeded(o.seed ?? 12));
  const knobs = { ...defaultAlpacaKnobs(), ...o.knobs };
  const server = new AlpacaSimServer(market, o.holdings ?? defaultHoldings(contracts), knobs, { keyId, secretKey });
  const port = await server.listen(o.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  const ws = `ws://127.0.0.1:${port}`;
  return {
    url,
    env: {
      ALPACA_KEY_ID: keyId, ALPACA_SECRET_KEY: secretKey, ALPACA_PAPER: '1', ALPACA_API_URL: url, ALPACA_DATA_URL: url,
      ALPACA_STREAM_URL: ws, ALPACA_TRADING_STREAM_URL: `${ws}/stream`,
    },
    server, knobs, market, ledger: server.ledger,
    pushTradeUpdate: (u) => server.pushTradeUpdate(u),
    close: () => server.close(),
  };
}

export { SIM_ACCOUNT as ALPACA_SIM_ACCOUNT };
