/**
 * The TWS socket framing, server side. A client opens with `API\0` + a length-prefixed version
 * range ("v100..193"); after that every message both ways is a 4-byte big-endian length and
 * then UTF-8 fields, each terminated by NUL (the last one too).
 */

export type Inbound = { kind: 'hello'; minVersion: number; maxVersion: number } | { kind: 'message'; fields: string[] } | { kind: 'bad'; reason: string };

export type Field = string | number | boolean | null | undefined;

/** One framed message. Booleans go as 0/1 and null/undefined as empty fields, as TWS does. */
export function encodeFrame(fields: Field[]): Buffer {
  const payload = fields.map((f) => (f === null || f === undefined ? '' : typeof f === 'boolean' ? (f ? '1' : '0') : String(f)) + '\0').join('');
  const body = Buffer.from(payload, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Parses "v100..193" or "v176" into a range. */
export function parseVersionRange(text: string): { minVersion: number; maxVersion: number } | null {
  const m = text.trim().match(/^v(\d+)(?:\.\.(\d+))?/);
  if (!m) return null;
  const min = Number(m[1]);
  return { minVersion: min, maxVersion: m[2] ? Number(m[2]) : min };
}

const API_PREFIX = Buffer.from('API\0', 'latin1');
const MAX_FRAME = 0xffffff;

/** Accumulates socket chunks and yields whole messages; the first one is the handshake. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private greeted = false;

  push(chunk: Buffer): Inbound[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Inbound[] = [];
    for (;;) {
      if (!this.greeted) {
        if (this.buf.length < API_PREFIX.length + 4) return out;
        if (!this.buf.subarray(0, 4).equals(API_PREFIX)) {
          this.buf = Buffer.alloc(0);
          out.push({ kind: 'bad', reason: 'handshake does not start with API\\0' });
          return out;
        }
        const len = this.buf.readUInt32BE(4);
        if (this.buf.length < 8 + len) return out;
        const text = this.buf.subarray(8, 8 + len).toString('utf8');
        this.buf = this.buf.subarray(8 + len);
        this.greeted = true;
        const range = parseVersionRange(text);
        out.push(range ? { kind: 'hello', ...range } : { kind: 'bad', reason: `bad version string "${text}"` });
        continue;
      }
      if (this.buf.length < 4) return out;
      const len = this.buf.readUInt32BE(0);
      if (len > MAX_FRAME) {
        this.buf = Buffer.alloc(0);
        out.push({ kind: 'bad', reason: `frame of ${len} bytes` });
        return out;
      }
      if (this.buf.length < 4 + len) return out;
      const text = this.buf.subarray(4, 4 + len).toString('utf8');
      this.buf = this.buf.subarray(4 + len);
      const fields = text.split('\0');
      // Every field ends with NUL, so the split leaves one empty string at the end.
      if (fields[fields.length - 1] === '') fields.pop();
      out.push({ kind: 'message', fields });
    }
  }
}
