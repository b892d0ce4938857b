/**
 * Before a command starts streaming: is each broker's endpoint there at all? A refused or
 * unresolvable address is a set-up problem (gateway not started, wrong URL), so it ends the
 * command with one line naming the fix and exit 2, instead of an actor retrying in the log.
 * Once running, outages are the supervisor's business (restart with backoff), not this check's.
 */
import { connect } from 'node:net';
import type { ActorSpec } from '../actors/supervisor.js';
import type { AlpacaConfig } from '../brokers/alpaca/config.js';
import type { IbkrConfig } from '../brokers/ibkr/config.js';
import { loadPlugin } from '../brokers/registry.js';
import type { TastyConfig } from '../brokers/tasty/config.js';
import { ConfigError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';

interface Endpoint {
  host: string;
  port: number;
  /** "the IBKR Client Portal gateway at https://localhost:5000" */
  what: string;
  fix: string;
}

const fromUrl = (raw: string) => {
  const u = new URL(raw);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80) };
};

/** Where each broker connects first (one line per broker; kit13's plugin declarations may absorb this). */
const ENDPOINTS: Record<string, (config: unknown) => Endpoint> = {
  tasty: (c) => {
    const t = c as TastyConfig;
    return { ...fromUrl(t.apiUrl), what: `the Tastytrade API at ${t.apiUrl}`, fix: 'check TASTY_API_URL and the network (npm run sim -- tasty for a simulator)' };
  },
  ibkr: (c) => {
    const i = c as IbkrConfig;
    if (i.transport === 'tws') {
      return { host: i.twsHost, port: i.twsPort, what: `TWS / IB Gateway at ${i.twsHost}:${i.twsPort}`, fix: 'start TWS or IB Gateway with the API enabled, or set IBKR_TWS_HOST / IBKR_TWS_PORT (npm run sim -- ibkr-tws for a simulator)' };
    }
    return { ...fromUrl(i.gatewayUrl), what: `the IBKR Client Portal gateway at ${i.gatewayUrl}`, fix: 'start the gateway and log in, or set IBKR_GATEWAY_URL (npm run sim -- ibkr for a simulator)' };
  },
  alpaca: (c) => {
    const a = c as AlpacaConfig;
    return { ...fromUrl(a.apiUrl), what: `the Alpaca API at ${a.apiUrl}`, fix: 'check ALPACA_API_URL and the network (npm run sim -- alpaca for a simulator)' };
  },
};

/** Resolves when host:port accepts a TCP connection; otherwise rejects with the socket error code. */
export function probe(host: string, port: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = systemClock.setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs / 1000}s` }));
    }, timeoutMs);
    socket.once('connect', () => {
      systemClock.clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      systemClock.clearTimeout(timer);
      reject(err);
    });
  });
}

export async function checkBrokersReachable(specs: ActorSpec[], env: Record<string, string | undefined> = process.env): Promise<void> {
  for (const spec of specs) {
    const endpoint = ENDPOINTS[spec.broker];
    if (!endpoint) continue;
    const plugin = await loadPlugin(spec.broker);
    const config = plugin.parseConfig(env, spec.flags ?? {});
    const e = endpoint(config);
    await probe(e.host, e.port).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot reach ${e.what} (${err.code ?? err.message}): ${e.fix}`);
    });
    await plugin.preflight?.(config);
  }
}
