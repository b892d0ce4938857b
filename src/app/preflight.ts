/**
 * Before a command starts streaming: is each broker's endpoint there at all? A refused or
 * unresolvable address is a set-up problem (gateway not started, wrong URL), so it ends the
 * command with one line naming the fix and exit 2, instead of an actor retrying in the log.
 * Once running, outages are the supervisor's business (restart with backoff), not this check's.
 */
import { connect } from 'node:net';
import type { ActorSpec } from '../actors/supervisor.js';
import { loadPlugin, MANIFESTS } from '../brokers/registry.js';
import { ConfigError } from '../core/errors.js';
import { systemClock } from '../core/clock.js';

/** Resolves when host:port accepts a TCP connection; otherwise rejects with the socket error code. */
export function probe(host: string, port: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = systemClock.setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timeout'), { code: `no answer within ${timeoutMs / 1000}s` }));
    }, timeoutMs);
    socket.once('connect', () => {
      systemClock.clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      systemClock.clearTimeout(timer);
      reject(err);
    });
  });
}

export async function checkBrokersReachable(specs: ActorSpec[], env: Record<string, string | undefined> = process.env): Promise<void> {
  for (const spec of specs) {
    // Where each broker connects first is declared in its manifest (PluginManifest.endpoint).
    const endpoint = MANIFESTS.find((m) => m.id === spec.broker)?.endpoint;
    if (!endpoint) continue;
    const plugin = await loadPlugin(spec.broker);
    const e = endpoint(plugin.parseConfig(env, spec.flags ?? {}));
    await probe(e.host, e.port).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot reach ${e.what} (${err.code ?? err.message}): ${e.fix}`);
    });
  }
}
