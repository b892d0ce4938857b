import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from './clock.js';

/**
 * On-disk overflow for rows the database cannot take yet (outage, or the in-memory bound is
 * reached). Each spill is one segment file, written to a temp name and renamed, so a crash
 * mid-write leaves no half segment. A segment is deleted only after every row in it has been
 * written, so a crash during replay replays it again (writes are idempotent).
 */
export interface Journal {
  /** Writes rows as one new segment; returns its id. */
  append(rows: unknown[]): string;
  /** Segment ids on disk, oldest first. */
  segments(): string[];
  read(segment: string): unknown[];
  remove(segment: string): void;
  /** Rows currently on disk (as counted when appended or read). */
  readonly rowsOnDisk: number;
}

export class FileJournal implements Journal {
  private seq = 0;
  private counts = new Map<string, number>();
  private total = 0;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const seg of this.segments()) {
      const n = this.read(seg).length;
      this.counts.set(seg, n);
      this.total += n;
    }
  }

  append(rows: unknown[]): string {
    const id = `seg-${systemClock.now().toString().padStart(15, '0')}-${process.pid}-${String(this.seq++).padStart(6, '0')}.jsonl`;
    const tmp = join(this.dir, `.${id}.tmp`);
    writeFileSync(tmp, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    renameSync(tmp, join(this.dir, id));
    this.counts.set(id, rows.length);
    this.total += rows.length;
    return id;
  }

  segments(): string[] {
    return readdirSync(this.dir).filter((f) => f.startsWith('seg-') && f.endsWith('.jsonl')).sort();
  }

  read(segment: string): unknown[] {
    const text = readFileSync(join(this.dir, segment), 'utf8');
    const rows: unknown[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        rows.push(JSON.parse(line));
      } catch {
        // A torn last line can only come from a crash mid-append of an older format; skip it.
      }
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
}

/** In-memory journal for tests and for callers that opt out of disk. */
export class MemoryJournal implements Journal {
  private segs = new Map<string, unknown[]>();
  private seq = 0;
  append(rows: unknown[]): string {
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
}
