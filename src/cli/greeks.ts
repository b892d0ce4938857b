import { readAppConfig } from '../app/config.js';
import { checkBrokerConfigs, Pipeline } from '../app/pipeline.js';
import { checkBrokersReachable } from '../app/preflight.js';
import { BROKER_IDS } from '../brokers/registry.js';
import { MemoryJournal } from '../core/journal.js';
import { createLogger } from '../core/logger.js';
import type { LatestGreeks } from '../core/processor.js';
import type { Position } from '../core/types.js';
import { configFor, DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import type { Storage } from '../db/types.js';
import { metricsViewTable } from './metricsView.js';
import { durationMs, parseArgs } from './args.js';
import { actorSpecs, PLUGIN_FLAGS } from './ingest.js';
import { greeksViewTable, watchlistTable } from './greeksView.js';

export const GREEKS_HELP = `Usage: npm run greeks -- --broker=<id|list> [--underlying=SPY] [--once] [--json] [--db]

Debug view of the latest per-contract Greeks: starts the broker's actor (only watching:
nothing is written unless --db) and shows a refreshing table (100 columns, fixed decimals) of
contract, broker:account, quantity, mark, IV, underlying price, DTE, position delta, gamma,
theta and vega (greek x qty x multiplier) with a total row, and the age of the last update
(stale ones marked *), under a header with each actor's state, reconnects and events/s.
WATCHLIST symbols follow in a second table: bid, ask, mid, IV and delta (options), broker and
the age of the last quote (older than QUOTE_TTL_MS marked *).

  --broker=ID        ${BROKER_IDS.join(', ')}, or a comma list (default: sim)
  --underlying=SYM   only contracts on this underlying
  --account=ID       only this account
  --once             print one table once every held option has Greeks (or at --timeout) and exit
  --json             one JSON object per update (with --once: one per contract, then exit)
  --db               also persist what it watches, as ingest does (default: write nothing)
  ${DEMO_FLAG_HELP.replace('read', 'with --db, write to')}
  --refresh=S        table refresh period (default 1s)
  --stale=S          mark updates older than this as stale (default 30s)
  --timeout=S        with --once: give up waiting for the full set (default 30s)
  --help             this text

At a terminal the table redraws in place; otherwise each refresh prints plain lines.`;

/** A storage that accepts and discards (watching only, the default). */
const nullStorage = {
  kind: 'postgres',
  writeSnapshots: async (rows: unknown[]) => ({ inserted: rows.length, duplicates: 0 }),
  replacePositions: async () => undefined,
  writeTrades: async (rows: unknown[]) => ({ inserted: rows.length, duplicates: 0 }),
  ensurePartitions: async () => undefined,
  close: async () => undefined,
} as unknown as Storage;

export async function runGreeks(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'greeks', ['help', 'broker', 'underlying', 'account', 'once', 'json', 'db', 'refresh', 'stale', 'timeout', 'demo', ...PLUGIN_FLAGS]);
  if (flags.help) {
    process.stdout.write(`${GREEKS_HELP}\n`);
    return 0;
  }
  const specs = actorSpecs(flags, 'sim');
  const underlying = typeof flags.underlying === 'string' ? flags.underlying.toUpperCase() : undefined;
  const account = typeof flags.account === 'string' ? flags.account : undefined;
  const refreshMs = durationMs(flags, 'refresh', 1000)!;
  const staleMs = durationMs(flags, 'stale', 30_000)!;
  const timeoutMs = durationMs(flags, 'timeout', 30_000)!;
  const target = resolveDataTarget({ demo: flags.demo === true });
  const config = configFor(target, readAppConfig());
  await checkBrokerConfigs(specs);
  await checkBrokersReachable(specs);
  const log = createLogger({ name: 'greeks', level: process.env.LOG_LEVEL ?? 'warn' });
  const useDb = flags.db === true;
  const storage = useDb ? await openTargetStorage(target, log) : nullStorage;
  const pipeline = new Pipeline({ storage, config, log, journal: useDb ? undefined : new MemoryJournal() });
  const filter = { underlying, account };
  const wanted = (p: Position) => p.assetClass === 'option' && (!underlying || p.underlying === underlying) && (!account || p.account === account);

  if (flags.json && !flags.once) {
    pipeline.processor.onLatest((s) => {
      if ((underlying && s.underlying !== underlying) || (account && s.account !== account)) return;
      process.stdout.write(`${JSON.stringify(snapshotJson(s))}\n`);
    });
  }

  let done!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (done = resolve));
  process.once('SIGINT', () => done(0));
  process.once('SIGTERM', () => done(0));

  for (const spec of specs) await pipeline.startActor(spec);
  const startedAt = Date.now();
  const tty = Boolean(process.stdout.isTTY) && !flags.json;
  const rates = new RateMeter();

  const timer = setInterval(() => {
    const latest = pipeline.processor.latestGreeks(filter);
    if (flags.once) {
      const held = specs.flatMap((s) => pipeline.processor.heldPositions(s.broker)).filter(wanted);
      const have = new Set(latest.map((s) => `${s.broker}|${s.account}|${s.contractKey}`));
      const complete = held.length > 0 && held.every((p) => have.has(`${p.broker}|${p.account}|${p.contractKey}`));
      if (!complete && Date.now() - startedAt < timeoutMs) return;
      if (flags.json) for (const s of latest) process.stdout.write(`${JSON.stringify(snapshotJson(s))}\n`);
      else process.stdout.write(`${render(pipeline, latest, staleMs, rates, config.quoteTtlMs ?? 3000)}\n`);
      if (!complete) process.stderr.write(`riskwire greeks: timed out after ${Math.round(timeoutMs / 1000)}s with ${latest.length} of ${held.length} held options updated\n`);
      done(latest.length > 0 ? 0 : 1);
      return;
    }
    if (flags.json) return;
    const text = render(pipeline, latest, staleMs, rates, config.quoteTtlMs ?? 3000);
    process.stdout.write(tty ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
  }, flags.once ? 200 : refreshMs);

  const code = await finished;
  clearInterval(timer);
  await pipeline.stop();
  await storage.close();
  return code;
}

