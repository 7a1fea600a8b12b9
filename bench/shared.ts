/** Pieces the benchmarks share: the machine a figure was measured on, percentiles, CPU time. */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { parse as parseYaml } from 'yaml';

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

export interface Distribution {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles, in the unit given, rounded to 0.1. */
export function distribution(values: number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! : NaN;
  const round = (n: number) => Math.round(n * 10) / 10;
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN;
  return {
    count: sorted.length,
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    max: round(at(100)),
    mean: round(mean),
  };
}

export const fmt = (d: Distribution, unit = 'ms') =>
  `p50 ${d.p50} / p90 ${d.p90} / p99 ${d.p99} / max ${d.max} ${unit}`;

/** CPU time (user + system) of any process on this machine, from /proc; undefined elsewhere. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which sits in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** docker-compose.yml's bobsync-worker: the benchmarks start their workers as it deploys them. */
export function deployedWorker(): { nodeFlags: string[]; cpuShares: number } {
  const compose = parseYaml(readFileSync(join(__dirname, '..', 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[]; cpu_shares?: number }>;
  };
  const service = compose.services['bobsync-worker'];
  const command = service?.command ?? [];
  const script = command.indexOf('bin/bobsync.js');
  if (command[0] !== 'node' || script < 0)
    throw new Error('docker-compose.yml: bobsync-worker is not `node … bin/bobsync.js worker`');
  // Between `node` and the script; 1024 is Docker's CPU weight for a container that sets none.
  return { nodeFlags: command.slice(1, script), cpuShares: service?.cpu_shares ?? 1024 };
}

/**
 * The nice value that weighs, against normal priority, about what `cpuShares` weighs against
 * Docker's default of 1024: each nice step is about 1.25 times less weight to Linux's scheduler.
 */
export function niceForCpuShares(cpuShares: number): number {
  return Math.min(19, Math.max(0, Math.round(Math.log(1024 / cpuShares) / Math.log(1.25))));
}

/**
 * Lowers this process's CPU priority to `nice` (0 = normal, 19 = lowest), as a lower CPU weight
 * does for a container. Linux keeps a priority per thread, so every thread running now is set;
 * threads started later take it from the thread that starts them. Child processes forked later
 * inherit it too: fork the ones that must keep normal priority first.
 */
export function lowerCpuPriority(nice: number): void {
  if (nice <= 0) return;
  let threads: number[];
  try {
    threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    threads = [0]; // no /proc: the calling thread (the whole process on systems that have no per-thread priority)
  }
  for (const thread of threads) os.setPriority(thread, Math.min(19, nice));
}

/** A numeric command-line option within bounds, or an error that names the option and the range. */
export function numberOption(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new Error(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** Writes bench/results/<name>-latest.json (committed: the figures the README quotes) and returns its path. */
export function writeLatestResult(name: string, result: unknown): string {
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}-latest.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
