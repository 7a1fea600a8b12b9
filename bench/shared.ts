/** Pieces both benchmarks use: the machine a figure was measured on, and timing Temporal calls. */
import os from 'node:os';
import type { Client } from '@temporalio/client';

export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** Wraps the client's signalWithStart to record how long each call takes (ms), for instrumentation only. */
export function timeSignalWithStart(client: Client): number[] {
  const durations: number[] = [];
  const workflow = client.workflow;
  const signalWithStart = workflow.signalWithStart.bind(workflow);
  workflow.signalWithStart = (async (...args: Parameters<typeof signalWithStart>) => {
    const t = performance.now();
    try {
      return await signalWithStart(...args);
    } finally {
      durations.push(performance.now() - t);
    }
  }) as typeof workflow.signalWithStart;
  return durations;
}
