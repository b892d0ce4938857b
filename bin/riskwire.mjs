#!/usr/bin/env node
/**
 * Entry point of every npm script: runs `src/cli/main.ts <command>` from JavaScript that
 * esbuild transpiled ahead (dist/b-<stamp>/), rebuilding first when a file under src/ is newer
 * than the last build (about a second; no type check: that is `npm run typecheck`).
 *
 * Why not tsx at run time: tsx's loader and its esbuild service in the main thread and in every
 * actor worker cost about 140 MB of RSS (specs/performance.md, specs/decisions.md). Tests and
 * scripts still run the sources through tsx.
 *
 * Each build goes to its own folder, renamed into place when complete, so a command that is
 * running keeps loading its modules (actors, lazily loaded commands) from the build it started with.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The newest modification (files, and folders: a deleted file changes its folder) under src/. */
function stampOf(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? stampOf(p) : statSync(p).mtimeMs);
  }
  return newest;
}

async function build(out) {
  const { build: esbuild, stop } = await import('esbuild');
  const all = files(src);
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    await esbuild({
      entryPoints: all.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')),
      outdir: tmp,
      outbase: src,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
  } finally {
    // esbuild's service process (~90 MB) would otherwise live as long as this command.
    await stop();
  }
  for (const f of all.filter((f) => !f.endsWith('.ts'))) {
    const to = join(tmp, relative(src, f));
    mkdirSync(dirname(to), { recursive: true });
    cpSync(f, to);
  }
  try {
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another command built the same stamp first
  }
  // Keep the three newest builds (older ones may still be in use by long-running commands).
  const builds = readdirSync(dist).filter((d) => /^b-\d+$/.test(d)).sort((a, b) => Number(b.slice(2)) - Number(a.slice(2)));
  for (const old of builds.slice(3)) rmSync(join(dist, old), { recursive: true, force: true });
}

const out = join(dist, `b-${Math.floor(stampOf(src))}`);
if (!existsSync(out)) {
  mkdirSync(dist, { recursive: true });
  await build(out);
}
await import(pathToFileURL(join(out, 'cli', 'main.js')).href);
