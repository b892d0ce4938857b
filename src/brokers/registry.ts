import { ConfigError } from '../core/errors.js';
import type { BrokerPlugin } from './types.js';

/**
 * Broker plugins by id. Loaded lazily so a worker only loads the broker it runs.
 * Adding a broker: one folder src/brokers/<id>/ exporting `plugin`, and one line here.
 */
const loaders: Record<string, () => Promise<BrokerPlugin<any>>> = {
  tasty: async () => (await import('./tasty/index.js')).plugin,
  ibkr: async () => (await import('./ibkr/index.js')).plugin,
  sim: async () => (await import('./sim/index.js')).plugin,
};

export const BROKER_IDS = Object.keys(loaders);

export async function loadPlugin(id: string): Promise<BrokerPlugin<any>> {
  const load = loaders[id];
  if (!load) throw new ConfigError(`unknown broker "${id}": use one of ${BROKER_IDS.join(', ')} (or a comma list, or all)`);
  return load();
}

/** Parses --broker: one id, a comma list, or "all". Throws ConfigError on unknown ids. */
export function parseBrokerList(raw: string | undefined, dflt = 'sim'): string[] {
  const text = (raw ?? dflt).trim();
  if (text === 'all') return BROKER_IDS.filter((id) => id !== 'sim');
  const ids = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (ids.length === 0) throw new ConfigError(`--broker is empty: use one of ${BROKER_IDS.join(', ')}, a comma list, or all`);
  for (const id of ids) {
    if (!loaders[id]) throw new ConfigError(`unknown broker "${id}": use one of ${BROKER_IDS.join(', ')} (or a comma list, or all)`);
  }
  return ids;
}
