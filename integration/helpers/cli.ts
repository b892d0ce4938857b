import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** A DATA_DIR for CLI runs under the run's temp root (global-setup.ts stops servers left there). */
export const TEST_DATA_DIR = join(process.env.RISKWIRE_TEST_DATA_ROOT ?? '/tmp/riskwire-test-data', `cli-${process.pid}`);

/** The entry point npm scripts run (esbuild-transpiled dist/, built once by global-setup.ts). */
export const BIN = join(ROOT, 'bin', 'riskwire.mjs');

/**
 * Runs `riskwire <command> ...args` as a real child process, the way npm scripts do
 * (`node bin/riskwire.mjs`: the same built code, without tsx's start-up cost in the child and its workers). DATA_DIR
 * defaults to TEST_DATA_DIR (never ./.data); DATABASE_URL/PGLITE_DIR are not inherited.
 */
export function runCli(command: string, args: string[], env: Record<string, string | undefined> = {}): CliRun {
  const child = spawn(process.execPath, [BIN, command, ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: undefined, PGLITE_DIR: undefined, DATA_DIR: TEST_DATA_DIR, LOG_LEVEL: 'info', CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}
