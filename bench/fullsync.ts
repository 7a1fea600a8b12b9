/**
 * Full-sync benchmark. Prints figures; asserts nothing.
 *
 *   npx tsx bench/fullsync.ts [--destination 360learning] [--employees 5000] [--initial 1000] [--write-limit 10] [--only steady|initial]
 *                             [--group-roles bulk|per-user]
 *   npx tsx bench/fullsync.ts --employees 100000 [--setup seed] [--change-percent 1] [--hibob-reads 5] [--plain-emulator]
 *   npx tsx bench/fullsync.ts --destination skillcast [--employees 2000] [--initial 1000] [--requests-per-second 20] [--only steady|initial]
 *
 * 360Learning (the default):
 * A. Steady state: --employees HiBob people already provisioned in 360Learning and synced once
 *    since, then a full sync that finds nothing to change: wall time, vendor calls and Temporal
 *    work per employee, peak worker memory. The provisioning and the settling sync after it run
 *    with raised limits, on a Temporal server and in a worker process of their own; the measured
 *    sync runs on a fresh server, with the default limits.
 * B. Initial load: --initial people into an empty 360Learning with its write limit at
 *    --write-limit per second (emulator and connection): how close the apply phase comes to it,
 *    its writes per created learner by kind, employees provisioned per second against the floor
 *    the write limit sets once group roles go in bulk (--group-roles sets the connection's
 *    bulkMemberships), then a full sync right after that should read little and write nothing.
 * With --setup seed (the default above 10 000 employees), A is set up by seeding instead, and
 * runs twice, with nothing changed and with --change-percent of the employees changed, against a
 * floor measured in the same run (bench/fullsync-seeded.ts); B is not run.
 *
 * Skillcast (SCIM 2.0, connection demo-skillcast, its requestsPerSecond at --requests-per-second):
 * A. Steady state: the Skillcast domain seeded with the users a full sync would have made for
 *    --employees HiBob people, then a full sync that finds nothing to change, against a floor
 *    measured in the same run: one HiBob people search and the paged SCIM list at that rate.
 * B. Initial load: --initial people into an empty domain: SCIM requests per second while the
 *    batches apply, against the configured rate; then a full sync right after, which must write
 *    nothing.
 *
 * Everything runs on 127.0.0.1: Temporal dev servers in memory, the emulators, and the measured
 * worker in this process (as in `npm start`; the seeded runs' worker in a process of its own).
 * Results: bench/results/fullsync-latest.json (360Learning), fullsync-100k-latest.json (seeded)
 * and fullsync-skillcast-latest.json; bench/README.md explains the figures.
 */
import { numberOption, writeLatestResult } from './shared';
import {
  printSeededSteady,
  seededBudgetMs,
  seededSteadyState,
  type SeededOptions,
  type SeededSteady,
} from './fullsync-seeded';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { codecDataConverter, codecFromEnv, generateCodecKey } from '../src/codec/aes-gcm-codec';
import type { BobsyncConfig, ConnectionConfig, SkillcastDestinationConfig } from '../src/config/schema';
import { readSecret } from '../src/config/loader';
import { startLocalStack, type LocalStack } from '../packages/local/stack/local-stack';
import { HEADROOM } from '../src/clients/http/spacing-limiter';
import { ScimClient } from '../src/clients/scim/client';
import { toUserDocument } from '../src/clients/scim/patch';
import { readHibobPopulation } from '../src/activities/hibob-snapshot';
import { SCIM_TRAITS, scimUserToCreate } from '../src/activities/skillcast';
import { normaliseOptions } from '../src/activities/wanted-learner';
import { desiredLearner } from '../src/domain/desired';
import { normaliseEmployee } from '../src/domain/normalise';
import { planContextFor, planEmployee } from '../src/domain/plan';
import type { Plan } from '../src/domain/types';
import { DEFAULT_RATE_LIMITS } from '../packages/local/emulators/hibob';
import { SCIM_BASE_PATH, type SeedUser } from '../packages/local/emulators/skillcast';
import type { LoggedRequest } from '../packages/local/emulators/common/request-log';
import { connectClient } from '../src/temporal/client';
import { bundleWorkflows } from '../src/dev/workflow-bundle';
import { createWorkers, installWorkerLogging, lmsActivitiesPerSecond } from '../src/worker';
import type { FullSyncResult } from '../src/workflows/full-sync-api';
import {
  CONNECTION,
  Cleanup,
  DEFAULT_DESTINATION,
  DEFAULT_LIMITS,
  DEFAULT_SOURCE,
  MemorySampler,
  SEED,
  applyLimits,
  collectGarbage,
  countBy,
  counts,
  fullSyncSettings,
  forkedWorkerNodeFlags,
  fullSyncSteps,
  hibobCalls,
  hibobClientOf,
  isToken,
  isWrite,
  lmsCalls,
  log,
  machine,
  mib,
  perEmployee,
  round,
  route,
  runFullSync,
  servers,
  setLms360Limits,
  startServer,
  startSetupWorker,
  stepsLine,
  table,
  temporalPerEmployee,
  temporalWork,
  withLimits,
  writeRate,
  type FullSyncRun,
  type FullSyncStep,
  type HibobCalls,
  type LmsCalls,
  type MemoryFigures,
  type TemporalWork,
  type WriteRate,
} from './fullsync-common';

const SKILLCAST_CONNECTION = 'demo-skillcast';
/** Bounds of each full sync, so a stuck run ends as a failure rather than a hang. */
const TIMEOUTS_MS = { setup: 45 * 60_000, settle: 30 * 60_000, steady: 15 * 60_000 };
/** The initial load: its writes at the limit (about seven per learner), three times over. */
const initialTimeoutMs = (options: Options) =>
  Math.max(10 * 60_000, ((options.initial * 7) / options.writeLimit) * 3_000);
/** Limits of the provisioning run: high enough that CPU, not a rate limit, sets its pace. */
const SETUP_PER_SECOND = 1000;
const SETUP_FULL_SYNC = { batchSize: 100, parallelism: 8, concurrencyPerBatch: 12 };
/**
 * Provisioned: 10 000 works (--employees 10000) but its setup took about 25 minutes on two cores;
 * 5 000 is the largest that sets up in about 10. Seeded (--setup seed), up to 100 000.
 */
const DEFAULT_STEADY_EMPLOYEES = 5_000;
/** The most a provisioning run sets up; above it the steady state is seeded. */
const MAX_PROVISIONED = 10_000;
const MAX_SEEDED = 100_000;
/** Skillcast's steady state needs no provisioning run (the domain is seeded), so the measured run is most of it. */
const DEFAULT_SKILLCAST_EMPLOYEES = 2_000;
const DEFAULT_INITIAL = 1_000;
const DEFAULT_WRITE_LIMIT = 10;
/** The demo connection's SCIM rate (packages/local/stack/embedded.ts); the schema's own default is 5. */
const DEFAULT_REQUESTS_PER_SECOND = 20;
/** The Skillcast initial load: about seven SCIM requests per new user at the configured rate, three times over. */
const skillcastInitialTimeoutMs = (options: Options) =>
  Math.max(10 * 60_000, ((options.initial * 7) / options.requestsPerSecond) * 3_000);

type Destination = '360learning' | 'skillcast';
/** How full syncs give 360Learning group roles: the destination's `bulkMemberships`, true for `bulk`. */
type GroupRolesMode = 'bulk' | 'per-user';

interface Options {
  destination: Destination;
  employees: number;
  initial: number;
  /** 360Learning only. */
  writeLimit: number;
  /** 360Learning's initial load only. */
  groupRoles: GroupRolesMode;
  /** Skillcast only: the connection's requestsPerSecond. */
  requestsPerSecond: number;
  only?: 'steady' | 'initial';
  /** 360Learning's steady state: provisioned through a full sync, or seeded (see fullsync-seeded.ts). */
  setup: 'provision' | 'seed';
  /** Seeded only. */
  changePercent: number;
  hibobReads: number;
  plainEmulator: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      destination: { type: 'string', default: '360learning' },
      employees: { type: 'string' },
      initial: { type: 'string', default: String(DEFAULT_INITIAL) },
      'write-limit': { type: 'string' },
      'group-roles': { type: 'string' },
      'requests-per-second': { type: 'string' },
      only: { type: 'string' },
      setup: { type: 'string' },
      'change-percent': { type: 'string' },
      'hibob-reads': { type: 'string' },
      'plain-emulator': { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.only !== undefined && values.only !== 'steady' && values.only !== 'initial')
    throw new Error('--only takes steady or initial');
  const destination = values.destination;
  if (destination !== '360learning' && destination !== 'skillcast')
    throw new Error('--destination takes 360learning or skillcast');
  if (destination === 'skillcast' && values['write-limit'] !== undefined)
    throw new Error('--write-limit is for 360Learning; Skillcast takes --requests-per-second');
  if (destination === '360learning' && values['requests-per-second'] !== undefined)
    throw new Error('--requests-per-second is for Skillcast; 360Learning takes --write-limit');
  const groupRoles = values['group-roles'] ?? 'bulk';
  if (groupRoles !== 'bulk' && groupRoles !== 'per-user') throw new Error('--group-roles takes bulk or per-user');
  if (destination === 'skillcast' && values['group-roles'] !== undefined)
    throw new Error('--group-roles is for 360Learning');
  const defaultEmployees = destination === 'skillcast' ? DEFAULT_SKILLCAST_EMPLOYEES : DEFAULT_STEADY_EMPLOYEES;
  const employees = Math.floor(
    numberOption(
      'employees',
      values.employees ?? String(defaultEmployees),
      1,
      destination === 'skillcast' ? MAX_PROVISIONED : MAX_SEEDED,
    ),
  );
  const setup = values.setup ?? (employees > MAX_PROVISIONED ? 'seed' : 'provision');
  if (setup !== 'seed' && setup !== 'provision') throw new Error('--setup takes seed or provision');
  if (setup === 'provision' && employees > MAX_PROVISIONED)
    throw new Error(`--setup provision takes at most ${MAX_PROVISIONED} employees; seed larger tenants`);
  const seededOnly = ['change-percent', 'hibob-reads'] as const;
  if (setup !== 'seed' && (seededOnly.some((k) => values[k] !== undefined) || values['plain-emulator']))
    throw new Error('--change-percent, --hibob-reads and --plain-emulator go with --setup seed');
  if (setup === 'seed' && (destination !== '360learning' || values.only !== undefined))
    throw new Error('--setup seed is the 360Learning steady state alone: no --destination skillcast, no --only');
  if (setup === 'seed' && values['group-roles'] !== undefined)
    throw new Error('--group-roles is for the initial load, which --setup seed does not run');
  return {
    destination,
    employees,
    initial: Math.floor(numberOption('initial', values.initial, 1, 10_000)),
    writeLimit: numberOption('write-limit', values['write-limit'] ?? String(DEFAULT_WRITE_LIMIT), 0.5, 1_000),
    groupRoles,
    requestsPerSecond: numberOption(
      'requests-per-second',
      values['requests-per-second'] ?? String(DEFAULT_REQUESTS_PER_SECOND),
      0.5,
      1_000,
    ),
    only: values.only,
    setup,
    changePercent: numberOption('change-percent', values['change-percent'] ?? '1', 0.01, 100),
    hibobReads: numberOption('hibob-reads', values['hibob-reads'] ?? String(DEFAULT_SOURCE.readsPerSecond), 0.1, 50),
    plainEmulator: values['plain-emulator'] ?? false,
  };
}

