/**
 * The bobsync worker: one process, one Temporal Worker per task queue. Workflows run on the
 * base queue; vendor calls run on queues of their own with task-queue rate limits.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { BobsyncConfig } from './config/schema';
import { createActivities } from './activities';
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
  /** HTTP for the vendor clients (default: global fetch). */
  fetch?: typeof fetch;
}

export interface WorkerSet {
  workers: Worker[];
  connection: NativeConnection;
  /** Runs every worker until shutdown() is called or one of them fails. */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The most restrictive HiBob limits across connections, per second. */
function hibobSearchesPerSecond(config: BobsyncConfig): number {
  return Math.min(...config.connections.map((c) => c.source.searchRequestsPerMinute)) / 60;
}
function hibobReadsPerSecond(config: BobsyncConfig): number {
  return Math.min(...config.connections.map((c) => c.source.readsPerSecond));
}

/** The most restrictive 360Learning limit of one kind across connections, per second. */
function lmsPerSecond(config: BobsyncConfig, kind: 'writesPerSecond' | 'readsPerSecond'): number {
  const limits = config.connections.flatMap((c) => (c.destination.type === '360learning' ? [c.destination[kind]] : []));
  return limits.length ? Math.min(...limits) : kind === 'writesPerSecond' ? 10 : 50;
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

  const activities = createActivities({ config: options.config, env, fetch: options.fetch, taskQueue: queues.workflows });
  const common = { connection, namespace, dataConverter: options.dataConverter };
  const workers = await Promise.all([
    Worker.create({ ...common, taskQueue: queues.workflows, ...workflowSource, activities: activities.workflows }),
    Worker.create({ ...common, taskQueue: queues.hibob, activities: activities.hibob, maxTaskQueueActivitiesPerSecond: hibobReadsPerSecond(options.config) }),
    Worker.create({
      ...common,
      taskQueue: queues.hibobSearch,
      activities: activities.hibobSearch,
      maxTaskQueueActivitiesPerSecond: hibobSearchesPerSecond(options.config),
    }),
    Worker.create({
      ...common,
      taskQueue: queues.lmsReads,
      activities: activities.lmsReads,
      // A lookup makes about five GETs.
      maxTaskQueueActivitiesPerSecond: lmsPerSecond(options.config, 'readsPerSecond') / 5,
    }),
    Worker.create({
      ...common,
      taskQueue: queues.lmsWrites,
      activities: activities.lmsWrites,
      maxTaskQueueActivitiesPerSecond: lmsPerSecond(options.config, 'writesPerSecond'),
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

/**
 * Sets how chatty the Temporal SDK is (bundle reports, worker state changes). Call once, before
 * any worker or native connection exists; later calls are ignored.
 */
export function installWorkerLogging(level: LogLevel = 'WARN'): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    /* already installed: keep the first setting */
  }
}
