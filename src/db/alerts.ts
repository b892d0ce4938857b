/** alerts SQL: open (one per (rule, subject), enforced by a partial unique index), close; the listing is drizzle's (queries.ts). */
import type { Alert } from '../risk/alertBook.js';
import type { AlertFilter, Storage } from './types.js';

type Q = Pick<Storage, 'query'>;
const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;
const MS = (c: string) => `(extract(epoch FROM ${c}) * 1000)::float8`;
const COLUMNS = `id::float8 AS id, rule, subject, ${MS('opened_at')} AS "openedAt", ${MS('closed_at')} AS "closedAt", value, threshold, message,
  close_value AS "closeValue", close_message AS "closeMessage"`;

function norm(r: Alert): Alert {
  return { ...r, id: Number(r.id), openedAt: Number(r.openedAt), closedAt: r.closedAt === null ? null : Number(r.closedAt), value: Number(r.value), threshold: Number(r.threshold) };
}

/** Stores an opened alert; returns it with its id (the already-open one if another process opened it first). */
export async function insertAlert(db: Q, a: Alert): Promise<Alert> {
  const rows = await db.query<Alert>(`
    INSERT INTO alerts (rule, subject, opened_at, value, threshold, message) VALUES ($1, $2, ${TS('$3')}, $4, $5, $6)
    ON CONFLICT (rule, subject) WHERE closed_at IS NULL DO NOTHING RETURNING ${COLUMNS}`,
  [a.rule, a.subject, a.openedAt, a.value, a.threshold, a.message]);
  if (rows[0]) return norm(rows[0]);
  const [open] = await db.query<Alert>(`SELECT ${COLUMNS} FROM alerts WHERE rule = $1 AND subject = $2 AND closed_at IS NULL`, [a.rule, a.subject]);
  return norm(open);
}

export async function closeAlert(db: Q, a: Alert): Promise<Alert | null> {
  const rows = await db.query<Alert>(`
    UPDATE alerts SET closed_at = ${TS('$3')}, close_value = $4, close_message = $5
     WHERE rule = $1 AND subject = $2 AND closed_at IS NULL RETURNING ${COLUMNS}`,
  [a.rule, a.subject, a.closedAt, a.closeValue ?? null, a.closeMessage ?? null]);
  return rows[0] ? norm(rows[0]) : null;
}

/** Newest first. `since`: opened or closed at or after it; `open`: only still-open ones (drizzle: Storage.listAlerts, queries.ts). */
export async function listAlerts(db: Pick<Storage, 'listAlerts'>, f: AlertFilter = {}): Promise<Alert[]> {
  return db.listAlerts(f);
}