// ---- scenario A: steady state -----------------------------------------------------------------

interface SteadyState {
  employees: number;
  setup: {
    wallMs: number;
    byAction: FullSyncResult['byAction'];
    outcomes: FullSyncResult['outcomes'];
    lmsWrites: number;
    learners: number;
    workerPeakRssMiB: number;
    limits: { perSecond: number; fullSync: typeof SETUP_FULL_SYNC };
    /**
     * The first full sync after the provisioning: no fingerprint matches yet (they were taken
     * before the learners existed), so every learner is read in full once. Run with the raised
     * limits too; its calls, and what they would take at the default read limit, are reported.
     */
    settle: {
      wallMs: number;
      byAction: FullSyncResult['byAction'];
      lms: LmsCalls & { getsPerEmployee: number };
      /** Its GETs at the default 360Learning read limit, the pace a real tenant would see. */
      atDefaultReadLimitS: number;
    };
  };
  run: {
    wallMs: number;
    workflowDurationMs: number;
    byAction: FullSyncResult['byAction'];
    outcomes: FullSyncResult['outcomes'];
    hibob: HibobCalls & { perEmployee: number };
    lms: LmsCalls & { getsPerEmployee: number; writesPerEmployee: number };
    temporal: TemporalWork & { perEmployee: ReturnType<typeof temporalPerEmployee> };
    memory: MemoryFigures;
    limits: typeof DEFAULT_LIMITS & { fullSync: ReturnType<typeof fullSyncSettings> };
  };
}

async function steadyState(options: Options, bundleCode: string): Promise<SteadyState> {
  const cleanup = new Cleanup();
  try {
    const taskQueue = `bench-fullsync-steady-${process.pid}`;
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-bench-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));

    log(`A: provisioning ${options.employees} employees with raised limits (${SETUP_PER_SECOND}/s)…`);
    const setupServer = await startServer();
    cleanup.add(() => setupServer.stop());
    const stack = await startLocalStack({
      temporalAddress: setupServer.address,
      taskQueue,
      codecKeys: `bench:${generateCodecKey()}`,
      workflowBundle: { code: bundleCode },
      only: ['hibob', '360learning'],
      employees: options.employees,
      seed: SEED,
      learning360: { writesPerSecond: SETUP_PER_SECOND, getPerSecond: SETUP_PER_SECOND },
      worker: false,
      dataDir,
    });
    cleanup.add(() => stack.close());
    const hibob = stack.emulators.hibob!.emulator;
    const lms = stack.emulators.learning360!.emulator;
    hibob.updateSettings({ rateLimits: { 'people.read': SETUP_PER_SECOND * 60 } });

    const setupConfig = withLimits(stack.config, {
      hibobReadsPerSecond: SETUP_PER_SECOND,
      lmsWritesPerSecond: SETUP_PER_SECOND,
      lmsReadsPerSecond: SETUP_PER_SECOND,
      fullSync: SETUP_FULL_SYNC,
    });
    const setupWorker = await startSetupWorker(stack.env, {
      kind: 'start',
      config: setupConfig,
      address: setupServer.address,
      bundleCode,
    });
    const progress = setInterval(() => log(`A: provisioning… ${lms.dump().users.length} learners so far`), 30_000);
    let setup: FullSyncRun;
    try {
      setup = await runFullSync(stack.client, taskQueue, 'setup', TIMEOUTS_MS.setup);
    } finally {
      clearInterval(progress);
    }
    const setupWrites = lms.kit.requests.entries.filter((e) => isWrite(e) && e.status < 400).length;
    const learners = lms.dump().users.length;
    log(`A: provisioned ${learners} learners in ${round(setup.wallMs / 1000)} s; ${setupWrites} writes`);
    // The steady state is what the daily sync meets: a tenant that has been synced before.
    log('A: settling run (first full sync after the provisioning, raised limits)…');
    lms.kit.requests.clear();
    const settle = await runFullSync(stack.client, taskQueue, 'settle', TIMEOUTS_MS.settle);
    const settleCalls = lmsCalls([...lms.kit.requests.entries]);
    log(`A: settled in ${round(settle.wallMs / 1000)} s; ${settleCalls.gets} GETs, ${settleCalls.writes} writes`);
    const setupWorkerPeak = (await setupWorker.stop()).peakRssBytes;
    // Hundreds of thousands of logged requests would otherwise count as the measured worker's memory.
    lms.kit.requests.clear();
    hibob.kit.requests.clear();
    // The provisioning server goes, with its thousands of idle employee workflows: the measured
    // run starts on a server and a worker that hold nothing of it.
    await setupServer.stop();

    // Back to the defaults, on both sides.
    hibob.updateSettings({ rateLimits: { 'people.read': DEFAULT_RATE_LIMITS['people.read'] } });
    setLms360Limits(stack, {
      writesPerSecond: DEFAULT_DESTINATION.writesPerSecond,
      getPerSecond: DEFAULT_DESTINATION.readsPerSecond,
    });
    const config = withLimits(stack.config, DEFAULT_LIMITS);

    const server = await startServer();
    cleanup.add(() => server.stop());
    const dataConverter = codecDataConverter(codecFromEnv(stack.env));
    const client = await connectClient({ address: server.address, namespace: 'default', dataConverter });
    cleanup.add(() => client.connection.close());
    collectGarbage();
    const beforeWorker = process.memoryUsage().rss;
    const workers = await createWorkers({
      config,
      env: stack.env,
      address: server.address,
      dataConverter,
      workflowBundle: { code: bundleCode },
    });
    const running = workers.run();
    cleanup.add(async () => {
      await workers.shutdown();
      await running;
    });

    hibob.kit.requests.clear();
    lms.kit.requests.clear();
    const sampler = new MemorySampler(beforeWorker, server.process.pid);
    log(`A: measured full sync over ${options.employees} employees, nothing to change…`);
    sampler.start();
    const run = await runFullSync(client, taskQueue, 'steady', TIMEOUTS_MS.steady);
    const memory = sampler.stop();
    const hibobSeen = hibobCalls([...hibob.kit.requests.entries]);
    const lmsSeen = lmsCalls([...lms.kit.requests.entries]);
    const work = await temporalWork(client);

    return {
      employees: options.employees,
      setup: {
        wallMs: setup.wallMs,
        byAction: setup.result.byAction,
        outcomes: setup.result.outcomes,
        lmsWrites: setupWrites,
        learners,
        workerPeakRssMiB: mib(setupWorkerPeak),
        limits: { perSecond: SETUP_PER_SECOND, fullSync: SETUP_FULL_SYNC },
        settle: {
          wallMs: settle.wallMs,
          byAction: settle.result.byAction,
          lms: { ...settleCalls, getsPerEmployee: perEmployee(settleCalls.gets, options.employees) },
          atDefaultReadLimitS: round(settleCalls.gets / DEFAULT_DESTINATION.readsPerSecond, 0),
        },
      },
      run: {
        wallMs: run.wallMs,
        workflowDurationMs: run.result.durationMs,
        byAction: run.result.byAction,
        outcomes: run.result.outcomes,
        hibob: { ...hibobSeen, perEmployee: perEmployee(hibobSeen.total, options.employees) },
        lms: {
          ...lmsSeen,
          getsPerEmployee: perEmployee(lmsSeen.gets, options.employees),
          writesPerEmployee: perEmployee(lmsSeen.writes, options.employees),
        },
        temporal: { ...work, perEmployee: temporalPerEmployee(work, options.employees) },
        memory,
        limits: { ...DEFAULT_LIMITS, fullSync: fullSyncSettings(config) },
      },
    };
  } finally {
    await cleanup.run();
  }
}

// ---- scenario B: initial load -------------------------------------------------------------------

/**
 * What a 360Learning write does, from the request log's method and path (24-hex ids folded to
 * `:id` by `route`). Group roles come two ways: one call per learner and role
 * (`POST /groups/{groupId}/{role}/{userId}`), or a bulk submission carrying many.
 */
type LmsWriteKind =
  | 'userCreates'
  | 'externalIdLinks'
  | 'customFieldValues'
  | 'activations'
  | 'managers'
  | 'groupRoleCalls'
  | 'bulkMembershipSubmissions'
  | 'other';

const LMS_WRITE_KINDS: { kind: Exclude<LmsWriteKind, 'other'>; route: RegExp; label: string }[] = [
  { kind: 'userCreates', route: /^POST \/api\/v2\/users$/, label: 'user creates' },
  { kind: 'externalIdLinks', route: /^POST \/api\/v2\/external-ids$/, label: 'external-id links' },
  {
    kind: 'customFieldValues',
    route: /^PUT \/api\/v2\/users\/:id\/custom-fields\/values$/,
    label: 'custom-field values',
  },
  { kind: 'activations', route: /^PUT \/api\/v2\/users\/:id\/activate$/, label: 'activations' },
  { kind: 'managers', route: /^(POST|DELETE) \/api\/v2\/users\/:id\/managers\/:id$/, label: 'managers' },
  {
    kind: 'groupRoleCalls',
    route: /^(PUT|POST|DELETE) \/api\/v2\/groups\/:id\/[a-z-]+\/:id$/,
    label: 'group roles, one call per learner',
  },
  {
    kind: 'bulkMembershipSubmissions',
    route: /^(POST|DELETE) \/api\/v2\/bulk\/groups\/memberships$/,
    label: 'bulk membership submissions',
  },
];
const WRITE_KIND_LABELS: Record<LmsWriteKind, string> = {
  ...(Object.fromEntries(LMS_WRITE_KINDS.map((k) => [k.kind, k.label])) as Record<
    Exclude<LmsWriteKind, 'other'>,
    string
  >),
  other: 'other',
};
/** Group-role writes: what bulk memberships amortise over a whole batch of learners. */
const GROUP_ROLE_WRITES: LmsWriteKind[] = ['groupRoleCalls', 'bulkMembershipSubmissions'];

