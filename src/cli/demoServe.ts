/**
 * `npm run demo -- --serve`: after the demo's report, the same pipeline keeps streaming from the
 * simulated brokers and the API (with the web page) listens on 127.0.0.1 until SIGINT/SIGTERM.
 */
import type { Logger } from 'pino';
import { buildApi } from '../api/app.js';
import { checkBind } from '../api/auth.js';
import type { Pipeline } from '../app/pipeline.js';
import type { Storage } from '../db/types.js';
import type { RiskService } from '../risk/service.js';

export interface ServePageOptions {
  pipeline: Pipeline;
  storage: Storage;
  log: Logger;
  port: number;
  say: (line: string) => void;
  /** The demo's risk engine (alert loop running), shared with the page's routes and live stream. */
  risk?: RiskService;
}

export async function servePage({ pipeline, storage, log, port, say, risk }: ServePageOptions): Promise<void> {
  const host = '127.0.0.1';
  const token = process.env.API_TOKEN?.trim() || undefined;
  checkBind(host, token);
  const app = await buildApi({ pipeline, storage, log, token, risk });
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  say(`\nthe web page: http://${host}:${bound}/   (brokers keep streaming; Ctrl-C stops)${token ? ' (API_TOKEN set: the page asks for it)' : ''}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('stopping: closing the page, the streams, and writing every accepted row');
  await app.close();
  await pipeline.stop();
}
