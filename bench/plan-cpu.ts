/**
 * CPU cost of planning a full sync: `planFullRun` alone, over a tenant in steady state.
 *
 *   npx tsx bench/plan-cpu.ts [--employees 10000] [--runs 3] [--profile] [--steady]
 *
 * Setup (not measured), in this process: the HiBob emulator gets `generateDemoEmployees` (seed 42)
 * and is read as the full sync's snapshot reads it; the 360Learning emulator gets what a first
 * full sync leaves (`planSeed`, as the seeded full-sync benchmark builds it) and is read by the
 * product's snapshot code; the fingerprints of the last run are those `settledFingerprints` gives
 * for a run that created those learners, which is what the state holds after such a run.
 *
 * Measured: `planFullRun` over those records, snapshot and fingerprints, `--runs` times. With
 * nothing changed every employee is a noop or parked, and only the learners the snapshot cannot
 * settle (the address conflict) are read again, in memory. Printed per run: wall time, µs per
 * employee, and the longest stretch without a turn of the event loop (the longest gap between
 * ticks of a 1 ms interval timer). `--profile` records a CPU profile of one more run and prints
 * the product's functions by total time and any function by self time.
 *
 * `--steady` plans as a full sync does with its steady memo (src/domain/steady-memo.ts): the
 * records kept as HiBob's answer, one run to fill the memo, then each measured run from the memo
 * the run before left, passed through JSON as the blob store passes it (that round trip is timed
 * apart and printed with the memo's size).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConnectionRegistry } from '../src/activities/deps';
import { GroupOwnership } from '../src/activities/group-ownership';
import { readHibobPopulation } from '../src/activities/hibob-snapshot';
import { lmsActivities } from '../src/activities/lms';
import { uncheckpointedPages } from '../src/activities/page-checkpoints';
import { destinationTraits } from '../src/activities/traits';
import { normaliseOptions } from '../src/activities/wanted-learner';
import { blobStoreFromEnv } from '../src/blobstore';
import { parseConfig } from '../src/config/loader';
import { approvalMode } from '../src/config/schema';
import { demoGroups, embeddedConfigYaml } from '../packages/local/stack/embedded';
import { desiredLearner } from '../src/domain/desired';
import {
  planFullRun,
  settledFingerprints,
  SnapshotIndex,
  type FullRunInput,
  type FullRunPlan,
  type SettledEmployee,
} from '../src/domain/full-plan';
import { normaliseEmployee } from '../src/domain/normalise';
import type { SteadyMemo, StoredSteadyMemo } from '../src/domain/steady-memo';
import { CONNECTION, Cleanup, counts, hibobClientOf, log, machine, round, withLimits } from './fullsync-common';
import { indexCompany } from './fullsync-emulator-index';
import { memoryLookup, planSeed, seededWorkerEnv, startSeedEmulators } from './fullsync-seeded';
import { numberOption, writeLatestResult } from './shared';

const SETUP_PER_SECOND = 100_000;

interface Options {
  employees: number;
  runs: number;
  profile: boolean;
  steady: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { employees: 10_000, runs: 3, profile: false, steady: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--employees') options.employees = numberOption('employees', argv[++i] ?? '', 10, 200_000);
    else if (arg === '--runs') options.runs = numberOption('runs', argv[++i] ?? '', 1, 20);
    else if (arg === '--profile') options.profile = true;
    else if (arg === '--steady') options.steady = true;
    else throw new Error(`unknown option ${arg}`);
  }
  return options;
}

interface RunFigures {
  wallMs: number;
  usPerEmployee: number;
  /** Longest gap between two ticks of a 1 ms interval timer while planning. */
  longestStallMs: number;
  cpuMs: number;
  lookups: number;
  byAction: Record<string, number | undefined>;
  rowsToWrite: number;
}

