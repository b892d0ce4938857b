// Worker bootstrap: piscina loads this plain ESM file. Next to transpiled JavaScript (dist/, the
// npm scripts: bin/riskwire.mjs) it loads worker.js; next to the sources (tests, tsx) it
// registers tsx and loads worker.ts, so the actor runs the same code either way.
import { existsSync } from 'node:fs';

const compiled = new URL('./worker.js', import.meta.url);
let mod;
if (existsSync(compiled)) {
  mod = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import('./worker.ts');
}
export default mod.default;