function lmsWriteKind(e: LoggedRequest): LmsWriteKind {
  const r = route(e);
  return LMS_WRITE_KINDS.find((k) => k.route.test(r))?.kind ?? 'other';
}

/**
 * What a 360Learning GET reads:
 * - `listPages`: the paged lists the LMS snapshot reads (src/activities/learning360.ts
 *   `snapshot()`): the users list (no filter), the external ids of the platform (filtered on
 *   platform and type only) and the roles of each managed group;
 * - `perUser`: a user id in the path (`/users/{userId}`, `/users/{userId}/roles`, …);
 * - `lookups`: a list filtered on one person's value (LOOKUP_FILTERS: `?mail[eq]=`, `?value[eq]=`, …);
 * - `bulkPolls` / `bulkResults`: `GET /bulk/operations/{id}` and `…/{id}/results`;
 * - `other`: the rest (custom-field definitions, even filtered on `targetType`, and their
 *   authorized values, groups, …).
 */
type LmsGetKind = 'listPages' | 'perUser' | 'lookups' | 'bulkPolls' | 'bulkResults' | 'other';
const LMS_GET_KINDS: LmsGetKind[] = ['listPages', 'perUser', 'lookups', 'bulkPolls', 'bulkResults', 'other'];
/** Filters that look one person up by value: users by mail or username, external ids by value or learner. */
const LOOKUP_FILTERS = ['mail', 'username', 'value', 'targetId'];

/**
 * The filters a 360Learning list request applies, by name: from the query (`mail[eq]=…` is
 * `mail`), or for a `next` page from its cursor, which carries the first page's filters (the
 * emulator's cursor is base64url JSON, see packages/local/emulators/learning360/paging.ts).
 */
