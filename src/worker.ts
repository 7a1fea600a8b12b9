/**
 * The bobsync worker: one process, one Temporal Worker per task queue. Workflows run on the
 * base queue; vendor calls run on queues of their own with task-queue rate limits.
 */
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { BobsyncConfig, ConnectionConfig } from './config/schema';
import { createActivities } from './activities';
import { lmsQueue, taskQueues } from './workflows/task-queues';

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

/** Activities per second one connection's LMS queue may start: the vendor's limit over the requests one activity makes. */
export function lmsActivitiesPerSecond(connection: ConnectionConfig, kind: 'reads' | 'writes'): number {
  const { destination } = connection;
  if (destination.type === 'skillcast') {
    // A lookup makes up to three GETs (id or externalId, userName, manager); a write one request.
    return kind === 'reads' ? destination.requestsPerSecond / 3 : destination.requestsPerSecond;
  }
  // A 360Learning lookup makes about five GETs.
  return kind === 'reads' ? destination.readsPerSecond / 5 : destination.writesPerSecond;
}

function sharedLimit(config: BobsyncConfig, kind: 'reads' | 'writes'): number {
  return Math.min(...config.connections.map((c) => lmsActivitiesPerSecond(c, kind)));
}

export async function createWorkers(options: WorkerSetOptions): Promise<WorkerSet> {
  const env = options.env ?? process.env;
  const base = options.taskQueue ?? options.config.temporal.taskQueue;
  const queues = taskQueues(base);
  const namespace = options.namespace ?? options.config.temporal.namespace;
  const connection = await NativeConnection.connect({ address: options.address }).catch((err: Error) => {
    throw new Error(
      `Cannot reach Temporal at ${options.address} (${err.message}). Start Temporal or set TEMPORAL_ADDRESS / temporal.address.`,
    );
  });
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: require.resolve('./workflows') };

  const activities = createActivities({
    config: options.config,
    env,
    fetch: options.fetch,
    taskQueue: queues.workflows,
  });
  const common = { connection, namespace, dataConverter: options.dataConverter };
  const workers = await Promise.all([
    Worker.create({ ...common, taskQueue: queues.workflows, ...workflowSource, activities: activities.workflows }),
    Worker.create({
      ...common,
      taskQueue: queues.hibob,
      activities: activities.hibob,
      maxTaskQueueActivitiesPerSecond: hibobReadsPerSecond(options.config),
    }),
    Worker.create({
      ...common,
      taskQueue: queues.hibobSearch,
      activities: activities.hibobSearch,
      maxTaskQueueActivitiesPerSecond: hibobSearchesPerSecond(options.config),
    }),
    // Each connection's LMS calls on queues of its own, limited to that connection's budget.
    ...options.config.connections.flatMap((c) => [
      Worker.create({
        ...common,
        taskQueue: lmsQueue(base, 'reads', c.name),
        activities: activities.lmsReads,
        maxTaskQueueActivitiesPerSecond: lmsActivitiesPerSecond(c, 'reads'),
      }),
      Worker.create({
        ...common,
        taskQueue: lmsQueue(base, 'writes', c.name),
        activities: activities.lmsWrites,
        maxTaskQueueActivitiesPerSecond: lmsActivitiesPerSecond(c, 'writes'),
      }),
    ]),
    // Activities scheduled on the shared LMS queues before they became per connection still get done.
    Worker.create({
      ...common,
      taskQueue: queues.lmsReads,
      activities: activities.lmsReads,
      maxTaskQueueActivitiesPerSecond: sharedLimit(options.config, 'reads'),
    }),
    Worker.create({
      ...common,
      taskQueue: queues.lmsWrites,
      activities: activities.lmsWrites,
      maxTaskQueueActivitiesPerSecond: sharedLimit(options.config, 'writes'),
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
