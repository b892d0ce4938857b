/**
 * Every failure the README shows ends with exactly one line on stderr, nothing on stdout, and
 * exit code 2 (bad flag or configuration, unreachable dependency).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/** The environment with no broker configured (so doctor/ingest see none). */
const noBrokers = () => Object.fromEntries(Object.keys(process.env).filter((k) => /^(TASTY|IBKR|ALPACA)_/.test(k)).map((k) => [k, undefined]));

describe('README error paths: one line, exit 2', () => {
  let closedPort: number;
  let server: Server;
  beforeAll(async () => {
    // A port that was free a moment ago and is closed again: connections are refused.
    server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closedPort = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
  });
  afterAll(() => undefined);

  const cases: [string, () => [string, string[], Record<string, string | undefined>], RegExp][] = [
    ['ingest without --broker', () => ['ingest', [], noBrokers()], /^riskwire ingest: --broker is missing: use one of tasty, ibkr, alpaca, a comma list, or all$/],
    ['ingest --broker=nope', () => ['ingest', ['--broker=nope'], {}], /^riskwire ingest: unknown broker "nope": use one of /],
    ['IBKR gateway down', () => ['ingest', ['--broker=ibkr'], { ...noBrokers(), IBKR_GATEWAY_URL: `https://127.0.0.1:${closedPort}` }],
      new RegExp(`^riskwire ingest: cannot reach the IBKR Client Portal gateway at https://127\\.0\\.0\\.1:${'\\d+'} \\(ECONNREFUSED\\): start the gateway and log in, or set IBKR_GATEWAY_URL`)],
    ['TWS down', () => ['ingest', ['--broker=ibkr'], { ...noBrokers(), IBKR_TRANSPORT: 'tws', IBKR_TWS_PORT: String(closedPort) }],
      /^riskwire ingest: cannot reach TWS \/ IB Gateway at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): start TWS or IB Gateway with the API enabled/],
    ['IBKR gateway down (greeks)', () => ['greeks', ['--broker=ibkr', '--once'], { ...noBrokers(), IBKR_GATEWAY_URL: `https://127.0.0.1:${closedPort}` }], /^riskwire greeks: cannot reach the IBKR Client Portal gateway/],
    ['tasty without credentials', () => ['ingest', ['--broker=tasty'], noBrokers()], /^riskwire ingest: .*TASTY_CLIENT_SECRET/],
    ['doctor with no broker configured', () => ['doctor', [], noBrokers()], /^riskwire doctor: no broker configured in the environment: set TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN, or IBKR_GATEWAY_URL/],
    ['unreachable DATABASE_URL', () => ['timeline', [], { DATABASE_URL: `postgres://u:secret@127.0.0.1:${closedPort}/x` }], /^riskwire timeline: DATABASE_URL: cannot connect to PostgreSQL at 127\.0\.0\.1:\d+\/x/],
    ['unknown simulator', () => ['sim', ['nope'], {}], /^riskwire sim: unknown simulator "nope": use npm run sim -- tasty\|ibkr\|ibkr-tws\|alpaca$/],
    ['db without an action', () => ['db', [], {}], /^riskwire db: npm run db needs an action: status, stop or purge/],
    ['db purge without --broker', () => ['db', ['purge'], {}], /^riskwire db: purge needs --broker=ID/],
    ['unknown flag', () => ['timeline', ['--frobnicate'], {}], /^riskwire timeline: unknown flag --frobnicate/],
  ];

  it.each(cases)('%s', { timeout: 60_000 }, async (_name, make, pattern) => {
    const [command, args, env] = make();
    const run = runCli(command, args, env);
    expect(await run.exit, run.stderr()).toBe(2);
    const lines = run.stderr().trim().split('\n');
    expect(lines, run.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(pattern);
    expect(lines[0]).not.toContain('secret');
    expect(run.stdout()).toBe('');
  });
});

describe('the entry point', () => {
  it('help lists every command and exits 0; an unknown command is one line and exit 2', async () => {
    const help = runCli('help', []);
    expect(await help.exit).toBe(0);
    for (const c of ['ingest', 'demo', 'risk', 'quote', 'sim', 'bench']) expect(help.stdout()).toMatch(new RegExp(`\\b${c}\\b`));
    const bad = runCli('nosuch', []);
    expect(await bad.exit).toBe(2);
    expect(bad.stderr().trim().split('\n')).toHaveLength(1);
    expect(bad.stderr()).toMatch(/unknown command "nosuch": use one of .*quote/);
  });
});
