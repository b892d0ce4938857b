/**
 * Where a row the database refused for its own content goes (a data exception or integrity
 * violation, or our own validation): one JSON line per row with the reason, appended and fsynced,
 * so nothing accepted disappears silently. `JOURNAL_DIR/dead-letter.jsonl` in the pipeline.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock } from './clock.js';
import { errorText } from './errors.js';

export type RowKind = 'snapshot' | 'trade' | 'positions' | 'quote';

export interface DeadLetterEntry {
  at: string;
  kind: RowKind;
  code: string | null;
  reason: string;
  row: unknown;
}

export interface DeadLetter {
  add(kind: RowKind, row: unknown, err: unknown): void;
  /** Rows recorded so far by this process. */
  readonly count: number;
}

export function deadLetterEntry(kind: RowKind, row: unknown, err: unknown, now: number): DeadLetterEntry {
  const code = err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : null;
  return { at: new Date(now).toISOString(), kind, code, reason: errorText(err), row };
}

export class FileDeadLetter implements DeadLetter {
  count = 0;
  constructor(
    private readonly path: string,
    private readonly now: () => number = () => systemClock.now(),
  ) {}

  /** Throws when the file cannot be written (the caller logs the row instead). */
  add(kind: RowKind, row: unknown, err: unknown): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      writeSync(fd, `${JSON.stringify(deadLetterEntry(kind, row, err, this.now()))}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.count++;
  }
}

export class MemoryDeadLetter implements DeadLetter {
  entries: DeadLetterEntry[] = [];
  get count(): number {
    return this.entries.length;
  }
  add(kind: RowKind, row: unknown, err: unknown): void {
    this.entries.push(deadLetterEntry(kind, row, err, systemClock.now()));
  }
}
