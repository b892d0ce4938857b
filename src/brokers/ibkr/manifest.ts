import { endpointOfUrl, type PluginManifest } from '../types.js';
import type { IbkrConfig } from './config.js';

export const manifest: PluginManifest = {
  id: 'ibkr',
  description: 'Interactive Brokers: Client Portal gateway WebSocket (IBKR_TRANSPORT=cpapi, default) or TWS / IB Gateway socket (tws)',
  flags: [{ name: 'ibkr-transport', value: 'T', help: 'cpapi (Client Portal gateway, default) or tws (overrides IBKR_TRANSPORT)' }],
  env: [
    { name: 'IBKR_TRANSPORT', help: 'cpapi (default) or tws' },
    { name: 'IBKR_GATEWAY_URL', help: 'Client Portal gateway URL (default https://localhost:5000)' },
    { name: 'IBKR_TLS_INSECURE', help: "accept the gateway's self-signed certificate (default: 1 for localhost)" },
    { name: 'IBKR_ACCOUNTS', help: 'comma list of accounts (default: every account of the session)' },
    { name: 'IBKR_HEARTBEAT_MS', help: 'keep-alive period (default 60000)' },
    { name: 'IBKR_POSITIONS_POLL_MS', help: 'positions re-poll period (default 60000)' },
    { name: 'IBKR_TWS_HOST', help: 'TWS / IB Gateway host (default 127.0.0.1)' },
    { name: 'IBKR_TWS_PORT', help: 'TWS / IB Gateway port (default 4002)' },
    { name: 'IBKR_CLIENT_ID', help: 'TWS API client id (default 0)' },
    { name: 'IBKR_MARKET_DATA_TYPE', help: '1 live, 2 frozen, 3 delayed, 4 delayed-frozen (default 1)' },
    { name: 'IBKR_SMD_PER_SEC', help: 'cpapi: smd/umd websocket commands per second (default 50)' },
    { name: 'IBKR_TWS_MAX_LINES', help: 'tws: market-data lines to use; a bigger book rotates them (default 100)' },
    { name: 'IBKR_TWS_MAX_REQUESTS_PER_SEC', help: 'tws: reqMktData + cancelMktData per second (default 35% of the lines)' },
    { name: 'IBKR_TWS_LINE_DWELL_MS', help: 'tws: a rotating line without Greeks is released after this (default 5000)' },
  ],
  simulators: [
    {
      name: 'ibkr',
      what: 'IBKR Client Portal gateway (REST + WebSocket)',
      start: async (port, knobs) => {
        const s = await (await import('./sim/cpapi/index.js')).startCpapiSimulator({
          port, futures: true, ...(knobs?.quotesPerSec != null ? { snapshotPerSecond: knobs.quotesPerSec } : {}),
        });
        const { UNDERLYING_CONIDS } = await import('./sim/cpapi/book.js');
        s.knobs.quietConids = (knobs?.quiet ?? []).map((q) => UNDERLYING_CONIDS[q.toUpperCase()] ?? Number(q)).filter((n) => Number.isInteger(n) && n > 0);
        return { broker: 'ibkr', env: { IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: s.url, IBKR_TLS_INSECURE: '1' }, close: () => s.close() };
      },
    },
    {
      name: 'ibkr-tws',
      what: 'IBKR TWS / IB Gateway socket API',
      start: async (port) => {
        const s = await (await import('./sim/tws/index.js')).startTwsSimulator({ port, futures: true });
        return { broker: 'ibkr', env: { IBKR_TRANSPORT: 'tws', IBKR_TWS_HOST: s.host, IBKR_TWS_PORT: String(s.port) }, close: () => s.close() };
      },
    },
  ],
  // The unit is the gateway session (D84): IBKR allows one brokerage session per login (a second
  // one takes over the first, "competing session"), market data lines and pacing are per session,
  // and positions/market data are not opened per account. Not split.
  cluster: { accounts: () => null, whole: 'the gateway session: every account of the IBKR login (one brokerage session per login; not split)' },
  endpoint: (c) => {
    const i = c as IbkrConfig;
    if (i.transport === 'tws') {
      return { host: i.twsHost, port: i.twsPort, what: `TWS / IB Gateway at ${i.twsHost}:${i.twsPort}`, fix: 'start TWS or IB Gateway with the API enabled, or set IBKR_TWS_HOST / IBKR_TWS_PORT (npm run sim -- ibkr-tws for a simulator)' };
    }
    return { ...endpointOfUrl(i.gatewayUrl), what: `the IBKR Client Portal gateway at ${i.gatewayUrl}`, fix: 'start the gateway and log in, or set IBKR_GATEWAY_URL (npm run sim -- ibkr for a simulator)' };
  },
  load: async () => (await import('./index.js')).plugin,
};
