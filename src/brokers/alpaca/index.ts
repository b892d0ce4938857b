/**
 * The Alpaca plugin (issue 12): positions and contract multipliers over REST, Greeks from REST
 * option snapshots, stock and option quotes and fills over three WebSockets. Protocol work is the
 * SDK's (@alpacahq/alpaca-trade-api 4.x); the connection life is the kit's (D41).
 */
import type { BrokerPlugin } from '../types.js';
import { parseAlpacaConfig, type AlpacaConfig } from './config.js';
import { manifest } from './manifest.js';
import { AlpacaStream } from './stream.js';

export type { AlpacaConfig } from './config.js';
export { AlpacaStream } from './stream.js';

export const plugin: BrokerPlugin<AlpacaConfig> = {
  id: 'alpaca',
  description: manifest.description,
  parseConfig: (env, flags) => parseAlpacaConfig(env, flags),
  createStream: (config, ctx) => new AlpacaStream(config, ctx),
};
