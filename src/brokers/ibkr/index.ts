/**
 * The IBKR plugin: one broker, two transports. `cpapi` (default) talks to the Client Portal
 * gateway over REST + WebSocket; `tws` talks to TWS / IB Gateway through @stoqey/ib. Both emit
 * the same canonical events, so nothing past this file knows which one ran.
 */
import type { ReplayFeed } from '../kit/replay.js';
import { emptyHealth, type BrokerPlugin, type BrokerStream, type StreamContext } from '../types.js';
import { parseIbkrConfig, type IbkrConfig } from './config.js';
import { recordingRest, recordingSockets, replayRest, replaySockets } from './cpapi/record.js';
import { createRest } from './cpapi/rest.js';
import { openWsSocket } from './cpapi/socket.js';
import { createCpapiStream } from './cpapi/stream.js';
import { manifest } from './manifest.js';

/**
 * The TWS transport is loaded on first use, so @stoqey/ib stays out of cpapi runs. Recorded when
 * ctx.wire is set; over a replay feed when `feed` is given.
 */
function lazyTwsStream(config: IbkrConfig, ctx: StreamContext, feed?: ReplayFeed): BrokerStream {
  let inner: BrokerStream | null = null;
  const create = async () => {
    const [{ createTwsStream }, { createIbApi }, rec] = await Promise.all([import('./tws/stream.js'), import('./tws/api.js'), import('./tws/record.js')]);
    if (feed) return createTwsStream(config, ctx, { createApi: rec.replayApi(feed), random: () => 0 });
    return createTwsStream(config, ctx, ctx.wire ? { createApi: rec.recordingApi(createIbApi, ctx.wire) } : {});
  };
  const load = async () => (inner ??= await create());
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
    if (config.transport === 'tws') return lazyTwsStream(config, ctx, feed);
    // random 0: every reconnect waits the shortest delay, so it is never later than the recorded one.
    return createCpapiStream(config, ctx, { rest: replayRest(feed), openSocket: replaySockets(feed), random: () => 0 });
  },
};
