/**
 * The history generator (issue 15 item 3): a trading month of a 500-contract book as
 * greek_snapshots rows, loaded with COPY, then the rollup built (src/db/rollup.ts).
 *
 * Shape: `contracts` option positions over `accounts` accounts and 8 underlyings; the last
 * `days` weekdays before `endMs`, each a 6.5 h session (13:30-20:00 UTC); the rows spread evenly
 * over the sessions, each contract in turn, so every contract updates every
 * contracts × session / (rows per day) — 24.6 s for 10 M rows over 21 days (one update per 5 s
 * per contract would be 49 M rows for the month; 10 M is the target volume, see specs/history.md).
 * received_at and persisted_at are in the past like the event times, so the rows look as if
 * the writer had stored them live. Deterministic (seeded), no Math.random.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { ensureDayPartitions, utcDay } from '../db/partitions.js';
import { rng } from '../brokers/simbook.js';

export interface HistoryOptions {
  rows: number;
  contracts?: number;
  accounts?: number;
  /** trading days (weekdays) */
  days?: number;
  /** the generated history ends before this day (epoch ms; default: today 00:00 UTC) */
  endMs: number;
  broker?: string;
  seed?: number;
  /** 'copy' (CSV over COPY, default) or 'sql' (generated in the server: INSERT … SELECT generate_series) */
  method?: 'copy' | 'sql';
  /** progress */
  say?: (line: string) => void;
}

export interface HistoryShape {
  rows: number;
  contracts: number;
  accounts: number;
  broker: string;
  /** session opens (epoch ms), oldest first */
  sessions: number[];
  sessionMs: number;
  /** seconds between two updates of one contract */
  updateEveryS: number;
  firstMs: number;
  lastMs: number;
}

const DAY = 86_400_000;
const OPEN = 13.5 * 3_600_000;
const SESSION = 6.5 * 3_600_000;
const UNDERLYINGS: Array<[string, number]> = [['SPY', 600], ['QQQ', 520], ['IWM', 230], ['AAPL', 230], ['MSFT', 480], ['NVDA', 180], ['TSLA', 350], ['AMZN', 220]];
const COLUMNS = 'broker, account, contract_key, underlying, event_ts, seq, received_at, persisted_at, quantity, multiplier, bid, ask, mark, underlying_price, iv, delta, gamma, theta, vega, rho';

/** The weekday session opens: the `days` weekdays before endMs's day, oldest first. Pure. */
export function tradingSessions(endMs: number, days: number): number[] {
  const out: number[] = [];
  for (let d = Math.floor(endMs / DAY) * DAY - DAY; out.length < days; d -= DAY) {
    const wd = new Date(d).getUTCDay();
    if (wd !== 0 && wd !== 6) out.unshift(d + OPEN);
  }
  return out;
}

/** The book: contract key, underlying, quantity, strike. Pure. */
export function historyBook(contracts: number, accounts: number): Array<{ key: string; account: string; underlying: string; quantity: number; strike: number; spot: number; call: boolean }> {
  return Array.from({ length: contracts }, (_, j) => {
    const [underlying, spot] = UNDERLYINGS[j % UNDERLYINGS.length];
    const call = j % 2 === 0;
    const strike = Math.round(spot * (0.8 + ((j >> 3) % 40) * 0.01));
    const key = `${underlying.padEnd(6)}270115${call ? 'C' : 'P'}${String(strike * 1000).padStart(8, '0')}`;
    return { key, account: `H${(j % accounts) + 1}`, underlying, quantity: (j % 5) - 2 || 1, strike, spot, call };
  });
}

/** mulberry32, the simulators' seeded randomness (src/brokers/simbook.ts). */
const prng = rng;

