/**
 * The full-sync benchmark's seeded steady state (360Learning): a tenant of up to 100 000
 * employees as a first full sync and the runs after it leave it, set up in minutes instead of
 * hours of provisioning, then a full sync with nothing to change and one after 1 % of the
 * employees changed in HiBob, each against the floor measured in the same run.
 *
 * Setup, not measured:
 * 1. The HiBob emulator gets `generateDemoEmployees` (seed 42).
 * 2. HiBob is read as the full sync's snapshot reads it (`readHibobPopulation`). The planner
 *    (`planEmployee`, with no learner to match, as in an empty 360Learning) decides who gets a
 *    learner; the first of two people sharing an address claims it, as `planPopulation` decides.
 *    Each learner is what the plan's operations leave: the create's fields and its membership,
 *    the HiBob id as external id, the custom values, the group roles of the rules, the manager
 *    (whose learner a first sync creates before its reports) and the activation. The custom
 *    fields exist as `createIfMissing` makes them. The 360Learning emulator gets them all at once
 *    (`Company.seedUsers`), and the blob store the record of the group roles bobsync gave each
 *    learner, as the employee workflows write it (`GroupOwnership`).
 * 3. bobsync's own state: the first sync over such a tenant would find no fingerprint and read
 *    every learner in full (about 7 GETs each: at 50 GET/s, hours for 100 000). Instead the
 *    product's own planner runs here, `planFullRun` over the LMS snapshot (read by the product's
 *    snapshot code), with a deep lookup that reads each learner from the emulator's memory
 *    exactly as `lookupLearner` reads it over HTTP (checked against the real lookup on a sample,
 *    whose GETs give the settling run's cost). Every employee must come out in step (nothing to
 *    write: only parks); the fingerprints of those in step are then written as `saveSyncState`
 *    writes them (`state/<connection>/full-sync.json`: people count, finish time, fingerprints).
 *
 * Measured, at the vendors' default limits (360Learning 50 GET/s and 10 writes/s; HiBob 50
 * searches a minute and 10 reads a second; the connection's schema defaults):
 * - the floor: one HiBob people search, then the 360Learning lists the snapshot reads (users,
 *   external ids, members of managed groups) through a client built as the worker builds its
 *   own; nothing can be faster;
 * - a full sync with nothing changed, then a full sync after `--change-percent` of the employees
 *   (those with an active learner, evenly spread) got a new surname in HiBob. Each runs on a
 *   fresh Temporal dev server with a fresh worker in a process of its own, so the peak RSS of
 *   both (VmHWM) is that run's;
 * - between them, a second full sync with nothing changed on the first one's server (a fresh
 *   worker again): the night after, with the employees' workflows already holding the timers the
 *   first one armed. Its Temporal figures are what it added to that server's histories, counted
 *   from when they stopped growing (the first run's last employee workflow tasks done).
 *
 * The emulators answer from indexes (fullsync-emulator-index.ts, checked against their own
 * answers): at this size their plain list and read methods, not the vendors' limits, would set
 * the pace. `--plain-emulator` leaves them as they are.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { RunningDevServer } from '../src/dev/temporal-dev-server';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { readHibobPopulation } from '../src/activities/hibob-snapshot';
import { ConnectionRegistry } from '../src/activities/deps';
import type { LearnerLookup } from '../src/activities/employee-types';
import { GroupOwnership } from '../src/activities/group-ownership';
import { lmsActivities } from '../src/activities/lms';
import { uncheckpointedPages } from '../src/activities/page-checkpoints';
import { normaliseOptions, wantedLearner } from '../src/activities/wanted-learner';
import { blobStoreFromEnv, type BlobStore } from '../src/blobstore';
import { codecDataConverter, codecFromEnv, generateCodecKey } from '../src/codec/aes-gcm-codec';
import { parseConfig } from '../src/config/loader';
import { approvalMode, type BobsyncConfig, type ConnectionConfig } from '../src/config/schema';
import { demoGroups, embeddedConfigYaml } from '../packages/local/stack/embedded';
import { DEMO_CREDENTIALS } from '../packages/local/stack/emulators';
import { desiredLearner, isParked } from '../src/domain/desired';
import { canonicalJson } from '../src/domain/fingerprint';
import { planFullRun, SnapshotIndex, type LmsSnapshot } from '../src/domain/full-plan';
import { normaliseEmployee } from '../src/domain/normalise';
import { planContextFor, planEmployee } from '../src/domain/plan';
import {
  STANDARD_FIELDS,
  type CurrentLearner,
  type DestinationTraits,
  type Match,
  type OwnedGroupRole,
  type Plan,
  type StandardField,
} from '../src/domain/types';
import type { LoggedRequest } from '../packages/local/emulators/common/request-log';
import type { MemorySample } from './fullsync-setup-worker';
import { HibobEmulator, DEFAULT_RATE_LIMITS, generateDemoEmployees } from '../packages/local/emulators/hibob';
import {
  ApiError as EmulatorApiError,
  Learning360Emulator,
  type Company,
  type UserSeed,
} from '../packages/local/emulators/learning360';
import { HEADROOM } from '../src/clients/http/spacing-limiter';
import { connectClient } from '../src/temporal/client';
import type { fullSync } from '../src/workflows/full-sync';
import { progressQuery, type FullSyncResult } from '../src/workflows/full-sync-api';
import {
  CONNECTION,
  Cleanup,
  DEFAULT_DESTINATION,
  DEFAULT_LIMITS,
  SEED,
  countBy,
  counts,
  fullSyncSettings,
  fullSyncSteps,
  hibobCalls,
  hibobClientOf,
  isToken,
  isWrite,
  lmsCalls,
  log,
  mib,
  perEmployee,
  processPeakRss,
  processRss,
  round,
  route,
  startServer,
  startSetupWorker,
  stepsLine,
  table,
  temporalPerEmployee,
  temporalWork,
  withLimits,
  writeRate,
  type FullSyncStep,
  type HibobCalls,
  type LmsCalls,
  type TemporalWork,
  type WriteRate,
} from './fullsync-common';
import { compareWithEmulator, indexCompany, indexHibob } from './fullsync-emulator-index';
import { processCpuMs } from './shared';

export interface SeededOptions {
  employees: number;
  /** Share of the employees changed in HiBob before the second measured run, in percent. */
  changePercent: number;
  /** The connection's HiBob reads per second (one employee each) in the measured runs; the schema's default is 5. */
  hibobReadsPerSecond: number;
  /** Leave the 360Learning and HiBob emulators as they are, without indexes (see fullsync-emulator-index.ts). */
  plainEmulator: boolean;
}

/** Limits while setting up: high enough that CPU, not a rate limit, sets the pace. */
const SETUP_PER_SECOND = 100_000;

/**
 * The HiBob emulator with `employees` demo people and an empty 360Learning emulator whose limits
 * do not slow seeding, both on free ports and closed by `cleanup`.
 */

/** What a worker over the seeded emulators needs: a fresh codec key, its data directory and the demo secrets. */
export function seededWorkerEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    BOBSYNC_CODEC_KEYS: `bench:${generateCodecKey()}`,
    BOBSYNC_DATA_DIR: dataDir,
    HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
    HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
    LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
  };
}

export async function startSeedEmulators(employees: number, cleanup: Cleanup) {
  const hibob = new HibobEmulator({
    serviceUsers: [{ id: DEMO_CREDENTIALS.hibobServiceUserId, token: DEMO_CREDENTIALS.hibobToken }],
    // Its lifecycle clock walks every employee; once a minute instead of every second keeps it off the CPU.
    lifecycleTickMs: 60_000,
  });
  hibob.seed(generateDemoEmployees({ count: employees, seed: SEED }));
  const hibobServer = await hibob.start(0);
  cleanup.add(() => hibobServer.close());
  const lms = new Learning360Emulator({ getPerSecond: SETUP_PER_SECOND, writesPerSecond: SETUP_PER_SECOND });
  const lmsServer = await lms.start(0);
  cleanup.add(() => lmsServer.close());
  return { hibob, hibobServer, lms, lmsServer, company: lms.company() };
}
/** Deep lookups made over HTTP to check the in-memory ones and count their GETs. */
const LOOKUP_SAMPLE = 200;
/** Bounds of the measured runs, so a stuck run ends as a failure rather than a hang. */
const NO_CHANGE_TIMEOUT_MS = 30 * 60_000;
/** Per changed employee: its deep lookup when planning and its own (~8 GETs each at 47.5/s), its HiBob read; three times over. */
const changeTimeoutMs = (changes: number, hibobReadsPerSecond: number) =>
  30 * 60_000 + changes * (16 / 47.5 + 1 / hibobReadsPerSecond) * 3_000;

