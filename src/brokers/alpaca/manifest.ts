import { endpointOfUrl, type PluginManifest } from '../types.js';
import type { AlpacaConfig } from './config.js';

export const manifest: PluginManifest = {
  id: 'alpaca',
  description: 'Alpaca: REST positions + option snapshot Greeks (polled), stock/option quote streams, trade_updates fills',
  flags: [],
  env: [
    { name: 'ALPACA_KEY_ID', help: 'API key id (required)', secret: true },
    { name: 'ALPACA_SECRET_KEY', help: 'API secret key (required)', secret: true },
    { name: 'ALPACA_PAPER', help: '1 paper (default), 0 live' },
    { name: 'ALPACA_API_URL', help: 'trading REST base URL (default paper-api / api.alpaca.markets)' },
    { name: 'ALPACA_DATA_URL', help: 'market-data REST base URL (default https://data.alpaca.markets)' },
    { name: 'ALPACA_STREAM_URL', help: 'market-data WebSocket base (+ /v2/iex, /v1beta1/indicative; default wss://stream.data.alpaca.markets)' },
    { name: 'ALPACA_TRADING_STREAM_URL', help: 'trade_updates WebSocket URL (default the paper/live /stream)' },
    { name: 'ALPACA_GREEKS_POLL_MS', help: 'option snapshot (Greeks) polling period, <=100 symbols a call (default 5000)' },
    { name: 'ALPACA_STOCK_FEED', help: 'stock quote feed: iex (default) or sip' },
    { name: 'ALPACA_OPTION_FEED', help: 'option feed: indicative or opra (stream default indicative; snapshots: Alpaca picks unless set)' },
    { name: 'ALPACA_REST_RATE', help: 'REST requests per minute the plugin allows itself (default 180, under the 200/min limit)' },
    { name: 'ALPACA_REST_TIMEOUT_MS', help: 'REST call timeout (default 15000)' },
    { name: 'ALPACA_POSITIONS_POLL_MS', help: 'positions re-read period (default 60000)' },
    { name: 'ALPACA_SILENCE_MS', help: 'a stream silent this long (no frame, no pong) is rebuilt (default 30000)' },
  ],
  simulators: [
    {
      name: 'alpaca',
      what: 'Alpaca trading + market-data REST, stock/option quote streams, trade_updates',
      start: async (port) => {
        const s = await (await import('./sim/index.js')).startAlpacaSimulator({ port });
        return { broker: 'alpaca', env: s.env, close: () => s.close() };
      },
    },
  ],
  // One API key pair = one account: the unit is the key's account; a second account is a second
  // configuration (D83).
  cluster: { accounts: () => null, whole: 'the one account of ALPACA_KEY_ID (one key = one account)' },
  endpoint: (c) => {
    const a = c as AlpacaConfig;
    return { ...endpointOfUrl(a.apiUrl), what: `the Alpaca API at ${a.apiUrl}`, fix: 'check ALPACA_API_URL and the network (npm run sim -- alpaca for a simulator)' };
  },
  load: async () => (await import('./index.js')).plugin,
};