export function historyShape(o: HistoryOptions): HistoryShape {
  const contracts = o.contracts ?? 500;
  const days = o.days ?? 21;
  const sessions = tradingSessions(o.endMs, days);
  const perDay = Math.ceil(o.rows / days);
  return {
    rows: o.rows, contracts, accounts: o.accounts ?? 5, broker: o.broker ?? 'hist', sessions, sessionMs: SESSION,
    updateEveryS: (contracts * SESSION) / perDay / 1000,
    firstMs: sessions[0], lastMs: sessions[sessions.length - 1] + SESSION,
  };
}

/** CSV of rows [from, to) of the history (global index i: day = i / perDay). */
function* csvChunks(shape: HistoryShape, seed: number, chunkRows: number): Generator<string> {
  const book = historyBook(shape.contracts, shape.accounts);
  const rnd = prng(seed);
  const perDay = Math.ceil(shape.rows / shape.sessions.length);
  const spots = new Map(UNDERLYINGS.map(([u, p]) => [u, p]));
  let out = '';
  let n = 0;
  for (let i = 0; i < shape.rows; i++) {
    const day = Math.floor(i / perDay);
    const within = i % perDay;
    const j = within % shape.contracts;
    const c = book[j];
    const ts = shape.sessions[day] + Math.floor((within * SESSION) / perDay);
    const spot = spots.get(c.underlying)! * (1 + (rnd() - 0.5) * 0.0004);
    spots.set(c.underlying, spot);
    const m = (spot - c.strike) / spot;
    const d = 1 / (1 + Math.exp(-m * 12));
    const delta = c.call ? d : d - 1;
    const price = Math.max(0.05, (c.call ? spot - c.strike : c.strike - spot) * 0.5 + spot * 0.03);
    const iv = 0.18 + rnd() * 0.04;
    const bid = Math.round((price - 0.05) * 100) / 100;
    const ask = Math.round((price + 0.05) * 100) / 100;
    const iso = new Date(ts).toISOString();
    out += `${shape.broker},${c.account},${c.key},${c.underlying},${iso},${i},${new Date(ts + 3).toISOString()},${new Date(ts + 40).toISOString()},${c.quantity},100,${bid},${ask},${Math.round(price * 100) / 100},${spot.toFixed(4)},${iv.toFixed(5)},${delta.toFixed(6)},${(d * (1 - d) * 0.05).toFixed(6)},${(-price * 0.01).toFixed(5)},${(spot * 0.002).toFixed(5)},${(delta * 0.3).toFixed(5)}\n`;
    if (++n === chunkRows) {
      yield out;
      out = '';
      n = 0;
    }
  }
  if (out) yield out;
}

/**
 * Loads the history into an (empty or not) migrated database at `url`: partitions, positions
 * of the book (so risk and P&L have something to join), COPY of the rows. Returns the shape and
 * the load time. The rollup is built by the caller (rollupIncremental: its first run goes day by day).
 */
