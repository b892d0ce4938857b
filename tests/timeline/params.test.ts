import { describe, expect, it } from 'vitest';
import { parseInstant, timelineQueryFrom } from '../../src/api/params.js';
import { timelineCsv, timelineTable } from '../../src/cli/timeline.js';
import { ConfigError } from '../../src/core/errors.js';
import { buildTimelineQuery, resolveTimelineRange, type TimelineRow } from '../../src/db/timeline.js';

const NOW = Date.UTC(2025, 0, 2, 15, 37, 20);
const flag = (k: string) => `--${k}`;
const parse = (p: Record<string, string | boolean>) => timelineQueryFrom(p, NOW, flag);

describe('timeline parameters', () => {
  it('defaults to the last hour in 1 minute buckets with a 15 minute staleness bound', () => {
    expect(parse({})).toMatchObject({ from: NOW - 3_600_000, to: NOW, bucketMs: 60_000, staleMs: 900_000, allAccounts: false });
  });

  it('reads --since, --bucket, --stale, comma lists and upper-cases underlyings', () => {
    expect(parse({ since: '2h', bucket: '5m', stale: '30s', underlying: 'spy,spx', broker: 'tasty,ibkr', 'all-accounts': true })).toMatchObject({
      from: NOW - 7_200_000, bucketMs: 300_000, staleMs: 30_000, underlyings: ['SPY', 'SPX'], brokers: ['tasty', 'ibkr'], allAccounts: true,
    });
  });

  it('reads --from/--to as ISO (no offset = UTC) or epoch ms, --to defaulting to now', () => {
    expect(parse({ from: '2025-01-02T15:00:00', to: String(NOW) })).toMatchObject({ from: Date.UTC(2025, 0, 2, 15), to: NOW });
    expect(parse({ from: '2025-01-02T16:00:00+01:00' }).from).toBe(Date.UTC(2025, 0, 2, 15));
    expect(parse({ from: '2025-01-02T15:00:00Z' }).to).toBe(NOW);
  });

  const bad: [string, Record<string, string | boolean>, RegExp][] = [
    ['a duration that is not one', { bucket: 'soon' }, /--bucket=soon is not a duration/],
    ['a zero duration', { stale: '0' }, /--stale=0 is not a duration/],
    ['a time that is not one', { from: 'yesterday' }, /--from=yesterday is not a time/],
    ['--since together with --from', { since: '1h', from: '2025-01-02' }, /--since and --from\/--to exclude each other/],
    ['--to without --from', { to: '2025-01-02' }, /--to needs --from/],
    ['an empty range', { from: String(NOW), to: String(NOW) }, /range is empty/],
    ['a bucket under a second', { bucket: '500ms' }, /at least 1s/],
    ['too many buckets', { since: '30d', bucket: '1s' }, /2592000 buckets \(at most 5000\)/],
    ['an empty list', { account: ',' }, /--account needs a value/],
    ['a flag without its value', { broker: true }, /--broker needs a value/],
  ];
  it.each(bad)('rejects %s with a one-line ConfigError', (_what, p, message) => {
    let err: unknown;
    try {
      parse(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('spells parameters the caller\'s way (query strings for the API)', () => {
    expect(() => timelineQueryFrom({ bucket: 'x' }, NOW, (k) => k)).toThrow(/^bucket=x is not a duration/);
  });

  it('rejects dates that do not exist', () => {
    expect(() => parseInstant('2025-02-30T00:00:00Z', 'from')).toThrow(ConfigError);
  });
});

describe('timeline range and SQL', () => {
  it('aligns the start down to a whole bucket and counts buckets up to "to"', () => {
    expect(resolveTimelineRange(NOW - 3_600_000, NOW, 60_000)).toEqual({ from: Date.UTC(2025, 0, 2, 14, 37), to: NOW, buckets: 61 });
  });

  it('is one statement (DISTINCT ON latest per bucket, generate_series carry-forward), values as parameters', () => {
    const { text, params } = buildTimelineQuery({ from: 0, to: 120_000, bucketMs: 60_000, staleMs: 1000, accounts: ["x'; DROP TABLE t; --"] });
    expect(text.trim().split(';')).toHaveLength(1);
    expect(text).toMatch(/DISTINCT ON \(broker, account, contract_key, k\)/);
    expect(text).toMatch(/CROSS JOIN LATERAL generate_series\(/);
    expect(text).not.toContain('DROP');
    expect(params).toEqual([0, 60_000, 2, 120_000, 1000, ["x'; DROP TABLE t; --"]]);
  });

  it('groups by account unless summing across accounts', () => {
    expect(buildTimelineQuery({ from: 0, to: 60_000, bucketMs: 60_000, staleMs: 1000 }).text).toMatch(/GROUP BY s\.i, s\.underlying, s\.account/);
    expect(buildTimelineQuery({ from: 0, to: 60_000, bucketMs: 60_000, staleMs: 1000, allAccounts: true }).text).not.toMatch(/GROUP BY s\.i, s\.underlying, s\.account/);
  });
});

describe('timeline output', () => {
  const row: TimelineRow = {
    bucketStart: 0, bucketEnd: 60_000, asOf: 60_000, underlying: 'SPY', account: 'A,1', positions: 2, brokers: 1,
    delta: 12.5, gamma: 0.25, theta: -3, vega: 4, dollarDelta: null,
  };

  it('CSV quotes cells with commas and leaves unknown numbers empty', () => {
    expect(timelineCsv([row]).split('\n')[1]).toBe('1970-01-01T00:00:00.000Z,1970-01-01T00:01:00.000Z,1970-01-01T00:01:00.000Z,SPY,"A,1",2,1,12.5,0.25,-3,4,');
  });

  it('the table right-aligns numbers and shows unknowns as "-"', () => {
    const lines = timelineTable([row, { ...row, delta: -1234.5, dollarDelta: 99 }], true).split('\n');
    expect(lines[0]).toMatch(/^as_of\s+underlying\s+account\s+positions\s+brokers\s+delta\s+gamma\s+theta\s+vega\s+\$delta$/);
    expect(lines[2]).toMatch(/ 12\.5 .* -$/);
    expect(lines[3]).toMatch(/-1235 .* 99$/);
  });
});

describe('rollup grain for a bucket (src/db/rollup.ts)', () => {
  it('takes the biggest grain dividing the bucket and the --tz offset, or none', async () => {
    const { rollupGrainFor } = await import('../../src/db/rollup.js');
    expect(rollupGrainFor(3_600_000)).toBe(3_600_000);
    expect(rollupGrainFor(300_000)).toBe(60_000);
    expect(rollupGrainFor(90_000)).toBeUndefined();
    expect(rollupGrainFor(86_400_000, -5 * 3_600_000)).toBe(3_600_000); // New York: whole hours
    expect(rollupGrainFor(86_400_000, 5.5 * 3_600_000)).toBe(60_000); // +05:30: the hour grain would cut at :00
    expect(rollupGrainFor(3_600_000, 5.75 * 3_600_000)).toBe(60_000); // +05:45
    expect(rollupGrainFor(60_000, 30_000)).toBeUndefined();
  });
});
