import type { BrokerPlugin } from '../types.js';
import { parseSimConfig, type SimConfig } from './config.js';
import { createSimStream } from './stream.js';
import { manifest } from './manifest.js';

export const plugin: BrokerPlugin<SimConfig> = {
  id: 'sim',
  description: manifest.description,
  parseConfig: parseSimConfig,
  createStream: createSimStream,
};