function lmsFilters(e: LoggedRequest): string[] {
  const query = new URLSearchParams(e.query);
  const next = query.get('next');
  if (next !== null) {
    try {
      const cursor = JSON.parse(Buffer.from(next, 'base64url').toString('utf8')) as { f?: Record<string, unknown> };
      return Object.entries(cursor.f ?? {})
        .filter(([, value]) => value !== undefined && value !== null)
        .map(([name]) => name)
        .sort();
    } catch {
      return ['(unreadable cursor)'];
    }
  }
  return [...new Set([...query.keys()].map((key) => key.replace(/\[.*$/, '')))].sort();
}

function lmsGetKind(e: LoggedRequest): LmsGetKind {
  const path = e.path;
  if (/^\/api\/v2\/bulk\/operations\/[^/]+\/results$/.test(path)) return 'bulkResults';
  if (/^\/api\/v2\/bulk\/operations\/[^/]+$/.test(path)) return 'bulkPolls';
  const filters = lmsFilters(e);
  if (path === '/api/v2/users' && filters.length === 0) return 'listPages';
  if (
    path === '/api/v2/external-ids' &&
    filters.includes('platform') &&
    filters.every((f) => f === 'platform' || f === 'type')
  )
    return 'listPages';
  if (/^\/api\/v2\/groups\/[^/]+\/roles$/.test(path)) return 'listPages';
  if (/^\/api\/v2\/users\/[^/]+(\/|$)/.test(path)) return 'perUser';
  if (filters.some((f) => LOOKUP_FILTERS.includes(f))) return 'lookups';
  return 'other';
}

const zeroes = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

interface LmsGetsByKind {
  /** Answered GETs (429s apart), by kind; `beyondLists` is every GET but the list pages. */
  byKind: Record<LmsGetKind, number>;
  beyondLists: number;
  /** The GETs beyond the lists by route, with the filters they apply named (`?platform&value`). */
  beyondListsByRoute: Record<string, number>;
}

function lmsGetsByKind(entries: LoggedRequest[]): LmsGetsByKind {
  const gets = entries.filter((e) => e.method === 'GET' && !isToken(e) && e.status !== 429);
  const byKind = zeroes(LMS_GET_KINDS);
  for (const e of gets) byKind[lmsGetKind(e)] += 1;
  const beyond = gets.filter((e) => lmsGetKind(e) !== 'listPages');
  return {
    byKind,
    beyondLists: beyond.length,
    beyondListsByRoute: countBy(beyond, (e) => {
      const filters = lmsFilters(e);
      return filters.length ? `${route(e)}?${filters.join('&')}` : route(e);
    }),
  };
}

interface WritesByKind {
  /** Successful writes (below 400, as the achieved rate counts them) of the measured sync, by kind. */
  counts: Record<LmsWriteKind, number>;
  perCreatedLearner: Record<LmsWriteKind, number>;
  /** The routes of the writes counted as `other`. */
  otherByRoute: Record<string, number>;
}

function writesByKind(entries: LoggedRequest[], created: number): WritesByKind {
  const writes = entries.filter((e) => isWrite(e) && e.status < 400);
  const kinds: LmsWriteKind[] = [...LMS_WRITE_KINDS.map((k) => k.kind), 'other'];
  const byKind = zeroes(kinds);
  for (const e of writes) byKind[lmsWriteKind(e)] += 1;
  return {
    counts: byKind,
    perCreatedLearner: Object.fromEntries(kinds.map((k) => [k, round(byKind[k] / Math.max(1, created), 3)])) as Record<
      LmsWriteKind,
      number
    >,
    otherByRoute: countBy(
      writes.filter((e) => lmsWriteKind(e) === 'other'),
      route,
    ),
  };
}

interface BulkMemberships {
  /** Bulk membership requests the emulator accepted (202), and those it answered 429 (rate or concurrency limit). */
  submissions: number;
  throttledSubmissions: number;
  /** Bulk operations the sync created, read from the emulator's company (the request log keeps no bodies). */
  operations: number;
  itemsSource: 'emulator bulk operations';
  items: number;
  itemsPerSubmission: number;
  itemsPerCreatedLearner: number;
  /** Items the emulator answered with an error, and operations it had not run when the sync ended. */
  itemErrors: number;
  operationsNotRun: number;
  /** GETs spent following the operations: status polls and result reads. */
  statusPolls: number;
  resultReads: number;
  pollGetsPerSubmission: number;
}

/** Ids of the bulk operations a 360Learning emulator's (first) company holds, so a run's own can be told apart. */
function bulkOperationIds(stack: LocalStack): Set<string> {
  return new Set(
    stack.emulators
      .learning360!.emulator.company()
      .listBulkOperations({})
      .map((op) => op._id),
  );
}

function bulkMemberships(
  stack: LocalStack,
  before: Set<string>,
  entries: LoggedRequest[],
  created: number,
): BulkMemberships {
  const company = stack.emulators.learning360!.emulator.company();
  company.sweep();
  let items = 0;
  let itemErrors = 0;
  let notRun = 0;
  const operations = company.listBulkOperations({}).filter((op) => !before.has(op._id));
  for (const op of operations) {
    try {
      const results = company.getBulkResults(op._id);
      items += results.length;
      itemErrors += results.filter((r) => r.status === 'error').length;
    } catch {
      // Not run yet: its input is only in the company's own record.
      notRun += 1;
      items += company['bulk'].get(op._id)?.input.length ?? 0;
    }
  }
  const submissions = entries.filter((e) => lmsWriteKind(e) === 'bulkMembershipSubmissions');
  const accepted = submissions.filter((e) => e.status < 400).length;
  const gets = entries.filter((e) => e.method === 'GET' && e.status !== 429);
  const statusPolls = gets.filter((e) => lmsGetKind(e) === 'bulkPolls').length;
  const resultReads = gets.filter((e) => lmsGetKind(e) === 'bulkResults').length;
  return {
    submissions: accepted,
    throttledSubmissions: submissions.filter((e) => e.status === 429).length,
    operations: operations.length,
    itemsSource: 'emulator bulk operations',
    items,
    itemsPerSubmission: accepted ? round(items / accepted, 1) : 0,
    itemsPerCreatedLearner: round(items / Math.max(1, created), 3),
    itemErrors,
    operationsNotRun: notRun,
    statusPolls,
    resultReads,
    pollGetsPerSubmission: accepted ? round((statusPolls + resultReads) / accepted, 2) : 0,
  };
}

interface ProvisioningFloor {
  createdLearners: number;
  /**
   * Successful writes per created learner but the group-role ones (per-learner calls and bulk
   * submissions): what a created learner cannot avoid once bulk memberships amortise its roles
   * to about nothing. `other` writes (custom-field definitions, authorized values) count in.
   */
  minimalWritesPerLearner: number;
  /** Write limit ÷ minimal writes per learner: the most employees a second the limit allows. */
  floorEmployeesPerSecond: number;
  /** Created learners ÷ the apply phase (first to last write, as for the achieved writes/s). */
  employeesPerSecond: number;
  ratioToFloor: number;
}

function provisioningFloor(writes: WritesByKind, rate: WriteRate, created: number): ProvisioningFloor {
  const minimal = Object.entries(writes.counts)
    .filter(([kind]) => !GROUP_ROLE_WRITES.includes(kind as LmsWriteKind))
    .reduce((n, [, count]) => n + count, 0);
  const minimalPerLearner = created ? minimal / created : 0;
  const floor = minimalPerLearner > 0 ? rate.limitPerSecond / minimalPerLearner : 0;
  const achieved = rate.applySpanS > 0 ? created / rate.applySpanS : 0;
  return {
    createdLearners: created,
    minimalWritesPerLearner: round(minimalPerLearner, 3),
    floorEmployeesPerSecond: round(floor, 3),
    employeesPerSecond: round(achieved, 3),
    ratioToFloor: floor > 0 ? round(achieved / floor, 3) : 0,
  };
}

/** Target for the run right after an initial load: GETs beyond the list pages per HiBob employee. */
const RUN_AFTER_GETS_BEYOND_LISTS_TARGET = 0.05;

/** The full sync right after the initial load: same server, worker and emulators, nothing changed in HiBob. */
interface RunAfter {
  wallMs: number;
  workflowDurationMs: number;
  byAction: FullSyncResult['byAction'];
  outcomes: FullSyncResult['outcomes'];
  lms: LmsCalls;
  gets: LmsGetsByKind & {
    listPages: number;
    /** GETs beyond the list pages ÷ HiBob employees (target ≤ RUN_AFTER_GETS_BEYOND_LISTS_TARGET). */
    beyondListsPerEmployee: number;
    target: number;
  };
  /** Writes of every status but 429 (expect 0). */
  writes: number;
  hibob: HibobCalls;
}

interface InitialLoad {
  employees: number;
  groupRoles: GroupRolesMode;
  /** The connection's `bulkMemberships` as the worker got it: true for `bulk`. */
  bulkMemberships: boolean;
  wallMs: number;
  workflowDurationMs: number;
  byAction: FullSyncResult['byAction'];
  outcomes: FullSyncResult['outcomes'];
  learners: number;
  writeRate: WriteRate;
  writesPerCreatedLearner: number;
  /** The measured sync's successful writes by kind, in all and per created learner. */
  writesByKind: WritesByKind;
  bulk: BulkMemberships;
  /** The measured sync's GETs by kind (list pages, per user, lookups, bulk polls, other). */
  getsByKind: LmsGetsByKind;
  provisioning: ProvisioningFloor;
  hibob: HibobCalls;
  lms: LmsCalls;
  /** HiBob reads per second during the apply phase: each employee workflow re-reads its person. */
  hibobReadsPerSecond: number;
  temporal: TemporalWork & { perEmployee: ReturnType<typeof temporalPerEmployee> };
  memory: MemoryFigures;
  limits: typeof DEFAULT_LIMITS & { emulatorWritesPerSecond: number; fullSync: ReturnType<typeof fullSyncSettings> };
  runAfter: RunAfter;
}

/** Sets the connection's `bulkMemberships` on the parsed config, as applyLimits sets its limits. */
function applyGroupRoles(config: BobsyncConfig, mode: GroupRolesMode): void {
  for (const connection of config.connections)
    if (connection.destination.type === '360learning') connection.destination.bulkMemberships = mode === 'bulk';
}

function bulkMembershipsOf(config: BobsyncConfig): boolean {
  const destination = config.connections.find((c) => c.name === CONNECTION)?.destination;
  if (destination?.type !== '360learning') throw new Error(`the config has no ${CONNECTION} connection to 360Learning`);
  return destination.bulkMemberships;
}

async function initialLoad(options: Options, bundleCode: string): Promise<InitialLoad> {
  const cleanup = new Cleanup();
  try {
    const limit = options.writeLimit;
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-bench-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer();
    cleanup.add(() => server.stop());
    collectGarbage();
    const beforeWorker = process.memoryUsage().rss;
    const stack = await startLocalStack({
      temporalAddress: server.address,
      taskQueue: `bench-fullsync-initial-${process.pid}`,
      codecKeys: `bench:${generateCodecKey()}`,
      workflowBundle: { code: bundleCode },
      only: ['hibob', '360learning'],
      employees: options.initial,
      seed: SEED,
      learning360: { writesPerSecond: limit },
      dataDir,
      configure: (config) => {
        // The stack reads HiBob fast for tests; a customer's config reads at the default rate.
        applyLimits(config, { ...DEFAULT_LIMITS, lmsWritesPerSecond: limit });
        applyGroupRoles(config, options.groupRoles);
      },
    });
    cleanup.add(() => stack.close());
    const hibob = stack.emulators.hibob!.emulator;
    const lms = stack.emulators.learning360!.emulator;
    hibob.kit.requests.clear();
    lms.kit.requests.clear();
    const bulkBefore = bulkOperationIds(stack);

    const sampler = new MemorySampler(beforeWorker, server.process.pid);
    log(`B: initial load of ${options.initial} employees at ${limit} writes/s, group roles ${options.groupRoles}…`);
    const progress = setInterval(() => log(`B: loading… ${lms.dump().users.length} learners so far`), 30_000);
    sampler.start();
    let run: FullSyncRun;
    try {
      run = await runFullSync(stack.client, stack.taskQueue, 'initial', initialTimeoutMs(options));
    } finally {
      clearInterval(progress);
    }
    const memory = sampler.stop();
    const lmsEntries = [...lms.kit.requests.entries];
    const hibobEntries = [...hibob.kit.requests.entries];
    const rate = writeRate(lmsEntries, limit, run.startedAt);
    const applyFrom = run.startedAt + rate.firstWriteAfterMs;
    const reads = hibobEntries.filter(
      (e) =>
        e.method === 'POST' &&
        /^\/v1\/people\/[^/]+$/.test(e.path) &&
        e.path !== '/v1/people/search' &&
        e.at >= applyFrom,
    ).length;
    const created = run.result.byAction.create ?? 0;
    const writes = writesByKind(lmsEntries, created);
    const bulk = bulkMemberships(stack, bulkBefore, lmsEntries, created);
    const learners = lms.dump().users.length;
    log(`B: loaded ${learners} learners in ${round(run.wallMs / 1000)} s; reading back the Temporal histories…`);
    const work = await temporalWork(stack.client);

    // The run after: same server, worker and emulators; nothing changed in HiBob.
    hibob.kit.requests.clear();
    lms.kit.requests.clear();
    log('B: full sync right after, nothing to change…');
    const again = await runFullSync(stack.client, stack.taskQueue, 'again', TIMEOUTS_MS.steady);
    const againEntries = [...lms.kit.requests.entries];
    const againGets = lmsGetsByKind(againEntries);
    const againCalls = lmsCalls(againEntries);
    return {
      employees: options.initial,
      groupRoles: options.groupRoles,
      bulkMemberships: bulkMembershipsOf(stack.config),
      wallMs: run.wallMs,
      workflowDurationMs: run.result.durationMs,
      byAction: run.result.byAction,
      outcomes: run.result.outcomes,
      learners,
      writeRate: rate,
      writesPerCreatedLearner: round(rate.writes / Math.max(1, created), 2),
      writesByKind: writes,
      bulk,
      getsByKind: lmsGetsByKind(lmsEntries),
      provisioning: provisioningFloor(writes, rate, created),
      hibob: hibobCalls(hibobEntries),
      lms: lmsCalls(lmsEntries),
      hibobReadsPerSecond: rate.applySpanS > 0 ? round(reads / rate.applySpanS, 2) : 0,
      temporal: { ...work, perEmployee: temporalPerEmployee(work, options.initial) },
      memory,
      limits: {
        ...DEFAULT_LIMITS,
        lmsWritesPerSecond: limit,
        emulatorWritesPerSecond: limit,
        fullSync: fullSyncSettings(stack.config),
      },
      runAfter: {
        wallMs: again.wallMs,
        workflowDurationMs: again.result.durationMs,
        byAction: again.result.byAction,
        outcomes: again.result.outcomes,
        lms: againCalls,
        gets: {
          ...againGets,
          listPages: againGets.byKind.listPages,
          beyondListsPerEmployee: perEmployee(againGets.beyondLists, options.initial),
          target: RUN_AFTER_GETS_BEYOND_LISTS_TARGET,
        },
        writes: againCalls.writes,
        hibob: hibobCalls([...hibob.kit.requests.entries]),
      },
    };
  } finally {
    await cleanup.run();
  }
}

// ---- Skillcast (SCIM 2.0) -----------------------------------------------------------------------

/** The demo's Skillcast connection alone, at the limits a customer gets without setting any, except its SCIM rate. */
function skillcastOnly(config: BobsyncConfig, requestsPerSecond: number): void {
  config.connections = config.connections.filter((c) => c.name === SKILLCAST_CONNECTION);
  const connection = config.connections[0];
  if (connection?.destination.type !== 'skillcast')
    throw new Error(`the demo config has no ${SKILLCAST_CONNECTION} connection`);
  // The stack reads HiBob fast for tests; a customer's config reads at the default rate.
  connection.source.readsPerSecond = DEFAULT_SOURCE.readsPerSecond;
  connection.destination.requestsPerSecond = requestsPerSecond;
}

function skillcastConnection(config: BobsyncConfig): {
  connection: ConnectionConfig;
  destination: SkillcastDestinationConfig;
} {
  const connection = config.connections.find((c) => c.name === SKILLCAST_CONNECTION);
  if (connection?.destination.type !== 'skillcast')
    throw new Error(`the config has no ${SKILLCAST_CONNECTION} connection`);
  return { connection, destination: connection.destination };
}

/** The limits the measured Skillcast runs work under, as the worker derives them from the config. */
function skillcastLimits(config: BobsyncConfig) {
  const { connection, destination } = skillcastConnection(config);
  return {
    hibobReadsPerSecond: connection.source.readsPerSecond,
    scimRequestsPerSecond: destination.requestsPerSecond,
    /** Task-queue rate of the connection's LMS reads queue (lookups) and writes queue (one operation each). */
    lookupActivitiesPerSecond: round(lmsActivitiesPerSecond(connection, 'reads'), 2),
    writeActivitiesPerSecond: round(lmsActivitiesPerSecond(connection, 'writes'), 2),
    approval: connection.safety.approval ?? null,
    fullSync: fullSyncSettings(config, SKILLCAST_CONNECTION),
  };
}

/** A SCIM client built as the worker builds the connection's own (src/activities/deps.ts). */
function scimClientOf(
  connection: ConnectionConfig,
  destination: SkillcastDestinationConfig,
  env: NodeJS.ProcessEnv,
): ScimClient {
  return new ScimClient({
    baseUrl: destination.baseUrl,
    token: readSecret(destination.token, env),
    extensionUrn: destination.extensionUrn,
    customAttributes: connection.mapping.customFields.map((f) => f.name),
    requestsPerSecond: destination.requestsPerSecond,
  });
}

const isScim = (e: LoggedRequest) => e.path.startsWith(SCIM_BASE_PATH);
const isScimWrite = (e: LoggedRequest) => isScim(e) && e.method !== 'GET' && e.method !== 'HEAD';
const scimPath = (e: LoggedRequest) => e.path.slice(SCIM_BASE_PATH.length).replace(/^\/v2(?=\/)/, '');

/** The attribute a list request filters on (`externalId`, `userName`), if it filters. */
function scimFilterAttribute(e: LoggedRequest): string | undefined {
  const filter = new URLSearchParams(e.query).get('filter');
  return filter ? (/^\s*([\w.:]+)/.exec(filter)?.[1] ?? 'other') : undefined;
}

/** One line per kind of SCIM request: user ids folded, lookups named by the attribute they filter on. */
function scimRoute(e: LoggedRequest): string {
  const path = scimPath(e).replace(/^\/Users\/[^/]+$/, '/Users/:id');
  if (e.method === 'GET' && path === '/Users') {
    const attribute = scimFilterAttribute(e);
    return attribute ? `GET /Users?filter=${attribute}` : 'GET /Users (list page)';
  }
  return `${e.method} ${path}`;
}

/** Discovery and unfiltered list pages: what a snapshot reads. Every other request serves one employee. */
function isSnapshotRead(e: LoggedRequest): boolean {
  if (e.method !== 'GET') return false;
  const path = scimPath(e);
  return (
    path === '/ServiceProviderConfig' ||
    path.startsWith('/ResourceTypes') ||
    path.startsWith('/Schemas') ||
    (path === '/Users' && scimFilterAttribute(e) === undefined)
  );
}

interface ScimCalls {
  /** Every SCIM request the emulator answered, whatever the status. */
  requests: number;
  gets: number;
  /** POST, PUT, PATCH and DELETE, whatever the status; `writesSucceeded` those answered below 400. */
  writes: number;
  writesSucceeded: number;
  throttled: number;
  /** Answered 400 or above (429 apart), by route and status. */
  errors: Record<string, number>;
  byRoute: Record<string, number>;
}

function scimCalls(entries: LoggedRequest[]): ScimCalls {
  const scim = entries.filter(isScim);
  return {
    requests: scim.length,
    gets: scim.filter((e) => !isScimWrite(e)).length,
    writes: scim.filter(isScimWrite).length,
    writesSucceeded: scim.filter((e) => isScimWrite(e) && e.status < 400).length,
    throttled: scim.filter((e) => e.status === 429).length,
    errors: countBy(
      scim.filter((e) => e.status >= 400 && e.status !== 429),
      (e) => `${scimRoute(e)} ${e.status}`,
    ),
    byRoute: countBy(scim, scimRoute),
  };
}

interface ScimRate {
  configuredPerSecond: number;
  /** The client spaces requests at HEADROOM × the configured rate: the most it will ever send. */
  clientCeilingPerSecond: number;
  /** SCIM requests (all methods and statuses) from the first request of the batches to the last of the run. */
  requests: number;
  firstRequestAfterMs: number;
  applySpanS: number;
  /** requests / (last − first). */
  achievedPerSecond: number;
  ratio: number;
  ratioToCeiling: number;
  /** Over the middle 80 % of the apply phase, without ramp-up and tail. */
  middlePerSecond: number;
  /** Most requests that started within any one second (sliding). */
  peakSlidingSecond: number;
  /** Whole calendar seconds of the phase at the client's ceiling (rounded down), below it, without requests. */
  secondsAtCeiling: number;
  secondsBelowCeiling: number;
  secondsWithoutRequests: number;
  /** 1 / ceiling: the client's spacing between two requests. */
  spacingMs: number;
  /** Time beyond one spacing between consecutive requests, in gaps shorter than two spacings: timers waking late. */
  lateS: number;
  /** Time beyond one spacing in gaps of two spacings or more: no request was waiting for a slot. */
  starvedS: number;
  /** How many such gaps, and the longest gap of all. */
  starvedGaps: number;
  longestGapMs: number;
  /** The longest of those gaps: where in the phase they began (seconds after its first request) and how long they were. */
  longestGaps: { atS: number; ms: number }[];
  throttled: number;
}

function scimRate(entries: LoggedRequest[], configured: number, runStartedAt: number): ScimRate {
  const scim = entries.filter(isScim).sort((a, b) => a.at - b.at);
  const from = scim.find((e) => !isSnapshotRead(e))?.at ?? runStartedAt;
  const inPhase = scim.filter((e) => e.at >= from);
  const times = inPhase.map((e) => e.at);
  const last = times.at(-1) ?? from;
  const spanS = (last - from) / 1000;
  const achieved = spanS > 0 ? times.length / spanS : 0;
  const ceiling = configured * HEADROOM;
  const spacing = 1000 / ceiling;
  let late = 0;
  let starved = 0;
  let starvedGaps = 0;
  let longest = 0;
  const gaps: { atS: number; ms: number }[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    longest = Math.max(longest, gap);
    if (gap >= 2 * spacing) {
      starved += gap - spacing;
      starvedGaps += 1;
      gaps.push({ atS: round((times[i - 1]! - from) / 1000), ms: gap });
    } else if (gap > spacing) late += gap - spacing;
  }
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
  let atCeiling = 0;
  let below = 0;
  let empty = 0;
  // Whole seconds strictly inside the phase: the first and last are partial by nature.
  for (let s = Math.floor(from / 1000) + 1; s < Math.floor(last / 1000); s++) {
    const n = perSecond.get(s) ?? 0;
    if (n === 0) empty += 1;
    else if (n >= Math.floor(ceiling)) atCeiling += 1;
    else below += 1;
  }
  const lo = from + (last - from) * 0.1;
  const hi = from + (last - from) * 0.9;
  const middle = times.filter((t) => t >= lo && t <= hi).length;
  let peak = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= 1000) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return {
    configuredPerSecond: configured,
    clientCeilingPerSecond: round(ceiling, 2),
    requests: times.length,
    firstRequestAfterMs: from - runStartedAt,
    applySpanS: round(spanS),
    achievedPerSecond: round(achieved, 2),
    ratio: round(achieved / configured, 3),
    ratioToCeiling: round(achieved / ceiling, 3),
    middlePerSecond: hi > lo ? round(middle / ((hi - lo) / 1000), 2) : 0,
    peakSlidingSecond: peak,
    secondsAtCeiling: atCeiling,
    secondsBelowCeiling: below,
    secondsWithoutRequests: empty,
    spacingMs: round(spacing, 1),
    lateS: round(late / 1000),
    starvedS: round(starved / 1000),
    starvedGaps,
    longestGapMs: longest,
    longestGaps: gaps.sort((a, b) => b.ms - a.ms).slice(0, 5),
    throttled: inPhase.filter((e) => e.status === 429).length,
  };
}

