// API thread bootstrap (like src/db/writer-entry.mjs): next to transpiled JavaScript (dist/, the
// npm scripts) it loads worker.js; next to the sources (tests, tsx) it registers tsx and loads worker.ts.
import { existsSync } from 'node:fs';

const compiled = new URL('./worker.js', import.meta.url);
if (existsSync(compiled)) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./worker.ts');
}
