/**
 * The bobsync worker: one process, one Temporal Worker per task queue. Workflows run on the
 * base queue; vendor calls run on queues of their own with task-queue rate limits. Its metrics
 * are counted around the activities, the blob store and the vendor errors (workflows cannot
 * count: they replay), and the Temporal SDK's own come from its runtime.
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
import { Context } from '@temporalio/activity';
import { ApplicationFailure, IllegalStateError, type DataConverter } from '@temporalio/common';
import type { BobsyncConfig, ConnectionConfig } from './config/schema';
import { createActivities, type Activities } from './activities';
import { blobStoreFromEnv, type BlobRef, type BlobStore } from './blobstore';
import { observeApiErrors } from './clients/http/errors';
import {
  freeLoopbackPort,
  renderWithSdk,
  sdkPrometheusExporter,
  startMetricsServer,
  workerMetrics,
  type ApprovalDecisionLabel,
  type FullSyncStep,
  type MetricsServer,
  type WorkerMetrics,
} from './metrics';
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
  /** Where the workers' metrics are counted (default: this process's worker metrics). */
  metrics?: WorkerMetrics;
}

export interface WorkerSet {
  workers: Worker[];
  connection: NativeConnection;
  metrics: WorkerMetrics;
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
  // A full sync's 360Learning lookup makes four GETs, so lookups never wait on the write limit's pace;
  // a real-time one makes up to eight and then waits in the client's own GET limit.
  return kind === 'reads' ? destination.readsPerSecond / 4 : destination.writesPerSecond;
}

function sharedLimit(config: BobsyncConfig, kind: 'reads' | 'writes'): number {
  return Math.min(...config.connections.map((c) => lmsActivitiesPerSecond(c, kind)));
}

/**
 * Workflows kept in the worker's memory between their tasks. The SDK's default grows with the
 * heap limit (about 2,300 on a 4 GiB heap, a few hundred KB each), so a full sync that arms
 * thousands of employee timers filled it and held ~0.7 GB. Employee workflows spend nearly all
 * their time waiting on a timer or a signal and their histories are short, so one that is
 * evicted replays a few dozen events when it next wakes; a full sync has at most
 * parallelism × concurrencyPerBatch of them (40 by default) working at once.
 */