export function seededBudgetMs(options: SeededOptions): number {
  const changes = Math.round((options.employees * options.changePercent) / 100);
  return 40 * 60_000 + 2 * NO_CHANGE_TIMEOUT_MS + changeTimeoutMs(changes, options.hibobReadsPerSecond);
}

// ---- setup: what a synced tenant holds -----------------------------------------------------------

export interface SeedPlan {
  users: UserSeed[];
  /** HiBob id → learner id, for every employee that got a learner. */
  learnerOf: Map<string, string>;
  /** HiBob id → the group roles bobsync gave the learner, with their rules (the ownership record). */
  owned: Map<string, OwnedGroupRole[]>;
  /** What the planner makes of each person in an empty 360Learning: create, noop, park, or conflict. */
  byPlan: Record<string, number>;
  /** HiBob ids of the people whose address someone else claimed first. */
  conflicts: string[];
}

/** Ids in the emulator's format (seconds, then a counter), a day older than any it makes itself. */
function learnerIds(): () => string {
  const prefix = (Math.floor(Date.now() / 1000) - 86_400).toString(16).padStart(8, '0');
  let n = 0;
  return () => prefix + (++n).toString(16).padStart(16, '0');
}

export function traitsOf(connection: ConnectionConfig): DestinationTraits {
  if (connection.destination.type !== '360learning')
    throw new Error(`${connection.name} is not a 360Learning connection`);
  // As destinationTraits (src/activities/traits.ts) gives them for 360Learning.
  return { defaultGroupId: connection.destination.defaultGroupId };
}

/** What a first full sync into an empty 360Learning leaves behind, learner by learner. */
export function planSeed(records: Record<string, unknown>[], connection: ConnectionConfig, now: Date): SeedPlan {
  const { mapping } = connection;
  if (connection.destination.type !== '360learning') throw new Error('a 360Learning connection is needed');
  const platform = connection.destination.externalIdPlatform;
  const traits = traitsOf(connection);
  const desired = records.map((r) => desiredLearner(normaliseEmployee(r, normaliseOptions(mapping)), mapping, now));
  const createOf = (plan: Plan) =>
    plan.outcome.kind === 'apply' && plan.outcome.operations[0]?.op === 'create'
      ? plan.outcome.operations[0]
      : undefined;

  const next = learnerIds();
  const learnerOf = new Map<string, string>();
  const claimed = new Set<string>();
  const byPlan: Record<string, number> = {};
  const conflicts: string[] = [];
  const bare = planContextFor(mapping, traits);
  for (const d of desired) {
    const plan = planEmployee({ desired: d, match: { kind: 'none' }, context: bare });
    const mail = createOf(plan)?.fields.mail?.toLowerCase();
    const kind = !createOf(plan) ? plan.outcome.kind : mail && claimed.has(mail) ? 'conflict' : 'create';
    byPlan[kind] = (byPlan[kind] ?? 0) + 1;
    if (kind === 'conflict') conflicts.push(d.employeeId);
    if (kind !== 'create') continue;
    if (mail) claimed.add(mail);
    learnerOf.set(d.employeeId, next());
  }

  // Managers get their learner before their reports do (applyOrder), so every manager with a learner is set.
  const context = planContextFor(mapping, traits, Object.fromEntries(learnerOf));
  const users: UserSeed[] = [];
  const owned = new Map<string, OwnedGroupRole[]>();
  for (const d of desired) {
    const id = learnerOf.get(d.employeeId);
    if (!id || isParked(d)) continue;
    const plan = planEmployee({ desired: d, match: { kind: 'none' }, context });
    const [create, ...rest] = plan.outcome.kind === 'apply' ? plan.outcome.operations : [];
    if (create?.op !== 'create') throw new Error(`seeding: no create planned for ${d.employeeId} with managers known`);
    const fields = Object.fromEntries(Object.entries(create.fields).filter(([, v]) => typeof v === 'string' && v));
    const user: UserSeed = {
      id,
      ...(fields as Partial<Record<StandardField, string>>),
      lang: fields.lang as UserSeed['lang'],
      status: 'invited',
      memberships: create.membership ? [{ groupId: create.membership.groupId, role: create.membership.role }] : [],
      externalIds: [],
      customValues: [],
      managerIds: [],
    };
    if (user.lang === undefined) delete user.lang;
    const roles: OwnedGroupRole[] = [];
    for (const op of rest) {
      switch (op.op) {
        case 'linkExternalId':
          user.externalIds!.push({ platform, value: d.employeeId });
          break;
        case 'setCustomFields':
          user.customValues = Object.entries(op.values).map(([name, value]) => ({ customFieldName: name, value }));
          break;
        case 'addGroupRole':
          user.memberships!.push({ groupId: op.group.groupId, role: op.group.role });
          roles.push({ ...op.group, rule: op.reason });
          break;
        case 'addManager':
          user.managerIds!.push(op.managerLearnerId);
          break;
        case 'activate':
          user.status = 'active';
          break;
        case 'deferManager': // the manager gets no learner: the sync leaves the manager unset too
          break;
        default:
          throw new Error(`seeding: the plan of a new learner has ${op.op}, which the seed does not reproduce`);
      }
    }
    users.push(user);
    if (roles.length) owned.set(d.employeeId, roles);
  }
  return { users, learnerOf, owned, byPlan, conflicts };
}

/** The ownership records the employee workflows write (`GroupOwnership.record`), all at once. */
async function writeOwnership(blobs: BlobStore, owned: Map<string, OwnedGroupRole[]>): Promise<void> {
  const ownership = new GroupOwnership(blobs);
  const keyOf = (employeeId: string): string => ownership['key'](CONNECTION, employeeId);
  const queue = [...owned.entries()];
  const writer = async () => {
    for (let next = queue.pop(); next; next = queue.pop()) await blobs.putJson(keyOf(next[0]), { roles: next[1] });
  };
  await Promise.all(Array.from({ length: 16 }, writer));
}