interface SkillcastSeed {
  /** People the HiBob search returned. */
  hibobEmployees: number;
  users: number;
  /** What the planner makes of each person in an empty domain: create, noop, park, or conflict (an address already claimed). */
  byPlan: Record<string, number>;
  ms: number;
}

/**
 * What a full sync into an empty domain leaves behind, written straight into the emulator: for
 * every HiBob person the planner would create a user for, the document the create sends
 * (scimUserToCreate), with the custom attributes and the manager the plan sets after it. The
 * planner itself decides who gets a user, so the first full sync over the domain changes nothing.
 */
async function seedSkillcast(stack: LocalStack, config: BobsyncConfig): Promise<SkillcastSeed> {
  const started = Date.now();
  const { connection, destination } = skillcastConnection(config);
  const { mapping } = connection;
  const { records } = await readHibobPopulation({ hibob: hibobClientOf(connection, stack.env) }, connection);
  const now = new Date();
  const desired = [...records].map((r) =>
    desiredLearner(normaliseEmployee(r, normaliseOptions(mapping)), mapping, now),
  );
  const createOf = (plan: Plan) =>
    plan.outcome.kind === 'apply' && plan.outcome.operations[0]?.op === 'create'
      ? plan.outcome.operations[0]
      : undefined;

  // Who gets a user: as in the planner, the first of two people sharing an address claims it.
  const ids = new Map<string, string>();
  const claimed = new Set<string>();
  const byPlan: Record<string, number> = {};
  const bare = planContextFor(mapping, SCIM_TRAITS);
  for (const d of desired) {
    const plan = planEmployee({ desired: d, match: { kind: 'none' }, context: bare });
    const mail = createOf(plan)?.fields.mail?.toLowerCase();
    const kind = !createOf(plan) ? plan.outcome.kind : mail && claimed.has(mail) ? 'conflict' : 'create';
    byPlan[kind] = (byPlan[kind] ?? 0) + 1;
    if (kind !== 'create') continue;
    if (mail) claimed.add(mail);
    ids.set(d.employeeId, randomUUID());
  }

  // What each new user carries once its plan has run, managers included.
  const context = planContextFor(mapping, SCIM_TRAITS, Object.fromEntries(ids));
  const users: SeedUser[] = [];
  for (const d of desired) {
    const id = ids.get(d.employeeId);
    if (!id) continue;
    const plan = planEmployee({ desired: d, match: { kind: 'none' }, context });
    const [create, ...rest] = plan.outcome.kind === 'apply' ? plan.outcome.operations : [];
    if (create?.op !== 'create') throw new Error(`seeding: no create planned for ${d.employeeId} with managers known`);
    const input = scimUserToCreate(d.employeeId, create.fields);
    for (const op of rest) {
      switch (op.op) {
        case 'linkExternalId': // the create carries the HiBob id
        case 'deferManager': // the manager gets no user: the sync leaves the manager unset too
          break;
        case 'setCustomFields':
          input.custom = { ...op.values };
          break;
        case 'addManager':
          input.enterprise = { ...input.enterprise, manager: { value: op.managerLearnerId } };
          break;
        default:
          throw new Error(`seeding: the plan of a new user has ${op.op}, which the seed does not reproduce`);
      }
    }
    users.push({ ...toUserDocument(input, destination.extensionUrn), id });
  }
  stack.emulators.skillcast!.emulator.seedUsers(users, destination.domain);
  return { hibobEmployees: records.length, users: users.length, byPlan, ms: Date.now() - started };
}

interface SkillcastFloor {
  /** One HiBob people search (as the full sync's snapshot asks it) and then every SCIM list page, at the connection's rate. */
  wallMs: number;
  hibobSearchMs: number;
  scimListMs: number;
  /** Discovery (3) and list pages. */
  scimRequests: number;
  pages: number;
  users: number;
}

