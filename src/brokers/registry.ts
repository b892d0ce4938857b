import { ConfigError } from '../core/errors.js';
import { manifest as alpaca } from './alpaca/manifest.js';
import { manifest as ibkr } from './ibkr/manifest.js';
import { manifest as sim } from './sim/manifest.js';
import { manifest as tasty } from './tasty/manifest.js';
import type { BrokerPlugin, PluginManifest } from './types.js';

/**
 * Broker plugins by id, as they declare themselves (flags, env, help) in their manifest; the
 * plugin itself is loaded lazily so a worker only loads the broker it runs.
 * Adding a broker: one folder src/brokers/<id>/ with `manifest.ts` and `index.ts`, and its
 * manifest in this list.
 */
export const MANIFESTS: readonly PluginManifest[] = [tasty, ibkr, sim, alpaca];

export const BROKER_IDS = MANIFESTS.map((m) => m.id);

export async function loadPlugin(id: string): Promise<BrokerPlugin<any>> {
  const m = MANIFESTS.find((x) => x.id === id);
  if (!m) throw new ConfigError(`unknown broker "${id}": use one of ${BROKER_IDS.join(', ')} (or a comma list, or all)`);
  return m.load();
}

/** Every plugin's flag names, for the commands that start actors. */
export function pluginFlagNames(): string[] {
  return [...new Set(MANIFESTS.flatMap((m) => m.flags.map((f) => f.name)))];
}

/** --help lines for every plugin's flags, aligned like the commands' own options. */
export function pluginFlagHelp(width = 21): string {
  return MANIFESTS.flatMap((m) =>
    m.flags.map((f) => {
      const left = `  --${f.name}${f.value ? `=${f.value}` : ''}`;
      return `${left.padEnd(width)}${left.length >= width ? ' ' : ''}${m.id}: ${f.help}`;
    }),
  ).join('\n');
}

/** Parses --broker: one id, a comma list, or "all". Throws ConfigError on unknown ids. */
export function parseBrokerList(raw: string | undefined, dflt = 'sim'): string[] {
  const text = (raw ?? dflt).trim();
  if (text === 'all') return BROKER_IDS.filter((id) => id !== 'sim');
  const ids = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  if (ids.length === 0) throw new ConfigError(`--broker is empty: use one of ${BROKER_IDS.join(', ')}, a comma list, or all`);
  for (const id of ids) {
    if (!BROKER_IDS.includes(id)) throw new ConfigError(`unknown broker "${id}": use one of ${BROKER_IDS.join(', ')} (or a comma list, or all)`);
  }
  return ids;
}
