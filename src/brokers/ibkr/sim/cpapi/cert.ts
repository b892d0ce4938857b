/**
 * A throwaway self-signed certificate for the simulated gateway, like the real gateway's.
 * Made with the openssl CLI at start (Node cannot create X.509 certificates by itself) in a
 * temp folder that is removed at once; nothing is cached in the repository. Without openssl
 * the simulator serves plain http (the client accepts http:// gateway URLs).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  key: string;
  cert: string;
}

export function makeSelfSignedCert(): SelfSignedCert | null {
  const dir = mkdtempSync(join(tmpdir(), 'riskwire-cpapi-sim-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore', timeout: 20_000 });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
