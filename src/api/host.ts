/**
 * DNS-rebinding protection for a loopback API without a token: a page on evil.example whose
 * name re-resolves to 127.0.0.1 reaches the port, but its requests still say
 * `Host: evil.example:8377`. Only the loopback names with the bound port pass. Pure.
 */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

/**
 * True when `host` (the Host header) names this server: localhost, 127.0.0.1 or [::1], with
 * `port` (the bound port). The port may be left out only for 80 (browsers omit the default).
 * `port` null = not listening on a socket (app.inject in tests): any port is accepted.
 */
export function isAllowedHost(host: string | undefined, port: number | null): boolean {
  if (!host) return false;
  const m = host.trim().toLowerCase().match(/^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/);
  if (!m || !(LOOPBACK_NAMES as readonly string[]).includes(m[1])) return false;
  if (port === null) return true;
  return m[2] === undefined ? port === 80 : Number(m[2]) === port;
}

export function hostRefusal(host: string | undefined, port: number | null): string {
  const names = LOOPBACK_NAMES.map((n) => (port === null ? n : `${n}:${port}`)).join(', ');
  return `Host header ${JSON.stringify(host ?? '')} is not this server: without API_TOKEN the API answers only ${names} (DNS-rebinding protection); use one of those, or set API_TOKEN`;
}
