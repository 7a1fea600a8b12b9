/**
 * Pieces of the full-sync benchmark that its scenarios share: Temporal dev servers, limits,
 * running one full sync, what the vendors' emulators saw, what Temporal did, the worker in a
 * process of its own, and the report's formatting.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { freePort } from '../src/dev/ports';
import { hibobSource, learning360Destination, type BobsyncConfig, type ConnectionConfig } from '../src/config/schema';
import { readSecret } from '../src/config/loader';
import type { LocalStack } from '../packages/local/stack/local-stack';
import { startDevServer, type RunningDevServer } from '../src/dev/temporal-dev-server';
import { HEADROOM } from '../src/clients/http/spacing-limiter';
import { HibobClient } from '../src/clients/hibob/client';
import type { LoggedRequest } from '../packages/local/emulators/common/request-log';
import type { fullSync } from '../src/workflows/full-sync';
import type { FullSyncResult } from '../src/workflows/full-sync-api';
import { deployedWorker, machineInfo } from './shared';
import type { MemorySample, SetupWorkerMessage, SetupWorkerReply } from './fullsync-setup-worker';

export const CONNECTION = 'demo-360';
export const SEED = 42;

/** The limits a customer gets without setting any, read from the config schema itself. */
export const DEFAULT_SOURCE = hibobSource.parse({
  type: 'hibob',
  serviceUserId: 'bench',
  serviceUserToken: { env: 'UNUSED' },
});
export const DEFAULT_DESTINATION = learning360Destination.parse({
  type: '360learning',
  clientId: 'bench',
  clientSecret: { env: 'UNUSED' },
  defaultGroupId: '0'.repeat(24),
});

// ---- small helpers -------------------------------------------------------------------------

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const mib = (bytes: number) => round(bytes / 2 ** 20, 0);
export const perEmployee = (n: number, employees: number) => round(n / Math.max(1, employees), 4);

export async function startServer(): Promise<RunningDevServer> {
  const server = await startDevServer({ port: await freePort(), headless: true, startTimeoutMs: 90_000 });
  servers.add(server);
  server.process.once('exit', () => servers.delete(server));
  return server;
}

/** Dev servers still running, for the watchdog: they are child processes that outlive an exit. */
export const servers = new Set<RunningDevServer>();

/** Resources of one scenario, released in reverse order whatever happens. */
export class Cleanup {
  private readonly steps: (() => Promise<void> | void)[] = [];
  add(step: () => Promise<void> | void): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        process.stderr.write(`cleanup: ${(err as Error).message}\n`);
      }
    }
  }
}

