import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactText, redactUrl } from '../../src/core/logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { log: createLogger({ level: 'info', pretty: false, destination }), lines };
}

describe('logger redaction', () => {
  it('redacts secret-shaped fields at the top level and nested', () => {
    const { log, lines } = capture();
    log.info({ token: 't0k3n', clientSecret: 'cs', req: { headers: { authorization: 'Bearer abc', cookie: 'api=xyz' } }, cfg: { refreshToken: 'rt', password: 'pw' } }, 'hello');
    const text = lines.join('');
    for (const secret of ['t0k3n', '"cs"', 'Bearer abc', 'api=xyz', '"rt"', '"pw"']) expect(text).not.toContain(secret);
    expect(text).toContain('[redacted]');
    expect(JSON.parse(lines[0]).msg).toBe('hello');
  });

  it('strips credentials from URLs and secret-shaped substrings from free text', () => {
    expect(redactUrl('postgres://user:hunter2@db:5432/x')).toBe('postgres://user:***@db:5432/x');
    const text = redactText('GET https://h/x?token=abc&b=1 failed; Authorization: Bearer eyJhbGci.x.y; postgres://u:pw@h/d');
    expect(text).not.toMatch(/abc|eyJhbGci|:pw@/);
  });
});
