import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseDatabaseUrl, unreachableDatabase } from '../../src/db/config.js';

describe('DATABASE_URL checks', () => {
  it('accepts postgres:// and postgresql://', () => {
    expect(parseDatabaseUrl('postgres://u:p@h:5433/db').port).toBe('5433');
    expect(parseDatabaseUrl(' postgresql://h/db ').hostname).toBe('h');
  });

  it('rejects garbage without quoting it (it may contain a password)', () => {
    const err = (() => { try { parseDatabaseUrl('postgres://u:pa ss@@h:x/db'); } catch (e) { return e as Error; } })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toMatch(/^DATABASE_URL /);
    expect(err!.message).not.toContain('pa ss');
  });

  it('describes an unreachable server by host, port and database only', () => {
    const url = new URL('postgres://app:t0psecret@db.internal:6543/risk');
    const err = unreachableDatabase(url, Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' }));
    expect(err.message).toContain('db.internal:6543/risk');
    expect(err.message).toContain('28P01');
    expect(err.message).not.toContain('t0psecret');
    expect(err.message).not.toMatch(/\n/);
  });
});