/** The least a full sync must do: read HiBob once and list the domain at the configured rate, nothing else. */
async function skillcastFloor(stack: LocalStack, config: BobsyncConfig): Promise<SkillcastFloor> {
  const { connection, destination } = skillcastConnection(config);
  const started = Date.now();
  await readHibobPopulation({ hibob: hibobClientOf(connection, stack.env) }, connection);
  const searched = Date.now();
  const scim = scimClientOf(connection, destination, stack.env);
  let users = 0;
  let pages = 0;
  for await (const page of scim.userPages()) {
    users += page.users.length;
    pages += 1;
  }
  const finished = Date.now();
  return {
    wallMs: finished - started,
    hibobSearchMs: searched - started,
    scimListMs: finished - searched,
    scimRequests: scim.calls.read + scim.calls.write,
    pages,
    users,
  };
}

const usersIn = (stack: LocalStack, domain: string) =>
  stack.emulators.skillcast!.emulator.tenant.store.all().filter((u) => u.domain === domain);

interface SkillcastSteady {
  employees: number;
  seed: SkillcastSeed;
  floor: SkillcastFloor;
  run: {
    wallMs: number;
    workflowDurationMs: number;
    /** Wall time ÷ the floor's. */
    ratioToFloor: number;
    byAction: FullSyncResult['byAction'];
    outcomes: FullSyncResult['outcomes'];
    hibob: HibobCalls & { perEmployee: number };
    scim: ScimCalls & { getsPerEmployee: number; writesPerEmployee: number };
    temporal: TemporalWork & { perEmployee: ReturnType<typeof temporalPerEmployee> };
    memory: MemoryFigures;
    limits: ReturnType<typeof skillcastLimits>;
    /** The full sync's own history, step by step, in seconds: where the time above the floor goes. */
    steps: FullSyncStep[];
  };
}

async function skillcastSteady(options: Options, bundleCode: string): Promise<SkillcastSteady> {
  const cleanup = new Cleanup();
  try {
    const taskQueue = `bench-fullsync-skillcast-steady-${process.pid}`;
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-bench-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer();
    cleanup.add(() => server.stop());
    const stack = await startLocalStack({
      temporalAddress: server.address,
      taskQueue,
      codecKeys: `bench:${generateCodecKey()}`,
      workflowBundle: { code: bundleCode },
      only: ['hibob', 'skillcast'],
      employees: options.employees,
      seed: SEED,
      worker: false,
      dataDir,
      configure: (config) => skillcastOnly(config, options.requestsPerSecond),
    });
    cleanup.add(() => stack.close());
    const hibob = stack.emulators.hibob!.emulator;
    const skillcast = stack.emulators.skillcast!.emulator;
    const config = stack.config;

    log(`A: seeding Skillcast with the users a full sync would have made for ${options.employees} employees…`);
    const seed = await seedSkillcast(stack, config);
    log(`A: seeded ${seed.users} users in ${round(seed.ms / 1000)} s (${counts(seed.byPlan)})`);

    hibob.kit.requests.clear();
    skillcast.kit.requests.clear();
    log(`A: floor: one HiBob search and the paged SCIM list at ${options.requestsPerSecond} requests/s…`);
    const floor = await skillcastFloor(stack, config);
    log(
      `A: floor ${round(floor.wallMs / 1000, 2)} s (HiBob ${round(floor.hibobSearchMs / 1000, 2)} s, SCIM ${floor.scimRequests} requests in ${round(floor.scimListMs / 1000, 2)} s)`,
    );

    collectGarbage();
    const beforeWorker = process.memoryUsage().rss;
    const dataConverter = codecDataConverter(codecFromEnv(stack.env));
    const workers = await createWorkers({
      config,
      env: stack.env,
      address: server.address,
      dataConverter,
      workflowBundle: { code: bundleCode },
    });
    const running = workers.run();
    cleanup.add(async () => {
      await workers.shutdown();
      await running;
    });

    hibob.kit.requests.clear();
    skillcast.kit.requests.clear();
    const sampler = new MemorySampler(beforeWorker, server.process.pid);
    log(`A: measured full sync over ${options.employees} employees, nothing to change…`);
    sampler.start();
    const run = await runFullSync(stack.client, taskQueue, 'steady', TIMEOUTS_MS.steady, SKILLCAST_CONNECTION);
    const memory = sampler.stop();
    const hibobSeen = hibobCalls([...hibob.kit.requests.entries]);
    const scimSeen = scimCalls([...skillcast.kit.requests.entries]);
    const work = await temporalWork(stack.client);
    const steps = await fullSyncSteps(stack.client, run.workflowId);
    return {
      employees: options.employees,
      seed,
      floor,
      run: {
        wallMs: run.wallMs,
        workflowDurationMs: run.result.durationMs,
        ratioToFloor: round(run.wallMs / Math.max(1, floor.wallMs), 2),
        byAction: run.result.byAction,
        outcomes: run.result.outcomes,
        hibob: { ...hibobSeen, perEmployee: perEmployee(hibobSeen.total, options.employees) },
        scim: {
          ...scimSeen,
          getsPerEmployee: perEmployee(scimSeen.gets, options.employees),
          writesPerEmployee: perEmployee(scimSeen.writes, options.employees),
        },
        temporal: { ...work, perEmployee: temporalPerEmployee(work, options.employees) },
        memory,
        limits: skillcastLimits(config),
        steps,
      },
    };
  } finally {
    await cleanup.run();
  }
}

interface SkillcastInitial {
  employees: number;
  wallMs: number;
  workflowDurationMs: number;
  byAction: FullSyncResult['byAction'];
  outcomes: FullSyncResult['outcomes'];
  /** Users in the connection's domain afterwards, and how many of them are active. */
  users: number;
  activeUsers: number;
  rate: ScimRate;
  /** The apply phase's requests per created user, in all and by route. */
  perCreatedUser: { requests: number; gets: number; writes: number; byRoute: Record<string, number> };
  scim: ScimCalls;
  hibob: HibobCalls;
  /** HiBob reads per second during the apply phase: each employee workflow re-reads its person. */
  hibobReadsPerSecond: number;
  temporal: TemporalWork & { perEmployee: ReturnType<typeof temporalPerEmployee> };
  memory: MemoryFigures;
  limits: ReturnType<typeof skillcastLimits>;
  steps: FullSyncStep[];
  /** The full sync right after, over the same data: nothing to change. */
  again: {
    wallMs: number;
    byAction: FullSyncResult['byAction'];
    outcomes: FullSyncResult['outcomes'];
    scim: ScimCalls;
    hibob: HibobCalls;
  };
}

async function skillcastInitial(options: Options, bundleCode: string): Promise<SkillcastInitial> {
  const cleanup = new Cleanup();
  try {
    const rate = options.requestsPerSecond;
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-bench-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startServer();
    cleanup.add(() => server.stop());
    collectGarbage();
    const beforeWorker = process.memoryUsage().rss;
    const stack = await startLocalStack({
      temporalAddress: server.address,
      taskQueue: `bench-fullsync-skillcast-initial-${process.pid}`,
      codecKeys: `bench:${generateCodecKey()}`,
      workflowBundle: { code: bundleCode },
      only: ['hibob', 'skillcast'],
      employees: options.initial,
      seed: SEED,
      dataDir,
      configure: (config) => skillcastOnly(config, rate),
    });
    cleanup.add(() => stack.close());
    const hibob = stack.emulators.hibob!.emulator;
    const skillcast = stack.emulators.skillcast!.emulator;
    const { destination } = skillcastConnection(stack.config);
    hibob.kit.requests.clear();
    skillcast.kit.requests.clear();

    const sampler = new MemorySampler(beforeWorker, server.process.pid);
    log(`B: initial load of ${options.initial} employees into an empty Skillcast domain at ${rate} SCIM requests/s…`);
    const progress = setInterval(
      () => log(`B: loading… ${usersIn(stack, destination.domain).length} users so far`),
      30_000,
    );
    sampler.start();
    let run: FullSyncRun;
    try {
      run = await runFullSync(
        stack.client,
        stack.taskQueue,
        'initial',
        skillcastInitialTimeoutMs(options),
        SKILLCAST_CONNECTION,
      );
    } finally {
      clearInterval(progress);
    }
    const memory = sampler.stop();
    const scimEntries = [...skillcast.kit.requests.entries];
    const hibobEntries = [...hibob.kit.requests.entries];
    const scimRateSeen = scimRate(scimEntries, rate, run.startedAt);
    const applyFrom = run.startedAt + scimRateSeen.firstRequestAfterMs;
    const applied = scimEntries.filter((e) => isScim(e) && e.at >= applyFrom);
    const reads = hibobEntries.filter(
      (e) =>
        e.method === 'POST' &&
        /^\/v1\/people\/[^/]+$/.test(e.path) &&
        e.path !== '/v1/people/search' &&
        e.at >= applyFrom,
    ).length;
    const created = Math.max(1, run.result.byAction.create ?? 0);
    const users = usersIn(stack, destination.domain);
    log(`B: loaded ${users.length} users in ${round(run.wallMs / 1000)} s; reading back the Temporal histories…`);
    const work = await temporalWork(stack.client);
    const steps = await fullSyncSteps(stack.client, run.workflowId);

    hibob.kit.requests.clear();
    skillcast.kit.requests.clear();
    log('B: full sync right after, nothing to change…');
    const again = await runFullSync(stack.client, stack.taskQueue, 'again', TIMEOUTS_MS.steady, SKILLCAST_CONNECTION);
    return {
      employees: options.initial,
      wallMs: run.wallMs,
      workflowDurationMs: run.result.durationMs,
      byAction: run.result.byAction,
      outcomes: run.result.outcomes,
      users: users.length,
      activeUsers: users.filter((u) => u.core.active).length,
      rate: scimRateSeen,
      perCreatedUser: {
        requests: round(applied.length / created, 2),
        gets: round(applied.filter((e) => !isScimWrite(e)).length / created, 2),
        writes: round(applied.filter(isScimWrite).length / created, 2),
        byRoute: Object.fromEntries(
          Object.entries(countBy(applied, scimRoute)).map(([k, n]) => [k, round(n / created, 2)]),
        ),
      },
      scim: scimCalls(scimEntries),
      hibob: hibobCalls(hibobEntries),
      hibobReadsPerSecond: scimRateSeen.applySpanS > 0 ? round(reads / scimRateSeen.applySpanS, 2) : 0,
      temporal: { ...work, perEmployee: temporalPerEmployee(work, options.initial) },
      memory,
      limits: skillcastLimits(stack.config),
      steps,
      again: {
        wallMs: again.wallMs,
        byAction: again.result.byAction,
        outcomes: again.result.outcomes,
        scim: scimCalls([...skillcast.kit.requests.entries]),
        hibob: hibobCalls([...hibob.kit.requests.entries]),
      },
    };
  } finally {
    await cleanup.run();
  }
}

