import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 'serve-test-token-0123456789';

describe('npm run serve', () => {
  it.concurrent('refuses a non-loopback bind without API_TOKEN: one line, exit 2, nothing opened', async () => {
    const r = runCli('serve', ['--host=0.0.0.0', '--port=0'], { API_TOKEN: undefined, PGLITE_DIR: '/nonexistent/never-opened' });
    expect(await r.exit).toBe(2);
    expect(r.stderr().trim().split('\n')).toHaveLength(1);
    expect(r.stderr()).toMatch(/--host=0\.0\.0\.0 is not a loopback address: set API_TOKEN/);
  });

  it.concurrent('names a bad --port', async () => {
    const r = runCli('serve', ['--port=http'], { PGLITE_DIR: '/nonexistent/never-opened' });
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(/--port=http is not valid: use a whole number from 0 to 65535/);
  });

  it.concurrent('prints --help and exits 0', async () => {
    const r = runCli('serve', ['--help']);
    expect(await r.exit).toBe(0);
    expect(r.stdout()).toMatch(/API_TOKEN/);
  });

  it.concurrent('listens, answers with the token only, and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const r = runCli('serve', ['--port=0'], { API_TOKEN: TOKEN, PGLITE_DIR: 'memory://', JOURNAL_DIR: `/tmp/rw-serve-journal-${process.pid}` });
    try {
      const url = await waitFor(() => r.stdout().match(/listening on (http:\/\/127\.0\.0\.1:\d+)/)?.[1], 'the listening line', 40_000);
      expect(r.stdout()).toMatch(/bearer token required/);
      expect((await fetch(`${url}/v1/streaming/status`)).status).toBe(401);
      const ok = await fetch(`${url}/v1/streaming/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ actors: [] });
      r.child.kill('SIGTERM');
      expect(await r.exit).toBe(0);
      expect(r.stderr()).not.toContain(TOKEN);
    } finally {
      r.child.kill('SIGKILL');
    }
  });
});
