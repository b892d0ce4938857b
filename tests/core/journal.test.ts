/** FileJournal on a real temp folder: what a crash, a human or a broken disk can leave there never stops a start. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileJournal, QUARANTINE_DIR } from '../../src/core/journal.js';
import { isSnapshotRow } from '../../src/core/journalRows.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'riskwire-journal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const row = (seq: number) => ({ broker: 'sim', account: 'A', contractKey: 'SPY   261218C00500000', eventTs: 1_700_000_000_000 + seq, seq });

describe('FileJournal', () => {
  it('round-trips rows and leaves no temp file behind', () => {
    const dir = tmp();
    const j = new FileJournal(dir, { validate: isSnapshotRow });
    const id = j.append([row(1), row(2)]);
    expect(j.segments()).toEqual([id]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(new FileJournal(dir, { validate: isSnapshotRow }).read(id)).toEqual([row(1), row(2)]);
  });

  it('a `null` line, garbage and a wrong-shaped row are counted and moved aside; the good rows of the segment still replay', () => {
    const dir = tmp();
    const seg = 'seg-000000000000001-1-000000.jsonl';
    const lines = [JSON.stringify(row(1)), 'null', '{"broker":"sim"', '[1,2]', JSON.stringify({ broker: 'sim', account: 'A' }), JSON.stringify(row(2)), '\u0000\u0000'];
    writeFileSync(join(dir, seg), lines.join('\n') + '\n');
    const j = new FileJournal(dir, { validate: isSnapshotRow });
    expect(j.health()).toEqual({ badLines: 5, setAside: 0 });
    expect(j.rowsOnDisk).toBe(2);
    expect(j.read(seg)).toEqual([row(1), row(2)]);
    const bad = readFileSync(join(dir, QUARANTINE_DIR, `${seg}.bad-lines`), 'utf8').split('\n').filter(Boolean);
    expect(bad).toEqual(['null', '{"broker":"sim"', '[1,2]', JSON.stringify({ broker: 'sim', account: 'A' }), '\u0000\u0000']);
    // The segment was rewritten with its good rows only: the next start finds nothing wrong.
    expect(new FileJournal(dir, { validate: isSnapshotRow }).health()).toEqual({ badLines: 0, setAside: 0 });
  });

  it('a folder, a FIFO and a dangling symlink named like segments are set aside (not deleted), never fatal', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'seg-000000000000001-1-000000.jsonl'));
    writeFileSync(join(dir, 'seg-000000000000001-1-000000.jsonl', 'inside'), 'kept');
    execFileSync('mkfifo', [join(dir, 'seg-000000000000002-1-000000.jsonl')]);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'seg-000000000000003-1-000000.jsonl'));
    writeFileSync(join(dir, 'seg-000000000000004-1-000000.jsonl'), JSON.stringify(row(4)) + '\n');
    const j = new FileJournal(dir, { validate: isSnapshotRow });
    expect(j.health().setAside).toBe(3);
    expect(j.segments()).toEqual(['seg-000000000000004-1-000000.jsonl']);
    expect(j.rowsOnDisk).toBe(1);
    const aside = readdirSync(join(dir, QUARANTINE_DIR));
    expect(aside).toHaveLength(3);
    const folder = aside.find((f) => f.startsWith('seg-000000000000001'))!;
    expect(readFileSync(join(dir, QUARANTINE_DIR, folder, 'inside'), 'utf8')).toBe('kept');
  });

  it('an append the disk refuses throws (the caller keeps the rows) instead of losing them quietly', () => {
    const dir = tmp();
    const j = new FileJournal(dir);
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'not a folder any more');
    expect(() => j.append([row(1)])).toThrow();
    expect(j.rowsOnDisk).toBe(0);
    rmSync(dir);
    expect(existsSync(dir)).toBe(false);
  });
});
