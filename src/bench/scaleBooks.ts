import type { ScaleSection } from './scale.js';
import { cpapiBook, tastyBook, twsBook } from './books.js';

/**
 * Big-book scenarios of `bench --scale` (issue 15 item 2; the scenarios are in ./books.ts).
 * Targets: the tasty book stored completely (rows_lost 0) with peak RSS <= 300 MB; every TWS
 * contract with Greeks in a rotation cycle, never past the line limit; no HTTP 429 at cpapi.
 */
const RSS_TARGET_MB = 300;

export const BOOK_SECTIONS: ScaleSection[] = [
  {
    key: 'book.tasty',
    title: '5,000 option positions over 20 accounts at the Tastytrade simulator (quick: 2,003), chunked DXLink subscriptions',
    async run(ctx) {
      const opts = { contracts: ctx.quick ? 2003 : 5000, accounts: 20, tickMs: 1000, seconds: ctx.quick ? 10 : 20 };
      const r = await tastyBook(ctx.databaseUrl, ctx.log, opts, ctx.say);
      const ok = r.rows_lost === 0 && r.peak_rss_mb <= RSS_TARGET_MB;
      return {
        json: { ...r },
        ok,
        lines: [
          `book.tasty: ${r.contracts} contracts / ${r.accounts} accounts: ${r.rows} rows stored of ${r.sent} sent (lost ${r.rows_lost}), ` +
            `${r.rows_per_s} rows/s (offered ${r.offered_per_s}/s), all contracts after ${r.all_contracts_s} s, ` +
            `${r.subscription_messages} FEED_SUBSCRIPTION messages, peak RSS ${r.peak_rss_mb} MB${ok ? '' : ' (MISSED TARGET)'}`,
        ],
      };
    },
  },
  {
    key: 'book.tws',
    title: 'a TWS book of 300 contracts on 100 market-data lines (error 101 past them): line rotation',
    async run(ctx) {
      const r = await twsBook(ctx.databaseUrl, ctx.log, { contracts: 300, lineLimit: 100, cycles: ctx.quick ? 1 : 2 }, ctx.say);
      const ok = r.contracts_with_greeks === r.contracts && r.error_101 === 0 && r.peak_lines <= r.line_limit;
      return {
        json: { ...r },
        ok,
        lines: [
          `book.tws: ${r.contracts} contracts on ${r.line_limit} lines: ${r.contracts_with_greeks} with Greeks per cycle, refresh ${r.refresh_s} s ` +
            `(target ${r.target_refresh_s} s), ${r.cycles} cycles, ${r.rows} rows (${r.rows_per_s} rows/s), peak lines ${r.peak_lines}, ` +
            `errors 101/100: ${r.error_101}/${r.error_100}, peak RSS ${r.peak_rss_mb} MB${ok ? '' : ' (MISSED TARGET)'}`,
        ],
      };
    },
  },
  {
    key: 'book.cpapi',
    title: '1,000 positions over 10 accounts at the Client Portal simulator (HTTP 429 past 10 requests/s)',
    async run(ctx) {
      const r = await cpapiBook(ctx.databaseUrl, ctx.log, { contracts: 1000, accounts: 10, seconds: ctx.quick ? 5 : 10 }, ctx.say);
      const ok = r.http_429 === 0 && r.contracts_with_greeks === r.contracts;
      return {
        json: { ...r },
        ok,
        lines: [
          `book.cpapi: ${r.contracts} contracts / ${r.accounts} accounts: ${r.contracts_with_greeks} with Greeks after ${r.all_contracts_s} s, ` +
            `${r.rows_per_s} rows/s, ${r.rest_calls} REST calls, ${r.http_429} HTTP 429, smd peak ${r.smd_peak_per_s}/s, peak RSS ${r.peak_rss_mb} MB${ok ? '' : ' (MISSED TARGET)'}`,
        ],
      };
    },
  },
];