function standardFieldsOf(user: Record<string, unknown>): Partial<Record<StandardField, string>> {
  const fields: Partial<Record<StandardField, string>> = {};
  for (const name of STANDARD_FIELDS) {
    const value = user[name];
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

/**
 * The deep lookup of `lookupLearner` (src/activities/learning360.ts) with the ownership record
 * `lmsActivities` adds, reading the emulator's company in memory instead of over HTTP: the same
 * calls, in the same order, to the same company methods the routes call.
 */
export function memoryLookup(company: Company, connection: ConnectionConfig, owned: Map<string, OwnedGroupRole[]>) {
  if (connection.destination.type !== '360learning') throw new Error('a 360Learning connection is needed');
  const platform = connection.destination.externalIdPlatform;
  const { mapping } = connection;
  const names = new Map(company.listCustomFields({ targetType: { eq: 'users' } }).map((f) => [f._id, f.name]));
  const strict = mapping.customFields.filter((f) => f.authorizedValues === 'strict');
  if (strict.length) throw new Error('the seeded benchmark does not model custom fields with strict authorized values');
  const getUser = (id: string) => {
    try {
      return company.getUser(id);
    } catch (err) {
      if (err instanceof EmulatorApiError && err.status === 404) return undefined;
      throw err;
    }
  };
  const byValue = (value: string) => company.listExternalIds({ platform: { eq: platform }, value: { eq: value } })[0];
  const ofUser = (id: string) => company.listExternalIds({ platform: { eq: platform }, targetId: { eq: id } })[0];
  const current = (user: ReturnType<Company['getUser']>, externalId?: string): CurrentLearner => {
    const customFields: Record<string, string> = {};
    for (const v of company.getUserCustomValues(user._id)) {
      const name = names.get(v.customFieldId);
      if (name) customFields[name] = v.value;
    }
    return {
      learnerId: user._id,
      status: user.status,
      fields: standardFieldsOf(user),
      customFields,
      managerIds: company.listManagers(user._id),
      groups: company
        .userRoles(user._id)
        .map((r) => ({ groupId: r.groupId, role: r.role as CurrentLearner['groups'][number]['role'] })),
      externalId,
    };
  };
  return (employeeId: string, record: Record<string, unknown> | null): LearnerLookup => {
    const lookup: LearnerLookup = { match: { kind: 'none' }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };
    if (mapping.match.order.includes('externalId')) {
      const mapped = byValue(employeeId);
      const user = mapped ? getUser(mapped.targetId) : undefined;
      if (user) lookup.match = { kind: 'externalId', learner: current(user, employeeId) };
    }
    const wanted = wantedLearner(record, mapping);
    if (lookup.match.kind === 'none' && wanted?.fields.mail && mapping.match.order.includes('email')) {
      const byMail = company.listUsers({ mail: { eq: wanted.fields.mail } })[0];
      if (byMail) lookup.match = { kind: 'email', learner: current(byMail, ofUser(byMail._id)?.value) } satisfies Match;
    }
    if (wanted?.managerEmployeeId && mapping.manager.enabled) {
      const link = byValue(wanted.managerEmployeeId);
      const manager = link ? getUser(link.targetId) : undefined;
      if (manager && manager.status !== 'deleted') lookup.managerLearnerIds[wanted.managerEmployeeId] = manager._id;
    }
    if (lookup.match.kind !== 'none') {
      for (const managerId of lookup.match.learner.managerIds)
        if (ofUser(managerId)) lookup.linkedManagerLearnerIds.push(managerId);
    }
    lookup.ownedGroupRoles = owned.get(employeeId) ?? [];
    return lookup;
  };
}

/** The managers of some employees, whose direct-report counts a read shows. */
function managersOf(hibob: HibobEmulator, employees: { employeeId: string }[]): string[] {
  return employees.flatMap((e) => hibob.getEmployee(e.employeeId)?.reportsTo ?? []);
}

const stateKey = (connection: string) => `state/${connection}/full-sync.json`;

interface SeededSetup {
  ms: {
    generateAndSeedHibob: number;
    readHibob: number;
    planSeed: number;
    seedLms: number;
    ownershipRecords: number;
    lmsSnapshot: number;
    lookupSample: number;
    planAndState: number;
    total: number;
  };
  hibobEmployees: number;
  learners: number;
  byPlan: Record<string, number>;
  /** What the product's planner made of the seeded tenant with every learner read in full: only parks, nothing to write. */
  verification: { byAction: FullSyncResult['byAction']; rowsToWrite: number; fingerprints: number };
  /** The deep lookups checked over HTTP against the in-memory ones, and what the settling run would cost. */
  lookupSample: {
    lookups: number;
    identical: number;
    /** Lookups of employees linked to a learner, and their GETs each on average. */
    linkedLookups: number;
    getsPerLookup: number;
    msPerLookup: number;
    /** Every linked learner read in full once, at the default 50 GET/s as the client uses it (spaced at 0.95 × the limit). */
    settlingRunAtDefaultReadLimitS: number;
  };
  emulator: { indexed: boolean; differences: string[]; plainCosts?: PlainEmulatorCosts };
}

/** What the emulator's company costs per request without indexes, measured on the seeded data. */
interface PlainEmulatorCosts {
  usersPageMs: number;
  externalIdByValueMs: number;
  largestGroupRolesMs: number;
  /** The HiBob emulator's read context (every employee's direct reports), built for each read of one employee. */
  hibobReadContextMs: number;
}

function plainCosts(company: Company, hibob: HibobEmulator, platform: string, sampleValue: string): PlainEmulatorCosts {
  const proto = Object.getPrototypeOf(company) as Company;
  const time = (fn: () => unknown, times = 3) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < times; i++) fn();
    return round(Number(process.hrtime.bigint() - started) / 1e6 / times, 1);
  };
  const largest = company
    .listGroups()
    .map((g) => g._id)
    .sort((a, b) => proto.groupRoles.call(company, b).length - proto.groupRoles.call(company, a).length)[0]!;
  return {
    usersPageMs: time(() => proto.listUsers.call(company, {})),
    externalIdByValueMs: time(() =>
      proto.listExternalIds.call(company, { platform: { eq: platform }, value: { eq: sampleValue } }),
    ),
    // One page of a group's roles is computed from every member, like the whole listing.
    largestGroupRolesMs: time(() => proto.groupRoles.call(company, largest)),
    hibobReadContextMs: time(() =>
      (Object.getPrototypeOf(hibob.directory) as HibobEmulator['directory']).readEnv.call(hibob.directory),
    ),
  };
}

// ---- the measured runs ---------------------------------------------------------------------------

interface Floor {
  wallMs: number;
  hibobSearchMs: number;
  lmsListMs: number;
  /** GETs of the lists (users, external ids, group members), token call apart. */
  lmsPages: number;
  /** One search plus every page at 50 GET/s: the bound the vendors' limits set. */
  atVendorLimitsMs: number;
}

interface MeasuredRun {
  label: string;
  /** Set on a run made on the server of an earlier one: its Temporal figures are what it added there. */
  after?: string;
  /** How long the benchmark waited for the machine to be quiet before the run, and the CPU share it last saw. */
  quietBefore: { waitedMs: number; cpuShare: number };
  wallMs: number;
  workflowDurationMs: number;
  ratioToFloor: number;
  ratioToVendorFloor: number;
  byAction: FullSyncResult['byAction'];
  outcomes: FullSyncResult['outcomes'];
  timersArmed: number | null;
  steps: FullSyncStep[];
  hibob: HibobCalls & { perEmployee: number };
  snapshotReads: SnapshotReads;
  lms: LmsCalls & {
    getsPerEmployee: number;
    writesPerEmployee: number;
    writesByRoute: Record<string, number>;
    /** Requests answered 429, by route and by the full-sync step they fell in. */
    throttledByRoute: Record<string, number>;
    throttledByStep: Record<string, number>;
  };
  temporal: TemporalWork & { perEmployee: ReturnType<typeof temporalPerEmployee> };
  /** Actions of the full-sync workflow and its batch children, without the employee workflows. */
  actionsOfTheSyncItself: number;
  /** The full sync's longest workflow task, scheduled to completed: a worker busy elsewhere delays them. */
  longestWorkflowTaskMs: number;
  memory: {
    /** VmHWM of the worker process, which runs nothing else. */
    workerPeakRssMiB: number | null;
    workerSampledPeakRssMiB: number;
    /** The worker's highest RSS sample (every 250 ms) during each step. */
    workerPeakRssByStepMiB: Record<string, number | null>;
    /**
     * The worker's own sample (every 200 ms) with the highest RSS in each step, split into V8's
     * heap (used of total) and memory outside it (external, of which array buffers).
     */
    workerMemoryAtStepPeakMiB: Record<string, MemoryAtPeak | null>;
    temporalServerPeakRssMiB: number | null;
  };
  /** How late the worker's event loop ran: long synchronous work holds up workflow tasks and heartbeats. */
  workerEventLoopDelayMs: { max: number; p99: number };
  limits: ReturnType<typeof measuredLimits>;
}

interface ChangeRun extends MeasuredRun {
  changed: number;
  /** Changed employees whose learner carries the new surname afterwards (checked in the emulator). */
  applied: number;
  writeRate: WriteRate;
  /** HiBob reads of one employee per second over the apply phase, against the connection's limit. */
  hibobReadsPerSecond: number;
}

