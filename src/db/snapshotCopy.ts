/**
 * greek_snapshots rows as PostgreSQL binary COPY data (`COPY ... FROM STDIN (FORMAT binary)`):
 * the pipeline's write path on a PostgreSQL server (D85) and the bench's raw COPY limit, so both
 * send the same bytes for the same rows. Binary, not CSV: numbers go as 8 bytes each instead of
 * being printed by JS and parsed again by the server (String(float) was ~40 % of the main
 * thread's busy time with the unnest insert; the server's COPY needs about half the CPU per row
 * of `INSERT ... unnest ... ON CONFLICT`). Values mean exactly what snapshotParams() sends:
 * NaN/±Infinity become NULL, timestamps are epoch ms to the microsecond, quantity and multiplier
 * are the numeric of String(n), seq is truncated to an integer.
 */
import type { GreekSnapshot } from '../core/types.js';

export const SNAPSHOT_COPY_COLUMNS = 'broker, account, contract_key, underlying, event_ts, seq, received_at, quantity, multiplier, bid, ask, mark, underlying_price, iv, delta, gamma, theta, vega, rho';
export const SNAPSHOT_COPY_SQL = `COPY greek_snapshots (${SNAPSHOT_COPY_COLUMNS}) FROM STDIN (FORMAT binary)`;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z in epoch ms: PostgreSQL's timestamp origin. */
const PG_EPOCH_MS = 946_684_800_000;
const FIELDS = 19;

/** Text columns repeat (a few brokers, accounts, underlyings, the book's contracts): encoded once. */
const textCache = new Map<string, Buffer>();
function textBytes(s: string): Buffer {
  let b = textCache.get(s);
  if (b === undefined) {
    if (textCache.size >= 100_000) textCache.clear(); // bounded: a book has thousands of keys, not millions
    b = Buffer.from(s, 'utf8');
    textCache.set(s, b);
  }
  return b;
}

class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }
  int16(v: number): void {
    this.at = this.buf.writeInt16BE(v, this.at);
  }
  int32(v: number): void {
    this.at = this.buf.writeInt32BE(v, this.at);
  }
  /** A whole number in (-2^53, 2^53) as int64. */
  int64(v: number): void {
    const hi = Math.floor(v / 4294967296);
    this.at = this.buf.writeInt32BE(hi, this.at);
    this.at = this.buf.writeUInt32BE(v - hi * 4294967296, this.at);
  }
  text(s: string): void {
    const b = textBytes(s);
    this.room(4 + b.length);
    this.int32(b.length);
    this.at += b.copy(this.buf, this.at);
  }
  timestamptz(ms: number): void {
    this.int32(8);
    this.int64(Math.round(ms * 1000) - PG_EPOCH_MS * 1000);
  }
  float8(v: number | null | undefined): void {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.int32(-1);
      return;
    }
    this.int32(8);
    this.at = this.buf.writeDoubleBE(v, this.at);
  }
  numeric(v: number): void {
    if (Number.isInteger(v) && v > -10000 && v < 10000) {
      // The common case (contracts held, multipliers): one base-10000 digit, or none for 0.
      const digits = v === 0 ? 0 : 1;
      this.int32(8 + 2 * digits);
      this.int16(digits);
      this.int16(0); // weight
      this.int16(v < 0 ? 0x4000 : 0);
      this.int16(0); // dscale
      if (digits) this.int16(Math.abs(v));
      return;
    }
    const d = numericDigits(v);
    this.room(12 + 2 * d.digits.length);
    this.int32(8 + 2 * d.digits.length);
    this.int16(d.digits.length);
    this.int16(d.weight);
    this.int16(v < 0 ? 0x4000 : 0);
    this.int16(d.dscale);
    for (const g of d.digits) this.int16(g);
  }
}

/**
 * The base-10000 digits of the decimal String(v) names (what the text path sends), e.g. 1.5 →
 * weight 0, digits [1, 5000], dscale 1; 123456.25 → weight 1, digits [12, 3456, 2500], dscale 2.
 */
export function numericDigits(v: number): { weight: number; digits: number[]; dscale: number } {
  const [mant, expPart] = Math.abs(v).toString().toLowerCase().split('e');
  const exp = expPart === undefined ? 0 : Number(expPart);
  const [ip, fp = ''] = mant.split('.');
  // All decimal digits and where the point sits among them.
  let all = ip + fp;
  let point = ip.length + exp;
  const lead = all.length - all.replace(/^0+/, '').length;
  all = all.slice(lead);
  point -= lead;
  all = all.replace(/0+$/, '');
  const dscale = Math.max(0, fp.length - exp);
  if (all === '') return { weight: 0, digits: [], dscale };
  // Pad so the point falls on a 4-digit group boundary.
  const padLeft = ((4 - (point % 4)) % 4 + 4) % 4;
  all = '0'.repeat(padLeft) + all;
  point += padLeft;
  all += '0'.repeat((4 - (all.length % 4)) % 4);
  const digits: number[] = [];
  for (let i = 0; i < all.length; i += 4) digits.push(Number(all.slice(i, i + 4)));
  return { weight: point / 4 - 1, digits, dscale };
}

/** One COPY's data for the rows (header, tuples, trailer), ready to send as it is. */
export function encodeSnapshotsBinary(rows: readonly GreekSnapshot[]): Buffer {
  const out = new Out(19 + 2 + rows.length * 300);
  out.at += SIGNATURE.copy(out.buf, 0);
  out.int32(0); // flags
  out.int32(0); // header extension
  for (const r of rows) {
    out.room(2 + 76 + 8 * 13 + 64); // everything but text and long numerics (they check for themselves)
    out.int16(FIELDS);
    out.text(r.broker);
    out.text(r.account);
    out.text(r.contractKey);
    out.text(r.underlying);
    out.room(200);
    out.timestamptz(r.eventTs);
    out.int32(8);
    out.int64(Math.trunc(r.seq));
    out.timestamptz(r.receivedAt);
    out.numeric(r.quantity);
    out.numeric(r.multiplier);
    out.room(120);
    out.float8(r.bid);
    out.float8(r.ask);
    out.float8(r.mark);
    out.float8(r.underlyingPrice);
    out.float8(r.iv);
    out.float8(r.delta);
    out.float8(r.gamma);
    out.float8(r.theta);
    out.float8(r.vega);
    out.float8(r.rho);
  }
  out.room(2);
  out.int16(-1);
  return out.buf.subarray(0, out.at);
}