/** One planFullRun, with the event loop watched from a timer that should tick every millisecond. */
async function timedRun(
  input: FullRunInput,
  lookup: Parameters<typeof planFullRun>[1],
): Promise<RunFigures & { plan: FullRunPlan }> {
  let lookups = 0;
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const at = performance.now();
    longest = Math.max(longest, at - last);
    last = at;
  }, 1);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const plan = await planFullRun(input, (...args) => {
    lookups += 1;
    return lookup(...args);
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  longest = Math.max(longest, performance.now() - last);
  clearInterval(ticker);
  const rowsToWrite = plan.rows.filter((r) => r.action !== 'park' && r.action !== 'noop' && r.action !== 'protected');
  return {
    wallMs: round(wallMs, 0),
    usPerEmployee: round((wallMs * 1000) / input.records.length, 1),
    longestStallMs: round(longest, 1),
    cpuMs: round((cpu.user + cpu.system) / 1000, 0),
    lookups,
    byAction: plan.byAction,
    rowsToWrite: rowsToWrite.length,
    plan,
  };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

const keyOf = (node: ProfileNode) => {
  const file = node.callFrame.url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '');
  return `${node.callFrame.functionName || '(anonymous)'}${file ? ` ${file}` : ''}`;
};

/**
 * Self and total time per function (name and file), as shares of all samples: self is where the
 * samples fell, total includes what the function called (a recursive call counted once).
 */
function profileTimes(profile: { nodes: ProfileNode[] }): { fn: string; self: number; total: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const childIds = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let samples = 0;
  const open = new Map<string, number>();
  // Returns the samples under `node`; adds them to each function not already open above it.
  const walk = (node: ProfileNode): number => {
    const key = keyOf(node);
    open.set(key, (open.get(key) ?? 0) + 1);
    let under = node.hitCount ?? 0;
    samples += under;
    self.set(key, (self.get(key) ?? 0) + under);
    for (const id of node.children ?? []) under += walk(byId.get(id)!);
    open.set(key, open.get(key)! - 1);
    if (!open.get(key)) total.set(key, (total.get(key) ?? 0) + under);
    return under;
  };
  for (const root of profile.nodes.filter((n) => !childIds.has(n.id))) walk(root);
  const share = (n: number) => round((n / Math.max(1, samples)) * 100, 1);
  return [...total.entries()].map(([fn, t]) => ({ fn, self: share(self.get(fn) ?? 0), total: share(t) }));
}

interface MemoRoundTrip {
  memoBytes: number;
  stringifyMs: number;
  parseMs: number;
  remembered: number;
}

/** The memo as the next run reads it from the blob store (through JSON), and what that round trip cost. */
function throughJson(memo: SteadyMemo): { stored: StoredSteadyMemo; figures: MemoRoundTrip } {
  const started = performance.now();
  const text = JSON.stringify(memo);
  const stringified = performance.now();
  const stored = JSON.parse(text) as StoredSteadyMemo;
  return {
    stored,
    figures: {
      memoBytes: Buffer.byteLength(text),
      stringifyMs: round(stringified - started, 0),
      parseMs: round(performance.now() - stringified, 0),
      remembered: memo.size,
    },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const before = machine();
  log(`plan-cpu: ${options.employees} employees, ${options.runs} runs; load average ${before.loadAverage.join(' ')}`);
  const cleanup = new Cleanup();
  try {
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-plan-cpu-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
    const setupStarted = performance.now();

    const { hibobServer, lmsServer, company } = await startSeedEmulators(options.employees, cleanup);
    indexCompany(company);

    const base = parseConfig(embeddedConfigYaml(hibobServer.url, lmsServer.url, await demoGroups(lmsServer.url)));
    const config = withLimits(base, {
      hibobReadsPerSecond: SETUP_PER_SECOND,
      lmsWritesPerSecond: SETUP_PER_SECOND,
      lmsReadsPerSecond: SETUP_PER_SECOND,
    });
    const env = seededWorkerEnv(dataDir);
    const connection = config.connections.find((c) => c.name === CONNECTION)!;
    const { mapping } = connection;
    // One instant for the setup and every run, so the status decisions (and fingerprints) agree.
    const now = new Date();

    log('reading HiBob as the snapshot does…');
    const answer = (await readHibobPopulation({ hibob: hibobClientOf(connection, env) }, connection)).records;
    // An array, so that the setup can drop it before measuring; kept as the answer for the memo.
    const records = [...answer];
    log('seeding 360Learning as a first full sync leaves it…');
    const seed = planSeed(records, connection, now);
    company.seed({
      customFields: mapping.customFields.filter((f) => f.createIfMissing).map((f) => ({ name: f.name, type: f.type })),
    });
    company.seedUsers(seed.users);
    const registry = new ConnectionRegistry({ config, env });
    const blobs = blobStoreFromEnv({ ...process.env, ...env });
    const snapshot = await lmsActivities(registry, new GroupOwnership(blobs)).snapshot(CONNECTION, uncheckpointedPages);
    const index = new SnapshotIndex(snapshot);
    const destination = destinationTraits(registry, CONNECTION);

    // The state a run that created these learners leaves: their fingerprints as the next run computes them.
    const statusOf = new Map(seed.users.map((u) => [u.id, u.status]));
    const settled: SettledEmployee[] = [];
    for (const record of records) {
      const employee = normaliseEmployee(record, normaliseOptions(mapping));
      const learnerId = seed.learnerOf.get(employee.id);
      if (!learnerId) continue;
      settled.push({
        employeeId: employee.id,
        desired: desiredLearner(employee, mapping, now),
        learnerId,
        operations: statusOf.get(learnerId) === 'active' ? ['create', 'activate'] : ['create'],
      });
    }
    const fingerprints = settledFingerprints(settled, new SnapshotIndex({ ...snapshot }), mapping, destination);
    const setupMs = performance.now() - setupStarted;
    log(
      `setup ${round(setupMs / 1000, 1)} s: ${records.length} HiBob people, ${snapshot.users.length} learners, ${Object.keys(fingerprints).length} fingerprints`,
    );

    const input: FullRunInput = {
      records: options.steady ? answer : records,
      normalise: normaliseOptions(mapping),
      mapping,
      destination,
      index,
      safety: connection.safety,
      previous: { hibobEmployees: records.length, fingerprints },
      problems: [],
      heldEmployeeIds: [],
      now,
      timerHorizonDays: connection.fullSync.timerHorizonDays,
      approvalMode: approvalMode(connection),
      firstRun: false,
      unmatchedLearners: connection.safety.unmatchedLearners,
    };
    const inMemory = memoryLookup(company, connection, seed.owned);
    const lookup: Parameters<typeof planFullRun>[1] = async (employeeId, record) => inMemory(employeeId, record);

    let steady: MemoRoundTrip | undefined;
    if (options.steady) {
      const filling = await timedRun({ ...input, steady: {} }, lookup);
      log(`filling the memo: ${filling.wallMs} ms = ${filling.usPerEmployee} µs per employee`);
      input.steady = { last: throughJson(filling.plan.steady!).stored };
    }
    const runs: RunFigures[] = [];
    for (let i = 0; i < options.runs; i++) {
      const { plan, ...run } = await timedRun(input, lookup);
      if (options.steady) {
        const { stored, figures } = throughJson(plan.steady!);
        input.steady = { last: stored };
        steady = figures;
        log(
          `  memo: ${steady.remembered} employees, ${round(steady.memoBytes / 1e6, 1)} MB as JSON; stringify ${steady.stringifyMs} ms, parse ${steady.parseMs} ms`,
        );
      }
      runs.push(run);
      log(
        `run ${i + 1}: ${run.wallMs} ms = ${run.usPerEmployee} µs per employee (CPU ${run.cpuMs} ms); longest stall ${run.longestStallMs} ms; ${counts(run.byAction)}; ${run.lookups} lookups, ${run.rowsToWrite} rows that write; load ${machine().loadAverage.join(' ')}`,
      );
      if (run.rowsToWrite) throw new Error(`the tenant is not in step: ${run.rowsToWrite} rows would write`);
    }
    const median = <T>(values: T[], key: (v: T) => number) =>
      values.map(key).sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const summary = {
      wallMs: median(runs, (r) => r.wallMs),
      usPerEmployee: median(runs, (r) => r.usPerEmployee),
      longestStallMs: median(runs, (r) => r.longestStallMs),
    };
    log(
      `median of ${runs.length}: ${summary.wallMs} ms, ${summary.usPerEmployee} µs per employee, longest stall ${summary.longestStallMs} ms`,
    );

    let profile: { fn: string; self: number; total: number }[] | undefined;
    if (options.profile) {
      const session = new inspector.Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      await planFullRun(input, lookup);
      const { profile: recorded } = await session.post('Profiler.stop');
      session.disconnect();
      const file = join(os.tmpdir(), `plan-cpu-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(recorded));
      const times = profileTimes(recorded);
      const show = (title: string, rows: typeof times) => {
        log(title);
        for (const p of rows)
          log(`  ${String(p.self).padStart(5)} % self  ${String(p.total).padStart(5)} % total  ${p.fn}`);
      };
      show(
        `product functions by total time (profile in ${file}):`,
        times
          .filter((t) => t.fn.includes(' src/') && t.total >= 1)
          .sort((a, b) => b.total - a.total)
          .slice(0, 25),
      );
      show('any function by self time:', [...times].sort((a, b) => b.self - a.self).slice(0, 15));
      profile = times.filter((t) => t.total >= 1 || t.self >= 0.5).sort((a, b) => b.total - a.total);
    }

    const file = writeLatestResult('plan-cpu', {
      date: new Date().toISOString(),
      machine: { ...machine(), loadAverageBefore: before.loadAverage },
      parameters: options,
      employees: records.length,
      learners: snapshot.users.length,
      setupMs: round(setupMs, 0),
      runs,
      median: summary,
      steady,
      profile,
    });
    log(`written to ${file}`);
  } finally {
    await cleanup.run();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