/** A full collection before a memory baseline, so garbage of an earlier phase does not count. */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Resident memory of another process on this machine (Linux), in bytes. */
export function processRss(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident memory of a process on this machine since it started (Linux VmHWM), in bytes. */
export function processPeakRss(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface MemoryFigures {
  /** This process before its worker existed: emulators and their state. */
  beforeWorkerRssMiB: number;
  /** With the worker running, just before the full sync started. */
  idleRssMiB: number;
  peakRssMiB: number;
  peakHeapUsedMiB: number;
  temporalServerPeakRssMiB: number | null;
}

/** Samples this process (which runs the worker) and the Temporal server every 100 ms. */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined;
  private peakRss = 0;
  private peakHeap = 0;
  private peakServer = 0;
  private idleRss = 0;

  constructor(
    private readonly beforeWorkerRss: number,
    private readonly serverPid: number | undefined,
  ) {}

  start(): void {
    this.idleRss = process.memoryUsage().rss;
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  stop(): MemoryFigures {
    clearInterval(this.timer);
    this.sample();
    return {
      beforeWorkerRssMiB: mib(this.beforeWorkerRss),
      idleRssMiB: mib(this.idleRss),
      peakRssMiB: mib(this.peakRss),
      peakHeapUsedMiB: mib(this.peakHeap),
      temporalServerPeakRssMiB: this.peakServer ? mib(this.peakServer) : null,
    };
  }

  private sample(): void {
    const usage = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, usage.rss);
    this.peakHeap = Math.max(this.peakHeap, usage.heapUsed);
    this.peakServer = Math.max(this.peakServer, processRss(this.serverPid) ?? 0);
  }
}

export type Limits = {
  hibobReadsPerSecond: number;
  lmsWritesPerSecond: number;
  lmsReadsPerSecond: number;
  fullSync?: Partial<BobsyncConfig['connections'][number]['fullSync']>;
};

/** Sets every connection's limits; the schema caps them, the parsed object does not. */
export function applyLimits(config: BobsyncConfig, limits: Limits): void {
  for (const connection of config.connections) {
    connection.source.readsPerSecond = limits.hibobReadsPerSecond;
    if (connection.destination.type === '360learning') {
      connection.destination.writesPerSecond = limits.lmsWritesPerSecond;
      connection.destination.readsPerSecond = limits.lmsReadsPerSecond;
    }
    connection.fullSync = { ...connection.fullSync, ...limits.fullSync };
  }
}

export function withLimits(base: BobsyncConfig, limits: Limits): BobsyncConfig {
  const config = structuredClone(base);
  applyLimits(config, limits);
  return config;
}

export const DEFAULT_LIMITS = {
  hibobReadsPerSecond: DEFAULT_SOURCE.readsPerSecond,
  lmsWritesPerSecond: DEFAULT_DESTINATION.writesPerSecond,
  lmsReadsPerSecond: DEFAULT_DESTINATION.readsPerSecond,
};

export function fullSyncSettings(config: BobsyncConfig, connection = CONNECTION) {
  const { batchSize, parallelism, concurrencyPerBatch } = config.connections.find(
    (c) => c.name === connection,
  )!.fullSync;
  return { batchSize, parallelism, concurrencyPerBatch };
}

/** The emulator's own limits, which it only takes as constructor options; the limiters read them live. */
export function setLms360Limits(stack: LocalStack, limits: { writesPerSecond: number; getPerSecond: number }): void {
  const lms = stack.emulators.learning360!.emulator;
  lms['writeLimiter'].limit = limits.writesPerSecond;
  lms['getLimiter'].limit = limits.getPerSecond;
}

export interface FullSyncRun {
  workflowId: string;
  result: FullSyncResult;
  startedAt: number;
  finishedAt: number;
  wallMs: number;
}

export async function runFullSync(
  client: Client,
  taskQueue: string,
  label: string,
  timeoutMs: number,
  connection = CONNECTION,
): Promise<FullSyncRun> {
  const workflowId = `bobsync/${connection}/full-sync/bench-${label}-${Date.now()}`;
  const startedAt = Date.now();
  const result = await client.workflow.execute<typeof fullSync>('fullSync', {
    taskQueue,
    workflowId,
    args: [{ connection, taskQueue, trigger: 'bench' }],
    workflowExecutionTimeout: timeoutMs,
  });
  const finishedAt = Date.now();
  return { workflowId, result, startedAt, finishedAt, wallMs: finishedAt - startedAt };
}

// ---- what the vendors saw ----------------------------------------------------------------------

/** One line per route: ids folded so that calls for different people count together. */
export function route(entry: LoggedRequest): string {
  const path = entry.path.replace(/\/[0-9a-f]{24}(?=\/|$)/g, '/:id').replace(/\/\d{6,}(?=\/|$)/g, '/:id');
  return `${entry.method} ${path}`;
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

export const isToken = (e: LoggedRequest) => e.path.includes('oauth2');
export const isWrite = (e: LoggedRequest) => e.method !== 'GET' && e.method !== 'HEAD' && !isToken(e);

export interface LmsCalls {
  gets: number;
  writes: number;
  tokenRequests: number;
  /** Answered 429 (counted apart from gets and writes). */
  throttled: number;
  otherErrors: number;
  byRoute: Record<string, number>;
}

export function lmsCalls(entries: LoggedRequest[]): LmsCalls {
  const answered = entries.filter((e) => e.status !== 429);
  return {
    gets: answered.filter((e) => !isWrite(e) && !isToken(e)).length,
    writes: answered.filter(isWrite).length,
    tokenRequests: answered.filter(isToken).length,
    throttled: entries.filter((e) => e.status === 429).length,
    otherErrors: answered.filter((e) => e.status >= 400).length,
    byRoute: countBy(
      answered.filter((e) => !isToken(e)),
      route,
    ),
  };
}

export interface HibobCalls {
  total: number;
  throttled: number;
  byRoute: Record<string, number>;
}

export function hibobCalls(entries: LoggedRequest[]): HibobCalls {
  return {
    total: entries.length,
    throttled: entries.filter((e) => e.status === 429).length,
    byRoute: countBy(entries, route),
  };
}

// ---- what Temporal did --------------------------------------------------------------------------

export interface TemporalWork {
  /** Executions per workflow type (each batch and employee workflow is one). */
  workflows: Record<string, number>;
  historyEvents: number;
  workflowTasks: number;
  activities: number;
  /** Attempts beyond the first, from the attempt number of each started activity. */
  activityRetries: number;
  localActivities: number;
  timers: number;
  signals: number;
  updates: number;
  /**
   * Billable-style actions, approximately: executions started + activities scheduled + retries
   * + local activities + timers + signals + updates. Workflow tasks are not actions.
   */
  actions: number;
  /** `actions` by workflow type: each execution's start and what its own history holds. */
  actionsByType: Record<string, number>;
  /** How large the histories and payloads are (when asked for). */
  sizes?: HistorySizes;
}

/** One execution's history: its size as Temporal stores it (protobuf-encoded) and its events. */
export interface HistorySize {
  workflowId: string;
  type: string;
  bytes: number;
  events: number;
}

export interface HistorySizes {
  /** The largest history of each workflow type. */
  largestByType: Record<string, HistorySize>;
  /** All histories together. */
  totalBytes: number;
  /** The largest single payload (an input, a result, a signal's argument…), as stored: encrypted by the codec. */
  largestPayload: { bytes: number; workflowType: string; eventType: string } | null;
}

/** The largest payload found in an event's attributes (payloads carry their bytes in `data`). */
function largestPayloadIn(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > 12) return 0;
  if (value instanceof Uint8Array) return 0;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && 'metadata' in record) return record.data.length;
  let largest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(record))
    largest = Math.max(largest, largestPayloadIn(child, depth + 1));
  return largest;
}

