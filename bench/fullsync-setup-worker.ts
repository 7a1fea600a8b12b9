/**
 * A worker of the full-sync benchmark in a process of its own: the provisioning run's (raised
 * limits), so the measured run's worker starts in a process whose memory carries nothing of it;
 * and each measured run of the seeded steady state, so the worker's memory is measured apart
 * from the emulators'. Reports its peak RSS, its memory samples and how late its event loop ran
 * when stopped. Forked by bench/fullsync.ts; not run by hand.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { codecDataConverter, codecFromEnv } from '../src/codec/aes-gcm-codec';
import type { BobsyncConfig } from '../src/config/schema';
import { createWorkers, installWorkerLogging, type WorkerSet } from '../src/worker';

/** What the worker's memory held at one instant (bytes): where an RSS peak sits, V8's heap or outside it. */
export interface MemorySample {
  at: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory outside V8's heap held by JavaScript objects, array buffers included. */
  external: number;
  arrayBuffers: number;
}

export type SetupWorkerMessage =
  { kind: 'start'; config: BobsyncConfig; address: string; bundleCode: string } | { kind: 'stop' };
export type SetupWorkerReply =
  | { kind: 'ready' }
  | {
      kind: 'stopped';
      peakRssBytes: number;
      eventLoopDelayMaxMs: number;
      eventLoopDelayP99Ms: number;
      memory: MemorySample[];
    }
  | { kind: 'failed'; message: string };

let workers: WorkerSet | undefined;
let running: Promise<void> | undefined;
let peakRss = 0;
// Every 200 ms, at most the last hour's: enough to place a peak in a step without growing unbounded.
const memory: MemorySample[] = [];
let tick = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  if (tick++ % 2 !== 0) return;
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = usage;
  memory.push({ at: Date.now(), rss, heapUsed, heapTotal, external, arrayBuffers });
  if (memory.length > 18_000) memory.shift();
}, 100);
// A long synchronous stretch (planning a large population) holds up workflow tasks and heartbeats alike.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();

function reply(message: SetupWorkerReply): void {
  process.send?.(message);
}

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= (async () => {
    await workers?.shutdown();
    await running;
    clearInterval(sampler);
  })();
  return stopping;
}

process.on('message', (message: SetupWorkerMessage) => {
  if (message.kind === 'start') {
    installWorkerLogging('ERROR');
    createWorkers({
      config: message.config,
      env: process.env,
      address: message.address,
      dataConverter: codecDataConverter(codecFromEnv(process.env)),
      workflowBundle: { code: message.bundleCode },
    })
      .then((set) => {
        workers = set;
        running = set.run();
        // Starting (loading the workflow bundle) is not what the delay should show.
        loopDelay.reset();
        reply({ kind: 'ready' });
      })
      .catch((err: Error) => reply({ kind: 'failed', message: err.message }));
  } else {
    stop()
      .then(() =>
        reply({
          kind: 'stopped',
          peakRssBytes: peakRss,
          eventLoopDelayMaxMs: Math.round(loopDelay.max / 1e6),
          eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6),
          memory,
        }),
      )
      .catch((err: Error) => reply({ kind: 'failed', message: err.message }))
      .finally(() => process.disconnect());
  }
});

// The parent went away without a word: stop rather than poll a server that is gone.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
