/**
 * positions SQL: the per-account set is replaced atomically (upsert the given rows, delete the
 * account's rows not in the set) so readers never see a half-updated book. A replacement older
 * than the account's last one (position_sets.updated_at, migration 0002) changes nothing:
 * positions never go back in time, also when a journal replays an old set after a newer one.
 */
import type { Position } from '../core/types.js';
import { StorageError } from './errors.js';

const TS = (p: string) => `'epoch'::timestamptz + ${p}::float8 * interval '1 millisecond'`;

export const POSITIONS_UPSERT_SQL = `
INSERT INTO positions (broker, account, contract_key, underlying, quantity, multiplier, avg_price, asset_class, updated_at)
SELECT $1, $2, k, u, q, m, ap, ac, ${TS('$9')}
  FROM unnest($3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::float8[], $8::text[]) AS t(k, u, q, m, ap, ac)
ON CONFLICT (broker, account, contract_key) DO UPDATE
  SET underlying = excluded.underlying, quantity = excluded.quantity, multiplier = excluded.multiplier,
      avg_price = excluded.avg_price, asset_class = excluded.asset_class, updated_at = excluded.updated_at
  WHERE positions.updated_at <= excluded.updated_at`;

/**
 * Claims the account's set for time $3: one row back when this set is not older than the stored
 * one (then apply it), none when a newer set is already stored (then change nothing). The row
 * lock also serialises concurrent replacements of one account.
 */
export const POSITION_SET_CLAIM_SQL = `
INSERT INTO position_sets (broker, account, updated_at) VALUES ($1, $2, ${TS('$3')})
ON CONFLICT (broker, account) DO UPDATE SET updated_at = excluded.updated_at
  WHERE position_sets.updated_at <= excluded.updated_at
RETURNING 1 AS claimed`;

/** Deletes closed positions: those of the account missing from the new set and not newer than it. */
export const POSITIONS_DELETE_CLOSED_SQL = `
DELETE FROM positions
 WHERE broker = $1 AND account = $2 AND updated_at <= ${TS('$4')} AND NOT (contract_key = ANY($3::text[]))`;

export function validatePositions(positions: Position[], at: number): void {
  if (!Number.isFinite(at)) throw new StorageError(`replacePositions: invalid time (${at})`, false, 'INVALID_ROW');
  positions.forEach((p, i) => {
    if (!p.contractKey) throw new StorageError(`replacePositions: position ${i} has no contractKey`, false, 'INVALID_ROW');
    for (const f of ['quantity', 'multiplier'] as const) {
      if (!Number.isFinite(p[f])) {
        throw new StorageError(`replacePositions: position ${i} (${p.contractKey}) has an invalid ${f} (${p[f]})`, false, 'INVALID_ROW');
      }
    }
  });
}

/** Parameters of the upsert. A contract listed twice keeps its last entry (ON CONFLICT cannot touch a row twice). */
export function positionParams(broker: string, account: string, positions: Position[], at: number): unknown[] {
  const byKey = new Map(positions.map((p) => [p.contractKey, p]));
  const rows = [...byKey.values()];
  return [
    broker, account,
    rows.map((p) => p.contractKey), rows.map((p) => p.underlying), rows.map((p) => p.quantity),
    rows.map((p) => p.multiplier), rows.map((p) => (Number.isFinite(p.avgPrice) ? p.avgPrice : null)),
    rows.map((p) => p.assetClass), at,
  ];
}
