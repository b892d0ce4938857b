import { BROKER_IDS, loadPlugin, parseBrokerList } from '../brokers/registry.js';
import type { BrokerStream } from '../brokers/types.js';
import { systemClock } from '../core/clock.js';
import { createLogger, redactText } from '../core/logger.js';
import type { BrokerEvent, StreamState } from '../core/types.js';
import { DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { ConfigError, errorText } from '../core/errors.js';
import { durationMs, parseArgs, type Flags } from './args.js';
import { PLUGIN_FLAGS } from './ingest.js';

export const DOCTOR_HELP = `Usage: npm run doctor -- [--broker=<id|list>] [--timeout=20s]

Checks, without streaming for long: each broker's configuration (credentials present),
REST reachable and authorised, positions readable, the streaming handshake; and the
database (reachable, migrated). Prints one JSON object; exit 0 only if everything
checked is healthy.

  --broker=ID     ${BROKER_IDS.join(', ')}, a comma list, or all. Default: every broker
                  with configuration in the environment (TASTY_*, IBKR_*)
  --timeout=S     per broker (default 20s)
  ${DEMO_FLAG_HELP}
  --help          this text

With no --broker and no broker configured in the environment it says so (one line, exit 2).`;

interface BrokerCheck {
  ok: boolean;
  config: 'ok' | string;
  connected: boolean;
  state: StreamState | null;
  accounts: number;
  positions: number;
  greeks: number;
  error: string | null;
}

/** Brokers with configuration present in the environment. */
function configuredBrokers(env: Record<string, string | undefined>): string[] {
  const ids: string[] = [];
  if (env.TASTY_CLIENT_SECRET || env.TASTY_REFRESH_TOKEN || env.TASTY_API_URL) ids.push('tasty');
  if (Object.keys(env).some((k) => k.startsWith('IBKR_'))) ids.push('ibkr');
  return ids;
}

export async function checkBroker(id: string, flags: Flags, timeoutMs: number): Promise<BrokerCheck> {
  const result: BrokerCheck = { ok: false, config: 'ok', connected: false, state: null, accounts: 0, positions: 0, greeks: 0, error: null };
  const plugin = await loadPlugin(id);
  let config: unknown;
  try {
    config = plugin.parseConfig(process.env, flags);
  } catch (err) {
    result.config = redactText(errorText(err));
    return result;
  }
  const accounts = new Set<string>();
  let gotPositions!: () => void;
  const positionsSeen = new Promise<void>((resolve) => (gotPositions = resolve));
  let checking = true;
  const emit = (ev: BrokerEvent) => {
    if (!checking) return;
    if (ev.kind === 'state') {
      result.state = ev.state;
      if (ev.state === 'connected') result.connected = true;
    } else if (ev.kind === 'positions') {
      accounts.add(ev.account);
      result.positions += ev.positions.length;
      gotPositions();
    } else if (ev.kind === 'greeks') result.greeks++;
  };
  const log = createLogger({ name: `doctor:${id}`, level: process.env.LOG_LEVEL ?? 'silent' });
  let stream: BrokerStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(timeoutMs / 1000)}s`)), timeoutMs)));
  try {
    stream = plugin.createStream(config, { emit, log, clock: systemClock });
    await Promise.race([stream.start(), timeout]);
    await Promise.race([positionsSeen, timeout]);
    // Give the stream a moment to finish its handshake once positions are known.
    const deadline = Date.now() + Math.min(5000, timeoutMs);
    while (!result.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!result.connected) result.error = `stream not connected (state ${result.state ?? 'unknown'})`;
    const health = stream.health();
    if (health.lastError && !result.error && !result.connected) result.error = health.lastError;
  } catch (err) {
    result.error = redactText(errorText(err));
  } finally {
    clearTimeout(timer);
    checking = false;
    await stream?.stop().catch(() => undefined);
  }
  result.accounts = accounts.size;
  result.ok = result.config === 'ok' && result.connected && result.error === null;
  return result;
}

export async function runDoctor(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'doctor', ['help', 'broker', 'timeout', 'demo', ...PLUGIN_FLAGS]);
  if (flags.help) {
    process.stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const timeoutMs = durationMs(flags, 'timeout', 20_000)!;
  const ids = flags.broker ? parseBrokerList(String(flags.broker)) : configuredBrokers(process.env);
  if (ids.length === 0) throw new ConfigError('no broker configured in the environment: set TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN, or IBKR_GATEWAY_URL (IBKR_TRANSPORT=tws for TWS), or pass --broker=sim');
  const target = resolveDataTarget({ demo: flags.demo === true });
  const report: { ok: boolean; database: Record<string, unknown>; brokers: Record<string, BrokerCheck>; note?: string } = {
    ok: true, database: {}, brokers: {},
  };
  const log = createLogger({ name: 'doctor', level: process.env.LOG_LEVEL ?? 'silent' });
  try {
    const storage = await openTargetStorage(target, log);
    const [m] = await storage.query<{ n: string }>('SELECT count(*) AS n FROM riskwire_migrations');
    report.database = { ok: true, backend: target.embeddedDir ? 'embedded' : storage.kind, target: target.label, migrations: Number(m.n) };
    await storage.close();
  } catch (err) {
    report.database = { ok: false, error: redactText(errorText(err)) };
    report.ok = false;
  }
  await Promise.all(ids.map(async (id) => {
    report.brokers[id] = await checkBroker(id, flags, timeoutMs);
    if (!report.brokers[id].ok) report.ok = false;
  }));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}
