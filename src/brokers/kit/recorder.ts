/**
 * Writes wire records of one actor as NDJSON: `<dir>/<actor>-<YYYY-MM-DD>[.<n>].ndjson`, a new
 * file per UTC day and whenever one passes `maxBytes`. Every file starts with the meta line.
 * Payloads are redacted (tokens, secrets) before they touch the disk. Synchronous appends: a
 * crashing worker loses nothing it had recorded.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { redactValue, redactWire, type WireMeta, type WireRecord, type WireTap } from './wire.js';

export interface RecorderOptions {
  dir: string;
  actor: string;
  broker: string;
  config: unknown;
  startedAt: number;
  session: string;
  /** Rotate past this size (default 256 MB). */
  maxBytes?: number;
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

export class FileWireRecorder implements WireTap {
  private fd: number | null = null;
  private file = '';
  private day = '';
  private part = 0;
  private bytes = 0;
  private readonly meta: WireMeta;
  records = 0;
  private closed = false;

  constructor(private readonly o: RecorderOptions) {
    mkdirSync(o.dir, { recursive: true });
    this.meta = { kind: 'meta', actor: o.actor, broker: o.broker, config: redactValue(o.config), startedAt: o.startedAt, session: o.session };
  }

  record(rec: WireRecord): void {
    // Late callbacks after the stream stopped (a socket's close event) are not part of the session.
    if (this.closed) return;
    const clean: WireRecord = rec.text === undefined ? rec : { ...rec, text: redactWire(rec.text) };
    const line = `${JSON.stringify(clean)}\n`;
    if (this.fd === null || day(rec.t) !== this.day || this.bytes + line.length > (this.o.maxBytes ?? 256 * 2 ** 20)) this.rotate(rec.t);
    this.bytes += writeSync(this.fd!, line);
    this.records++;
  }

  /** The files written so far (the current one last). */
  get currentFile(): string {
    return this.file;
  }

  close(): void {
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private rotate(t: number): void {
    if (this.fd !== null) closeSync(this.fd);
    const d = day(t);
    this.part = d === this.day ? this.part + 1 : 0;
    this.day = d;
    const safe = this.o.actor.replace(/[^A-Za-z0-9_.-]/g, '_');
    // The part number is zero-padded so files sort in write order.
    this.file = join(this.o.dir, `${safe}-${d}${this.part ? `.${String(this.part).padStart(3, '0')}` : ''}.ndjson`);
    this.fd = openSync(this.file, 'a');
    this.bytes = writeSync(this.fd, `${JSON.stringify(this.meta)}\n`);
  }
}