// ---- report -------------------------------------------------------------------------------------

function printSteady(a: SteadyState): void {
  const r = a.run;
  const t = r.temporal;
  log('');
  log(`A. steady state — ${a.employees} employees provisioned, full sync with nothing to change`);
  log(
    table([
      [
        'setup (not measured)',
        `${a.setup.learners} learners, ${a.setup.lmsWrites} writes in ${round(a.setup.wallMs / 1000)} s at ${a.setup.limits.perSecond}/s limits; outcomes ${counts(a.setup.outcomes)}`,
      ],
      [
        'settling run (not measured)',
        `${a.setup.settle.lms.gets} GETs (${a.setup.settle.lms.getsPerEmployee}/employee), ${a.setup.settle.lms.writes} writes in ${round(a.setup.settle.wallMs / 1000)} s; at the default ${DEFAULT_DESTINATION.readsPerSecond} GET/s ≈ ${round(a.setup.settle.atDefaultReadLimitS / 60)} min`,
      ],
      ['wall time', `${round(r.wallMs / 1000, 2)} s (workflow ${round(r.workflowDurationMs / 1000, 2)} s)`],
      ['planned', counts(r.byAction)],
      ['HiBob calls', `${r.hibob.total} (${r.hibob.perEmployee}/employee): ${counts(r.hibob.byRoute)}`],
      ['360L GETs', `${r.lms.gets} (${r.lms.getsPerEmployee}/employee): ${counts(r.lms.byRoute)}`],
      [
        '360L writes',
        `${r.lms.writes} (${r.lms.writesPerEmployee}/employee); token requests ${r.lms.tokenRequests}; 429s ${r.lms.throttled}`,
      ],
      ['employee workflows', `${t.workflows.employeeSync ?? 0}`],
      ['workflow executions', `${counts(t.workflows)}`],
      [
        'Temporal work',
        `${t.historyEvents} history events, ${t.workflowTasks} workflow tasks, ${t.activities} activities (${t.activityRetries} retries), ${t.localActivities} local, ${t.timers} timers`,
      ],
      [
        'Temporal actions',
        `≈${t.actions} (${t.perEmployee.actions}/employee); history events ${t.perEmployee.historyEvents}/employee`,
      ],
      [
        'worker process RSS',
        `peak ${r.memory.peakRssMiB} MiB (idle ${r.memory.idleRssMiB}, before the worker ${r.memory.beforeWorkerRssMiB}); heap peak ${r.memory.peakHeapUsedMiB} MiB`,
      ],
      ['Temporal server RSS', `peak ${r.memory.temporalServerPeakRssMiB ?? '?'} MiB`],
      [
        'limits',
        `HiBob reads ${r.limits.hibobReadsPerSecond}/s, 360L writes ${r.limits.lmsWritesPerSecond}/s, reads ${r.limits.lmsReadsPerSecond}/s; ${JSON.stringify(r.limits.fullSync)}`,
      ],
    ]),
  );
}

function printInitial(b: InitialLoad): void {
  const w = b.writeRate;
  log('');
  log(
    `B. initial load — ${b.employees} employees into an empty 360Learning at ${w.limitPerSecond} writes/s, group roles ${b.groupRoles}`,
  );
  log(
    table([
      [
        'wall time',
        `${round(b.wallMs / 1000, 1)} s (workflow ${round(b.workflowDurationMs / 1000, 1)} s); first write after ${round(w.firstWriteAfterMs / 1000, 1)} s`,
      ],
      ['planned', counts(b.byAction)],
      ['outcomes', `${counts(b.outcomes)}; ${b.learners} learners in 360Learning`],
      [
        'writes',
        `${w.writes} (${b.writesPerCreatedLearner} per created learner): ${counts(Object.fromEntries(Object.entries(b.lms.byRoute).filter(([k]) => !k.startsWith('GET'))))}`,
      ],
      ['apply phase', `${w.applySpanS} s from first to last write`],
      ['achieved', `${w.achievedPerSecond} writes/s of ${w.limitPerSecond}: ratio ${w.ratio} (target ≥ 0.9)`],
      ...provisioningRows(b),
      [
        'client ceiling',
        `${w.clientCeilingPerSecond}/s (writes spaced at ${HEADROOM} × the limit): ratio to it ${w.ratioToCeiling}; middle 80 % of the phase ${w.middlePerSecond}/s`,
      ],
      [
        'seconds in apply',
        `${w.secondsAtLimit} at the limit, ${w.secondsBelowLimit} below, ${w.secondsWithoutWrites} without writes; peak ${w.peakPerSecond}/s`,
      ],
      ['429s', `${w.throttled} on writes, ${b.lms.throttled} in all`],
      [
        'other calls',
        `360L GETs ${b.lms.gets}, HiBob ${b.hibob.total} (${b.hibobReadsPerSecond} reads/s while applying), 360L errors ${b.lms.otherErrors}`,
      ],
      ['workflow executions', `${counts(b.temporal.workflows)}`],
      [
        'Temporal actions',
        `≈${b.temporal.actions} (${b.temporal.perEmployee.actions}/employee); ${b.temporal.historyEvents} history events; ${b.temporal.activityRetries} activity retries`,
      ],
      [
        'worker process RSS',
        `peak ${b.memory.peakRssMiB} MiB (idle ${b.memory.idleRssMiB}, before the worker ${b.memory.beforeWorkerRssMiB}); heap peak ${b.memory.peakHeapUsedMiB} MiB`,
      ],
      ['Temporal server RSS', `peak ${b.memory.temporalServerPeakRssMiB ?? '?'} MiB`],
      [
        'limits',
        `HiBob reads ${b.limits.hibobReadsPerSecond}/s, 360L writes ${b.limits.lmsWritesPerSecond}/s, reads ${b.limits.lmsReadsPerSecond}/s; ${JSON.stringify(b.limits.fullSync)}`,
      ],
      ['group roles', `${b.groupRoles} (the connection's bulkMemberships ${b.bulkMemberships})`],
      ...runAfterRows(b.runAfter),
    ]),
  );
}

/** Writes per created learner by kind, bulk memberships, and employees a second against the floor. */
function provisioningRows(b: InitialLoad): [string, string][] {
  const p = b.provisioning;
  const wk = b.writesByKind;
  const bulk = b.bulk;
  const g = b.getsByKind.byKind;
  const kinds = Object.keys(wk.counts) as LmsWriteKind[];
  return [
    [
      'writes per created learner',
      `${b.writesPerCreatedLearner} (${b.writeRate.writes} successful writes ÷ ${p.createdLearners} created learners)`,
    ],
    ...kinds.map((kind): [string, string] => [
      `  ${WRITE_KIND_LABELS[kind]}`,
      `${wk.perCreatedLearner[kind]} (${wk.counts[kind]})${kind === 'other' && wk.counts.other ? `: ${counts(wk.otherByRoute)}` : ''}`,
    ]),
    [
      '  bulk items',
      `${bulk.items} in ${bulk.operations} operations (${bulk.itemsPerSubmission} per submission, ${bulk.itemsPerCreatedLearner} per created learner; from the emulator's bulk operations); ${bulk.itemErrors} item errors, ${bulk.operationsNotRun} not run, ${bulk.throttledSubmissions} submissions answered 429`,
    ],
    [
      '  bulk polling GETs',
      `${bulk.statusPolls} status polls + ${bulk.resultReads} result reads (${bulk.pollGetsPerSubmission} per submission)`,
    ],
    [
      '360L GETs by kind',
      `list pages ${g.listPages}, per user ${g.perUser}, lookups ${g.lookups}, bulk ${g.bulkPolls + g.bulkResults}, other ${g.other}`,
    ],
    [
      'minimal writes per learner',
      `${p.minimalWritesPerLearner} (what this run wrote per created learner, group-role writes left out)`,
    ],
    [
      'provisioning floor',
      `${b.writeRate.limitPerSecond} writes/s ÷ ${p.minimalWritesPerLearner} = ${p.floorEmployeesPerSecond} employees/s`,
    ],
    [
      'provisioned',
      `${p.employeesPerSecond} employees/s (${p.createdLearners} created in ${b.writeRate.applySpanS} s): ratio to the floor ${p.ratioToFloor}`,
    ],
  ];
}

function runAfterRows(r: RunAfter): [string, string][] {
  const g = r.gets;
  return [
    [
      'run right after',
      `${round(r.wallMs / 1000, 2)} s (workflow ${round(r.workflowDurationMs / 1000, 2)} s); planned ${counts(r.byAction)}`,
    ],
    [
      '  360L GETs',
      `${r.lms.gets}: list pages ${g.listPages}, beyond the lists ${g.beyondLists} = ${g.beyondListsPerEmployee}/employee (target ≤ ${g.target}; per user ${g.byKind.perUser}, lookups ${g.byKind.lookups}, bulk ${g.byKind.bulkPolls + g.byKind.bulkResults}, other ${g.byKind.other})`,
    ],
    ['  beyond the lists', counts(g.beyondListsByRoute)],
    ['  360L writes', `${r.writes} (expect 0); 429s ${r.lms.throttled}; errors ${r.lms.otherErrors}`],
    ['  HiBob', `${r.hibob.total} calls: ${counts(r.hibob.byRoute)}`],
  ];
}

