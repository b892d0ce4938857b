// Worker bootstrap: piscina loads this plain ESM file; it registers tsx so the actor (TypeScript)
// runs the same way in production, in tests and in the benchmark.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
