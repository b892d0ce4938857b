import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * node arguments that run a sibling script of the bench (or another src/ module) as its own
 * process: the transpiled .js next to this module when the CLI runs from dist/ (npm scripts),
 * else the .ts source through tsx (tests, `npx tsx`).
 */
export function scriptArgs(relativeTs: string): string[] {
  const js = fileURLToPath(new URL(relativeTs.replace(/\.ts$/, '.js'), import.meta.url));
  if (existsSync(js)) return [js];
  return ['--import', 'tsx', fileURLToPath(new URL(relativeTs, import.meta.url))];
}
