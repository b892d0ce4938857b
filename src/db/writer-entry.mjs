// Writer thread bootstrap (like src/actors/worker-entry.mjs): next to transpiled JavaScript
// (dist/, the npm scripts) it loads writerThread.js; next to the sources (tests, tsx) it
// registers tsx and loads writerThread.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('./writerThread.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./writerThread.ts');
}