export async function generateHistory(url: string, o: HistoryOptions): Promise<HistoryShape & { loadSeconds: number }> {
  const shape = historyShape(o);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const t0 = performance.now();
    const days = shape.sessions.map((s) => utcDay(s));
    await ensureDayPartitions({
      query: async (text, params) => (await sql.unsafe(text, params as never[])) as never,
      execute: async (text, params) => (await sql.unsafe(text, params as never[])).count,
      exec: async (script) => void (await sql.unsafe(script)),
    }, days);
    const book = historyBook(shape.contracts, shape.accounts);
    const at = new Date(shape.lastMs).toISOString();
    for (const acct of [...new Set(book.map((b) => b.account))]) {
      const mine = book.filter((b) => b.account === acct);
      await sql`INSERT INTO positions (broker, account, contract_key, underlying, quantity, multiplier, avg_price, asset_class, updated_at)
        SELECT ${shape.broker}, ${acct}, k, u, q, 100, p, 'option', ${at}::timestamptz
          FROM unnest(${mine.map((b) => b.key)}::text[], ${mine.map((b) => b.underlying)}::text[], ${mine.map((b) => b.quantity)}::numeric[], ${mine.map((b) => Math.round(b.spot * 0.03 * 100) / 100)}::float8[]) AS t(k, u, q, p)
        ON CONFLICT DO NOTHING`;
    }
    if (o.method === 'sql') {
      // Server-side: one INSERT … SELECT generate_series per trading day (no CSV to build, send
      // and parse). Same shape as the COPY path; the values come from PostgreSQL's random() seeded once.
      const perDay = Math.ceil(shape.rows / shape.sessions.length);
      await sql`SELECT setseed(${((o.seed ?? 1) % 1000) / 1000})`;
      const keys = book.map((b) => b.key);
      for (let d = 0; d < shape.sessions.length; d++) {
        const n = Math.min(perDay, shape.rows - d * perDay);
        if (n <= 0) break;
        await sql.unsafe(`INSERT INTO greek_snapshots (${COLUMNS})
          SELECT $1, b.account, b.key, b.underlying, ts, $4::bigint * $14::bigint + i, ts + interval '3 ms', ts + interval '40 ms', b.quantity, 100,
                 round((px - 0.05)::numeric, 2)::float8, round((px + 0.05)::numeric, 2)::float8, round(px::numeric, 2)::float8, spot,
                 0.18 + random() * 0.04, CASE WHEN b.call = 1 THEN dd ELSE dd - 1 END, dd * (1 - dd) * 0.05, -px * 0.01, spot * 0.002,
                 (CASE WHEN b.call = 1 THEN dd ELSE dd - 1 END) * 0.3
            FROM generate_series(0, $5::int - 1) AS i
            CROSS JOIN LATERAL (SELECT (i % $6::int) AS j) jj
            JOIN unnest($7::text[], $8::text[], $9::text[], $10::numeric[], $11::float8[], $12::float8[], $13::int[])
                 WITH ORDINALITY AS b(key, account, underlying, quantity, strike, spot0, call, ord) ON b.ord = jj.j + 1
            CROSS JOIN LATERAL (SELECT 'epoch'::timestamptz + ($2::float8 + floor(i::float8 * $3::float8 / $5::float8)) * interval '1 millisecond' AS ts,
                                       b.spot0 * (1 + 0.01 * sin(i::float8 / 5000 + $4::int) + (random() - 0.5) * 0.0004) AS spot) t
            CROSS JOIN LATERAL (SELECT 1 / (1 + exp(-((t.spot - b.strike) / t.spot) * 12)) AS dd,
                                       greatest(0.05, (CASE WHEN b.call = 1 THEN t.spot - b.strike ELSE b.strike - t.spot END) * 0.5 + t.spot * 0.03) AS px) g`,
        [shape.broker, shape.sessions[d], SESSION, d, n, shape.contracts, keys, book.map((b) => b.account), book.map((b) => b.underlying),
          book.map((b) => b.quantity), book.map((b) => b.strike), book.map((b) => b.spot), book.map((b) => (b.call ? 1 : 0)), perDay] as never[]);
        o.say?.(`history: day ${d + 1} of ${shape.sessions.length} inserted (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
      }
      return { ...shape, loadSeconds: (performance.now() - t0) / 1000 };
    }
    let done = 0;
    const step = Math.max(1, Math.floor(shape.rows / 10));
    let nextSay = step;
    for (const chunk of csvChunks(shape, o.seed ?? 1, 50_000)) {
      const writable = await sql.unsafe(`COPY greek_snapshots (${COLUMNS}) FROM STDIN (FORMAT csv)`).writable();
      await pipeline(Readable.from([chunk]), writable);
      done += 50_000;
      if (o.say && done >= nextSay) {
        o.say(`history: ${Math.min(done, shape.rows)} of ${shape.rows} rows copied (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
        nextSay += step;
      }
    }
    return { ...shape, loadSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await sql.end({ timeout: 5 });
  }
}