/** Reads every execution's history on a server that ran nothing else; with `sizes`, measures them too. */
export async function temporalWork(client: Client, options: { sizes?: boolean } = {}): Promise<TemporalWork> {
  const E = temporal.api.enums.v1.EventType;
  const executions: { workflowId: string; runId: string; type: string }[] = [];
  for await (const info of client.workflow.list())
    executions.push({ workflowId: info.workflowId, runId: info.runId, type: info.type });
  const work: TemporalWork = {
    workflows: countBy(executions, (e) => e.type),
    historyEvents: 0,
    workflowTasks: 0,
    activities: 0,
    activityRetries: 0,
    localActivities: 0,
    timers: 0,
    signals: 0,
    updates: 0,
    actions: 0,
    actionsByType: {},
  };
  const sizes: HistorySizes = { largestByType: {}, totalBytes: 0, largestPayload: null };
  const measure = (next: { workflowId: string; type: string }, history: temporal.api.history.v1.IHistory) => {
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    sizes.totalBytes += bytes;
    const known = sizes.largestByType[next.type];
    if (!known || bytes > known.bytes)
      sizes.largestByType[next.type] = {
        workflowId: next.workflowId,
        type: next.type,
        bytes,
        events: history.events?.length ?? 0,
      };
    for (const event of history.events ?? []) {
      const payload = largestPayloadIn(event);
      if (payload > (sizes.largestPayload?.bytes ?? 0))
        sizes.largestPayload = {
          bytes: payload,
          workflowType: next.type,
          eventType: E[event.eventType ?? 0] ?? String(event.eventType),
        };
    }
  };
  const queue = [...executions];
  const reader = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const history = await client.workflow.getHandle(next.workflowId, next.runId).fetchHistory();
      if (options.sizes) measure(next, history);
      let actions = 1; // the start
      for (const event of history.events ?? []) {
        work.historyEvents += 1;
        switch (event.eventType) {
          case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            work.workflowTasks += 1;
            break;
          case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            work.activities += 1;
            actions += 1;
            break;
          case E.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
            const retries = Math.max(0, (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
            work.activityRetries += retries;
            actions += retries;
            break;
          }
          case E.EVENT_TYPE_MARKER_RECORDED:
            work.localActivities += 1;
            actions += 1;
            break;
          case E.EVENT_TYPE_TIMER_STARTED:
            work.timers += 1;
            actions += 1;
            break;
          case E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            work.signals += 1;
            actions += 1;
            break;
          case E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            work.updates += 1;
            actions += 1;
            break;
          default:
            break;
        }
      }
      work.actionsByType[next.type] = (work.actionsByType[next.type] ?? 0) + actions;
    }
  };
  await Promise.all(Array.from({ length: 8 }, reader));
  work.actions =
    executions.length +
    work.activities +
    work.activityRetries +
    work.localActivities +
    work.timers +
    work.signals +
    work.updates;
  if (options.sizes) work.sizes = sizes;
  return work;
}

