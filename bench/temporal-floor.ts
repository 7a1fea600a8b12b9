/**
 * What Temporal itself costs per webhook on this machine, without bobsync: signal-with-start (or
 * a plain signal) at a fixed rate into a fresh in-memory dev server, in three set-ups:
 *
 *   server alone           no worker polls, so each call is only Temporal's write
 *   minimal worker         a worker runs a workflow that wakes per signal and does nothing else
 *   minimal worker, signal the same, with plain signals to workflows already running
 *   minimal worker, over HTTP
 *                          the minimal worker, with each call made by a minimal webhook receiver
 *                          (bench/floor/relay.ts) for a signed POST from a load generator
 *
 * The webhook benchmark's acknowledgement latency cannot be lower than these figures, since
 * bobsync's API answers only once Temporal holds the event; it measures the minimal worker's
 * floor itself, through `measureFloor`, in the same run.
 *
 *   npx tsx bench/temporal-floor.ts [--rate 300] [--duration 10] [--workflows 500]
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../src/dev/ports';
import { startDevServer, waitForTemporal } from '../src/dev/temporal-dev-server';
import type { RelayArgs } from './floor/relay';
import { eventSignal } from './floor/workflows';
import { runLoad } from './webhook-load';
import {
  distribution,
  fmt,
  machineInfo,
  numberOption,
  processCpuMs,
  writeLatestResult,
  type Distribution,
} from './shared';

export type FloorSetup = 'server alone' | 'minimal worker' | 'minimal worker, signal' | 'minimal worker, over HTTP';

export interface FloorOptions {
  rate: number;
  durationS: number;
  workflows: number;
  /** A Temporal frontend run elsewhere (its `default` namespace); a fresh dev server when absent. */
  temporal?: string;
  /** Nice value of the worker process (0–19): the CPU priority bobsync's worker runs at, for a like-for-like floor. */
  workerNice?: number;
  /** Over HTTP: requests in flight at most, as bench:webhooks' `--concurrency` (default 64). */
  concurrency?: number;
}

export interface FloorResult {
  setup: FloorSetup;
  rate: number;
  calls: number;
  failed: number;
  latencyMs: Distribution;
  /**
   * The same split by whether the call was the first to its workflow (with signal-with-start, the
   * one that starts it) or a later one, as bench:webhooks splits bobsync's acknowledgements.
   */
  firstCallMs: Distribution;
  laterCallsMs: Distribution;
  /** Answers ÷ (first call → last answer): below the rate when Temporal fell behind and had to catch up. */
  answeredPerSecond: number;
  /** Why this rate is beyond what this set-up sustains on this machine; absent when it keeps up. */
  saturated?: string;
  /**
   * CPU time per 1,000 calls over the measured window, in ms. Over HTTP the caller is the load
   * generator and the relay is the receiver that makes the Temporal calls.
   */
  cpuMsPer1000: { temporal: number | undefined; worker: number | undefined; caller: number; relay?: number };
}

/**
 * A set-up sustains a rate when every call is answered, answers come back at ≥ 97 % of the rate
 * counted to the last answer (a queue that grew during the run drains after it and stretches that
 * span), the median call takes at most 50 ms and 99 % take at most 500 ms. Past that, latency is
 * mostly waiting in a queue for CPU, and a ratio against it compares two queues.
 */
export const FLOOR_SUSTAINED = { minAnsweredShare: 0.97, maxP50Ms: 50, maxP99Ms: 500 };

export function floorSaturation(
  r: Pick<FloorResult, 'rate' | 'calls' | 'failed' | 'latencyMs' | 'answeredPerSecond'>,
): string | undefined {
  if (r.failed > 0) return `${r.failed} of ${r.calls} calls failed`;
  if (r.answeredPerSecond < r.rate * FLOOR_SUSTAINED.minAnsweredShare)
    return `answered ${r.answeredPerSecond}/s of ${r.rate}/s`;
  if (r.latencyMs.p50 > FLOOR_SUSTAINED.maxP50Ms) return `p50 ${r.latencyMs.p50} ms > ${FLOOR_SUSTAINED.maxP50Ms} ms`;
  if (r.latencyMs.p99 > FLOOR_SUSTAINED.maxP99Ms) return `p99 ${r.latencyMs.p99} ms > ${FLOOR_SUSTAINED.maxP99Ms} ms`;
  return undefined;
}

const TASK_QUEUE_PREFIX = 'floor';

