import type { PluginManifest } from '../types.js';

export const manifest: PluginManifest = {
  id: 'sim',
  description: 'synthetic market in a worker (no sockets): --rate, --accounts, --dup, --ooo, --malformed, --count, --crash-after',
  flags: [
    { name: 'rate', value: 'N', help: 'greeks updates per second (default 20)' },
    { name: 'accounts', value: 'N', help: 'simulated accounts (default 2)' },
    { name: 'seed', value: 'N', help: 'random seed of the synthetic market (default 1)' },
    { name: 'dup', value: 'P', help: 'probability an update is sent twice (default 0)' },
    { name: 'ooo', value: 'P', help: 'probability an update arrives out of order (default 0)' },
    { name: 'malformed', value: 'P', help: 'probability a frame is garbage (default 0)' },
    { name: 'count', value: 'N', help: 'stop after N unique updates (default 0 = unlimited)' },
    { name: 'crash-after', value: 'S', help: 'crash the actor S seconds after start (default 0 = never)' },
    { name: 'tick-ms', value: 'MS', help: 'tick period (default from --rate)' },
    { name: 'only-account', value: 'ID', help: 'stream this one simulated account only (ingest --cluster splits the sim per account)' },
  ],
  env: [],
  cluster: {
    accounts: (_env, flags) => Array.from({ length: Math.max(1, Math.floor(Number(flags.accounts ?? 2)) || 2) }, (_, i) => `SIM-${i + 1}`),
    whole: 'every simulated account',
  },
  load: async () => (await import('./index.js')).plugin,
};
