import { buildApi } from '../api/app.js';
import { checkBind } from '../api/auth.js';
import { type ClusterMember, startCluster } from '../app/cluster.js';
import { readAppConfig } from '../app/config.js';
import { checkBrokerConfigs, Pipeline } from '../app/pipeline.js';
import { checkBrokersReachable } from '../app/preflight.js';
import { BROKER_IDS } from '../brokers/registry.js';
import { createLogger } from '../core/logger.js';
import { configFor, DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { openReadStorage } from '../db/index.js';
import type { Storage } from '../db/types.js';
import type { Logger } from 'pino';
import type { ApiLimits } from '../api/limits.js';
import { startApiThread } from '../api/thread/host.js';
import type { RiskService } from '../risk/service.js';
import { readApiLimits } from '../api/limits.js';
import { parseArgs, intFlag, type Flags } from './args.js';
import { startRisk } from '../app/risk.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { actorSpecs, PLUGIN_FLAGS } from './ingest.js';

export const SERVE_HELP = `Usage: npm run serve -- [--broker=<id|list|all>] [--port=8377] [--host=127.0.0.1]

The HTTP API (routes: specs/api.md) over the database, in the same process as the
broker actors: GET /v1/streaming/status, POST /v1/streaming/start|stop, GET
/v1/greeks/snapshots, GET /v1/risk/timeline, GET|POST /v1/trades, GET /metrics,
GET /healthz, GET /openapi.json (the routes, parameters and bodies described).
GET /v1/risk/positions|summary|scenarios, GET /v1/alerts, GET /v1/alerts/stream (SSE).
The risk rules (RISK_RULES_FILE) are evaluated continuously; alerts go to the alerts table,
/v1/alerts/stream and ALERT_WEBHOOK_URL.

  --broker=ID     actors to start with the server: ${BROKER_IDS.join(', ')}, a comma list, or all.
                  Default: none (start them later with POST /v1/streaming/start)
  --cluster       lease the --broker units with the other --cluster processes (as ingest
                  --cluster); /v1/streaming/status then says who streams which unit
  --port=N        TCP port (default 8377; 0 = any free port, printed at start)
  --host=ADDR     address to bind (default 127.0.0.1). Any non-loopback address needs
                  API_TOKEN in the environment; every request then needs
                  Authorization: Bearer <API_TOKEN>
  --rate=N ...    sim knobs, as for npm run ingest
  ${DEMO_FLAG_HELP}
  --help          this text

Without API_TOKEN only Host: localhost, 127.0.0.1 or [::1] with the bound port is answered
(421 otherwise: DNS-rebinding protection). On PostgreSQL the API runs in a thread of its own
with its own 2-connection read pool (API_THREAD=0: on the pipeline's thread). Back-pressure
(env): API_MAX_CONCURRENT=16 requests at once, the next wait (API_QUEUE_MAX=200,
API_QUEUE_WAIT_MS=2000) then get 503 + Retry-After; API_REQUEST_TIMEOUT_MS=10000,
API_STATEMENT_TIMEOUT_MS=5000; heavy reads (timeline, snapshots) one at a time and shared by
identical requests (specs/api.md).

Runs until SIGINT/SIGTERM, then stops the actors, writes every accepted row and exits 0.
Exit code 2 = bad flag, unsafe bind, configuration or unreachable database.`;

export async function runServe(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'serve', ['help', 'broker', 'port', 'host', 'demo', 'cluster', ...PLUGIN_FLAGS]);
  if (flags.help) {
    process.stdout.write(`${SERVE_HELP}\n`);
    return 0;
  }
  const host = typeof flags.host === 'string' && flags.host.trim() ? flags.host.trim() : '127.0.0.1';
  const port = intFlag(flags, 'port', 8377, 0, 65535);
  const token = process.env.API_TOKEN?.trim() || undefined;
  checkBind(host, token); // before anything opens: an unsafe bind never starts
  const specs = flags.broker !== undefined ? actorSpecs(flags) : [];
  await checkBrokerConfigs(specs);
  await checkBrokersReachable(specs);
  const rules = loadRules(); // a bad RISK_RULES_FILE stops here, exit 2
  const benchmark = resolveBenchmark(undefined);

  const target = resolveDataTarget({ demo: flags.demo === true });
  const config = configFor(target, readAppConfig());
  const log = createLogger({ name: 'serve' });
  const storage = await openTargetStorage(target, log, { retentionDays: config.retentionDays });
  const limits = readApiLimits();
  const pipeline = new Pipeline({ storage, config, log });
  const risk = await startRisk(pipeline, storage, log, { rules, benchmark, webhookUrl: process.env.ALERT_WEBHOOK_URL?.trim() || undefined });
  let member: ClusterMember | undefined;
  const cluster = { view: () => member?.view() };
  const api = await openApi({ pipeline, storage, log, token, limits, host, port, actorFlags: pluginFlags(flags), risk: risk.service, cluster })
    .catch(async (err: unknown) => {
      risk.stop();
      await pipeline.stop(1000);
      await storage.close();
      throw err;
    });

  let stopping: Promise<number> | undefined;
  let stopped!: (code: number) => void;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'stopping: closing the API, the streams, and writing every accepted row');
      risk.stop();
      await member?.stop();
      // Together: a request stuck on a dead database must not hold back journaling the writers' rows.
      const [report] = await Promise.all([pipeline.stop(), api.close()]);
      const s = pipeline.processor.stats();
      const journalErrors = s.flush.journalWriteErrors + s.trades.journalWriteErrors + s.positions.journalWriteErrors;
      log.info({ journaledRows: report.journaledRows, lostRows: report.lostRows, journalWriteErrors: journalErrors, deadLettered: s.deadLettered }, 'serve finished');
      await storage.close();
      return report.lostRows > 0 || journalErrors > 0 ? 3 : 0;
    })();
    return stopping;
  };
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1);
    stop(sig).then(stopped, (err: unknown) => {
      log.error({ err: String(err) }, 'unclean stop');
      stopped(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const bound = api.address;
  // stdout, one line, so scripts (and tests) can find the port when --port=0.
  process.stdout.write(`riskwire serve: listening on http://${bound}${token ? ' (bearer token required)' : ''}\n`);
  log.info({ address: bound, auth: token ? 'bearer' : 'none', database: target.label, thread: api.thread }, 'API listening');
  if (flags.cluster === true) member = startCluster(pipeline, storage, specs, config, log);
  else for (const spec of specs) await pipeline.startActor(spec);

  return done;
}

function pluginFlags(flags: Flags): Flags {
  const out: Flags = {};
  for (const k of PLUGIN_FLAGS) if (flags[k] !== undefined) out[k] = flags[k];
  return out;
}

interface OpenedApi {
  address: string;
  /** The API runs in a worker thread of its own (D73), not on the pipeline's thread. */
  thread: boolean;
  close(): Promise<void>;
}

/**
 * The API for serve: in a worker thread of its own with its own read pool when the database is
 * a PostgreSQL server (D73; API_THREAD=0 keeps it on the pipeline's thread), else (PGlite, in
 * this thread's memory) in process on the writer's storage. Listening when this resolves.
 */
async function openApi(o: {
  pipeline: Pipeline; storage: Storage; log: Logger; token?: string; limits: Required<ApiLimits>; host: string; port: number;
  actorFlags: Flags; risk: RiskService; cluster: { view(): unknown };
}): Promise<OpenedApi> {
  const target = o.storage.target;
  if (target && process.env.API_THREAD !== '0') {
    const t = await startApiThread({ ...o, target });
    return { address: t.address, thread: true, close: () => t.close() };
  }
  // In process: reads on a small pool of their own when there is a server URL (API_THREAD=0).
  const reader = target
    ? await openReadStorage({ databaseUrl: target.url, log: o.log, statementTimeoutMs: o.limits.statementTimeoutMs, maxConnections: o.limits.readConnections })
    : undefined;
  const app = await buildApi({ pipeline: o.pipeline, storage: o.storage, reader, log: o.log, token: o.token, limits: o.limits, actorFlags: o.actorFlags, risk: o.risk, cluster: o.cluster });
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await reader?.close();
    throw err;
  }
  const addr = app.server.address();
  const address = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : `${o.host}:${o.port}`;
  return {
    address, thread: false,
    async close() {
      await app.close();
      await reader?.close();
    },
  };
}
