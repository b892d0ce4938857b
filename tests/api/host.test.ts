import { describe, expect, it } from 'vitest';
import { hostRefusal, isAllowedHost } from '../../src/api/host.js';

describe('Host header check (DNS rebinding)', () => {
  it('accepts the loopback names with the bound port', () => {
    for (const h of ['localhost:8377', '127.0.0.1:8377', '[::1]:8377', 'LOCALHOST:8377']) expect(isAllowedHost(h, 8377), h).toBe(true);
  });

  it('refuses other names, other ports, a missing port (unless 80) and no header', () => {
    for (const h of ['evil.example:8377', '127.0.0.2:8377', 'localhost.:8377', 'localhost:8378', 'localhost', '127.0.0.1.nip.io:8377', '[::2]:8377', 'localhost:8377:1', undefined]) {
      expect(isAllowedHost(h, 8377), String(h)).toBe(false);
    }
    expect(isAllowedHost('localhost', 80)).toBe(true);
  });

  it('without a socket (app.inject) checks the name only', () => {
    expect(isAllowedHost('localhost:80', null)).toBe(true);
    expect(isAllowedHost('evil.example', null)).toBe(false);
  });

  it('says which names would pass and how to serve others', () => {
    expect(hostRefusal('evil.example:8377', 8377)).toBe(
      'Host header "evil.example:8377" is not this server: without API_TOKEN the API answers only localhost:8377, 127.0.0.1:8377, [::1]:8377 (DNS-rebinding protection); use one of those, or set API_TOKEN',
    );
  });
});
