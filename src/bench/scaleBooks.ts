import type { ScaleSection } from './scale.js';

/**
 * Big-book scenarios of `bench --scale` (issue 15 item 2, branch books15): append sections
 * here, e.g. `{ key: 'book.tasty', title: '5,000 positions over 20 accounts', run }` returning
 * `{ json: { contracts, rows, rows_lost, peak_rss_mb }, lines, ok }`, and
 * `{ key: 'book.tws', ... }` with `{ contracts, line_limit, contracts_with_greeks, refresh_s }`.
 * Each runs in its own scratch database (freshBenchDatabase(ctx.databaseUrl)).
 */
export const BOOK_SECTIONS: ScaleSection[] = [];
