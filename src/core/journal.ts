import { appendFileSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from './clock.js';

/**
 * On-disk overflow for rows the database cannot take yet (outage, or the in-memory bound is
 * reached). Each spill is one segment file, written to a temp name, fsynced, renamed and the
 * folder fsynced, so a crash or power loss mid-write leaves no half segment and a segment that
 * exists is on disk. A segment is deleted only after every row in it has been written, so a
 * crash during replay replays it again (writes are idempotent).
 *
 * Reading never trusts the disk: every line is parsed and checked on its own (`validate`); a bad
 * line is counted and moved aside to `quarantine/`, the good rows of the segment still replay.
 * A "segment" that cannot be read (a folder or a FIFO with a segment's name, no permission, an
 * I/O error) is moved aside whole, never deleted and never fatal. See specs/reliability.md.
 */
export interface Journal {
  /** Writes rows as one new segment (durable when it returns); returns its id. Throws when the disk refuses. */
  append(rows: unknown[]): string;
  /** Segment ids on disk, oldest first. */
  segments(): string[];
  read(segment: string): unknown[];
  remove(segment: string): void;
  /** Rows currently on disk (as counted when appended or read). */
  readonly rowsOnDisk: number;
  /** What reading found wrong so far. */
  health(): JournalHealth;
}

export interface JournalHealth {
  /** Lines that were not a valid row (torn, not JSON, `null`, wrong shape): moved to quarantine/. */
  badLines: number;
  /** Segment entries that could not be read at all: moved to quarantine/ (or skipped when even that failed). */
  setAside: number;
}

export const QUARANTINE_DIR = 'quarantine';

/** The journal refused an append (disk full, folder gone, read-only): nothing was made durable. */
export class JournalUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JournalUnavailableError';
  }
}

/** A row read back from a journal line: a plain object; the journal's owner may check more. */
export type RowValidator = (row: unknown) => boolean;
const isObject: RowValidator = (r) => typeof r === 'object' && r !== null && !Array.isArray(r);

export interface FileJournalOptions {
  /** Checks one parsed line; false = a bad line (counted, set aside). Default: any JSON object. */
  validate?: RowValidator;
}

export class FileJournal implements Journal {
  private seq = 0;
  private counts = new Map<string, number>();
  private total = 0;
  /** Entries that could not even be moved aside: ignored from then on. */
  private ignored = new Set<string>();
  private h: JournalHealth = { badLines: 0, setAside: 0 };
  private readonly validate: RowValidator;

  constructor(
    private readonly dir: string,
    opts: FileJournalOptions = {},
  ) {
    this.validate = opts.validate ?? isObject;
    mkdirSync(dir, { recursive: true });
    for (const seg of this.segments()) {
      const n = this.read(seg).length;
      if (!this.segments().includes(seg)) continue; // set aside while reading
      this.counts.set(seg, n);
      this.total += n;
    }
  }

  append(rows: unknown[]): string {
    const id = `seg-${systemClock.now().toString().padStart(15, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.jsonl`;
    writeDurably(this.dir, id, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    this.counts.set(id, rows.length);
    this.total += rows.length;
    return id;
  }

  segments(): string[] {
    return readdirSync(this.dir).filter((f) => f.startsWith('seg-') && f.endsWith('.jsonl') && !this.ignored.has(f)).sort();
  }

  read(segment: string): unknown[] {
    const path = join(this.dir, segment);
    let text: string;
    try {
      // Only a regular file is read: a FIFO would block start-up, a folder throws EISDIR.
      if (!lstatSync(path).isFile()) throw new Error('not a regular file');
      text = readFileSync(path, 'utf8');
    } catch {
      this.setAside(segment);
      return [];
    }
    const rows: unknown[] = [];
    const good: string[] = [];
    const bad: string[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        bad.push(line);
        continue;
      }
      if (this.validate(row)) {
        rows.push(row);
        good.push(line);
      } else bad.push(line);
    }
    if (bad.length > 0) {
      this.h.badLines += bad.length;
      try {
        // Bad lines are kept for a human, then the segment is rewritten with only its good rows,
        // so the next read (and the next start) sees a clean segment.
        mkdirSync(join(this.dir, QUARANTINE_DIR), { recursive: true });
        appendFileSync(join(this.dir, QUARANTINE_DIR, `${segment}.bad-lines`), bad.join('\n') + '\n');
        writeDurably(this.dir, segment, good.length ? good.join('\n') + '\n' : '');
      } catch {
        /* quarantine not writable: the good rows still replay; the bad lines are skipped again next read */
      }
    }
    const old = this.counts.get(segment);
    if (old !== undefined && old !== rows.length) {
      this.total += rows.length - old;
      this.counts.set(segment, rows.length);
    }
    return rows;
  }

  remove(segment: string): void {
    try {
      unlinkSync(join(this.dir, segment));
    } catch {
      /* already gone */
    }
    this.total -= this.counts.get(segment) ?? 0;
    this.counts.delete(segment);
  }

  get rowsOnDisk(): number {
    return this.total;
  }

  health(): JournalHealth {
    return { ...this.h };
  }

  /** Moves an unreadable entry to quarantine/ (never deletes it); when even that fails, ignores it. */
  private setAside(segment: string): void {
    this.h.setAside++;
    try {
      mkdirSync(join(this.dir, QUARANTINE_DIR), { recursive: true });
      renameSync(join(this.dir, segment), join(this.dir, QUARANTINE_DIR, `${segment}.unreadable-${systemClock.now()}`));
    } catch {
      this.ignored.add(segment);
    }
    this.total -= this.counts.get(segment) ?? 0;
    this.counts.delete(segment);
  }
}

/** tmp file → write → fsync → rename → fsync the folder: after it returns, the file survives a power loss. */
function writeDurably(dir: string, name: string, text: string): void {
  const tmp = join(dir, `.${name}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* some filesystems cannot fsync a folder; the file itself is synced */
  }
}

/** In-memory journal for tests and for callers that opt out of disk. */
export class MemoryJournal implements Journal {
  private segs = new Map<string, unknown[]>();
  private seq = 0;
  /** Tests: make the next append()s throw, as a full or read-only disk does. */
  failAppends: Error | null = null;
  append(rows: unknown[]): string {
    if (this.failAppends) throw this.failAppends;
    const id = `seg-${String(this.seq++).padStart(9, '0')}`;
    this.segs.set(id, structuredClone(rows));
    return id;
  }
  segments(): string[] {
    return [...this.segs.keys()].sort();
  }
  read(segment: string): unknown[] {
    return structuredClone(this.segs.get(segment) ?? []);
  }
  remove(segment: string): void {
    this.segs.delete(segment);
  }
  get rowsOnDisk(): number {
    let n = 0;
    for (const rows of this.segs.values()) n += rows.length;
    return n;
  }
  health(): JournalHealth {
    return { badLines: 0, setAside: 0 };
  }
}
