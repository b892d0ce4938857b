/**
 * Runs the Tastytrade simulator as its own process (for the benchmark, and for trying
 * `npm run ingest -- --broker=tasty` by hand):
 *
 *   npx tsx src/brokers/tasty/sim/main.ts [--contracts=N] [--accounts=N] [--tick-ms=100] [--max-message-bytes=65536]
 *
 * --contracts=N: a big book of N SPY options (four expiries), dealt round-robin over --accounts
 * accounts (default 1). --max-message-bytes: the DXLink message size past which the simulator
 * closes with 1009 (default 65536).
 * Prints one JSON line with the environment that points the tasty plugin at it
 * (TASTY_API_URL, TASTY_CLIENT_SECRET, TASTY_REFRESH_TOKEN). SIGUSR1 silences the feed;
 * SIGTERM/SIGINT print {"sentGreeks": n} (unique Greeks events sent) and exit.
 */
import { bigBook, startTastySimulator } from './index.js';

const arg = (name: string, dflt: number) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!hit) return dflt;
  const n = Number(hit.split('=')[1]);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write(`tasty simulator: --${name} must be a positive number\n`);
    process.exit(2);
  }
  return n;
};

const count = arg('contracts', 0);
const tickMs = arg('tick-ms', 100);
const accounts = arg('accounts', 1);
const maxMessageBytes = arg('max-message-bytes', 65_536);
const big = count > 0 ? bigBook(count, accounts) : undefined;
const sim = await startTastySimulator({
  contracts: big?.contracts,
  book: big?.book,
  dxlink: { tickMs, maxMessageBytes },
});
process.stdout.write(`${JSON.stringify({ env: sim.env, accounts: sim.accounts })}\n`);
process.on('SIGUSR1', () => {
  sim.dxKnobs.silent = true;
});
const stop = async () => {
  process.stdout.write(`${JSON.stringify({ sentGreeks: sim.sentGreeks().length })}\n`);
  await sim.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
