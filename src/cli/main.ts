import { reportFatal } from './output.js';

/**
 * One entry point for every npm script: `tsx src/cli/main.ts <command> [flags]`.
 * Each command module is loaded only when used.
 */
const commands: Record<string, () => Promise<(argv: string[]) => Promise<number>>> = {
  ingest: async () => (await import('./ingest.js')).runIngest,
  timeline: async () => (await import('./timeline.js')).runTimeline,
  serve: async () => (await import('./serve.js')).runServe,
  greeks: async () => (await import('./greeks.js')).runGreeks,
  demo: async () => (await import('./demo.js')).runDemo,
  doctor: async () => (await import('./doctor.js')).runDoctor,
  bench: async () => (await import('../bench/run.js')).runBench,
  db: async () => (await import('./db.js')).runDb,
  sim: async () => (await import('./sim.js')).runSim,
  replay: async () => (await import('./replay.js')).runReplay,
  risk: async () => (await import('./risk.js')).runRisk,
  alerts: async () => (await import('./alerts.js')).runAlerts,
  quote: async () => (await import('./quote.js')).runQuote,
};

const USAGE = `riskwire: broker streams in, one record of options risk out.
usage: npm run <command> -- [flags]     (each command has --help)
commands: ${Object.keys(commands).join(', ')}
start with: npm run demo   (simulated brokers, nothing to configure)
`;

async function main(): Promise<number> {
  const [command = '', ...argv] = process.argv.slice(2);
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  const load = commands[command];
  if (!load) {
    process.stderr.write(`riskwire: unknown command "${command}": use one of ${Object.keys(commands).join(', ')}\n`);
    return 2;
  }
  try {
    const run = await load();
    return await run(argv);
  } catch (err) {
    return reportFatal(command, err);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(reportFatal('main', err)),
);