function printSkillcastSteady(a: SkillcastSteady): void {
  const r = a.run;
  const t = r.temporal;
  const f = a.floor;
  log('');
  log(
    `A. Skillcast steady state — ${a.employees} employees, domain seeded as a full sync leaves it, full sync with nothing to change`,
  );
  log(
    table([
      [
        'seed (not measured)',
        `${a.seed.users} users written into the emulator in ${round(a.seed.ms / 1000, 1)} s; plan in an empty domain: ${counts(a.seed.byPlan)}`,
      ],
      ['wall time', `${round(r.wallMs / 1000, 2)} s (workflow ${round(r.workflowDurationMs / 1000, 2)} s)`],
      [
        'floor',
        `${round(f.wallMs / 1000, 2)} s: one HiBob search ${round(f.hibobSearchMs / 1000, 2)} s + ${f.scimRequests} SCIM requests (discovery, ${f.pages} pages, ${f.users} users) at ${r.limits.scimRequestsPerSecond}/s ${round(f.scimListMs / 1000, 2)} s`,
      ],
      ['ratio to the floor', `${r.ratioToFloor} (wall time ÷ floor)`],
      ['full-sync steps (s)', stepsLine(r.steps)],
      ['planned', counts(r.byAction)],
      ['HiBob calls', `${r.hibob.total} (${r.hibob.perEmployee}/employee): ${counts(r.hibob.byRoute)}`],
      [
        'SCIM GETs',
        `${r.scim.gets} (${r.scim.getsPerEmployee}/employee): ${counts(Object.fromEntries(Object.entries(r.scim.byRoute).filter(([k]) => k.startsWith('GET'))))}`,
      ],
      [
        'SCIM writes',
        `${r.scim.writes} (${r.scim.writesPerEmployee}/employee); 429s ${r.scim.throttled}; errors ${counts(r.scim.errors)}`,
      ],
      ['employee workflows', `${t.workflows.employeeSync ?? 0}`],
      ['workflow executions', `${counts(t.workflows)}`],
      [
        'Temporal work',
        `${t.historyEvents} history events, ${t.workflowTasks} workflow tasks, ${t.activities} activities (${t.activityRetries} retries), ${t.localActivities} local, ${t.timers} timers`,
      ],
      ['Temporal actions', `≈${t.actions} (${t.perEmployee.actions}/employee)`],
      [
        'worker process RSS',
        `peak ${r.memory.peakRssMiB} MiB (idle ${r.memory.idleRssMiB}, before the worker ${r.memory.beforeWorkerRssMiB}); heap peak ${r.memory.peakHeapUsedMiB} MiB`,
      ],
      ['Temporal server RSS', `peak ${r.memory.temporalServerPeakRssMiB ?? '?'} MiB`],
      ['limits', skillcastLimitsLine(r.limits)],
    ]),
  );
}

function skillcastLimitsLine(l: ReturnType<typeof skillcastLimits>): string {
  return `HiBob reads ${l.hibobReadsPerSecond}/s, SCIM ${l.scimRequestsPerSecond} requests/s (task queues: ${l.lookupActivitiesPerSecond} lookups/s, ${l.writeActivitiesPerSecond} write operations/s); approval ${l.approval ?? 'default'}; ${JSON.stringify(l.fullSync)}`;
}

function printSkillcastInitial(b: SkillcastInitial): void {
  const w = b.rate;
  const again = b.again;
  log('');
  log(
    `B. Skillcast initial load — ${b.employees} employees into an empty domain at ${w.configuredPerSecond} SCIM requests/s`,
  );
  log(
    table([
      [
        'wall time',
        `${round(b.wallMs / 1000, 1)} s (workflow ${round(b.workflowDurationMs / 1000, 1)} s); first request of the batches after ${round(w.firstRequestAfterMs / 1000, 1)} s`,
      ],
      ['planned', counts(b.byAction)],
      ['full-sync steps (s)', stepsLine(b.steps)],
      ['outcomes', `${counts(b.outcomes)}; ${b.users} users in the domain (${b.activeUsers} active)`],
      ['apply phase', `${w.requests} SCIM requests in ${w.applySpanS} s, first to last request of the batches`],
      ['achieved', `${w.achievedPerSecond} requests/s of ${w.configuredPerSecond}: ratio ${w.ratio} (target ≥ 0.9)`],
      [
        'client ceiling',
        `${w.clientCeilingPerSecond}/s (requests spaced at ${HEADROOM} × the rate): ratio to it ${w.ratioToCeiling}; middle 80 % of the phase ${w.middlePerSecond}/s; peak ${w.peakSlidingSecond} in a second`,
      ],
      [
        'seconds in apply',
        `${w.secondsAtCeiling} at the ceiling, ${w.secondsBelowCeiling} below, ${w.secondsWithoutRequests} without requests`,
      ],
      [
        'time lost',
        `spacing ${w.spacingMs} ms: ${w.lateS} s in short gaps (timers waking late), ${w.starvedS} s in ${w.starvedGaps} gaps ≥ 2 spacings (nothing waiting)`,
      ],
      ['  longest gaps', w.longestGaps.map((g) => `${g.ms} ms at +${g.atS} s`).join(', ') || 'none'],
      [
        'per created user',
        `${b.perCreatedUser.requests} requests: ${b.perCreatedUser.gets} GETs, ${b.perCreatedUser.writes} writes`,
      ],
      ['  by route', counts(b.perCreatedUser.byRoute)],
      [
        'SCIM, whole run',
        `${b.scim.requests} requests: ${b.scim.gets} GETs, ${b.scim.writes} writes (${b.scim.writesSucceeded} succeeded); 429s ${b.scim.throttled}; errors ${counts(b.scim.errors)}`,
      ],
      [
        'HiBob',
        `${b.hibob.total} calls (${b.hibobReadsPerSecond} reads/s while applying, limit ${b.limits.hibobReadsPerSecond}/s)`,
      ],
      ['workflow executions', `${counts(b.temporal.workflows)}`],
      [
        'Temporal actions',
        `≈${b.temporal.actions} (${b.temporal.perEmployee.actions}/employee); ${b.temporal.historyEvents} history events; ${b.temporal.activityRetries} activity retries`,
      ],
      [
        'worker process RSS',
        `peak ${b.memory.peakRssMiB} MiB (idle ${b.memory.idleRssMiB}, before the worker ${b.memory.beforeWorkerRssMiB}); heap peak ${b.memory.peakHeapUsedMiB} MiB`,
      ],
      ['Temporal server RSS', `peak ${b.memory.temporalServerPeakRssMiB ?? '?'} MiB`],
      ['limits', skillcastLimitsLine(b.limits)],
      ['run right after', `${round(again.wallMs / 1000, 2)} s; planned ${counts(again.byAction)}`],
      [
        '  SCIM',
        `${again.scim.writes} writes (target 0), ${again.scim.gets} GETs: ${counts(again.scim.byRoute)}; errors ${counts(again.scim.errors)}`,
      ],
      ['  HiBob', `${again.hibob.total} calls: ${counts(again.hibob.byRoute)}`],
    ]),
  );
}

function seededOptions(options: Options): SeededOptions {
  return {
    employees: options.employees,
    changePercent: options.changePercent,
    hibobReadsPerSecond: options.hibobReads,
    plainEmulator: options.plainEmulator,
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const skillcast = options.destination === 'skillcast';
  const steadyBudgetMs = skillcast
    ? TIMEOUTS_MS.steady * 2
    : TIMEOUTS_MS.setup + TIMEOUTS_MS.settle + TIMEOUTS_MS.steady;
  const initialBudgetMs = skillcast
    ? skillcastInitialTimeoutMs(options) + TIMEOUTS_MS.steady
    : initialTimeoutMs(options) + TIMEOUTS_MS.steady;
  const seeded = options.setup === 'seed' ? seededOptions(options) : undefined;
  const deadlineMs = seeded
    ? seededBudgetMs(seeded)
    : 10 * 60_000 +
      (options.only === 'initial' ? 0 : steadyBudgetMs) +
      (options.only === 'steady' ? 0 : initialBudgetMs);
  const watchdog = setTimeout(() => {
    process.stderr.write(`fullsync bench: still running after ${Math.round(deadlineMs / 60_000)} min; giving up\n`);
    for (const server of servers) server.process.kill('SIGKILL');
    process.exit(2);
  }, deadlineMs);
  watchdog.unref();
  installWorkerLogging('ERROR');
  const startedAt = new Date();
  const loadAverageAtStart = machine().loadAverage;
  const bundle = await bundleWorkflows();

  let steady: SteadyState | SkillcastSteady | SeededSteady | undefined;
  let initial: InitialLoad | SkillcastInitial | undefined;
  let parameters: Record<string, unknown>;
  if (seeded) {
    parameters = { ...seeded };
    steady = await seededSteadyState(seeded, bundle.code);
    printSeededSteady(steady);
  } else if (skillcast) {
    const {
      writeLimit: _w,
      groupRoles: _g,
      setup: _s,
      changePercent: _c,
      hibobReads: _h,
      plainEmulator: _p,
      ...rest
    } = options;
    parameters = rest;
    const a = options.only === 'initial' ? undefined : await skillcastSteady(options, bundle.code);
    if (a) printSkillcastSteady(a);
    const b = options.only === 'steady' ? undefined : await skillcastInitial(options, bundle.code);
    if (b) printSkillcastInitial(b);
    [steady, initial] = [a, b];
  } else {
    const {
      destination: _d,
      requestsPerSecond: _r,
      changePercent: _c,
      hibobReads: _h,
      plainEmulator: _p,
      ...rest
    } = options;
    parameters = rest;
    const a = options.only === 'initial' ? undefined : await steadyState(options, bundle.code);
    if (a) printSteady(a);
    const b = options.only === 'steady' ? undefined : await initialLoad(options, bundle.code);
    if (b) printInitial(b);
    [steady, initial] = [a, b];
  }

  const name = seeded ? 'fullsync-100k' : skillcast ? 'fullsync-skillcast' : 'fullsync';
  const result = {
    benchmark: name,
    startedAt: startedAt.toISOString(),
    durationS: round((Date.now() - startedAt.getTime()) / 1000),
    machine: { ...machine(), loadAverageAtStart },
    parameters,
    // Workers in processes of their own (the seeded steady state, provisioning runs) run with these.
    forkedWorkerNodeFlags: forkedWorkerNodeFlags(),
    steadyState: steady ?? null,
    initialLoad: initial ?? null,
  };
  const file = writeLatestResult(name, result);
  const m = result.machine;
  log('');
  log(
    `${name} benchmark — ${m.cpus} × ${m.cpuModel}, ${Math.round(m.totalMemoryMiB / 1024)} GiB, Node ${m.node}; ${result.durationS} s in all`,
  );
  log(
    `  load average  ${m.loadAverageAtStart.join(' ')} at the start, ${m.loadAverage.join(' ')} at the end (1, 5, 15 min)`,
  );
  log(
    `  worker processes  node ${result.forkedWorkerNodeFlags.join(' ') || '(no flags)'} (docker-compose.yml's worker flags, then BENCH_WORKER_NODE_FLAGS)`,
  );
  log(`  result  ${file}`);
  clearTimeout(watchdog);
}

main().catch((err: Error) => {
  process.stderr.write(`fullsync bench failed: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