export const WORKFLOW_CACHE_SIZE = 500;

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

  const metrics = options.metrics ?? workerMetrics();
  countVendorErrors(metrics);
  const activities = instrumentActivities(
    createActivities({
      config: options.config,
      env,
      fetch: options.fetch,
      taskQueue: queues.workflows,
      blobs: countingBlobStore(blobStoreFromEnv(env), metrics),
    }),
    options.config,
    metrics,
  );
  const common = {
    connection,
    namespace,
    dataConverter: options.dataConverter,
    // A drained worker lets running activities finish (an LMS write, a page of a snapshot) before
    // cancelling them; inside the 30 s most orchestrators allow between SIGTERM and SIGKILL.
    shutdownGraceTime: 20_000,
  };
  const workers = await Promise.all([
    Worker.create({
      ...common,
      taskQueue: queues.workflows,
      ...workflowSource,
      activities: activities.workflows,
      maxCachedWorkflows: WORKFLOW_CACHE_SIZE,
    }),
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

  return { workers, connection, metrics, ...superviseWorkers(workers, () => connection.close()) };
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

/** Where this process's SDK serves its metrics, once installWorkerRuntime turned them on. */
let sdkMetricsUrl: string | undefined;

/**
 * installWorkerLogging, and with `sdkMetrics` the SDK's Prometheus exporter on a free loopback
 * port, which the worker's /metrics then includes. Same rule: call it before any worker or
 * native connection exists (the SDK reads these settings once); when the runtime is already
 * installed, nothing changes. Returns the exporter's URL, or undefined when there is none.
 */
export async function installWorkerRuntime(
  options: { logLevel?: LogLevel; sdkMetrics?: boolean } = {},
): Promise<string | undefined> {
  const level = options.logLevel ?? 'WARN';
  // The port was free a moment ago; another process may take it first, so a few tries.
  for (let attempt = 0; options.sdkMetrics && attempt < 3; attempt++) {
    const port = await freeLoopbackPort();
    try {
      Runtime.install({
        logger: new DefaultLogger(level),
        telemetryOptions: { metrics: { prometheus: sdkPrometheusExporter(port) } },
      });
      sdkMetricsUrl = `http://127.0.0.1:${port}/metrics`;
      return sdkMetricsUrl;
    } catch (err) {
      if (err instanceof IllegalStateError) return sdkMetricsUrl; // already installed: keep the first setting
    }
  }
  // Without the SDK's part, bobsync_worker_sdk_metrics_up says so on every scrape.
  installWorkerLogging(level);
  return undefined;
}

/**
 * The worker's metrics on their own listener: bobsync's followed by the SDK's (when
 * installWorkerRuntime turned those on), at GET /metrics.
 */
export function startWorkerMetricsServer(options: {
  port: number;
  host: string;
  metrics?: WorkerMetrics;
}): Promise<MetricsServer> {
  const metrics = options.metrics ?? workerMetrics();
  return startMetricsServer({
    port: options.port,
    host: options.host,
    render: () => renderWithSdk(metrics.registry, sdkMetricsUrl, metrics.sdkMetricsUp),
  });
}

const countingVendorErrors = new WeakSet<WorkerMetrics>();

/** 429s from HiBob and the LMSs, as the clients meet them (once per metrics object, however many worker sets share it). */
function countVendorErrors(metrics: WorkerMetrics): void {
  if (countingVendorErrors.has(metrics)) return;
  countingVendorErrors.add(metrics);
  observeApiErrors((service, status) => metrics.vendorAnswered(service, status));
}

/** The blob store, counting the bytes that go in and out (as the activities see them, before compression). */
export function countingBlobStore(store: BlobStore, metrics: WorkerMetrics): BlobStore {
  const wrote = (ref: BlobRef) => {
    metrics.blobTransferred('write', ref.bytes);
    return ref;
  };
  const read = (data: Buffer) => {
    metrics.blobTransferred('read', data.length);
    return data;
  };
  return {
    putJson: async (key, value) => wrote(await store.putJson(key, value)),
    putBytes: async (key, data) => wrote(await store.putBytes(key, data)),
    getBytes: async (ref) => read(await store.getBytes(ref)),
    // Read as bytes to count them; the stores parse JSON from the same bytes.
    getJson: async <T>(ref: BlobRef | string) => JSON.parse(read(await store.getBytes(ref)).toString('utf8')) as T,
    delete: (key) => store.delete(key),
  };
}

/** Whether this call is the first attempt of its activity (true outside an activity). */
function firstAttempt(): boolean {
  try {
    return Context.current().info.attempt === 1;
  } catch {
    return true;
  }
}

/** Wraps an activity to observe what it was called with and how it ended, and how long it took. */
function observed<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  on: { start?(args: A): void; ok?(args: A, result: R, seconds: number): void; failed?(args: A, err: unknown): void },
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    const started = performance.now();
    on.start?.(args);
    let result: R;
    try {
      result = await fn(...args);
    } catch (err) {
      on.failed?.(args, err);
      throw err;
    }
    on.ok?.(args, result, (performance.now() - started) / 1000);
    return result;
  };
}

/**
 * The activities with metrics counted around them. They see what the workflows learn: the
 * outcome of each employee a full sync provisions, failure reports, LMS writes, and a full
 * sync's steps, approvals and ending. Real-time syncs report only failures through an activity,
 * so their other outcomes are not counted here (their LMS writes are).
 */
