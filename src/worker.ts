/**
 * The bobsync worker: one process, one Temporal Worker per task queue. Workflows run on the
 * base queue; vendor calls run on queues of their own with task-queue rate limits.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { BobsyncConfig } from './config/schema';
import { createHibobActivities } from './activities';
import { taskQueues } from './workflows/task-queues';

export interface WorkerSetOptions {
  config: BobsyncConfig;
  env?: NodeJS.ProcessEnv;
  address: string;
  namespace?: string;
  dataConverter?: DataConverter;
  /** A pre-built workflow bundle (tests build it once for the whole run). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Overrides the config's base task queue (tests use one per test). */
  taskQueue?: string;
}

export interface WorkerSet {
  workers: Worker[];
  connection: NativeConnection;
  /** Runs every worker until shutdown() is called or one of them fails. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The most restrictive HiBob search limit across connections, per second. */
function hibobActivitiesPerSecond(config: BobsyncConfig): number {
  const perMinute = Math.min(...config.connections.map((c) => c.source.searchRequestsPerMinute));
  return perMinute / 60;
}

export async function createWorkers(options: WorkerSetOptions): Promise<WorkerSet> {
  const env = options.env ?? process.env;
  const base = options.taskQueue ?? options.config.temporal.taskQueue;
  const queues = taskQueues(base);
  const namespace = options.namespace ?? options.config.temporal.namespace;
  const connection = await NativeConnection.connect({ address: options.address }).catch((err: Error) => {
    throw new Error(`Cannot reach Temporal at ${options.address} (${err.message}). Start Temporal or set TEMPORAL_ADDRESS / temporal.address.`);
  });
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: require.resolve('./workflows') };

  const workers = await Promise.all([
    Worker.create({
      connection,
      namespace,
      taskQueue: queues.workflows,
      dataConverter: options.dataConverter,
      ...workflowSource,
    }),
    Worker.create({
      connection,
      namespace,
      taskQueue: queues.hibob,
      dataConverter: options.dataConverter,
      activities: createHibobActivities({ config: options.config, env }),
      maxTaskQueueActivitiesPerSecond: hibobActivitiesPerSecond(options.config),
    }),
  ]);

  let running: Promise<void> | undefined;
  return {
    workers,
    connection,
    run() {
      running ??= Promise.all(workers.map((w) => w.run())).then(async () => {
        await connection.close();
      });
      return running;
    },
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    },
  };
}