function measuredLimits(config: BobsyncConfig) {
  const connection = config.connections.find((c) => c.name === CONNECTION)!;
  const destination = connection.destination;
  return {
    hibobReadsPerSecond: connection.source.readsPerSecond,
    lmsWritesPerSecond: destination.type === '360learning' ? destination.writesPerSecond : null,
    lmsReadsPerSecond: destination.type === '360learning' ? destination.readsPerSecond : null,
    emulator: {
      learning360GetsPerSecond: DEFAULT_DESTINATION.readsPerSecond,
      learning360WritesPerSecond: DEFAULT_DESTINATION.writesPerSecond,
      hibobSearchesPerMinute: DEFAULT_RATE_LIMITS.search,
      hibobReadsPerMinute: DEFAULT_RATE_LIMITS['people.read'],
    },
    fullSync: fullSyncSettings(config),
  };
}

export interface SeededSteady {
  employees: number;
  changePercent: number;
  setup: SeededSetup;
  floor: Floor;
  noChange: MeasuredRun;
  /** Nothing changed again, on the no-change run's server: its timers are already held. */
  noChangeTimersHeld: MeasuredRun;
  change: ChangeRun;
  /** Load average before each phase: other work on this machine skews every figure. */
  loadAverages: Record<string, number[]>;
}

const loadAverage = () => os.loadavg().map((n) => round(n, 2));

async function measureFloor(config: BobsyncConfig, env: NodeJS.ProcessEnv, lms: Learning360Emulator): Promise<Floor> {
  const connection = config.connections.find((c) => c.name === CONNECTION)!;
  const started = Date.now();
  await readHibobPopulation({ hibob: hibobClientOf(connection, env) }, connection);
  const searched = Date.now();
  lms.kit.requests.clear();
  // The snapshot's own code, through a client built as the worker builds it: lists only.
  await lmsActivities(new ConnectionRegistry({ config, env })).snapshot(CONNECTION, uncheckpointedPages);
  const finished = Date.now();
  const pages = [...lms.kit.requests.entries].filter((e) => e.method === 'GET' && !isToken(e)).length;
  return {
    wallMs: finished - started,
    hibobSearchMs: searched - started,
    lmsListMs: finished - searched,
    lmsPages: pages,
    atVendorLimitsMs: searched - started + Math.round((pages / DEFAULT_DESTINATION.readsPerSecond) * 1000),
  };
}

/** Starts a full sync and waits for it, saying every 30 s where it is. */
async function runWithProgress(
  client: Client,
  taskQueue: string,
  label: string,
  timeoutMs: number,
  lms: Learning360Emulator,
): Promise<{ workflowId: string; result: FullSyncResult; startedAt: number; wallMs: number }> {
  const workflowId = `bobsync/${CONNECTION}/full-sync/bench-${label}-${Date.now()}`;
  const startedAt = Date.now();
  const handle: WorkflowHandle<typeof fullSync> = await client.workflow.start<typeof fullSync>('fullSync', {
    taskQueue,
    workflowId,
    args: [{ connection: CONNECTION, taskQueue, trigger: 'bench' }],
    workflowExecutionTimeout: timeoutMs,
  });
  const progress = setInterval(() => {
    handle
      .query(progressQuery)
      .then((p) => {
        const entries = lms.kit.requests.entries;
        const writes = entries.filter((e) => isWrite(e) && e.status < 400).length;
        log(
          `   ${label}: +${Math.round((Date.now() - startedAt) / 1000)} s, phase ${p.phase}, applied ${p.applied}/${p.toApply}, batches ${p.batchesDone}/${p.batchesTotal}; 360L ${entries.length - writes} other requests, ${writes} writes`,
        );
      })
      .catch(() => undefined);
  }, 30_000);
  try {
    const result = await handle.result();
    return { workflowId, result, startedAt, wallMs: Date.now() - startedAt };
  } finally {
    clearInterval(progress);
  }
}

interface RunContext {
  employees: number;
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  bundleCode: string;
  hibob: HibobEmulator;
  lms: Learning360Emulator;
  floor: Floor;
  timeoutMs: number;
}

/** A step of the full sync as its history dates it: an activity from scheduled to closed, or the batches. */
interface StepWindow {
  step: string;
  from: number;
  to: number;
}

/** The full sync's steps with their instants, and its longest workflow task (scheduled to completed). */
async function stepWindows(
  client: Client,
  workflowId: string,
): Promise<{ windows: StepWindow[]; longestTaskMs: number }> {
  const E = temporal.api.enums.v1.EventType;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const windows: StepWindow[] = [];
  let batches: StepWindow | undefined;
  let taskScheduledAt = 0;
  let longestTaskMs = 0;
  for (const event of history.events ?? []) {
    const at = tsToMs(event.eventTime);
    switch (event.eventType) {
      case E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        taskScheduledAt = at;
        break;
      case E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        longestTaskMs = Math.max(longestTaskMs, at - taskScheduledAt);
        break;
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
        if (from) windows.push({ step: from.type, from: from.at, to: at });
        break;
      }
      case E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        if (!batches) windows.push((batches = { step: 'batches', from: at, to: at }));
        break;
      case E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      case E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        if (batches) batches.to = at;
        break;
      default:
        break;
    }
  }
  return { windows: windows.sort((a, b) => a.from - b.from), longestTaskMs };
}

interface MemoryAtPeak {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** In each window, the worker's sample with the highest RSS (MiB). */
function memoryAtStepPeaks(samples: MemorySample[], windows: StepWindow[]): Record<string, MemoryAtPeak | null> {
  return Object.fromEntries(
    windows.map((w) => {
      const inside = samples.filter((x) => x.at >= w.from && x.at <= w.to);
      if (!inside.length) return [w.step, null];
      const peak = inside.reduce((a, b) => (b.rss > a.rss ? b : a));
      return [
        w.step,
        {
          rss: mib(peak.rss),
          heapUsed: mib(peak.heapUsed),
          heapTotal: mib(peak.heapTotal),
          external: mib(peak.external),
          arrayBuffers: mib(peak.arrayBuffers),
        },
      ];
    }),
  );
}

/**
 * When the emulators answered the snapshots' reads, in seconds from the run's start: whether a
 * slow snapshot waited on the emulators (which share the benchmark's process) or on the worker.
 */
interface SnapshotReads {
  /** HiBob's people search: asked at, and answered in (until its last byte was handed over). */
  hibobSearch: { atS: number; answeredInS: number } | null;
  /** The 360Learning list pages of the snapshotLms step: first asked, last answered, and the emulator's own time on them. */
  lmsLists: { pages: number; fromS: number; toS: number; answeringS: number } | null;
}

function snapshotReads(
  hibob: LoggedRequest[],
  lms: LoggedRequest[],
  windows: StepWindow[],
  startedAt: number,
): SnapshotReads {
  const fromStart = (ms: number) => round((ms - startedAt) / 1000, 2);
  const search = hibob.find((e) => e.method === 'POST' && e.path.endsWith('/people/search'));
  const step = windows.find((w) => w.step === 'snapshotLms');
  const pages = step
    ? lms.filter((e) => e.method === 'GET' && !isToken(e) && e.at >= step.from && e.at <= step.to)
    : [];
  return {
    hibobSearch: search ? { atS: fromStart(search.at), answeredInS: round(search.durationMs / 1000, 2) } : null,
    lmsLists: pages.length
      ? {
          pages: pages.length,
          fromS: fromStart(Math.min(...pages.map((e) => e.at))),
          toS: fromStart(Math.max(...pages.map((e) => e.at + e.durationMs))),
          answeringS: round(pages.reduce((sum, e) => sum + e.durationMs, 0) / 1000, 2),
        }
      : null,
  };
}

/** Samples a process's resident memory with the instant of each sample. */
function rssTimeline(pid: number | undefined, everyMs = 250) {
  const samples: { at: number; rss: number }[] = [];
  const timer = setInterval(() => {
    const rss = processRss(pid);
    if (rss) samples.push({ at: Date.now(), rss });
  }, everyMs);
  return {
    stop: () => clearInterval(timer),
    /** The highest sample within each window (MiB). */
    peaks: (windows: StepWindow[]) =>
      Object.fromEntries(
        windows.map((w) => {
          const inside = samples.filter((x) => x.at >= w.from && x.at <= w.to + everyMs);
          return [w.step, inside.length ? mib(Math.max(...inside.map((x) => x.rss))) : null];
        }),
      ),
  };
}

/** Executions and counts of `after` less those of `before` (on the same server, read earlier). */
function workSince(after: TemporalWork, before: TemporalWork): TemporalWork {
  const minus = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(a)
        .map(([k, v]) => [k, v - (b[k] ?? 0)] as const)
        .filter(([, v]) => v !== 0),
    );
  return {
    workflows: minus(after.workflows, before.workflows),
    historyEvents: after.historyEvents - before.historyEvents,
    workflowTasks: after.workflowTasks - before.workflowTasks,
    activities: after.activities - before.activities,
    activityRetries: after.activityRetries - before.activityRetries,
    localActivities: after.localActivities - before.localActivities,
    timers: after.timers - before.timers,
    signals: after.signals - before.signals,
    updates: after.updates - before.updates,
    actions: after.actions - before.actions,
    actionsByType: minus(after.actionsByType, before.actionsByType),
  };
}

