#!/usr/bin/env node
/**
 * Three fixes to postgres.js 3.4.9's connection.js (npm `postinstall`; D93). Each one ends the
 * process with a throw or rejection that no caller can catch when a connection dies at the wrong
 * moment (a database cut, a failover, a reset behind a proxy), and with it every row the
 * pipeline held in memory, neither stored nor journaled. All three are open upstream:
 *
 *  1. ReadyForQuery calls the async fetchArrayTypes() and drops its promise: a connection that
 *     dies during the array-types query of a new session is an unhandled rejection
 *     (porsager/postgres#1192, #1205, #1223). The connection's own error path already settles
 *     the caller's query (error()/errored() reject it, closed() reconnects for it).
 *  2. nextWrite(), run from setImmediate, writes to `socket` after closed() nulled it, e.g. the
 *     ROLLBACK sql.begin() sends on a transaction whose connection just died: a TypeError from a
 *     timer (#1154, #1208, PRs #1168, #1209). Guarded: the queries waiting on it are rejected
 *     with CONNECTION_CLOSED (retryable), as closed() does.
 *  3. closed() and terminate() cancel the pending write's timer without forgetting it or the
 *     buffered bytes: the next connection on that slot never schedules a write again, or sends
 *     the dead session's bytes first. Both are reset.
 *
 * Applied by exact text replacement; a postgres.js whose source differs (another version) fails
 * the install loudly instead of running unpatched. The file is replaced (write + rename), never
 * written in place, so a node_modules hard-linked from another checkout keeps its own copy.
 * `--check` only reports (exit 1 when unpatched).
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MARK = '/* riskwire patch (scripts/patch-postgres.mjs) */';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'node_modules', 'postgres');

const FIXES = [
  {
    what: 'fetchArrayTypes() rejection handled',
    from: '        return fetchArrayTypes()\n',
    to: `        return fetchArrayTypes().catch(noop) ${MARK}\n`,
  },
  {
    what: 'nextWrite() without a socket settles instead of throwing',
    from: '  function nextWrite(fn) {\n    const x = socket.write(chunk, fn)\n',
    to: `  function nextWrite(fn) {\n    if (!socket) { ${MARK}\n      chunk = nextWriteTimer = null\n      error(Errors.connection('CONNECTION_CLOSED', options))\n      return false\n    }\n    const x = socket.write(chunk, fn)\n`,
  },
  {
    what: 'terminate() forgets the pending write',
    from: '    terminated = true\n    if (stream || query || initial || sent.length)\n      error(Errors.connection(\'CONNECTION_DESTROYED\', options))\n\n    clearImmediate(nextWriteTimer)\n',
    to: `    terminated = true\n    if (stream || query || initial || sent.length)\n      error(Errors.connection('CONNECTION_DESTROYED', options))\n\n    clearImmediate(nextWriteTimer)\n    nextWriteTimer = chunk = null ${MARK}\n`,
  },
  {
    what: 'closed() forgets the pending write',
    from: '    incomings = null\n    clearImmediate(nextWriteTimer)\n',
    to: `    incomings = null\n    clearImmediate(nextWriteTimer)\n    nextWriteTimer = chunk = null ${MARK}\n`,
  },
];

function patchFile(file, check) {
  const text = readFileSync(file, 'utf8');
  if (text.includes(MARK)) return 'patched';
  let out = text;
  for (const f of FIXES) {
    // The cjs copy indents and spells the same code the same way; each fix must match exactly once.
    const n = out.split(f.from).length - 1;
    if (n !== 1) throw new Error(`${file}: expected the text for "${f.what}" once, found ${n} (postgres.js not 3.4.9?)`);
    out = out.replace(f.from, f.to);
  }
  if (check) return 'unpatched';
  const tmp = `${file}.riskwire-tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
  return 'now patched';
}

export function patchPostgres({ check = false } = {}) {
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version;
  if (version !== '3.4.9') throw new Error(`postgres.js ${version}: these fixes are for 3.4.9; check them against the new version (scripts/patch-postgres.mjs)`);
  return ['src/connection.js', 'cjs/src/connection.js'].map((f) => `${f}: ${patchFile(join(pkg, f), check)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  try {
    const report = patchPostgres({ check });
    console.log(`postgres.js ${report.join(', ')}`);
    if (check && report.some((r) => r.endsWith('unpatched'))) process.exit(1);
  } catch (err) {
    console.error(`patch-postgres: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