async function startWorker(address: string, taskQueue: string, nice: number): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'floor', 'worker.ts'), [address, taskQueue, String(nice)], {
    execArgv: ['--import', 'tsx'],
    // `--import tsx` resolves from the working directory: the repository's.
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the floor worker exited with code ${code}`)));
  });
  return child;
}

/** Lets the worker (or relay) drain before its server goes, so it does not retry against a closed port. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Latency of each answered call, whether it was the first to its workflow, failures, first call → last answer. */
interface Driven {
  latencies: number[];
  first: boolean[];
  failed: number;
  spanMs: number;
}

/** Calls at `rate` per second for `durationS`, round-robin over the workflows; open loop. */
async function drive(
  client: Client,
  setup: FloorSetup,
  options: FloorOptions,
  ids: { taskQueue: string; workflowId: (i: number) => string },
): Promise<Driven> {
  const { rate, durationS, workflows } = options;
  const latencies: number[] = [];
  const first: boolean[] = [];
  let failed = 0;
  const total = Math.round(rate * durationS);
  const payload = { employeeId: '0', type: 'employee.updated', pad: 'x'.repeat(300) };
  const call = (i: number): Promise<unknown> => {
    const workflowId = ids.workflowId(i % workflows);
    if (setup === 'minimal worker, signal') return client.workflow.getHandle(workflowId).signal(eventSignal, payload);
    return client.workflow.signalWithStart('awaitEvents', {
      taskQueue: ids.taskQueue,
      workflowId,
      signal: eventSignal,
      signalArgs: [payload],
    });
  };
  const started = performance.now();
  let lastAnswer = started;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    inFlight.push(
      call(i).then(
        () => {
          lastAnswer = performance.now();
          latencies.push(lastAnswer - sent);
          first.push(i < workflows);
        },
        () => void failed++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, first, failed, spanMs: lastAnswer - started };
}

const RELAY_SECRET = 'floor-relay';

interface Relay {
  process: ChildProcess;
  port: number;
}

async function startRelay(args: RelayArgs): Promise<Relay> {
  const child = fork(join(__dirname, 'floor', 'relay.ts'), [JSON.stringify(args)], {
    execArgv: ['--import', 'tsx'],
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`the floor relay exited with code ${code}`)));
  });
  return { process: child, port };
}

/**
 * The webhook benchmark's load generator, run in this process, POSTs signed events at the rate to
 * the relay, round-robin over the workflows' employees; a call is a request answered 202.
 */
async function driveOverHttp(port: number, options: FloorOptions): Promise<Driven> {
  const plan = {
    url: `http://127.0.0.1:${port}/`,
    secret: RELAY_SECRET,
    companyId: 1,
    triggeredBy: 'floor',
    concurrency: options.concurrency ?? 64,
    timeoutMs: 15_000,
    graceMs: 10_000,
  };
  // Not measured: 2 s at 100/s to workflows of their own, so the relay's code is compiled, as
  // bobsync's API is after phase B. The generator opens its connections afresh either way.
  await runLoad(
    { ...plan, rate: 100, durationS: 2, employeeIds: Array.from({ length: 200 }, (_, i) => `warm-up-${i}`) },
    () => undefined,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const result = await runLoad(
    {
      ...plan,
      rate: options.rate,
      durationS: options.durationS,
      employeeIds: Array.from({ length: options.workflows }, (_, i) => String(i)),
    },
    () => undefined,
  );
  const answered = result.records.filter((r) => r.status === 202);
  // Requests go out round-robin over the employees, so the first to each is among the first `workflows` due.
  const firstDueMs = ((options.workflows - 1) * 1000) / options.rate;
  return {
    latencies: answered.map((r) => r.doneMs - r.sentMs),
    first: answered.map((r) => r.dueMs <= firstDueMs),
    failed: result.records.length - answered.length + result.unsent,
    spanMs: Math.max(0, ...answered.map((r) => r.doneMs)),
  };
}

/** One set-up at one rate, on a fresh dev server (or the given one) with, but for `server alone`, a minimal worker of its own. */
export async function measureFloor(setup: FloorSetup, options: FloorOptions): Promise<FloorResult> {
  const server = options.temporal
    ? undefined
    : await startDevServer({ port: await freePort(), headless: true, startTimeoutMs: 90_000 });
  const address = server?.address ?? options.temporal!;
  if (!server) await waitForTemporal(address, 30_000);
  // On a shared server, ids of their own keep runs apart.
  const runKey = `${process.pid}-${Date.now().toString(36)}`;
  const ids = {
    taskQueue: `${TASK_QUEUE_PREFIX}-${runKey}`,
    workflowId: (i: number) => `floor-${runKey}-${i}`,
  };
  let worker: ChildProcess | undefined;
  let relay: Relay | undefined;
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    if (setup !== 'server alone') worker = await startWorker(address, ids.taskQueue, options.workerNice ?? 0);
    if (setup === 'minimal worker, over HTTP')
      relay = await startRelay({
        address,
        taskQueue: ids.taskQueue,
        workflowIdPrefix: `floor-${runKey}-`,
        secret: RELAY_SECRET,
      });
    if (setup === 'minimal worker, signal') {
      // Not measured: start every workflow once, so the measured calls find them running.
      for (let i = 0; i < options.workflows; i++)
        await client.workflow.start('awaitEvents', { taskQueue: ids.taskQueue, workflowId: ids.workflowId(i) });
    }
    const cpuBefore = {
      temporal: processCpuMs(server?.process.pid),
      worker: processCpuMs(worker?.pid),
      caller: process.cpuUsage(),
      relay: processCpuMs(relay?.process.pid),
    };
    const { latencies, first, failed, spanMs } = relay
      ? await driveOverHttp(relay.port, options)
      : await drive(client, setup, options, ids);
    const calls = latencies.length + failed;
    const per1000 = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1000) / calls);
    const callerCpu = process.cpuUsage(cpuBefore.caller);
    const measured = {
      rate: options.rate,
      calls,
      failed,
      latencyMs: distribution(latencies),
      firstCallMs: distribution(latencies.filter((_, i) => first[i])),
      laterCallsMs: distribution(latencies.filter((_, i) => !first[i])),
      answeredPerSecond: Math.round((latencies.length / (spanMs / 1000)) * 10) / 10,
    };
    const saturated = floorSaturation(measured);
    return {
      setup,
      ...measured,
      ...(saturated ? { saturated } : {}),
      cpuMsPer1000: {
        temporal: per1000(cpuBefore.temporal, processCpuMs(server?.process.pid)),
        worker: per1000(cpuBefore.worker, processCpuMs(worker?.pid)),
        caller: Math.round((callerCpu.user + callerCpu.system) / calls),
        ...(relay ? { relay: per1000(cpuBefore.relay, processCpuMs(relay.process.pid)) } : {}),
      },
    };
  } finally {
    if (relay) await stopChild(relay.process);
    if (worker) await stopChild(worker);
    await connection.close();
    await server?.stop();
  }
}

