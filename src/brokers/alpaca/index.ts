/**
 * The Alpaca plugin (issue 12): positions and contract multipliers over REST, Greeks from REST
 * option snapshots, stock and option quotes and fills over three WebSockets. Protocol work is the
 * SDK's (@alpacahq/alpaca-trade-api 4.x); the connection life is the kit's (D41).
 */
import { systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import type { BrokerPlugin } from '../types.js';
import { parseAlpacaConfig, type AlpacaConfig } from './config.js';
import { manifest } from './manifest.js';
import { AlpacaAuthError, createAlpacaRest } from './rest.js';
import { AlpacaStream } from './stream.js';

export type { AlpacaConfig } from './config.js';
export { AlpacaStream } from './stream.js';

export const plugin: BrokerPlugin<AlpacaConfig> = {
  id: 'alpaca',
  description: manifest.description,
  parseConfig: (env, flags) => parseAlpacaConfig(env, flags),
  createStream: (config, ctx) => {
    if (ctx.wire) ctx.log.warn('alpaca: --record does not cover this broker yet (no replay transports): nothing of it is recorded');
    return new AlpacaStream(config, ctx);
  },
  /** The keys are checked once before any actor starts: a 401/403 is a one-line exit 2, not a restart loop. */
  async preflight(config) {
    try {
      await createAlpacaRest(config, systemClock).account();
    } catch (err) {
      if (err instanceof AlpacaAuthError) throw new ConfigError(err.message);
      // Anything else (a 5xx, a timeout) is the actor's to retry.
    }
  },
};
