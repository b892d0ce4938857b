import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, REST_BACKOFF } from '../../src/core/backoff.js';
import { classifyRestError, parseQuoteToken } from '../../src/brokers/tasty/rest.js';

const URL_ = 'https://api.example';
const httpError = (status: number, headers: Record<string, string> = {}) => ({ message: 'Request failed', response: { status, headers } });

describe('tasty REST errors and back-off', () => {
  it('classifies 429 and 5xx as retryable with Retry-After, 401 as a credentials problem', () => {
    const rate = classifyRestError(httpError(429, { 'retry-after': '7' }), URL_, 0);
    expect(rate.retryable).toBe(true);
    expect(rate.retryAfterMs).toBe(7_000);
    expect(classifyRestError(httpError(502), URL_, 0).retryable).toBe(true);
    const auth = classifyRestError(httpError(401), URL_, 0);
    expect(auth.retryable).toBe(false);
    expect(auth.message).toMatch(/TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN/);
  });

  it('names the URL and the variable when the API cannot be reached, on one line', () => {
    const e = classifyRestError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }, 'http://127.0.0.1:1', 0);
    expect(e.kind).toBe('unreachable');
    expect(e.message).toBe('cannot reach the Tastytrade API at http://127.0.0.1:1 (ECONNREFUSED): check TASTY_API_URL and the network');
  });

  it('keeps secrets out of unexpected error messages', () => {
    const e = classifyRestError({ message: 'boom Authorization: Bearer abc.def.ghi\nstack' }, URL_, 0);
    expect(e.message).not.toContain('abc.def.ghi');
    expect(e.message).not.toContain('\n');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3', 0)).toBe(3_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(undefined, 0)).toBeNull();
    expect(parseRetryAfter('soon', 0)).toBeNull();
  });

  it('doubles the back-off up to its cap, with bounded jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, REST_BACKOFF, mid))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffDelay(20, REST_BACKOFF, mid)).toBe(60_000);
    expect(backoffDelay(0, REST_BACKOFF, () => 0)).toBe(800);
    expect(backoffDelay(0, REST_BACKOFF, () => 0.999999)).toBeLessThanOrEqual(1_200);
  });

  it('parses the quote token response and its expiry', () => {
    const t = parseQuoteToken({ token: 'abc', 'dxlink-url': 'wss://x/realtime', level: 'api', 'expires-at': '2030-01-01T00:00:00.000Z' });
    expect(t).toEqual({ token: 'abc', dxlinkUrl: 'wss://x/realtime', level: 'api', expiresAt: Date.UTC(2030, 0, 1) });
    expect(parseQuoteToken({ token: 'abc', 'dxlink-url': 'wss://x' }).expiresAt).toBeNull();
    expect(() => parseQuoteToken({ token: 'abc' })).toThrow(/dxlink-url/);
  });
});
