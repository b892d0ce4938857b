/**
 * Runs the Tastytrade simulator as its own process (for the benchmark, and for trying
 * `npm run ingest -- --broker=tasty` by hand):
 *
 *   npx tsx src/brokers/tasty/sim/main.ts [--contracts=N] [--tick-ms=100]
 *
 * Prints one JSON line with the environment that points the tasty plugin at it
 * (TASTY_API_URL, TASTY_CLIENT_SECRET, TASTY_REFRESH_TOKEN). SIGUSR1 silences the feed;
 * SIGTERM/SIGINT print {"sentGreeks": n} (unique Greeks events sent) and exit.
 */
import { defaultContracts, type SimContract } from '../../simbook.js';
import { optionHolding, startTastySimulator } from './index.js';

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
/** A large book: SPY calls and puts around the money, one account holding all of them. */
function book(n: number): SimContract[] {
  const base = defaultContracts()[0];
  return Array.from({ length: n }, (_, i) => ({ ...base, right: i % 2 ? 'P' : 'C', strike: 400 + Math.floor(i / 2) }));
}

const contracts = count > 0 ? book(count) : undefined;
const account = '5WT00001';
const sim = await startTastySimulator({
  contracts,
  book: contracts ? new Map([[account, contracts.map((c, i) => optionHolding(c, i % 3 === 0 ? -2 : 1))]]) : undefined,
  dxlink: { tickMs },
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
