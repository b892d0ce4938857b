import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { formatTime, parseTz, tzOffsetMs } from '../../src/core/tz.js';
import { resolveTimelineRange } from '../../src/db/timeline.js';

describe('--tz', () => {
  it('validates the zone with a one-line error', () => {
    expect(parseTz(undefined)).toBeUndefined();
    expect(parseTz('America/New_York')).toBe('America/New_York');
    expect(() => parseTz('Mars/Olympus')).toThrow(ConfigError);
    expect(() => parseTz(true)).toThrow(/needs a zone name/);
  });
  it('formats in the zone with its offset (EST winter, EDT summer), UTC with Z', () => {
    const winter = Date.UTC(2025, 0, 7, 21, 0, 0);
    const summer = Date.UTC(2025, 6, 7, 20, 0, 0);
    expect(formatTime(winter)).toBe('2025-01-07 21:00:00Z');
    expect(formatTime(winter, 'America/New_York')).toBe('2025-01-07 16:00:00-05:00');
    expect(formatTime(summer, 'America/New_York')).toBe('2025-07-07 16:00:00-04:00');
    expect(formatTime(winter, 'Asia/Kolkata')).toBe('2025-01-08 02:30:00+05:30');
    expect(tzOffsetMs(winter, 'UTC')).toBe(0);
  });
  it('aligns day buckets to midnight in the zone', () => {
    const from = Date.UTC(2025, 0, 7, 12, 0, 0);
    const off = tzOffsetMs(from, 'America/New_York'); // -5 h
    const r = resolveTimelineRange(from, from + 2 * 86_400_000, 86_400_000, off);
    expect(new Date(r.from).toISOString()).toBe('2025-01-07T05:00:00.000Z'); // 00:00 New York
    expect(resolveTimelineRange(from, from + 86_400_000, 86_400_000).from).toBe(Date.UTC(2025, 0, 7)); // UTC midnight by default
  });
});
