import { describe, expect, it } from 'vitest';
import { daysAround, distinctDays, partitionName, utcDay } from '../../src/db/partitions.js';

describe('daily partition arithmetic (UTC)', () => {
  it('names the partition after the UTC day of the timestamp', () => {
    expect(partitionName(Date.UTC(2025, 0, 2, 23, 59, 59, 999))).toBe('greek_snapshots_p20250102');
    expect(partitionName(Date.UTC(2025, 0, 3, 0, 0, 0, 0))).toBe('greek_snapshots_p20250103');
  });

  it('handles times before 1970 without off-by-one days', () => {
    expect(utcDay(Date.UTC(1969, 11, 31, 12))).toBe('1969-12-31');
  });

  it('makes yesterday through seven days ahead', () => {
    const days = daysAround(Date.UTC(2024, 1, 28, 10));
    expect(days).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04', '2024-03-05', '2024-03-06']);
  });

  it('lists the distinct days of a batch, sorted', () => {
    const t = Date.UTC(2025, 5, 1, 12);
    expect(distinctDays([t + 86_400_000, t, t + 1, t - 86_400_000 * 30])).toEqual(['2025-05-02', '2025-06-01', '2025-06-02']);
  });
});
