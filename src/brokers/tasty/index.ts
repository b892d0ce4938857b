import type { BrokerPlugin } from '../types.js';
import { parseTastyConfig, type TastyConfig } from './config.js';
import { connectDxLink } from './dxlink.js';
import { recordingDeps, replayDeps } from './record.js';
import { createTastyRest } from './rest.js';
import { TastyStream } from './stream.js';
import { manifest } from './manifest.js';

export type { TastyConfig } from './config.js';
export { TastyStream } from './stream.js';

export const plugin: BrokerPlugin<TastyConfig> = {
  id: 'tasty',
  description: manifest.description,
  parseConfig: (env, flags) => parseTastyConfig(env, flags),
  createStream: (config, ctx) =>
    new TastyStream(config, ctx, ctx.wire ? recordingDeps(createTastyRest(config, ctx.log, ctx.clock), connectDxLink, ctx.wire) : {}),
  replay: (config, ctx, feed) => new TastyStream(config, ctx, replayDeps(feed)),
};
