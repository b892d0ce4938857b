/**
 * The fault suite's yardstick. The sim broker numbers each contract's updates 1, 2, 3, ... and
 * every holding account gets one row per update, so per (account, contract) a complete record
 * is exactly seq 1..max, each once. A gap means a lost row; a count above max means a double.
 */
import { expect } from 'vitest';

export interface Span {
  account: string;
  contract_key: string;
  n: number;
  lo: number;
  hi: number;
  distinct_seq: number;
}

type Query = <T>(text: string, params?: unknown[]) => Promise<T[]>;

export const SPANS_SQL = `SELECT account, contract_key, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi,
                                 count(DISTINCT seq)::int AS distinct_seq
                            FROM greek_snapshots WHERE broker = $1 GROUP BY 1, 2 ORDER BY 1, 2`;

export async function seqSpans(query: Query, broker = 'sim'): Promise<Span[]> {
  return query<Span>(SPANS_SQL, [broker]);
}

export async function rowCount(query: Query, broker = 'sim'): Promise<number> {
  const [r] = await query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = $1', [broker]);
  return Number(r?.n ?? 0);
}

/** Every (account, contract) is a complete run 1..max with no gap and no double. */
export function expectCompleteSpans(spans: Span[], expectedPairs: number): void {
  expect(spans).toHaveLength(expectedPairs);
  for (const s of spans) {
    const where = `${s.account} ${s.contract_key}`;
    expect(s.lo, where).toBe(1);
    expect(s.hi, where).toBe(s.n);
    expect(s.distinct_seq, where).toBe(s.n);
  }
}

export const totalRows = (spans: Span[]) => spans.reduce((n, s) => n + s.n, 0);
