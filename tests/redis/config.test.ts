import { describe, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { ConfigError } from '../../src/core/errors.js';

describe('REDIS_URL', () => {
  it('is optional and taken as given when it is a redis:// or rediss:// URL', () => {
    expect(readAppConfig({}).redisUrl).toBeUndefined();
    expect(readAppConfig({ REDIS_URL: ' ' }).redisUrl).toBeUndefined();
    expect(readAppConfig({ REDIS_URL: 'redis://127.0.0.1:6379/2' }).redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(readAppConfig({ REDIS_URL: 'rediss://user:pw@cache.example:6380' }).redisUrl).toBe('rediss://user:pw@cache.example:6380');
  });
  it('anything else is a one-line configuration error (exit 2) that does not echo the value', () => {
    for (const bad of ['127.0.0.1:6379', 'http://localhost:6379', 'redis://']) {
      expect(() => readAppConfig({ REDIS_URL: bad })).toThrow(ConfigError);
    }
    try {
      readAppConfig({ REDIS_URL: 'http://user:secret@x' });
    } catch (err) {
      expect((err as Error).message).not.toContain('secret');
      expect((err as Error).message).toMatch(/^REDIS_URL must look like redis:\/\//);
    }
  });
});
