import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BROKER_IDS, loadPlugin, MANIFESTS, pluginFlagHelp, pluginFlagNames } from '../../src/brokers/registry.js';

describe('plugins declare themselves', () => {
  it('the commands accept exactly the flags the plugins declare', () => {
    expect(pluginFlagNames().sort()).toEqual(['accounts', 'count', 'crash-after', 'dup', 'ibkr-transport', 'malformed', 'only-account', 'ooo', 'rate', 'sandbox', 'seed', 'tick-ms'].sort());
  });

  it('--help names every flag with its broker', () => {
    const help = pluginFlagHelp();
    for (const m of MANIFESTS) for (const f of m.flags) expect(help).toMatch(new RegExp(`--${f.name}\\b.*${m.id}: `));
  });

  it('each manifest loads the plugin of its id', async () => {
    for (const id of BROKER_IDS) expect((await loadPlugin(id)).id).toBe(id);
  });

  it('every environment variable a plugin reads is declared in its manifest, and nothing else', () => {
    for (const m of MANIFESTS) {
      const source = readFileSync(new URL(`../../src/brokers/${m.id}/config.ts`, import.meta.url), 'utf8');
      const read = new Set([...source.matchAll(/env(?:\.|, ')([A-Z][A-Z0-9]*_[A-Z0-9_]+)/g)].map((x) => x[1]));
      expect([...read].sort(), m.id).toEqual(m.env.map((e) => e.name).sort());
    }
  });

  it('every flag a plugin reads is declared in its manifest', () => {
    for (const m of MANIFESTS) {
      const source = readFileSync(new URL(`../../src/brokers/${m.id}/config.ts`, import.meta.url), 'utf8');
      const read = new Set([...source.matchAll(/flags(?:\.([a-z]+)|\['([a-z-]+)'\]|, '([a-z-]+)')/g)].map((x) => x[1] ?? x[2] ?? x[3]));
      for (const name of read) expect(m.flags.map((f) => f.name), `${m.id} reads --${name}`).toContain(name);
    }
  });
});
