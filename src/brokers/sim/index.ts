import type { BrokerPlugin } from '../types.js';
import { parseSimConfig, type SimConfig } from './config.js';
import { createSimStream } from './stream.js';

export const plugin: BrokerPlugin<SimConfig> = {
  id: 'sim',
  description: 'synthetic market in a worker (no sockets): --rate, --accounts, --dup, --ooo, --malformed, --count, --crash-after',
  parseConfig: parseSimConfig,
  createStream: createSimStream,
};
