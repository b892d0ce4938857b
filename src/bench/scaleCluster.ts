import type { ScaleSection } from './scale.js';

/** cluster.{processes,takeover_s,double_streamed} (filled in by hist15). */
export const CLUSTER_SECTION: ScaleSection = {
  key: 'cluster',
  title: 'ingest --cluster: lease takeover after a process dies',
  async run() {
    throw new Error('not built yet');
  },
};
