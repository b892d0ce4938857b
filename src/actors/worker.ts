import { getHeapStatistics } from 'node:v8';
import * as Comlink from 'comlink';
// comlink's node adapter has no package export; this is its ESM build.
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { loadPlugin } from '../brokers/registry.js';
import { threadId } from 'node:worker_threads';
import { FileWireRecorder } from '../brokers/kit/recorder.js';
import { PinnedClock, wireRecording } from '../brokers/kit/wire.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import type { BrokerEvent } from '../core/types.js';
import type { ActorControl, ActorTask, CreditMessage, DataMessage, Fault } from './protocol.js';
import { packEvents } from './eventPack.js';

/**
 * One actor = one broker stream in its own worker thread (a long-running piscina task).
 * Events go out batched on the data port; the control plane is comlink on the control port.
 * The task resolves only after a clean stop, so a crash anywhere in here rejects it and the
 * supervisor restarts the actor.
 */
export default async function runActor(task: ActorTask): Promise<{ stopped: true }> {
  const log = createLogger({ name: `actor:${task.actorId}`, level: task.logLevel });
  const plugin = await loadPlugin(task.brokerId);
  const config = plugin.parseConfig(process.env, task.flags);

  let outbox: BrokerEvent[] = [];
  let scheduled = false;
  /** Events handed to the data port so far; the supervisor compares it with what it has taken in. */
  let postedEvents = 0;
  /** Events the supervisor acknowledged (flow control: postedEvents - acked <= creditEvents). */
  let acked = 0;
  /** Credit applies only to a stream that can wait (BrokerStream.pausable), set once it exists. */
  let limited = false;
  const blocked = () => limited && postedEvents - acked >= task.creditEvents;
  const post = (msg: DataMessage) => task.dataPort.postMessage(msg);
  /** A batch goes packed (greeks as transferred columns, eventPack.ts). */
  const postEvents = (events: BrokerEvent[]) => {
    const { packed, transfer } = packEvents(events);
    task.dataPort.postMessage({ packed } satisfies DataMessage, transfer);
  };
  const flushOutbox = () => {
    scheduled = false;
    // Out of credit: the outbox waits here (nothing is dropped) until the next acknowledgement.
    while (outbox.length > 0 && !blocked()) {
      const room = limited ? task.creditEvents - (postedEvents - acked) : outbox.length;
      const batch = room >= outbox.length ? outbox : outbox.splice(0, room);
      if (batch === outbox) outbox = [];
      postedEvents += batch.length;
      postEvents(batch);
    }
  };
  task.dataPort.on('message', (msg: CreditMessage) => {
    if (typeof msg?.ack !== 'number') return;
    acked += msg.ack;
    if (outbox.length > 0 && !scheduled) flushOutbox();
  });
  const emit = (event: BrokerEvent) => {
    outbox.push(event);
    if (outbox.length >= task.batchMax) flushOutbox();
    else if (!scheduled) {
      // Coalesce everything emitted in this turn of the event loop into one message.
      scheduled = true;
      setImmediate(flushOutbox);
    }
  };
  /** Back-pressure as the stream sees it: out of credit, or a full batch already waiting. */
  const paused = () => blocked() || (limited && outbox.length >= task.batchMax);

  const recording = task.recordDir ? startRecording(task, config) : null;
  const stream = plugin.createStream(config, recording ? { emit, log, clock: recording.clock, wire: recording.wire, paused } : { emit, log, clock: systemClock, paused });
  limited = task.creditEvents > 0 && stream.pausable === true;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const control: ActorControl = {
    start: async () => {
      if (task.watchlist && task.watchlist.length > 0) await stream.setWatchlist?.(task.watchlist);
      await stream.start();
    },
    setWatchlist: async (symbols) => {
      await stream.setWatchlist?.(symbols);
    },
    async stop() {
      await stream.stop();
      recording?.recorder.close();
      // Whatever is left goes now, credit or not: a stop must hand over every event.
      if (outbox.length > 0) {
        postedEvents += outbox.length;
        postEvents(outbox);
        outbox = [];
      }
      post({ end: true });
      finish();
    },
    async status() {
      const h = stream.health();
      return { ...h, details: { ...h.details, heapUsedMb: getHeapStatistics().used_heap_size / 1048576, postedEvents, outbox: outbox.length } };
    },
    resubscribe: () => stream.resubscribe(),
    async inject(fault: Fault) {
      if (!task.allowFaults) throw new Error('fault injection is disabled for this actor');
      log.warn({ fault }, 'injecting fault');
      injectFault(fault);
    },
  };
  Comlink.expose(control, nodeEndpoint(task.controlPort));

  await finished;
  task.controlPort.close();
  task.dataPort.close();
  return { stopped: true };
}

/** --record: the stream runs on a clock pinned to each record's receipt time (kit/wire.ts). */
function startRecording(task: ActorTask, config: unknown) {
  const clock = new PinnedClock(systemClock);
  const startedAt = systemClock.now();
  const recorder = new FileWireRecorder({
    dir: task.recordDir!, actor: task.actorId, broker: task.brokerId, config, startedAt, session: `${startedAt}-${process.pid}-${threadId}`,
  });
  return { clock, recorder, wire: wireRecording(recorder, clock) };
}

const hoard: unknown[] = [];

function injectFault(fault: Fault): void {
  systemClock.setTimeout(() => {
    if (fault === 'throw') throw new Error('injected fault: uncaught exception in actor');
    if (fault === 'exit') process.exit(3);
    if (fault === 'hang') for (;;) { /* a busy loop: the event loop never comes back */ }
    if (fault === 'oom') for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
    // Later than the reply to inject(), so the caller learns the fault was accepted.
  }, 50);
}