/**
 * The server's Temporal work once it stops growing: workflow tasks an earlier run left queued
 * (employee workflows it started but whose first task its worker had not run) are done by the
 * worker now polling, and must not count for the run about to start.
 */
async function settledWork(client: Client): Promise<TemporalWork> {
  const executions = (w: TemporalWork) => Object.values(w.workflows).reduce((a, b) => a + b, 0);
  let last = await temporalWork(client);
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const now = await temporalWork(client);
    if (now.historyEvents === last.historyEvents && executions(now) === executions(last)) return now;
    last = now;
  }
  throw new Error('the Temporal server did not settle before the run');
}

/**
 * Waits until this process (with the emulators), the Temporal server and the worker together use
 * under a fifth of one core over 2 s, twice in a row, or 90 s have passed. Reading an earlier
 * run's histories back, the garbage it leaves and the server's own bookkeeping would otherwise
 * take CPU from the run about to be measured.
 */
async function waitForQuiet(pids: number[]): Promise<{ waitedMs: number; cpuShare: number }> {
  const started = Date.now();
  const cpuMs = () => pids.reduce((sum, pid) => sum + (processCpuMs(pid) ?? 0), 0);
  let quietWindows = 0;
  let cpuShare = 0;
  while (quietWindows < 2 && Date.now() - started < 90_000) {
    const [cpuBefore, from] = [cpuMs(), Date.now()];
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    cpuShare = (cpuMs() - cpuBefore) / (Date.now() - from);
    quietWindows = cpuShare < 0.2 ? quietWindows + 1 : 0;
  }
  return { waitedMs: Date.now() - started, cpuShare };
}

/** A run on the server of an earlier one (`label`). */
interface SameServer {
  server: RunningDevServer;
  label: string;
}

/** One measured full sync with a fresh worker process, on a fresh server or on `same`'s. */
async function measuredRun(
  ctx: RunContext,
  label: string,
  options: { keepServer?: boolean; same?: SameServer } = {},
): Promise<{
  run: MeasuredRun;
  startedAt: number;
  entries: LoggedRequest[];
  server: RunningDevServer;
}> {
  const cleanup = new Cleanup();
  try {
    const server = options.same?.server ?? (await startServer());
    if (!options.same && !options.keepServer) cleanup.add(() => server.stop());
    const taskQueue = ctx.config.temporal.taskQueue;
    const worker = await startSetupWorker(ctx.env, {
      kind: 'start',
      config: ctx.config,
      address: server.address,
      bundleCode: ctx.bundleCode,
    });
    cleanup.add(async () => void (await worker.stop()));
    const client = await connectClient({
      address: server.address,
      namespace: 'default',
      dataConverter: codecDataConverter(codecFromEnv(ctx.env)),
    });
    cleanup.add(() => client.connection.close());
    let before: TemporalWork | undefined;
    if (options.same) {
      before = await settledWork(client);
      log(`   ${label}: the server holds ${before.historyEvents} history events, settled`);
    }
    const quiet = await waitForQuiet([process.pid, server.process.pid!, worker.pid!]);
    log(
      `   ${label}: quiet after ${round(quiet.waitedMs / 1000, 0)} s (${round(quiet.cpuShare * 100, 0)} % of a core); starting the run`,
    );

    ctx.hibob.kit.requests.clear();
    ctx.lms.kit.requests.clear();
    const serverRss = rssTimeline(server.process.pid);
    const workerRss = rssTimeline(worker.pid);
    let run: Awaited<ReturnType<typeof runWithProgress>>;
    try {
      run = await runWithProgress(client, taskQueue, label, ctx.timeoutMs, ctx.lms);
    } finally {
      serverRss.stop();
      workerRss.stop();
    }
    const workerPeak = processPeakRss(worker.pid);
    const serverPeak = processPeakRss(server.process.pid);
    const entries = [...ctx.lms.kit.requests.entries];
    const hibobEntries = [...ctx.hibob.kit.requests.entries];
    const hibobSeen = hibobCalls(hibobEntries);
    const lmsSeen = lmsCalls(entries);
    log(`   ${label}: done in ${round(run.wallMs / 1000, 1)} s; reading the Temporal histories back…`);
    const all = await temporalWork(client, { sizes: !options.same });
    const work = before ? workSince(all, before) : all;
    const steps = await fullSyncSteps(client, run.workflowId);
    const { windows, longestTaskMs } = await stepWindows(client, run.workflowId);
    const stepOf = (at: number) => windows.find((w) => at >= w.from && at <= w.to)?.step ?? 'between steps';
    const throttled = entries.filter((e) => e.status === 429);
    if (options.keepServer) {
      // The employee workflows this run armed take their first tasks on this worker, as on the
      // one long-lived worker of a deployment, not on the fresh one the next run measures.
      await settledWork(client);
    }
    const stopped = await worker.stop();
    const runEnd = run.startedAt + run.wallMs;
    const sampledDuringRun = stopped.memory.filter((x) => x.at >= run.startedAt && x.at <= runEnd);
    const result = run.result;
    return {
      startedAt: run.startedAt,
      entries,
      server,
      run: {
        label,
        ...(options.same ? { after: options.same.label } : {}),
        quietBefore: quiet,
        wallMs: run.wallMs,
        workflowDurationMs: result.durationMs,
        ratioToFloor: round(run.wallMs / Math.max(1, ctx.floor.wallMs), 2),
        ratioToVendorFloor: round(run.wallMs / Math.max(1, ctx.floor.atVendorLimitsMs), 2),
        byAction: result.byAction,
        outcomes: result.outcomes,
        timersArmed: result.timersArmed ?? null,
        steps,
        hibob: { ...hibobSeen, perEmployee: perEmployee(hibobSeen.total, ctx.employees) },
        snapshotReads: snapshotReads(hibobEntries, entries, windows, run.startedAt),
        lms: {
          ...lmsSeen,
          getsPerEmployee: perEmployee(lmsSeen.gets, ctx.employees),
          writesPerEmployee: perEmployee(lmsSeen.writes, ctx.employees),
          writesByRoute: Object.fromEntries(Object.entries(lmsSeen.byRoute).filter(([k]) => !k.startsWith('GET'))),
          throttledByRoute: countBy(throttled, route),
          throttledByStep: countBy(throttled, (e) => stepOf(e.at)),
        },
        temporal: { ...work, perEmployee: temporalPerEmployee(work, ctx.employees) },
        actionsOfTheSyncItself: (work.actionsByType.fullSync ?? 0) + (work.actionsByType.syncBatch ?? 0),
        longestWorkflowTaskMs: longestTaskMs,
        memory: {
          workerPeakRssMiB: workerPeak ? mib(workerPeak) : null,
          workerSampledPeakRssMiB: mib(Math.max(0, ...sampledDuringRun.map((x) => x.rss))),
          workerPeakRssByStepMiB: workerRss.peaks(windows),
          workerMemoryAtStepPeakMiB: memoryAtStepPeaks(stopped.memory, windows),
          temporalServerPeakRssMiB: serverPeak ? mib(serverPeak) : null,
        },
        workerEventLoopDelayMs: { max: stopped.eventLoopDelayMaxMs, p99: stopped.eventLoopDelayP99Ms },
        limits: measuredLimits(ctx.config),
      },
    };
  } finally {
    await cleanup.run();
  }
}

