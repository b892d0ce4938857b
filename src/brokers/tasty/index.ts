import type { BrokerPlugin } from '../types.js';
import { parseTastyConfig, type TastyConfig } from './config.js';
import { TastyStream } from './stream.js';

export type { TastyConfig } from './config.js';
export { TastyStream } from './stream.js';

export const plugin: BrokerPlugin<TastyConfig> = {
  id: 'tasty',
  description: 'Tastytrade: REST positions (OAuth) + DXLink Greeks/Quote stream',
  parseConfig: (env, flags) => parseTastyConfig(env, flags),
  createStream: (config, ctx) => new TastyStream(config, ctx),
};
