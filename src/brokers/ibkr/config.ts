import { ConfigError } from '../../core/errors.js';
import { envInt } from '../../core/env.js';
import type { PluginFlags } from '../types.js';

export interface IbkrConfig {
  transport: 'cpapi' | 'tws';
  gatewayUrl: string;
  tlsInsecure: boolean;
  heartbeatMs: number;
  /** Empty = every account of the session. */
  accounts: string[];
  twsHost: string;
  twsPort: number;
  clientId: number;
  /** reqMarketDataType: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen. */
  marketDataType: 1 | 2 | 3 | 4;
  /** Positions re-poll period (IBKR_POSITIONS_POLL_MS). Optional so older callers still typecheck. */
  positionsPollMs?: number;
  /** Client Portal smd/umd commands per second on the websocket (IBKR_SMD_PER_SEC). */
  smdPerSec?: number;
  /** TWS market-data lines this client may use (IBKR_TWS_MAX_LINES); past it, lines rotate. */
  twsMaxLines?: number;
  /** reqMktData + cancelMktData per second (IBKR_TWS_MAX_REQUESTS_PER_SEC; TWS allows lines / 2). */
  twsMaxRequestsPerSec?: number;
  /** A rotating line is released after this long even without Greeks (IBKR_TWS_LINE_DWELL_MS). */
  twsLineDwellMs?: number;
}

function isLocalHost(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]', '::1'].includes(url.hostname);
}

export function parseIbkrConfig(env: Record<string, string | undefined>, flags: PluginFlags = {}): IbkrConfig {
  const transport = String(flags['ibkr-transport'] ?? env.IBKR_TRANSPORT ?? 'cpapi').toLowerCase();
  if (transport !== 'cpapi' && transport !== 'tws') {
    throw new ConfigError(`IBKR_TRANSPORT="${transport}" is not valid: use cpapi (Client Portal gateway) or tws (TWS / IB Gateway)`);
  }
  const rawUrl = env.IBKR_GATEWAY_URL || 'https://localhost:5000';
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(`IBKR_GATEWAY_URL="${rawUrl}" is not a URL: use e.g. https://localhost:5000`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`IBKR_GATEWAY_URL="${rawUrl}" must be http(s): use e.g. https://localhost:5000`);
  }
  const insecureRaw = env.IBKR_TLS_INSECURE;
  if (insecureRaw !== undefined && insecureRaw !== '' && !['0', '1', 'true', 'false'].includes(insecureRaw)) {
    throw new ConfigError(`IBKR_TLS_INSECURE="${insecureRaw}" is not valid: use 1 or 0`);
  }
  const tlsInsecure = insecureRaw === undefined || insecureRaw === '' ? isLocalHost(url) : insecureRaw === '1' || insecureRaw === 'true';
  const mdt = envInt(env, 'IBKR_MARKET_DATA_TYPE', 1, 1, 4) as 1 | 2 | 3 | 4;
  return {
    transport,
    gatewayUrl: rawUrl.replace(/\/+$/, ''),
    tlsInsecure,
    heartbeatMs: envInt(env, 'IBKR_HEARTBEAT_MS', 60_000, 100, 600_000),
    accounts: (env.IBKR_ACCOUNTS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    twsHost: env.IBKR_TWS_HOST || '127.0.0.1',
    twsPort: envInt(env, 'IBKR_TWS_PORT', 4002, 1, 65535),
    clientId: envInt(env, 'IBKR_CLIENT_ID', 0, 0, 2 ** 31 - 1),
    marketDataType: mdt,
    positionsPollMs: envInt(env, 'IBKR_POSITIONS_POLL_MS', 60_000, 1000, 86_400_000),
    smdPerSec: envInt(env, 'IBKR_SMD_PER_SEC', 50, 1, 10_000),
    ...twsLines(env),
  };
}

/** TWS line allowance and pacing: 100 lines by default, market-data requests at 70 % of TWS's lines / 2 per second. */
function twsLines(env: Record<string, string | undefined>): Pick<IbkrConfig, 'twsMaxLines' | 'twsMaxRequestsPerSec' | 'twsLineDwellMs'> {
  const twsMaxLines = envInt(env, 'IBKR_TWS_MAX_LINES', 100, 1, 10_000);
  return {
    twsMaxLines,
    twsMaxRequestsPerSec: envInt(env, 'IBKR_TWS_MAX_REQUESTS_PER_SEC', Math.max(2, Math.floor(twsMaxLines * 0.35)), 2, 10_000),
    twsLineDwellMs: envInt(env, 'IBKR_TWS_LINE_DWELL_MS', 5_000, 100, 600_000),
  };
}