/** One step of a full sync's own history: an activity (scheduled to closed) or its batch children (first started to last closed). */
export interface FullSyncStep {
  step: string;
  ms: number;
}

/** Where a full sync's time went, step by step in the order they ran; `other` is the rest (workflow tasks, starting, returning). */
export async function fullSyncSteps(client: Client, workflowId: string): Promise<FullSyncStep[]> {
  const E = temporal.api.enums.v1.EventType;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const scheduled = new Map<string, { type: string; at: number }>();
  const steps: FullSyncStep[] = [];
  let childrenFrom: number | undefined;
  let childrenTo = 0;
  let childrenAt = -1;
  for (const event of events) {
    const at = tsToMs(event.eventTime);
    switch (event.eventType) {
      case E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(String(event.eventId), {
          type: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          at,
        });
        break;
      case E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
      case E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const attributes =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes;
        const from = scheduled.get(String(attributes?.scheduledEventId));
        if (from) steps.push({ step: from.type, ms: at - from.at });
        break;
      }
      case E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        if (childrenFrom === undefined) {
          childrenFrom = at;
          childrenAt = steps.length;
        }
        break;
      case E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      case E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        childrenTo = at;
        break;
      default:
        break;
    }
  }
  if (childrenFrom !== undefined) steps.splice(childrenAt, 0, { step: 'batches', ms: childrenTo - childrenFrom });
  const first = events[0];
  const last = events.at(-1);
  if (first && last) {
    const total = tsToMs(last.eventTime) - tsToMs(first.eventTime);
    const accounted = steps.reduce((n, s) => n + s.ms, 0);
    steps.push({ step: 'other', ms: Math.max(0, total - accounted) });
  }
  return steps;
}

export const stepsLine = (steps: FullSyncStep[]) => steps.map((s) => `${s.step} ${round(s.ms / 1000, 2)}`).join(', ');

export function temporalPerEmployee(work: TemporalWork, employees: number) {
  const executions = Object.values(work.workflows).reduce((a, b) => a + b, 0);
  return {
    executions: perEmployee(executions, employees),
    historyEvents: perEmployee(work.historyEvents, employees),
    workflowTasks: perEmployee(work.workflowTasks, employees),
    activities: perEmployee(work.activities, employees),
    actions: perEmployee(work.actions, employees),
  };
}

export interface WorkerStopped {
  peakRssBytes: number;
  eventLoopDelayMaxMs: number;
  eventLoopDelayP99Ms: number;
  /** The worker's own memory samples: heap and outside it, over its life. */
  memory: MemorySample[];
}

export interface SetupWorker {
  /** The worker process. */
  pid: number | undefined;
  /** Stops the worker; resolves with its peak RSS as it sampled it (bytes) and how late its event loop ran. */
  stop(): Promise<WorkerStopped>;
}

/** The Node flags of every worker forked by startSetupWorker: as deployed, and any asked for. */
export function forkedWorkerNodeFlags(): string[] {
  return [...deployedWorker().nodeFlags, ...(process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean)];
}