// ---- the scenario --------------------------------------------------------------------------------

export async function seededSteadyState(options: SeededOptions, bundleCode: string): Promise<SeededSteady> {
  const cleanup = new Cleanup();
  const loadAverages: Record<string, number[]> = { start: loadAverage() };
  try {
    const began = Date.now();
    const since = (from: number) => Date.now() - from;
    const dataDir = mkdtempSync(join(os.tmpdir(), 'bobsync-bench-'));
    cleanup.add(() => rmSync(dataDir, { recursive: true, force: true }));

    // 1. HiBob.
    let t = Date.now();
    log(`A: generating ${options.employees} HiBob employees (seed ${SEED})…`);
    const { hibob, hibobServer, lms, lmsServer, company } = await startSeedEmulators(options.employees, cleanup);
    const indexed = options.plainEmulator ? undefined : indexCompany(company);
    const hibobIndex = options.plainEmulator ? undefined : indexHibob(hibob);
    const generateAndSeedHibob = since(t);

    const taskQueue = `bench-fullsync-seeded-${process.pid}`;
    const base = parseConfig(embeddedConfigYaml(hibobServer.url, lmsServer.url, await demoGroups(lmsServer.url)));
    base.temporal = { address: '127.0.0.1:7233', namespace: 'default', taskQueue };
    const env = seededWorkerEnv(dataDir);
    const setupConfig = withLimits(base, {
      hibobReadsPerSecond: SETUP_PER_SECOND,
      lmsWritesPerSecond: SETUP_PER_SECOND,
      lmsReadsPerSecond: SETUP_PER_SECOND,
    });
    const connection = setupConfig.connections.find((c) => c.name === CONNECTION)!;
    if (connection.destination.type !== '360learning') throw new Error(`${CONNECTION} is not a 360Learning connection`);
    const platform = connection.destination.externalIdPlatform;
    const blobs = blobStoreFromEnv({ ...process.env, ...env });

    // 2. What a first sync leaves in 360Learning.
    t = Date.now();
    log('A: reading HiBob as the snapshot does…');
    // An array, so that the setup can drop it before measuring.
    const records = [...(await readHibobPopulation({ hibob: hibobClientOf(connection, env) }, connection)).records];
    const readHibob = since(t);
    t = Date.now();
    const now = new Date();
    const seed = planSeed(records, connection, now);
    const planSeedMs = since(t);
    log(`A: ${seed.users.length} learners to seed (${counts(seed.byPlan)}); seeding 360Learning…`);
    t = Date.now();
    company.seed({
      customFields: connection.mapping.customFields
        .filter((f) => f.createIfMissing)
        .map((f) => ({ name: f.name, type: f.type })),
    });
    company.seedUsers(seed.users);
    const seedLms = since(t);
    t = Date.now();
    log(`A: seeded in ${round(seedLms / 1000, 1)} s; writing ${seed.owned.size} group-ownership records…`);
    await writeOwnership(blobs, seed.owned);
    const ownershipRecords = since(t);

    let plainCostsFigures: PlainEmulatorCosts | undefined;
    let differences: string[] = [];
    if (indexed && hibobIndex) {
      const sample = seed.users.find((u) => u.externalIds?.length)?.externalIds?.[0]?.value ?? '';
      plainCostsFigures = plainCosts(company, hibob, platform, sample);
      const hibobSample = [...seed.learnerOf.keys()].slice(0, 50);
      differences = [
        ...compareWithEmulator(company, 200),
        ...hibobIndex.check([
          ...hibobSample,
          ...managersOf(
            hibob,
            hibobSample.map((employeeId) => ({ employeeId })),
          ),
        ]),
      ];
      if (differences.length)
        throw new Error(`the indexed emulator answers differently: ${differences.slice(0, 5).join('; ')}`);
      log(
        `A: indexed emulator answers as the emulator does (checked); without indexes a users page costs ${plainCostsFigures.usersPageMs} ms, an external-id lookup ${plainCostsFigures.externalIdByValueMs} ms`,
      );
    }

    // 3. bobsync's state, from the product's planner with every learner read in full.
    t = Date.now();
    const registry = new ConnectionRegistry({ config: setupConfig, env });
    const lmsActs = lmsActivities(registry, new GroupOwnership(blobs));
    const snapshot: LmsSnapshot = await lmsActs.snapshot(CONNECTION, uncheckpointedPages);
    const lmsSnapshotMs = since(t);
    const index = new SnapshotIndex(snapshot);
    const lookup = memoryLookup(company, connection, seed.owned);

    t = Date.now();
    const recordOf = new Map<string, Record<string, unknown>>();
    for (const r of records) recordOf.set(String(normaliseEmployee(r, normaliseOptions(connection.mapping)).id), r);
    const every = Math.max(1, Math.floor(recordOf.size / LOOKUP_SAMPLE));
    const sampleIds = [...new Set([...[...recordOf.keys()].filter((_, i) => i % every === 0), ...seed.conflicts])];
    const client360 = registry.learning360(CONNECTION);
    await client360.listUserCustomFields(); // the catalog is read once per worker: not a per-learner cost
    let identical = 0;
    const differing: string[] = [];
    /** GETs of the lookups of employees linked to a learner: those a settling run makes. */
    const linkedGets: number[] = [];
    const sampleStarted = Date.now();
    for (const id of sampleIds) {
      const record = recordOf.get(id)!;
      const known = index.learnerOfEmployee.get(id);
      const before = client360.calls.get;
      const real = await lmsActs.lookupLearner(CONNECTION, id, record, known);
      if (known) linkedGets.push(client360.calls.get - before);
      const mine = lookup(id, record);
      if (canonicalJson(real) === canonicalJson(mine)) identical += 1;
      else differing.push(id);
    }
    const sampleMs = since(sampleStarted);
    const getsPerLookup = linkedGets.reduce((a, b) => a + b, 0) / Math.max(1, linkedGets.length);
    if (identical !== sampleIds.length)
      throw new Error(
        `in-memory lookups differ from lookupLearner for ${differing.length} of ${sampleIds.length}, e.g. ${differing.slice(0, 5).join(', ')}`,
      );
    const lookupSampleMs = since(t);
    const linked = index.learnerOfEmployee.size;
    log(
      `A: ${sampleIds.length} deep lookups over HTTP match the in-memory ones; ${round(getsPerLookup, 2)} GETs for each linked learner, so a settling run would read ${Math.round(linked * getsPerLookup)} GETs (${round((linked * getsPerLookup) / (DEFAULT_DESTINATION.readsPerSecond * HEADROOM) / 60, 1)} min at the client's pace under 50 GET/s)`,
    );

    t = Date.now();
    log('A: planning every employee with its learner read in full (product planner, in memory)…');
    const plan = await planFullRun(
      {
        records,
        normalise: normaliseOptions(connection.mapping),
        mapping: connection.mapping,
        destination: traitsOf(connection),
        index,
        safety: connection.safety,
        previous: { fingerprints: {} },
        problems: [],
        heldEmployeeIds: [],
        now,
        timerHorizonDays: connection.fullSync.timerHorizonDays,
        approvalMode: approvalMode(connection),
        firstRun: true,
        unmatchedLearners: connection.safety.unmatchedLearners,
      },
      async (employeeId, record) => lookup(employeeId, record),
    );
    const toWrite = plan.rows.filter((r) => r.action !== 'park' && r.action !== 'noop' && r.action !== 'protected');
    if (toWrite.length)
      throw new Error(
        `the seeded tenant is not in step: ${toWrite.length} rows would write, e.g. ${toWrite
          .slice(0, 3)
          .map((r) => `${r.employeeId} ${r.action} ${r.operations.join('+')} (${r.reason})`)
          .join('; ')}`,
      );
    // As writeState leaves it after a run that found everyone in step (parked rows keep no fingerprint).
    await blobs.putJson(stateKey(CONNECTION), {
      hibobEmployees: records.length,
      finishedAt: new Date().toISOString(),
      fingerprints: plan.unchanged,
    });
    const planAndState = since(t);
    const setup: SeededSetup = {
      ms: {
        generateAndSeedHibob,
        readHibob,
        planSeed: planSeedMs,
        seedLms,
        ownershipRecords,
        lmsSnapshot: lmsSnapshotMs,
        lookupSample: lookupSampleMs,
        planAndState,
        total: since(began),
      },
      hibobEmployees: records.length,
      learners: seed.users.length,
      byPlan: seed.byPlan,
      verification: {
        byAction: plan.byAction,
        rowsToWrite: toWrite.length,
        fingerprints: Object.keys(plan.unchanged).length,
      },
      lookupSample: {
        lookups: sampleIds.length,
        identical,
        linkedLookups: linkedGets.length,
        getsPerLookup: round(getsPerLookup, 2),
        msPerLookup: round(sampleMs / Math.max(1, sampleIds.length), 1),
        settlingRunAtDefaultReadLimitS: Math.round(
          (linked * getsPerLookup) / (DEFAULT_DESTINATION.readsPerSecond * HEADROOM),
        ),
      },
      emulator: { indexed: !!indexed, differences, plainCosts: plainCostsFigures },
    };
    log(
      `A: set up in ${round(setup.ms.total / 1000)} s; the planner finds ${counts(plan.byAction)}; ${setup.verification.fingerprints} fingerprints saved`,
    );

    // The measured runs: the vendors' default limits on both emulators and in the connection.
    lms['getLimiter'].limit = DEFAULT_DESTINATION.readsPerSecond;
    lms['writeLimiter'].limit = DEFAULT_DESTINATION.writesPerSecond;
    hibob.updateSettings({ rateLimits: { ...DEFAULT_RATE_LIMITS } });
    const config = withLimits(base, { ...DEFAULT_LIMITS, hibobReadsPerSecond: options.hibobReadsPerSecond });
    const learnerOf = seed.learnerOf;
    const seededStatus = new Map(seed.users.map((u) => [u.id!, u.status]));
    // Drop the setup's bulk before measuring.
    records.length = 0;
    seed.users.length = 0;
    recordOf.clear();

    loadAverages.floor = loadAverage();
    log(`A: floor: one HiBob search and the 360Learning lists at ${DEFAULT_DESTINATION.readsPerSecond} GET/s…`);
    const floor = await measureFloor(config, env, lms);
    log(
      `A: floor ${round(floor.wallMs / 1000, 2)} s (HiBob search ${round(floor.hibobSearchMs / 1000, 2)} s, ${floor.lmsPages} list pages ${round(floor.lmsListMs / 1000, 2)} s); at the vendors' limits ${round(floor.atVendorLimitsMs / 1000, 2)} s`,
    );

    const ctx: RunContext = {
      employees: options.employees,
      config,
      env,
      bundleCode,
      hibob,
      lms,
      floor,
      timeoutMs: NO_CHANGE_TIMEOUT_MS,
    };
    loadAverages.noChange = loadAverage();
    log(`A: measured full sync over ${options.employees} employees, nothing changed…`);
    const first = await measuredRun(ctx, 'no-change', { keepServer: true });
    const noChange = first.run;
    log(
      `A: no change: ${round(noChange.wallMs / 1000, 1)} s (${noChange.ratioToFloor} × the floor), ${noChange.lms.writes} writes, ≈${noChange.temporal.actions} Temporal actions, ${noChange.timersArmed ?? 0} timers armed`,
    );
    let noChangeTimersHeld: MeasuredRun;
    try {
      loadAverages.noChangeTimersHeld = loadAverage();
      log('A: nothing changed again, on the same server: the timers are held now…');
      noChangeTimersHeld = (
        await measuredRun(ctx, 'no-change-held', {
          same: { server: first.server, label: 'no-change' },
        })
      ).run;
    } finally {
      await first.server.stop();
    }
    log(
      `A: no change, timers held: ${round(noChangeTimersHeld.wallMs / 1000, 1)} s, ≈${noChangeTimersHeld.temporal.actions} Temporal actions added (${noChangeTimersHeld.temporal.perEmployee.actions} per employee), ${noChangeTimersHeld.timersArmed ?? 0} timers armed`,
    );

    // 1 % changed: a new surname in HiBob for employees with an active learner, spread evenly.
    const eligible = [...learnerOf.entries()].filter(([, learnerId]) => seededStatus.get(learnerId) === 'active');
    const wanted = Math.max(1, Math.round((options.employees * options.changePercent) / 100));
    const step = eligible.length / wanted;
    const changed: { employeeId: string; learnerId: string; surname: string }[] = [];
    for (let i = 0; i < wanted && Math.floor(i * step) < eligible.length; i++) {
      const [employeeId, learnerId] = eligible[Math.floor(i * step)]!;
      const before = hibob.getEmployee(employeeId);
      if (!before) continue;
      const surname = `${before.surname}-Lindqvist`;
      hibob.updateEmployee(employeeId, { surname });
      changed.push({ employeeId, learnerId, surname });
    }
    log(`A: ${changed.length} employees got a new surname in HiBob; measured full sync…`);
    loadAverages.change = loadAverage();
    const measured = await measuredRun(
      { ...ctx, timeoutMs: changeTimeoutMs(changed.length, options.hibobReadsPerSecond) },
      'change',
    );
    const expectedLastName = (surname: string) => surname.trim();
    const applied = changed.filter((c) => company.getUser(c.learnerId).lastName === expectedLastName(c.surname)).length;
    const rate = writeRate(measured.entries, DEFAULT_DESTINATION.writesPerSecond, measured.startedAt);
    const firstWrite = measured.startedAt + rate.firstWriteAfterMs;
    const hibobReads = [...hibob.kit.requests.entries].filter(
      (e) =>
        e.method === 'POST' &&
        e.path !== '/v1/people/search' &&
        /^\/v1\/people\/[^/]+$/.test(e.path) &&
        e.at >= firstWrite,
    ).length;
    const change: ChangeRun = {
      ...measured.run,
      changed: changed.length,
      applied,
      writeRate: rate,
      hibobReadsPerSecond: rate.applySpanS > 0 ? round(hibobReads / rate.applySpanS, 2) : 0,
    };
    log(
      `A: change: ${round(change.wallMs / 1000, 1)} s; ${applied} of ${changed.length} changes in 360Learning; ${rate.achievedPerSecond} writes/s (ratio ${rate.ratio}); 429s ${change.lms.throttled}`,
    );
    if (indexed && hibobIndex) {
      const ids = [...changed.slice(0, 50).map((c) => c.employeeId), ...managersOf(hibob, changed.slice(0, 50))];
      const after = [...compareWithEmulator(company, 50), ...hibobIndex.check(ids)];
      if (after.length)
        throw new Error(`the indexed emulators answer differently after the runs: ${after.slice(0, 5).join('; ')}`);
      setup.emulator.differences = after;
    }
    loadAverages.end = loadAverage();
    return {
      employees: options.employees,
      changePercent: options.changePercent,
      setup,
      floor,
      noChange,
      noChangeTimersHeld,
      change,
      loadAverages,
    };
  } finally {
    await cleanup.run();
  }
}

