/**
 * The shape a journal line must have to be replayed, per kind of row (pure). A line that fails
 * is not a row we wrote: it is counted and moved aside by the journal, never sent to the database
 * and never allowed to crash start-up (specs/reliability.md, "corrupt journal").
 */
import type { RowValidator } from './journal.js';
import type { Position } from './types.js';

/** One account's full set of positions at one time: the unit the positions writer journals and replays. */
export interface PositionSet {
  broker: string;
  account: string;
  at: number;
  positions: Position[];
}

const obj = (r: unknown): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r);
const text = (v: unknown) => typeof v === 'string' && v !== '';
const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

export const isSnapshotRow: RowValidator = (r) => obj(r) && text(r.broker) && text(r.account) && text(r.contractKey) && num(r.eventTs) && num(r.seq);

export const isTradeRow: RowValidator = (r) => obj(r) && text(r.broker) && text(r.account) && text(r.tradeId) && text(r.contractKey);

export const isPositionSet: RowValidator = (r) =>
  obj(r) && text(r.broker) && text(r.account) && num(r.at) && Array.isArray(r.positions) && r.positions.every((p) => obj(p) && text(p.contractKey));