export function instrumentActivities(
  activities: Activities,
  config: BobsyncConfig,
  metrics: WorkerMetrics,
): Activities {
  const destinations = new Map(config.connections.map((c) => [c.name, c.destination.type]));
  // Workflows name configured connections; anything else is one label, not one per name.
  const label = (connection: string) => (destinations.has(connection) ? connection : 'unknown');
  const step = <A extends [string, ...unknown[]], R>(name: FullSyncStep, fn: (...args: A) => Promise<R>) =>
    observed(fn, { ok: ([connection], _result, seconds) => metrics.fullSyncStep(label(connection), name, seconds) });
  const reported = (connection: string, result: Awaited<ReturnType<Activities['workflows']['buildReport']>>) => {
    const c = label(connection);
    metrics.fullSyncCompleted(c, {
      dryRun: result.dryRun,
      durationSeconds: result.durationMs / 1000,
      parked: result.outcomes.parked ?? 0,
    });
    // The whole plan's decision, or that on the deactivations a safeguard held.
    const decision = result.approval?.scope === 'plan' ? result.approval.decision : result.safeguard?.decision;
    if (decision && decision !== 'notAsked')
      metrics.approvalDecided(
        c,
        result.approval?.scope === 'plan' ? 'plan' : 'held',
        decision satisfies ApprovalDecisionLabel,
      );
  };
  const { hibobSearch, lmsReads, lmsWrites, workflows } = activities;
  return {
    ...activities,
    hibobSearch: {
      ...hibobSearch,
      snapshotHibob: observed(hibobSearch.snapshotHibob, {
        // An approved plan's second read of HiBob is the same run, not a new one.
        start: ([connection, runKey]) => {
          if (firstAttempt() && !runKey.endsWith('/approved')) metrics.fullSyncStarted(label(connection));
        },
        ok: ([connection], _result, seconds) => metrics.fullSyncStep(label(connection), 'snapshotHibob', seconds),
      }),
    },
    lmsReads: {
      ...lmsReads,
      snapshotLms: step('snapshotLms', lmsReads.snapshotLms),
      planFullSync: step('plan', lmsReads.planFullSync),
    },
    lmsWrites: {
      ...lmsWrites,
      applyOperation: observed(lmsWrites.applyOperation, {
        ok: ([connection, , , operation]) =>
          metrics.lmsWrite(destinations.get(connection) ?? 'unknown', label(connection), operation.op, 'ok'),
        failed: ([connection, , , operation], err) =>
          metrics.lmsWrite(
            destinations.get(connection) ?? 'unknown',
            label(connection),
            operation.op,
            err instanceof ApplicationFailure && err.nonRetryable ? 'rejected' : 'retryableError',
          ),
      }),
    },
    workflows: {
      ...workflows,
      syncEmployeeNow: observed(workflows.syncEmployeeNow, {
        ok: ([connection], outcome) => metrics.employeeSynced(label(connection), outcome.result),
      }),
      // Declared as a method; called through an arrow so `this` never matters.
      reportFailure: observed(
        (...args: Parameters<typeof workflows.reportFailure>) => workflows.reportFailure(...args),
        {
          ok: ([connection, failure]) => metrics.failureReported(label(connection), failure.code),
        },
      ),
      writePreview: observed(workflows.writePreview, {
        ok: ([connection, , , meta, safeguard, approval], _refs, seconds) => {
          metrics.fullSyncStep(label(connection), 'preview', seconds);
          // As writePreview decides whether to mail the preview for approval.
          const waits = approval ? approval.scope !== 'none' : safeguard.tripped;
          if (waits && !meta.dryRun)
            metrics.approvalRequested(label(connection), approval?.scope === 'plan' ? 'plan' : 'held');
        },
      }),
      buildReport: observed(workflows.buildReport, {
        ok: ([connection], result, seconds) => {
          metrics.fullSyncStep(label(connection), 'report', seconds);
          reported(connection, result);
        },
      }),
      finishFullSync: observed(workflows.finishFullSync, {
        ok: ([connection], result, seconds) => {
          metrics.fullSyncStep(label(connection), 'report', seconds);
          reported(connection, result);
        },
      }),
      // Counted when asked, not when mailed: a run that failed counts even if the e-mail cannot go out.
      sendRunFailureEmail: observed(workflows.sendRunFailureEmail, {
        start: ([connection, notice]) => {
          if (firstAttempt()) metrics.fullSyncStopped(label(connection), notice.kind, notice.phase);
        },
      }),
      sendApprovalReminder: observed(workflows.sendApprovalReminder, {
        start: ([connection]) => {
          if (firstAttempt()) metrics.approvalReminderSent(label(connection));
        },
      }),
    },
  };
}

/** The workflow bundle `npm run build` writes beside the compiled code, else the sources (bundled at start). */
function bundledOrSource(): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const codePath = join(__dirname, 'workflow-bundle.js');
  return existsSync(codePath) ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('./workflows') };
}