// ---- report --------------------------------------------------------------------------------------

const s = (ms: number, digits = 1) => `${round(ms / 1000, digits)} s`;

function runRows(r: MeasuredRun, employees: number): [string, string][] {
  const t = r.temporal;
  const sizes = t.sizes;
  const largest = (type: string) => {
    const h = sizes?.largestByType[type];
    return h ? `${round(h.bytes / 1024, 1)} KiB (${h.events} events)` : '–';
  };
  return [
    [
      'wall time',
      `${s(r.wallMs, 2)} (workflow ${s(r.workflowDurationMs, 2)}): ${r.ratioToFloor} × the floor measured, ${r.ratioToVendorFloor} × the vendors' bound`,
    ],
    ['full-sync steps (s)', stepsLine(r.steps)],
    [
      '  snapshot reads (s from the start)',
      [
        r.snapshotReads.hibobSearch
          ? `HiBob search asked at ${r.snapshotReads.hibobSearch.atS}, answered in ${r.snapshotReads.hibobSearch.answeredInS}`
          : 'HiBob search ?',
        r.snapshotReads.lmsLists
          ? `360L ${r.snapshotReads.lmsLists.pages} list pages from ${r.snapshotReads.lmsLists.fromS} to ${r.snapshotReads.lmsLists.toS}, the emulator ${r.snapshotReads.lmsLists.answeringS} on them`
          : '360L list pages ?',
      ].join('; '),
    ],
    ['planned', counts(r.byAction)],
    ['outcomes', `${counts(r.outcomes)}; timers armed ${r.timersArmed ?? 0}`],
    [
      'HiBob calls',
      `${r.hibob.total} (${r.hibob.perEmployee}/employee): ${counts(r.hibob.byRoute)}; 429s ${r.hibob.throttled}`,
    ],
    [
      '360L GETs',
      `${r.lms.gets} (${r.lms.getsPerEmployee}/employee): ${counts(Object.fromEntries(Object.entries(r.lms.byRoute).filter(([k]) => k.startsWith('GET'))))}`,
    ],
    [
      '360L writes',
      `${r.lms.writes} (${r.lms.writesPerEmployee}/employee): ${counts(r.lms.writesByRoute)}; errors ${r.lms.otherErrors}`,
    ],
    [
      '360L 429s',
      `${r.lms.throttled}${r.lms.throttled ? `: ${counts(r.lms.throttledByRoute)}; in ${counts(r.lms.throttledByStep)}` : ''}`,
    ],
    ['workflow executions', counts(t.workflows)],
    [
      'Temporal work',
      `${t.historyEvents} history events (${t.perEmployee.historyEvents}/employee), ${t.workflowTasks} workflow tasks, ${t.activities} activities (${t.activityRetries} retries), ${t.localActivities} local, ${t.timers} timers, ${t.signals} signals, ${t.updates} updates`,
    ],
    [
      'Temporal actions',
      `≈${t.actions} (${t.perEmployee.actions}/employee); the full sync and its batches alone ≈${r.actionsOfTheSyncItself} (${perEmployee(r.actionsOfTheSyncItself, employees)}/employee)`,
    ],
    [
      'history sizes',
      !sizes
        ? 'not measured on a server an earlier run used'
        : `fullSync ${largest('fullSync')}; largest syncBatch ${largest('syncBatch')}; largest employeeSync ${largest('employeeSync')}; all ${round((sizes?.totalBytes ?? 0) / 2 ** 20, 1)} MiB`,
    ],
    [
      'largest payload',
      sizes?.largestPayload
        ? `${round(sizes.largestPayload.bytes / 1024, 1)} KiB (${sizes.largestPayload.workflowType}, ${sizes.largestPayload.eventType})`
        : '–',
    ],
    [
      'peak RSS',
      `worker process ${r.memory.workerPeakRssMiB ?? '?'} MiB (VmHWM; sampled ${r.memory.workerSampledPeakRssMiB}), Temporal server ${r.memory.temporalServerPeakRssMiB ?? '?'} MiB${r.after ? ` (since it started, the ${r.after} run included)` : ''}`,
    ],
    [
      '  worker by step (MiB)',
      Object.entries(r.memory.workerPeakRssByStepMiB)
        .map(([step, peak]) => `${step} ${peak ?? '?'}`)
        .join(', '),
    ],
    [
      '  at each peak: heap used / total, external (array buffers), MiB',
      Object.entries(r.memory.workerMemoryAtStepPeakMiB)
        .map(([step, m]) =>
          m ? `${step} ${m.heapUsed}/${m.heapTotal}, ${m.external} (${m.arrayBuffers})` : `${step} ?`,
        )
        .join('; '),
    ],
    [
      'worker event loop',
      `delay max ${r.workerEventLoopDelayMs.max} ms, p99 ${r.workerEventLoopDelayMs.p99} ms; the full sync's longest workflow task ${s(r.longestWorkflowTaskMs, 2)}`,
    ],
  ];
}