/** Forks a worker in a process of its own (the provisioning run's, or a measured one) and waits until it polls. */
export async function startSetupWorker(env: NodeJS.ProcessEnv, message: SetupWorkerMessage): Promise<SetupWorker> {
  // A V8 CPU profile of each worker, and any other Node flags, when asked (see bench/README.md).
  const profileDir = process.env.BENCH_WORKER_PROFILE_DIR;
  const extraFlags = forkedWorkerNodeFlags();
  const child = fork(join(__dirname, 'fullsync-setup-worker.ts'), [], {
    execArgv: ['--import', 'tsx', ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...extraFlags],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const replies: SetupWorkerReply[] = [];
  let wake: (() => void) | undefined;
  child.on('message', (reply: SetupWorkerReply) => {
    replies.push(reply);
    wake?.();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = async (kind: SetupWorkerReply['kind']): Promise<SetupWorkerReply> => {
    for (;;) {
      const found = replies.find((r) => r.kind === kind || r.kind === 'failed');
      if (found) {
        if (found.kind === 'failed') throw new Error(`setup worker: ${found.message}`);
        return found;
      }
      if (child.exitCode !== null) throw new Error(`setup worker exited with code ${child.exitCode}`);
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), exited]);
    }
  };
  child.send(message);
  try {
    await next('ready');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    pid: child.pid,
    async stop() {
      const none = { peakRssBytes: 0, eventLoopDelayMaxMs: 0, eventLoopDelayP99Ms: 0, memory: [] };
      if (child.exitCode !== null) return none;
      child.send({ kind: 'stop' } satisfies SetupWorkerMessage);
      const stopped = await next('stopped');
      await exited;
      if (stopped.kind !== 'stopped') return none;
      const { kind: _k, ...figures } = stopped;
      return figures;
    },
  };
}

export interface WriteRate {
  limitPerSecond: number;
  writes: number;
  firstWriteAfterMs: number;
  applySpanS: number;
  /** writes / (last write − first write). */
  achievedPerSecond: number;
  ratio: number;
  /** The client spaces writes at HEADROOM × the limit: the most it will ever send. */
  clientCeilingPerSecond: number;
  ratioToCeiling: number;
  /** Over the middle 80 % of the apply phase, without ramp-up and tail. */
  middlePerSecond: number;
  throttled: number;
  /** Calendar seconds of the apply phase by how many writes they saw. */
  secondsAtLimit: number;
  secondsBelowLimit: number;
  secondsWithoutWrites: number;
  peakPerSecond: number;
}

export function writeRate(entries: LoggedRequest[], limit: number, runStartedAt: number): WriteRate {
  const times = entries
    .filter((e) => isWrite(e) && e.status < 400)
    .map((e) => e.at)
    .sort((a, b) => a - b);
  const first = times[0] ?? runStartedAt;
  const last = times.at(-1) ?? runStartedAt;
  const spanS = (last - first) / 1000;
  const achieved = spanS > 0 ? times.length / spanS : 0;
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  const from = first + (last - first) * 0.1;
  const to = first + (last - first) * 0.9;
  const middle = times.filter((t) => t >= from && t <= to).length;
  const ceiling = limit * HEADROOM;
  let atLimit = 0;
  let below = 0;
  let empty = 0;
  // Whole seconds strictly inside the phase: the first and last are partial by nature.
  for (let s = Math.floor(first / 1000) + 1; s < Math.floor(last / 1000); s++) {
    const n = perSecond.get(s) ?? 0;
    if (n === 0) empty += 1;
    else if (n >= Math.floor(limit)) atLimit += 1;
    else below += 1;
  }
  return {
    limitPerSecond: limit,
    writes: times.length,
    firstWriteAfterMs: first - runStartedAt,
    applySpanS: round(spanS),
    achievedPerSecond: round(achieved, 2),
    ratio: round(achieved / limit, 3),
    clientCeilingPerSecond: round(ceiling, 2),
    ratioToCeiling: round(achieved / ceiling, 3),
    middlePerSecond: to > from ? round(middle / ((to - from) / 1000), 2) : 0,
    throttled: entries.filter((e) => isWrite(e) && e.status === 429).length,
    secondsAtLimit: atLimit,
    secondsBelowLimit: below,
    secondsWithoutWrites: empty,
    peakPerSecond: Math.max(0, ...perSecond.values()),
  };
}

export function hibobClientOf(connection: ConnectionConfig, env: NodeJS.ProcessEnv): HibobClient {
  const { source } = connection;
  return new HibobClient({
    baseUrl: source.baseUrl,
    serviceUserId: source.serviceUserId,
    token: readSecret(source.serviceUserToken, env),
  });
}

export function machine() {
  return {
    ...machineInfo(),
    /** Anything else running here skews every figure. */
    loadAverage: os.loadavg().map((n) => round(n, 2)),
  };
}

export function table(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

export const counts = (record: Record<string, number | undefined>) =>
  Object.entries(record)
    .filter(([, n]) => n)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';
