import type { GreekSnapshot } from '../core/types.js';
import { SNAPSHOT_COPY_COLUMNS } from '../db/snapshotCopy.js';

/** Unique synthetic snapshot rows (500 contracts × consecutive ms), all within the last hour; `offset` continues a series. */
export function syntheticRows(n: number, account: string, start = Date.now() - 3_600_000, offset = 0): GreekSnapshot[] {
  return Array.from({ length: n }, (_, j) => {
    const i = offset + j;
    return {
    broker: 'bench', account, contractKey: `SPY   261218C${String(400_000 + (i % 500) * 1000).padStart(8, '0')}`, underlying: 'SPY',
    eventTs: start + Math.floor(i / 500), seq: i % 500, receivedAt: start + Math.floor(i / 500) + 3, quantity: -1, multiplier: 100,
    bid: 1.1, ask: 1.2, mark: 1.15, underlyingPrice: 600, iv: 0.2, delta: 0.4, gamma: 0.01, theta: -0.2, vega: 0.3, rho: 0.05,
    };
  });
}

export const COPY_SQL = `COPY greek_snapshots (${SNAPSHOT_COPY_COLUMNS}) FROM STDIN (FORMAT csv)`;

/** CSV lines in COPY_SQL's column order (one array join: `+=` would build a rope of 100k pieces). */
export function toCsv(rows: GreekSnapshot[]): string {
  const out: string[] = [];
  for (const r of rows) {
    out.push(`${r.broker},${r.account},${r.contractKey},${r.underlying},${new Date(r.eventTs).toISOString()},${r.seq},${new Date(r.receivedAt).toISOString()},${r.quantity},${r.multiplier},${r.bid},${r.ask},${r.mark},${r.underlyingPrice},${r.iv},${r.delta},${r.gamma},${r.theta},${r.vega},${r.rho}\n`);
  }
  return out.join('');
}
