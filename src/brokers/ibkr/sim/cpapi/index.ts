export { startCpapiSimulator, type CpapiSimulator, type CpapiSimOptions, type CpapiSimStats } from './server.js';
export type { RecordedGreeks } from './feed.js';
