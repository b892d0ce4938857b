import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { describePg, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { FIXTURE, T0 } from './fixture.js';

const iso = (sec: number) => new Date(T0 + sec * 1000).toISOString();
const RANGE = [`--from=${iso(0)}`, `--to=${iso(120)}`, '--bucket=1m', '--stale=3m'];

// PostgreSQL, so the three child processes can read at once (an embedded database allows one
// process at a time); the query itself is checked on both backends in query.test.ts.
describePg('npm run timeline against PostgreSQL', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots(FIXTURE);
  });
  afterAll(() => t?.close());

  const run = (args: string[]) => runCli('timeline', args, { DATABASE_URL: t.url, LOG_LEVEL: 'warn' });

  it.concurrent('--json prints an array of objects with the numbers of the query', async () => {
    const r = run([...RANGE, '--all-accounts', '--json']);
    expect(await r.exit).toBe(0);
    const rows = JSON.parse(r.stdout());
    expect(rows).toHaveLength(4);
    expect(rows[1]).toMatchObject({ bucket_start: iso(0), bucket_end: iso(60), as_of: iso(60), underlying: 'SPY', account: null, positions: 3, brokers: 2 });
    expect(rows[1].delta).toBeCloseTo(110, 9);
    expect(rows[1].dollar_delta).toBeCloseTo(54980, 6);
  });

  it.concurrent('--csv prints a header and one line per row, empty cells for unknowns', async () => {
    const r = run([...RANGE, '--underlying=qqq', '--csv']);
    expect(await r.exit).toBe(0);
    const lines = r.stdout().trim().split('\n');
    expect(lines[0]).toBe('bucket_start,bucket_end,as_of,underlying,account,positions,brokers,delta,gamma,theta,vega,dollar_delta');
    expect(lines.slice(1)).toEqual([
      `${iso(0)},${iso(60)},${iso(60)},QQQ,ACC2,1,1,120,3,-9,60,48000`,
      `${iso(60)},${iso(120)},${iso(120)},QQQ,U1,1,1,50,1,-5,25,`,
    ]);
  });

  it.concurrent('prints an aligned table under a header that states the bucket, range and staleness bound', async () => {
    const r = run([...RANGE, '--broker=ibkr']);
    expect(await r.exit).toBe(0);
    const out = r.stdout();
    expect(out).toContain('bucket 1m');
    expect(out).toContain(`${iso(0).replace('T', ' ').replace('.000Z', 'Z')} → ${iso(120).replace('T', ' ').replace('.000Z', 'Z')}`);
    expect(out).toMatch(/younger than 3m/);
    expect(out).toMatch(/as_of\s+underlying\s+account\s+positions\s+brokers\s+delta/);
    expect(out).toMatch(/15:02:00Z\s+QQQ\s+U1\s+1\s+1\s+50\s/);
  });
});

// Every message is unit-tested in tests/timeline/params.test.ts; these check the process contract.
describe('npm run timeline: bad flags end with one line and exit code 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown flag', ['--frobnicate'], /unknown flag --frobnicate/],
    ['a bad time', ['--from=yesterday'], /--from=yesterday is not a time/],
    ['too many buckets', ['--since=30d', '--bucket=1s'], /buckets \(at most 5000\)/],
  ];
  it.concurrent.each(cases)('%s', async (_what, args, message) => {
    const r = runCli('timeline', args, { PGLITE_DIR: '/nonexistent/never-opened' });
    expect(await r.exit).toBe(2);
    expect(r.stderr().trim().split('\n')).toHaveLength(1);
    expect(r.stderr()).toMatch(message);
  });

  it.concurrent('prints --help and exits 0', async () => {
    const r = runCli('timeline', ['--help']);
    expect(await r.exit).toBe(0);
    expect(r.stdout()).toMatch(/--all-accounts/);
  });
});
