/**
 * The worker of the full-sync benchmark's setup run (provisioning the steady state with raised
 * limits), in a process of its own: the measured run's worker then starts in a process whose
 * memory carries nothing of the provisioning. Forked by bench/fullsync.ts; not run by hand.
 */
import { codecDataConverter, codecFromEnv } from '../src/codec/aes-gcm-codec';
import type { BobsyncConfig } from '../src/config/schema';
import { createWorkers, installWorkerLogging, type WorkerSet } from '../src/worker';

export type SetupWorkerMessage =
  { kind: 'start'; config: BobsyncConfig; address: string; bundleCode: string } | { kind: 'stop' };
export type SetupWorkerReply =
  { kind: 'ready' } | { kind: 'stopped'; peakRssBytes: number } | { kind: 'failed'; message: string };

let workers: WorkerSet | undefined;
let running: Promise<void> | undefined;
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

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
        reply({ kind: 'ready' });
      })
      .catch((err: Error) => reply({ kind: 'failed', message: err.message }));
  } else {
    stop()
      .then(() => reply({ kind: 'stopped', peakRssBytes: peakRss }))
      .catch((err: Error) => reply({ kind: 'failed', message: err.message }))
      .finally(() => process.disconnect());
  }
});

// The parent went away without a word: stop rather than poll a server that is gone.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
