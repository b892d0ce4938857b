import { MANIFESTS } from '../brokers/registry.js';
import type { PluginSimulator, RunningSimulator } from '../brokers/types.js';
import { ConfigError } from '../core/errors.js';
import { intFlag, parseArgs } from './args.js';

/**
 * `npm run sim -- <name> [--port=N]`: one simulated broker on its own, and the environment that
 * points `npm run ingest` at it. The simulators are the ones the plugins declare in their
 * manifests (PluginManifest.simulators), in registry order.
 */
const SIMULATORS: Record<string, PluginSimulator> = Object.fromEntries(MANIFESTS.flatMap((m) => m.simulators ?? []).map((s) => [s.name, s]));

export const SIM_HELP = `Usage: npm run sim -- ${Object.keys(SIMULATORS).join('|')} [--port=N]

Starts one simulated broker on 127.0.0.1 and prints the export lines that point
npm run ingest at it; runs until Ctrl-C.

${Object.entries(SIMULATORS).map(([name, s]) => `  ${name.padEnd(10)} ${s.what}`).join('\n')}
  --port=N              the port to listen on (tasty: its REST API; default: any free port)
  --quotes-per-sec=N    REST quote calls allowed per second before HTTP 429 (tasty:
                        /market-data/by-type, default unlimited; ibkr: the snapshot, default 10)
  --quiet=SYM[,SYM]     symbols whose stream goes quiet (subscribed, no events): REST must answer
  --help                this text`;

const shellQuote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

export async function runSim(argv: string[]): Promise<number> {
  const name = argv[0] && !argv[0].startsWith('--') ? argv[0] : undefined;
  const flags = parseArgs(name ? argv.slice(1) : argv, 'sim', ['help', 'port', 'quotes-per-sec', 'quiet']);
  if (flags.help) {
    process.stdout.write(`${SIM_HELP}\n`);
    return 0;
  }
  const sim = name && Object.hasOwn(SIMULATORS, name) ? SIMULATORS[name] : undefined;
  if (!sim) throw new ConfigError(`${name ? `unknown simulator "${name}"` : 'which simulator?'}: use npm run sim -- ${Object.keys(SIMULATORS).join('|')}`);
  const port = intFlag(flags, 'port', 0, 0, 65535);
  let running: RunningSimulator;
  try {
    const quotesPerSec = flags['quotes-per-sec'] === undefined ? null : intFlag(flags, 'quotes-per-sec', 2, 1, 10_000);
    const quiet = typeof flags.quiet === 'string' ? flags.quiet.split(',').map((q) => q.trim()).filter(Boolean) : [];
    running = await sim.start(port, { quotesPerSec, quiet });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') throw new ConfigError(`port ${port} is not free (${code}): pick another --port, or leave it out for any free port`);
    throw err;
  }
  const lines = [
    `# riskwire simulator: ${name} (${sim.what}); Ctrl-C stops it. In another terminal:`,
    ...Object.entries(running.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `# then: npm run ingest -- --broker=${running.broker} --demo    (--demo keeps simulated rows out of the real record)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  return 0;
}
