import type { ScaleSection } from './scale.js';

/** history.{rows,timeline_day_ms,timeline_month_ms,naive_day_ms} (filled in by hist15). */
export const HISTORY_SECTION: ScaleSection = {
  key: 'history',
  title: 'a month of history: timeline day / month / naive GROUP BY',
  async run() {
    throw new Error('not built yet');
  },
};
