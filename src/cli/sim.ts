import { startCpapiSimulator } from '../brokers/ibkr/sim/cpapi/index.js';
import { UNDERLYING_CONIDS } from '../brokers/ibkr/sim/cpapi/book.js';
import { startTwsSimulator } from '../brokers/ibkr/sim/tws/index.js';
import { startTastySimulator } from '../brokers/tasty/sim/index.js';
import { ConfigError } from '../core/errors.js';
import { intFlag, parseArgs } from './args.js';

/**
 * `npm run sim -- <name> [--port=N]`: one simulated broker on its own, and the environment that
 * points `npm run ingest` at it. The table below is the only list of simulators (kept small: one
 * line per simulator, the start and the env it hands over).
 */
interface Running {
  broker: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Market-data knobs (specs/quotes.md): REST quote rate limit, and watched symbols that go quiet on the stream. */
interface QuoteKnobs {
  quotesPerSec: number | null;
  quiet: string[];
}

const SIMULATORS: Record<string, { what: string; start(port: number, knobs: QuoteKnobs): Promise<Running> }> = {
  tasty: {
    what: 'Tastytrade REST + DXLink + account streamer',
    start: async (port, knobs) => {
      const s = await startTastySimulator({ port, rest: { quotesPerSecond: knobs.quotesPerSec }, dxlink: { quietSymbols: knobs.quiet } });
      return { broker: 'tasty', env: s.env, close: () => s.close() };
    },
  },
  ibkr: {
    what: 'IBKR Client Portal gateway (REST + WebSocket)',
    start: async (port, knobs) => {
      const s = await startCpapiSimulator({ port, ...(knobs.quotesPerSec !== null ? { snapshotPerSecond: knobs.quotesPerSec } : {}) });
      s.knobs.quietConids = knobs.quiet.map((q) => UNDERLYING_CONIDS[q.toUpperCase()] ?? Number(q)).filter((n) => Number.isInteger(n) && n > 0);
      return { broker: 'ibkr', env: { IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: s.url, IBKR_TLS_INSECURE: '1' }, close: () => s.close() };
    },
  },
  'ibkr-tws': {
    what: 'IBKR TWS / IB Gateway socket API',
    start: async (port) => {
      const s = await startTwsSimulator({ port });
      return { broker: 'ibkr', env: { IBKR_TRANSPORT: 'tws', IBKR_TWS_HOST: s.host, IBKR_TWS_PORT: String(s.port) }, close: () => s.close() };
    },
  },
};

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
  const sim = name ? SIMULATORS[name] : undefined;
  if (!sim) throw new ConfigError(`${name ? `unknown simulator "${name}"` : 'which simulator?'}: use npm run sim -- ${Object.keys(SIMULATORS).join('|')}`);
  const port = intFlag(flags, 'port', 0, 0, 65535);
  let running: Running;
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
