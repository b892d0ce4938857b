/**
 * The IBKR plugin: one broker, two transports. `cpapi` (default) talks to the Client Portal
 * gateway over REST + WebSocket; `tws` talks to TWS / IB Gateway through @stoqey/ib. Both emit
 * the same canonical events, so nothing past this file knows which one ran.
 */
import { emptyHealth, type BrokerPlugin, type BrokerStream, type StreamContext } from '../types.js';
import { parseIbkrConfig, type IbkrConfig } from './config.js';
import { createCpapiStream } from './cpapi/stream.js';
import { manifest } from './manifest.js';

/** The TWS transport is loaded on first use, so @stoqey/ib stays out of cpapi runs. */
function lazyTwsStream(config: IbkrConfig, ctx: StreamContext): BrokerStream {
  let inner: BrokerStream | null = null;
  const load = async () => (inner ??= (await import('./tws/stream.js')).createTwsStream(config, ctx));
  return {
    start: async () => (await load()).start(),
    stop: async () => inner?.stop(),
    resubscribe: async () => (await load()).resubscribe(),
    health: () => inner?.health() ?? { ...emptyHealth(), details: { transport: 'tws' } },
  };
}

export const plugin: BrokerPlugin<IbkrConfig> = {
  id: 'ibkr',
  description: manifest.description,
  parseConfig: parseIbkrConfig,
  createStream(config, ctx) {
    return config.transport === 'tws' ? lazyTwsStream(config, ctx) : createCpapiStream(config, ctx);
  },
};
