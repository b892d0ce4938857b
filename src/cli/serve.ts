import { buildApi } from '../api/app.js';
import { checkBind } from '../api/auth.js';
import { readAppConfig } from '../app/config.js';
import { checkBrokerConfigs, Pipeline } from '../app/pipeline.js';
import { BROKER_IDS } from '../brokers/registry.js';
import { createLogger } from '../core/logger.js';
import { openStorage } from '../db/index.js';
import { parseArgs, intFlag, type Flags } from './args.js';
import { startRisk } from '../app/risk.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { actorSpecs, PLUGIN_FLAGS } from './ingest.js';

export const SERVE_HELP = `Usage: npm run serve -- [--broker=<id|list|all>] [--port=8377] [--host=127.0.0.1]

The HTTP API (routes: specs/api.md) over the database, in the same process as the
broker actors: GET /v1/streaming/status, POST /v1/streaming/start|stop, GET
/v1/greeks/snapshots, GET /v1/risk/timeline, GET|POST /v1/trades, GET /metrics,
GET /v1/risk/positions|summary|scenarios, GET /v1/alerts, GET /v1/alerts/stream (SSE).
The risk rules (RISK_RULES_FILE) are evaluated continuously; alerts go to the alerts table,
/v1/alerts/stream and ALERT_WEBHOOK_URL.

  --broker=ID     actors to start with the server: ${BROKER_IDS.join(', ')}, a comma list, or all.
                  Default: none (start them later with POST /v1/streaming/start)
  --port=N        TCP port (default 8377; 0 = any free port, printed at start)
  --host=ADDR     address to bind (default 127.0.0.1). Any non-loopback address needs
                  API_TOKEN in the environment; every request then needs
                  Authorization: Bearer <API_TOKEN>
  --rate=N ...    sim knobs, as for npm run ingest
  --help          this text

Runs until SIGINT/SIGTERM, then stops the actors, writes every accepted row and exits 0.
Exit code 2 = bad flag, unsafe bind, configuration or unreachable database.`;

export async function runServe(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'serve', ['help', 'broker', 'port', 'host', ...PLUGIN_FLAGS]);
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
  const rules = loadRules(); // a bad RISK_RULES_FILE stops here, exit 2
  const benchmark = resolveBenchmark(undefined);

  const config = readAppConfig();
  const log = createLogger({ name: 'serve' });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, log, retentionDays: config.retentionDays });
  const pipeline = new Pipeline({ storage, config, log });
  const risk = await startRisk(pipeline, storage, log, { rules, benchmark, webhookUrl: process.env.ALERT_WEBHOOK_URL?.trim() || undefined });
  const app = await buildApi({ pipeline, storage, log, token, actorFlags: pluginFlags(flags), risk: risk.service });

  let stopping: Promise<number> | undefined;
  let stopped!: (code: number) => void;
  const done = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'stopping: closing the API, the streams, and writing every accepted row');
      await app.close();
      risk.stop();
      const report = await pipeline.stop();
      await storage.close();
      log.info({ journaledRows: report.journaledRows }, 'serve finished');
      return 0;
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

  try {
    await app.listen({ host, port });
  } catch (err) {
    risk.stop();
    await pipeline.stop(1000);
    await storage.close();
    throw err;
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : `${host}:${port}`;
  // stdout, one line, so scripts (and tests) can find the port when --port=0.
  process.stdout.write(`riskwire serve: listening on http://${bound}${token ? ' (bearer token required)' : ''}\n`);
  log.info({ address: bound, auth: token ? 'bearer' : 'none', backend: storage.kind }, 'API listening');
  for (const spec of specs) await pipeline.startActor(spec);

  return done;
}

function pluginFlags(flags: Flags): Flags {
  const out: Flags = {};
  for (const k of PLUGIN_FLAGS) if (flags[k] !== undefined) out[k] = flags[k];
  return out;
}
