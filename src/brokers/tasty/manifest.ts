import { endpointOfUrl, type PluginManifest } from '../types.js';
import type { TastyConfig } from './config.js';

export const manifest: PluginManifest = {
  id: 'tasty',
  description: 'Tastytrade: REST positions (OAuth) + DXLink Greeks/Quote stream',
  flags: [
    { name: 'sandbox', help: 'use the Tastytrade certification environment' },
    { name: 'only-account', value: 'ID', help: 'stream this one account only (ingest --cluster leases tasty per TASTY_ACCOUNTS account)' },
  ],
  env: [
    { name: 'TASTY_CLIENT_SECRET', help: 'OAuth client secret (required)', secret: true },
    { name: 'TASTY_REFRESH_TOKEN', help: 'OAuth refresh token (required)', secret: true },
    { name: 'TASTY_ACCOUNTS', help: 'comma list of account numbers (default: every account of the login)' },
    { name: 'TASTY_API_URL', help: 'REST base URL (default production; --sandbox the certification one)' },
    { name: 'TASTY_ACCOUNT_STREAMER_URL', help: 'account streamer ws(s) URL (fills, position changes)' },
    { name: 'TASTY_POSITIONS_POLL_MS', help: 'positions re-read period (default 60000)' },
    { name: 'MARKET_METRICS_POLL_MS', help: 'IV rank/percentile, IV30, HV30/60/90, beta refresh from /market-metrics (default 300000; 0 = off)' },
    { name: 'TASTY_KEEPALIVE_TIMEOUT_MS', help: 'DXLink silence bound before a rebuild (default 60000)' },
    { name: 'TASTY_SUBSCRIPTION_CHUNK', help: 'subscriptions per FEED_SUBSCRIPTION message (default 500)' },
    { name: 'TASTY_SUBSCRIPTION_PACE_MS', help: 'pause between FEED_SUBSCRIPTION messages (default 100)' },
    { name: 'TASTY_REST_TIMEOUT_MS', help: 'REST call timeout (default 15000)' },
  ],
  simulators: [
    {
      name: 'tasty',
      what: 'Tastytrade REST + DXLink + account streamer',
      start: async (port, knobs) => {
        const s = await (await import('./sim/index.js')).startTastySimulator({
          port, futures: true, rest: { quotesPerSecond: knobs?.quotesPerSec ?? null }, dxlink: { quietSymbols: knobs?.quiet ?? [] },
        });
        return { broker: 'tasty', env: s.env, close: () => s.close() };
      },
    },
  ],
  endpoint: (c) => {
    const t = c as TastyConfig;
    return { ...endpointOfUrl(t.apiUrl), what: `the Tastytrade API at ${t.apiUrl}`, fix: 'check TASTY_API_URL and the network (npm run sim -- tasty for a simulator)' };
  },
  // One account = its positions over REST, its account streamer subscription and a DXLink feed
  // of its own contracts: nothing is shared between two accounts but the login (D82).
  cluster: {
    accounts: (env) => {
      const list = (env.TASTY_ACCOUNTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      return list.length > 0 ? [...new Set(list)] : null;
    },
    whole: 'every account of the login (set TASTY_ACCOUNTS to lease them one by one)',
  },
  load: async () => (await import('./index.js')).plugin,
};