/**
 * measureFloor in a child process of its own: the caller then shares no event loop and no CPU
 * accounting with the process that asks (bench/webhooks.ts, where bobsync's stack is loaded).
 */
export function measureFloorApart(setup: FloorSetup, options: FloorOptions): Promise<FloorResult> {
  const child = fork(__filename, [], {
    execArgv: ['--import', 'tsx'],
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<FloorResult>((resolve, reject) => {
    let result: FloorResult | undefined;
    let failure: string | undefined;
    child.on('message', (message: FloorChildMessage) => {
      if ('result' in message) result = message.result;
      else failure = message.error;
    });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      result ? resolve(result) : reject(new Error(failure ?? `the floor process exited (${signal ?? code})`)),
    );
    child.send({ setup, options } satisfies FloorChildRequest);
  });
}

interface FloorChildRequest {
  setup: FloorSetup;
  options: FloorOptions;
}
type FloorChildMessage = { result: FloorResult } | { error: string };

export function formatFloor(r: FloorResult): string {
  const cpu = r.cpuMsPer1000;
  return (
    `${fmt(r.latencyMs)} (first call to a workflow p99 ${r.firstCallMs.p99}, later p99 ${r.laterCallsMs.p99}); ` +
    `answered ${r.answeredPerSecond}/s; ${r.failed} failed; ` +
    `CPU ms per 1,000 calls: Temporal ${cpu.temporal ?? '?'}, worker ${cpu.worker ?? '-'}, caller ${cpu.caller}` +
    (cpu.relay !== undefined ? `, relay ${cpu.relay}` : '') +
    (r.saturated ? `; SATURATED (${r.saturated})` : '')
  );
}

async function main(): Promise<void> {
  const loadBefore = Math.round(os.loadavg()[0]! * 100) / 100;
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '10' },
      workflows: { type: 'string', default: '500' },
      'worker-nice': { type: 'string', default: '0' },
    },
  });
  const rate = Math.floor(numberOption('rate', values.rate, 1, 5_000));
  const durationS = Math.floor(numberOption('duration', values.duration, 1, 600));
  const workflows = Math.floor(numberOption('workflows', values.workflows, 1, 20_000));
  const workerNice = Math.floor(numberOption('worker-nice', values['worker-nice'], 0, 19));

  const results: FloorResult[] = [];
  for (const setup of [
    'server alone',
    'minimal worker',
    'minimal worker, signal',
    'minimal worker, over HTTP',
  ] as const) {
    console.log(`${setup}: ${rate}/s for ${durationS} s over ${workflows} workflows…`);
    results.push(await measureFloor(setup, { rate, durationS, workflows, workerNice }));
  }
  const machine = {
    ...machineInfo(),
    loadAverageBefore: loadBefore,
    loadAverageAfter: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  const file = writeLatestResult('temporal-floor', {
    benchmark: 'temporal-floor',
    startedAt: new Date().toISOString(),
    machine,
    parameters: { rate, durationS, workflows, workerNice },
    sustained: FLOOR_SUSTAINED,
    results,
  });

  console.log(
    `\nTemporal floor — ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageBefore} before, ${machine.loadAverageAfter} after`,
  );
  for (const r of results) console.log(`  ${r.setup.padEnd(26)} ${formatFloor(r)}`);
  console.log(`  result                     ${file}`);
}

if (require.main === module && process.send) {
  // Forked by measureFloorApart: one set-up in, its result out, then exit.
  process.once('message', ({ setup, options }: FloorChildRequest) => {
    const reply = (message: FloorChildMessage) => process.send?.(message, () => process.disconnect());
    measureFloor(setup, options).then(
      (result) => reply({ result }),
      (err: Error) => reply({ error: err.message }),
    );
  });
} else if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