export function printSeededSteady(a: SeededSteady): void {
  const su = a.setup;
  const f = a.floor;
  log('');
  log(`A. steady state, seeded — ${a.employees} employees, ${su.learners} learners`);
  log(
    table([
      [
        'setup (not measured)',
        `${s(su.ms.total)}: HiBob ${s(su.ms.generateAndSeedHibob)}, its search ${s(su.ms.readHibob)}, seed plan ${s(su.ms.planSeed)}, 360L seed ${s(su.ms.seedLms)}, ownership records ${s(su.ms.ownershipRecords)}, LMS snapshot ${s(su.ms.lmsSnapshot)}, lookup sample ${s(su.ms.lookupSample)}, plan and state ${s(su.ms.planAndState)}`,
      ],
      ['  empty-LMS plan', counts(su.byPlan)],
      [
        '  planner, learners read in full',
        `${counts(su.verification.byAction)}; ${su.verification.rowsToWrite} rows to write; ${su.verification.fingerprints} fingerprints saved`,
      ],
      [
        '  settling run instead',
        `${su.lookupSample.getsPerLookup} GETs per linked learner read in full (${su.lookupSample.linkedLookups} of the sample; ${su.lookupSample.identical}/${su.lookupSample.lookups} lookups over HTTP identical to the in-memory ones): ≈${round(su.lookupSample.settlingRunAtDefaultReadLimitS / 60, 1)} min at the client's pace under 50 GET/s (${HEADROOM} × the limit)`,
      ],
      [
        '  emulator',
        su.emulator.indexed
          ? `360Learning and HiBob indexed (same answers, checked); without: users page ${su.emulator.plainCosts?.usersPageMs} ms, external id by value ${su.emulator.plainCosts?.externalIdByValueMs} ms, largest group's roles ${su.emulator.plainCosts?.largestGroupRolesMs} ms, HiBob read context ${su.emulator.plainCosts?.hibobReadContextMs} ms`
          : 'as it is (no indexes)',
      ],
      [
        'floor',
        `${s(f.wallMs, 2)}: HiBob search ${s(f.hibobSearchMs, 2)} + ${f.lmsPages} 360L list pages ${s(f.lmsListMs, 2)}; at the vendors' limits (search + pages ÷ 50/s) ${s(f.atVendorLimitsMs, 2)}`,
      ],
    ]),
  );
  log('');
  log('  nothing changed (a fresh server: every timer is armed)');
  log(table(runRows(a.noChange, a.employees)));
  log('');
  log('  nothing changed again, on the same server (the timers are held): Temporal figures are what this run added');
  log(table(runRows(a.noChangeTimersHeld, a.employees)));
  const c = a.change;
  const w = c.writeRate;
  log('');
  log(`  ${a.changePercent} % changed (${c.changed} surnames)`);
  log(
    table([
      ...runRows(c, a.employees),
      ['applied', `${c.applied} of ${c.changed} new surnames in 360Learning`],
      [
        'writes',
        `${w.writes} in ${w.applySpanS} s, first after ${s(w.firstWriteAfterMs)}: ${w.achievedPerSecond}/s of ${w.limitPerSecond}, ratio ${w.ratio} (target ≥ 0.9); middle 80 % ${w.middlePerSecond}/s; peak ${w.peakPerSecond} in a second; 429s ${w.throttled}`,
      ],
      ['HiBob reads while applying', `${c.hibobReadsPerSecond}/s (connection limit ${c.limits.hibobReadsPerSecond}/s)`],
      [
        'limits',
        `HiBob reads ${c.limits.hibobReadsPerSecond}/s, 360L writes ${c.limits.lmsWritesPerSecond}/s, reads ${c.limits.lmsReadsPerSecond}/s; ${JSON.stringify(c.limits.fullSync)}`,
      ],
    ]),
  );
  log(
    `  load average  ${Object.entries(a.loadAverages)
      .map(([k, v]) => `${k} ${v.join(' ')}`)
      .join('; ')}`,
  );
}
