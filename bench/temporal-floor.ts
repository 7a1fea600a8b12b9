/**
 * What Temporal itself costs per webhook on this machine, without bobsync: signal-with-start (or
 * a plain signal) at a fixed rate into a fresh in-memory dev server, in three set-ups:
 *
 *   server alone           no worker polls, so each call is only Temporal's write
 *   minimal worker         a worker runs a workflow that wakes per signal and does nothing else
 *   minimal worker, signal the same, with plain signals to workflows already running
 *
 * The webhook benchmark's acknowledgement latency cannot be lower than these figures, since
 * bobsync's API answers only once Temporal holds the event.
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
import { startDevServer } from '../src/dev/temporal-dev-server';
import { eventSignal } from './floor/workflows';
import {
  distribution,
  fmt,
  machineInfo,
  numberOption,
  processCpuMs,
  writeLatestResult,
  type Distribution,
} from './shared';

const LOAD_BEFORE = Math.round(os.loadavg()[0]! * 100) / 100;
const TASK_QUEUE = 'floor';

type Setup = 'server alone' | 'minimal worker' | 'minimal worker, signal';

interface SetupResult {
  setup: Setup;
  calls: number;
  failed: number;
  latencyMs: Distribution;
  /** CPU time per 1,000 calls over the measured window, in ms. */
  cpuMsPer1000: { temporal: number | undefined; worker: number | undefined; caller: number };
}

async function startWorker(address: string): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'floor', 'worker.ts'), [address, TASK_QUEUE], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`the floor worker exited with code ${code}`)));
  });
  return child;
}

/** Lets the worker drain before its server goes, so it does not retry against a closed port. */
async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.disconnect();
  const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Calls at `rate` per second for `durationS`, round-robin over the workflows; open loop. */
async function drive(
  client: Client,
  setup: Setup,
  rate: number,
  durationS: number,
  workflows: number,
): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let failed = 0;
  const total = rate * durationS;
  const payload = { employeeId: '0', type: 'employee.updated', pad: 'x'.repeat(300) };
  const call = (i: number): Promise<unknown> => {
    const workflowId = `floor-${i % workflows}`;
    if (setup === 'minimal worker, signal') return client.workflow.getHandle(workflowId).signal(eventSignal, payload);
    return client.workflow.signalWithStart('awaitEvents', {
      taskQueue: TASK_QUEUE,
      workflowId,
      signal: eventSignal,
      signalArgs: [payload],
    });
  };
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    inFlight.push(
      call(i).then(
        () => void latencies.push(performance.now() - sent),
        () => void failed++,
      ),
    );
  }
  await Promise.all(inFlight);
  return { latencies, failed };
}

async function measure(setup: Setup, rate: number, durationS: number, workflows: number): Promise<SetupResult> {
  const server = await startDevServer({ port: await freePort(), headless: true, startTimeoutMs: 90_000 });
  let worker: ChildProcess | undefined;
  const connection = await Connection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    if (setup !== 'server alone') worker = await startWorker(server.address);
    if (setup === 'minimal worker, signal') {
      // Not measured: start every workflow once, so the measured calls find them running.
      for (let i = 0; i < workflows; i++)
        await client.workflow.start('awaitEvents', { taskQueue: TASK_QUEUE, workflowId: `floor-${i}` });
    }
    const cpuBefore = {
      temporal: processCpuMs(server.process.pid),
      worker: processCpuMs(worker?.pid),
      caller: process.cpuUsage(),
    };
    const { latencies, failed } = await drive(client, setup, rate, durationS, workflows);
    const calls = latencies.length + failed;
    const per1000 = (before: number | undefined, after: number | undefined) =>
      before === undefined || after === undefined ? undefined : Math.round(((after - before) * 1000) / calls);
    const callerCpu = process.cpuUsage(cpuBefore.caller);
    return {
      setup,
      calls,
      failed,
      latencyMs: distribution(latencies),
      cpuMsPer1000: {
        temporal: per1000(cpuBefore.temporal, processCpuMs(server.process.pid)),
        worker: per1000(cpuBefore.worker, processCpuMs(worker?.pid)),
        caller: Math.round((callerCpu.user + callerCpu.system) / calls),
      },
    };
  } finally {
    if (worker) await stopWorker(worker);
    await connection.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '300' },
      duration: { type: 'string', default: '10' },
      workflows: { type: 'string', default: '500' },
    },
  });
  const rate = Math.floor(numberOption('rate', values.rate, 1, 5_000));
  const durationS = Math.floor(numberOption('duration', values.duration, 1, 600));
  const workflows = Math.floor(numberOption('workflows', values.workflows, 1, 20_000));

  const results: SetupResult[] = [];
  for (const setup of ['server alone', 'minimal worker', 'minimal worker, signal'] as const) {
    console.log(`${setup}: ${rate}/s for ${durationS} s over ${workflows} workflows…`);
    results.push(await measure(setup, rate, durationS, workflows));
  }
  const machine = {
    ...machineInfo(),
    loadAverageBefore: LOAD_BEFORE,
    loadAverageAfter: Math.round(os.loadavg()[0]! * 100) / 100,
  };
  const file = writeLatestResult('temporal-floor', {
    benchmark: 'temporal-floor',
    startedAt: new Date().toISOString(),
    machine,
    parameters: { rate, durationS, workflows },
    results,
  });

  console.log(
    `\nTemporal floor — ${machine.cpus} × ${machine.cpuModel}, load average ${machine.loadAverageBefore} before, ${machine.loadAverageAfter} after`,
  );
  for (const r of results) {
    const cpu = r.cpuMsPer1000;
    console.log(
      `  ${r.setup.padEnd(24)} ${fmt(r.latencyMs)}; ${r.failed} failed; CPU ms per 1,000 calls: Temporal ${cpu.temporal ?? '?'}, worker ${cpu.worker ?? '-'}, caller ${cpu.caller}`,
    );
  }
  console.log(`  result                   ${file}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
