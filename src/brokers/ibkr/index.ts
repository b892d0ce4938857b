/**
 * The IBKR plugin: one broker, two transports. `cpapi` (default) talks to the Client Portal
 * gateway over REST + WebSocket; `tws` talks to TWS / IB Gateway through @stoqey/ib. Both emit
 * the same canonical events, so nothing past this file knows which one ran.
 */
import { emptyHealth, type BrokerPlugin, type BrokerStream, type StreamContext } from '../types.js';
import { parseIbkrConfig, type IbkrConfig } from './config.js';
import { recordingRest, recordingSockets, replayRest, replaySockets } from './cpapi/record.js';
import { createRest } from './cpapi/rest.js';
import { openWsSocket } from './cpapi/socket.js';
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
    if (config.transport === 'tws') return lazyTwsStream(config, ctx);
    if (!ctx.wire) return createCpapiStream(config, ctx);
    const rest = createRest(config.gatewayUrl, config.tlsInsecure, { clock: ctx.clock });
    return createCpapiStream(config, ctx, { rest: recordingRest(rest, ctx.wire), openSocket: recordingSockets(openWsSocket, ctx.wire) });
  },
  replay(config, ctx, feed) {
    if (config.transport === 'tws') throw new Error('replay of the tws transport is not supported yet: record with IBKR_TRANSPORT=cpapi');
    // random 0: every reconnect waits the shortest delay, so it is never later than the recorded one.
    return createCpapiStream(config, ctx, { rest: replayRest(feed), openSocket: replaySockets(feed), random: () => 0 });
  },
};