function snapshotJson(s: LatestGreeks) {
  return {
    broker: s.broker, account: s.account, contract_key: s.contractKey, underlying: s.underlying,
    event_ts: new Date(s.eventTs).toISOString(), received_at: new Date(s.receivedAt).toISOString(), seq: s.seq,
    quantity: s.quantity, multiplier: s.multiplier, bid: s.bid, ask: s.ask, mark: s.mark, underlying_price: s.underlyingPrice,
    iv: s.iv, delta: s.delta, gamma: s.gamma, theta: s.theta, vega: s.vega, rho: s.rho,
  };
}

class RateMeter {
  private readonly startedAt = Date.now();
  private last = new Map<string, { n: number; at: number; rate: number }>();
  rate(id: string, n: number): number {
    const now = Date.now();
    const prev = this.last.get(id);
    const rate = prev && now > prev.at ? ((n - prev.n) * 1000) / (now - prev.at) : (n * 1000) / Math.max(1, now - this.startedAt);
    this.last.set(id, { n, at: now, rate: prev && now - prev.at < 200 ? prev.rate : rate });
    return this.last.get(id)!.rate;
  }
}

function render(pipeline: Pipeline, latest: LatestGreeks[], staleMs: number, rates: RateMeter, quoteTtlMs: number): string {
  const now = Date.now();
  const header = pipeline.supervisor
    .status()
    .map((a) => `${a.id}: ${a.state}  reconnects ${a.reconnects}  ${rates.rate(a.id, a.eventsIn).toFixed(0)} events/s${a.lastError ? `  last error: ${a.lastError}` : ''}`)
    .join('\n');
  const body = latest.length ? greeksViewTable(latest, now, staleMs) : '(waiting for the first Greeks...)';
  const metrics = metricsViewTable(pipeline.processor.marketMetrics(), [...new Set(latest.map((s) => s.underlying))].sort(), now);
  const watched = pipeline.watchlist().map((w) => w.symbol);
  const watch = watched.length ? `\n\n${watchlistTable(watched, pipeline.processor.latestQuotes(watched), now, quoteTtlMs)}` : '';
  return `${new Date(now).toISOString()}  riskwire greeks\n${header}\n\n${body}${watch}${metrics ? `\n\n${metrics}` : ''}`;
}
