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
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DataConverter } from '@temporalio/common';
import type { BobsyncConfig, ConnectionConfig } from './config/schema';
import { createActivities } from './activities';
import {
  connectionOptions,
  explainConnectError,
  plainConnectionSettings,
  type TemporalConnectionSettings,
} from './temporal/connection-settings';
import { lmsQueue, taskQueues } from './workflows/task-queues';

export interface WorkerSetOptions {
  config: BobsyncConfig;
  env?: NodeJS.ProcessEnv;
  /** Resolved connection settings (TLS, API key, headers); when given, address and namespace are not used. */
  temporal?: TemporalConnectionSettings;
  /** A plain connection to this address, when `temporal` is not given. */
  address?: string;
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
  /**
   * Runs every worker until shutdown() is called, or until one fails: then the others are shut
   * down too and it rejects with a WorkerFailedError naming the failed task queue.
   */
  run(): Promise<void>;
  /** Stops every worker and waits until they have stopped; never rejects. */
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
  const settings =
    options.temporal ??
    plainConnectionSettings(
      options.address ?? options.config.temporal.address,
      options.namespace ?? options.config.temporal.namespace,
    );
  const namespace = settings.namespace;
  const connection = await NativeConnection.connect(connectionOptions(settings)).catch(async (err: unknown) => {
    throw await explainConnectError(err, settings, env);
  });
  const workflowSource: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : bundledOrSource();

  const activities = createActivities({
    config: options.config,
    env,
    fetch: options.fetch,
    taskQueue: queues.workflows,
  });
  const common = {
    connection,
    namespace,
    dataConverter: options.dataConverter,
    // A drained worker lets running activities finish (an LMS write, a page of a snapshot) before
    // cancelling them; inside the 30 s most orchestrators allow between SIGTERM and SIGKILL.
    shutdownGraceTime: 20_000,
  };
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

  return { workers, connection, ...superviseWorkers(workers, () => connection.close()) };
}

/** What supervising needs of a Worker; tests stand in for it. */
export interface SupervisedWorker {
  readonly options: { taskQueue: string };
  run(): Promise<void>;
  shutdown(): void;
  getState(): string;
}

export class WorkerFailedError extends Error {
  override readonly name = 'WorkerFailedError';
  constructor(
    readonly taskQueue: string,
    cause: unknown,
  ) {
    super(
      cause === undefined
        ? `The Worker of task queue "${taskQueue}" failed (the SDK logged why: "Worker failed")`
        : `The Worker of task queue "${taskQueue}" failed: ${cause instanceof Error ? cause.message : JSON.stringify(cause)}`,
      { cause },
    );
  }
}

export interface SuperviseOptions {
  /** After a failure, how long the other workers get to finish their tasks before run() rejects anyway. */
  failureGraceMs?: number;
  /** How often worker states are checked (default 1 s). */
  checkIntervalMs?: number;
}

/**
 * Runs workers as one unit: when one fails, the others shut down and run() rejects with the first
 * failure. A process left with some queues unpolled would look alive while the workflows needing
 * the missing queue stall; failing whole lets the orchestrator restart it.
 *
 * A failed Worker does not always settle its run() (after a fatal poll error the SDK may wait on
 * its native side indefinitely), so its state is watched too, and after a failure run() rejects
 * once the others have stopped or `failureGraceMs` has passed, whichever comes first.
 */
export function superviseWorkers(
  workers: readonly SupervisedWorker[],
  close: () => Promise<void>,
  options: SuperviseOptions = {},
): Pick<WorkerSet, 'run' | 'shutdown'> {
  const graceMs = options.failureGraceMs ?? 10_000;
  let running: Promise<void> | undefined;
  const stopAll = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    run() {
      running ??= new Promise<void>((resolve, reject) => {
        let failure: WorkerFailedError | undefined;
        let failedAt = 0;
        const settled = new Set<SupervisedWorker>();
        const fail = (worker: SupervisedWorker, cause: unknown) => {
          // A rejection says more than a state seen first: it replaces that, for the same worker.
          if (failure && (failure.taskQueue !== worker.options.taskQueue || failure.cause !== undefined)) return;
          failure = new WorkerFailedError(worker.options.taskQueue, cause);
          failedAt ||= Date.now();
          stopAll();
        };
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          clearInterval(watch);
          // Closing the connection under a worker that never stopped could hang as well.
          const closing = settled.size === workers.length ? close() : Promise.resolve();
          closing.then(
            () => (failure ? reject(failure) : resolve()),
            (err: unknown) => reject(failure ?? (err as Error)),
          );
        };
        const watch = setInterval(() => {
          const failed = workers.find((w) => w.getState() === 'FAILED');
          if (failed && !failure) fail(failed, undefined);
          if (!failure || settled.size === workers.length) return;
          const stopped = workers.every((w) => settled.has(w) || ['FAILED', 'STOPPED'].includes(w.getState()));
          if (stopped || Date.now() - failedAt >= graceMs) finish();
        }, options.checkIntervalMs ?? 1_000);
        for (const w of workers) {
          w.run()
            .catch((err: unknown) => fail(w, err))
            .finally(() => {
              settled.add(w);
              if (settled.size === workers.length) finish();
            })
            .catch(() => undefined);
        }
      });
      return running;
    },
    async shutdown() {
      stopAll();
      // Reporting a failure is run()'s job; shutting down only waits for the end.
      await running?.catch(() => undefined);
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

/** The workflow bundle `npm run build` writes beside the compiled code, else the sources (bundled at start). */
function bundledOrSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const codePath = join(__dirname, 'workflow-bundle.js');
  return existsSync(codePath) ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('./workflows') };
}
