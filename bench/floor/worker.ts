/** Runs the floor benchmark's minimal workflow. Forked by bench/temporal-floor.ts (also for bench/webhooks.ts); not run by hand. */
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { installWorkerLogging } from '../../src/worker';
import { quietBundleLogger } from '../../src/dev/ports';
import { lowerCpuPriority } from '../shared';

async function main(): Promise<void> {
  const [address, taskQueue, nice] = process.argv.slice(2);
  // Before the SDK starts its threads, so they run at the priority given too.
  lowerCpuPriority(Number(nice ?? 0));
  installWorkerLogging('ERROR');
  const connection = await NativeConnection.connect({ address });
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: quietBundleLogger });
  const worker = await Worker.create({ connection, taskQueue: taskQueue!, workflowBundle: bundle });
  process.send?.('ready');
  process.on('disconnect', () => worker.shutdown());
  await worker.run();
  await connection.close();
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
