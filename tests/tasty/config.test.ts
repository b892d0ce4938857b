import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { parseTastyConfig, PROD_API_URL, SANDBOX_API_URL } from '../../src/brokers/tasty/config.js';

const creds = { TASTY_CLIENT_SECRET: 's3cret', TASTY_REFRESH_TOKEN: 'r3fresh' };

describe('tasty config', () => {
  it('names both missing credential variables in one line', () => {
    expect(() => parseTastyConfig({})).toThrow(ConfigError);
    try {
      parseTastyConfig({});
    } catch (e) {
      const msg = (e as Error).message;
      expect(msg).toContain('TASTY_CLIENT_SECRET');
      expect(msg).toContain('TASTY_REFRESH_TOKEN');
      expect(msg).not.toContain('\n');
    }
  });

  it('names only the missing variable', () => {
    expect(() => parseTastyConfig({ TASTY_CLIENT_SECRET: 'x' })).toThrow(/TASTY_REFRESH_TOKEN/);
    expect(() => parseTastyConfig({ TASTY_CLIENT_SECRET: 'x' })).not.toThrow(/TASTY_CLIENT_SECRET/);
  });

  it('defaults to production and picks the cert environment with --sandbox', () => {
    expect(parseTastyConfig(creds).apiUrl).toBe(PROD_API_URL);
    expect(parseTastyConfig(creds, { sandbox: true }).apiUrl).toBe(SANDBOX_API_URL);
    expect(parseTastyConfig({ ...creds, TASTY_API_URL: 'http://127.0.0.1:9/' }, { sandbox: true }).apiUrl).toBe('http://127.0.0.1:9');
  });

  it('reads accounts and the poll period', () => {
    const c = parseTastyConfig({ ...creds, TASTY_ACCOUNTS: ' 5WT1, 5WT2 ,', TASTY_POSITIONS_POLL_MS: '5000' });
    expect(c.accounts).toEqual(['5WT1', '5WT2']);
    expect(c.positionsPollMs).toBe(5000);
    expect(c.positionsPollMs).not.toBe(60_000);
    expect(parseTastyConfig(creds).positionsPollMs).toBe(60_000);
  });

  it('rejects a bad URL and a bad number with one-line errors', () => {
    expect(() => parseTastyConfig({ ...creds, TASTY_API_URL: 'not a url' })).toThrow(/TASTY_API_URL/);
    expect(() => parseTastyConfig({ ...creds, TASTY_POSITIONS_POLL_MS: 'soon' })).toThrow(/TASTY_POSITIONS_POLL_MS/);
  });
});
