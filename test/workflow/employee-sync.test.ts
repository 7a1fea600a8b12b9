/**
 * The employee workflow on the time-skipping server. HiBob and the LMS are stand-ins in memory
 * (a HiBob record in its real dual shape, a learner changed as 360Learning would change it), but
 * planning is the product's own (src/activities/employee planEmployee over src/domain), so
 * effective dates come from the real status rules, in the test server's skipped time.
 */
import { WorkflowUpdateStage } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ConnectionRegistry } from '../../src/activities/deps';
import { employeeActivities } from '../../src/activities/employee';
import type {
  AppliedOperation,
  EmployeeFailure,
  FetchedEmployee,
  LearnerLookup,
  SnapshotRead,
} from '../../src/activities/employee-types';
import { fieldDigests } from '../../src/domain/field-digests';
import { hibobFieldsFor, normaliseEmployee } from '../../src/domain/normalise';
import type { CurrentLearner, Operation, Plan } from '../../src/domain/types';
import { employeeSync } from '../../src/workflows';
import {
  hibobEventSignal,
  stateQuery,
  syncNowUpdate,
  type EmployeeSyncInput,
  type EmployeeSyncState,
  type HibobEventSignal,
  type SyncOutcome,
} from '../../src/workflows/employee-sync-api';
import {
  applyOperations,
  GROUP_DEFAULT,
  learner as learnerFixture,
  mapping as mappingOf,
  rawEmployee,
  type RawEmployeeSpec,
} from '../unit/domain-fixtures';
import { recordHistoryIfAsked } from '../support/histories';
import { ActivityLog, runWorkers, timeSkippingEnvironment, uniqueTaskQueue, waitFor } from '../support/time-skipping';

jest.setTimeout(120_000);

const CONNECTION = 'acme-360';
const EMPLOYEE = '3332883894235038486';
const MANAGER = '3332883804594373380';
const DAY = 86_400_000;

const mapping = mappingOf({
  status: { siteTimeZones: { Sydney: 'Australia/Sydney', 'New York': 'America/New_York', London: 'Europe/London' } },
});

let eventSeq = 0;
const event = (type = 'employee.updated', fieldIds: string[] = []): HibobEventSignal => ({
  type,
  employeeId: EMPLOYEE,
  triggeredAt: new Date().toISOString(),
  fieldIds,
  dedupeKey: `event-${++eventSeq}`,
  receivedAt: new Date().toISOString(),
});

/** The offset of a time zone at an instant, in minutes east of UTC, from the platform's zone data. */
function offsetMinutes(timeZone: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')!.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

/** Local midnight at the start of `date` in `timeZone`, as a UTC instant (ISO). */
function localMidnight(date: string, timeZone: string): string {
  const guess = Date.parse(`${date}T00:00:00Z`);
  // The offset at local midnight is the one after subtracting it (no zone here shifts at midnight).
  const offset = offsetMinutes(timeZone, new Date(guess - offsetMinutes(timeZone, new Date(guess)) * 60_000));
  return new Date(guess - offset * 60_000).toISOString();
}

function localDate(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(at),
  );
}

const addDays = (date: string, days: number) =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);

/**
 * How long after `instant` the workflow's last timer fired, from its history (the server's
 * skipped time). A timer runs from when the server took the command, so it fires a workflow
 * task's latency after the instant the workflow computed: milliseconds in production, a few
 * hundred on a busy test machine.
 */
async function lastTimerFiredAfter(env: TestWorkflowEnvironment, workflowId: string, instant: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  const t = (history.events ?? []).filter((e) => e.timerFiredEventAttributes).pop()?.eventTime;
  if (!t) throw new Error(`no timer fired in ${workflowId}`);
  return Number(t.seconds) * 1000 + Math.round((t.nanos ?? 0) / 1e6) - Date.parse(instant);
}

/** How many timers the workflow's (latest run's) history has started. */
async function timersStarted(env: TestWorkflowEnvironment, workflowId: string): Promise<number> {
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.timerStartedEventAttributes).length;
}

/** Waits (in wall-clock time) until the workflow has started more than `before` timers. */
async function timerStartedAfter(env: TestWorkflowEnvironment, workflowId: string, before: number): Promise<void> {
  await waitFor(async () => ((await timersStarted(env, workflowId)) > before ? true : undefined), 'a new timer');
}

/** HiBob and the LMS for one employee, in memory. */
class World {
  hibob: RawEmployeeSpec | null;
  learner: CurrentLearner | undefined;
  managerLearnerId: string | undefined;
  /** HiBob's read-after-write lag as its reads report it, and reads still served from before an edit. */
  readLagSeconds = 0;
  staleReads: { left: number; spec: RawEmployeeSpec } | undefined;
  readonly log = new ActivityLog();
  readonly failures: EmployeeFailure[] = [];

  constructor(
    private readonly env: TestWorkflowEnvironment,
    spec: RawEmployeeSpec,
    learner?: CurrentLearner,
  ) {
    this.hibob = { id: EMPLOYEE, reportsTo: null, ...spec };
    this.learner = learner;
  }

  activities() {
    const registry = {
      connection: () => ({
        mapping,
        safety: { protectedUsers: [] },
        destination: { type: '360learning', defaultGroupId: GROUP_DEFAULT },
      }),
      // The test mapping reads no field HiBob files away from its id.
      hibobFieldPaths: () => ({ for: async () => ({}) }),
    } as unknown as ConnectionRegistry;
    const fields = hibobFieldsFor(mapping);
    return {
      hibob: this.log.stub({
        fetchEmployee: async (): Promise<FetchedEmployee> => {
          const readLagSeconds = this.readLagSeconds;
          let spec = this.hibob;
          if (this.staleReads && this.staleReads.left > 0) {
            this.staleReads.left -= 1;
            spec = this.staleReads.spec;
          }
          if (!spec) return { found: false, readLagSeconds };
          const record = rawEmployee(spec);
          return { found: true, record, digests: fieldDigests(normaliseEmployee(record), fields), readLagSeconds };
        },
      }),
      lmsReads: this.log.stub({
        lookupLearner: async (): Promise<LearnerLookup> => ({
          match: this.learner ? { kind: 'externalId', learner: this.learner } : { kind: 'none' },
          managerLearnerIds: this.managerLearnerId ? { [MANAGER]: this.managerLearnerId } : {},
          linkedManagerLearnerIds: this.managerLearnerId ? [this.managerLearnerId] : [],
        }),
      }),
      lmsWrites: this.log.stub({
        applyOperation: async (
          _c: string,
          _e: string,
          _l: string | undefined,
          operation: Operation,
        ): Promise<AppliedOperation> => {
          this.learner = applyOperations(this.learner, [operation], EMPLOYEE);
          if (operation.op === 'create') this.learner = { ...this.learner, externalId: EMPLOYEE };
          return { learnerId: this.learner.learnerId, note: operation.op };
        },
      }),
      workflows: this.log.stub({
        // The product's planning, at the test server's (skipped) time.
        planEmployee: async (
          ...args: Parameters<ReturnType<typeof employeeActivities>['planEmployee']>
        ): Promise<Plan> => {
          const now = new Date(await this.env.currentTimeMs());
          return employeeActivities(registry, () => now).planEmployee(...args);
        },
        reportFailure: async (_c: string, failure: EmployeeFailure) => {
          this.failures.push(failure);
        },
      }),
    };
  }

  /** An edit HiBob serves as before to the next `staleReads` reads, within a 20 s lag. */
  editWithReadLag(change: Partial<RawEmployeeSpec>, staleReads: number): void {
    this.readLagSeconds = 20;
    this.staleReads = { left: staleReads, spec: this.hibob! };
    this.hibob = { ...this.hibob, ...change };
  }

  operations(): { op: string; at: number }[] {
    return this.log.of('applyOperation').map((c) => ({ op: (c.args[3] as Operation).op, at: c.scheduledAt }));
  }
}

describe('employeeSync on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const started: string[] = [];
  const start = (taskQueue: string, first: HibobEventSignal, extra: Partial<EmployeeSyncInput> = {}) => {
    started.push(`test/employee/${taskQueue}`);
    return env.client.workflow.signalWithStart(employeeSync, {
      taskQueue,
      workflowId: `test/employee/${taskQueue}`,
      args: [{ connection: CONNECTION, employeeId: EMPLOYEE, taskQueue, ...extra }],
      signal: hibobEventSignal,
      signalArgs: [first],
    });
  };
  // A workflow left running would get workflow tasks no Worker polls any more once the next test
  // skips time, and the server does not skip past a pending workflow task.
  afterEach(async () => {
    for (const id of started.splice(0))
      await env.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  });

  it('activates a future hire at local midnight of the start date in Sydney, not before', async () => {
    const now = await env.currentTimeMs();
    const startDate = localDate(now + 10 * DAY, 'Australia/Sydney');
    const expected = localMidnight(startDate, 'Australia/Sydney');
    const world = new World(env, { site: 'Sydney', startDate, lifecycleStatus: 'hired', internalStatus: 'Inactive' });
    const taskQueue = uniqueTaskQueue('emp-sydney');

    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event('employee.created'));
      const pending = await waitFor(async () => (await handle.query(stateQuery)).pendingTimer, 'the activation timer');
      expect(pending).toBe(expected);
      expect(world.learner).toBeUndefined();

      await env.sleep(Date.parse(expected) - (await env.currentTimeMs()) + 1_000);
      const state = await waitFor(async () => {
        const s = await handle.query(stateQuery);
        return s.lastOutcome?.trigger === 'effective date reached' ? s : undefined;
      }, 'the activation');
      // The timer fired at the instant; the sync ran in the workflow task that followed.
      const late = await lastTimerFiredAfter(env, handle.workflowId, expected);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(2_000);
      expect(Date.parse(state.lastOutcome!.at) - Date.parse(expected)).toBeLessThan(5_000);
      expect(state.lastOutcome!.operations).toContain('create');
      await recordHistoryIfAsked(handle, 'employee-sync-activation-timer');
    });
    expect(world.operations().length).toBeGreaterThan(0);
    expect(world.operations().every((o) => o.at >= Date.parse(expected))).toBe(true);
    expect(world.learner?.status).not.toBe('deleted');
  });

  it('deactivates at the end of the last day in New York, across a change to daylight saving time', async () => {
    const now = await env.currentTimeMs();
    // The next day on which New York's offset changes (at 2 a.m.) is the last day of work: it ends at
    // the following midnight, under the new offset.
    let lastDay = localDate(now + 2 * DAY, 'America/New_York');
    while (
      offsetMinutes('America/New_York', new Date(Date.parse(`${lastDay}T12:00:00Z`))) ===
      offsetMinutes('America/New_York', new Date(now))
    )
      lastDay = addDays(lastDay, 1);
    const expected = localMidnight(addDays(lastDay, 1), 'America/New_York');
    // The offset at the deactivation differs from the one when the termination was entered.
    expect(offsetMinutes('America/New_York', new Date(expected))).not.toBe(
      offsetMinutes('America/New_York', new Date(now)),
    );

    const world = new World(
      env,
      { site: 'New York', lastDayOfWork: lastDay, terminationDate: lastDay },
      learnerFixture({ externalId: EMPLOYEE }),
    );
    const taskQueue = uniqueTaskQueue('emp-newyork');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event('employee.updated', ['internal.terminationDate']));
      expect(await waitFor(async () => (await handle.query(stateQuery)).pendingTimer, 'the deactivation timer')).toBe(
        expected,
      );
      await env.sleep(Date.parse(expected) - (await env.currentTimeMs()) - 60_000);
      expect(world.learner?.status).toBe('active');
      await env.sleep(120_000);
      const state = await waitFor(async () => {
        const s = await handle.query(stateQuery);
        return s.lastOutcome?.trigger === 'effective date reached' ? s : undefined;
      }, 'the deactivation');
      const late = await lastTimerFiredAfter(env, handle.workflowId, expected);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(2_000);
      expect(state.lastOutcome!.operations).toEqual(['deactivate']);
    });
    expect(world.learner?.status).toBe('deleted');
  });

  it('a rescinded termination cancels the timer, and nothing is deactivated at the old instant', async () => {
    const now = await env.currentTimeMs();
    const lastDay = localDate(now + 5 * DAY, 'Europe/London');
    const world = new World(
      env,
      { site: 'London', lastDayOfWork: lastDay, terminationDate: lastDay },
      learnerFixture({ externalId: EMPLOYEE }),
    );
    const taskQueue = uniqueTaskQueue('emp-rescind');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event('employee.updated', ['internal.terminationDate']));
      await waitFor(async () => (await handle.query(stateQuery)).pendingTimer, 'the deactivation timer');
      world.hibob = { ...world.hibob, lastDayOfWork: null, terminationDate: null };
      await handle.signal(
        hibobEventSignal,
        event('employee.updated', ['internal.terminationDate', 'employee.lastDayOfWork']),
      );
      await waitFor(
        async () => ((await handle.query(stateQuery)).processed === 2 ? true : undefined),
        'the second event',
      );
      expect((await handle.query(stateQuery)).pendingTimer).toBeUndefined();
      // Past the old instant, and past the idle period: the workflow ends having written nothing.
      await env.sleep(7 * DAY);
      await handle.result();
    });
    expect(world.operations()).toEqual([]);
    expect(world.learner?.status).toBe('active');
  });

  it('a rehire before the termination date replaces the deactivation timer; the learner is never deactivated', async () => {
    const now = await env.currentTimeMs();
    const lastDay = localDate(now + 10 * DAY, 'Europe/London');
    const world = new World(
      env,
      { site: 'London', lastDayOfWork: lastDay, terminationDate: lastDay },
      learnerFixture({ externalId: EMPLOYEE }),
    );
    const taskQueue = uniqueTaskQueue('emp-rehire');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event('employee.updated', ['internal.terminationDate']));
      const deactivation = await waitFor(
        async () => (await handle.query(stateQuery)).pendingTimer,
        'the deactivation timer',
      );
      // Rehired with a new start in 3 days: the termination belongs to the earlier employment.
      const newStart = localDate(now + 3 * DAY, 'Europe/London');
      world.hibob = {
        ...world.hibob,
        startDate: newStart,
        lifecycleStatus: 'hired',
        lastDayOfWork: addDays(newStart, -1),
        terminationDate: addDays(newStart, -1),
      };
      await handle.signal(hibobEventSignal, event('employee.joined', ['work.startDate', 'internal.lifecycleStatus']));
      const next = await waitFor(async () => {
        const s = await handle.query(stateQuery);
        return s.processed === 2 ? (s.pendingTimer ?? 'none') : undefined;
      }, 'the rehire');
      expect(next).not.toBe(deactivation);
      await env.sleep(Date.parse(deactivation) - (await env.currentTimeMs()) + DAY);
    });
    expect(world.operations().map((o) => o.op)).not.toContain('deactivate');
    expect(world.learner?.status).not.toBe('deleted');
  });

  it('retries a deferred manager and links it once the manager has a learner', async () => {
    const world = new World(
      env,
      { site: 'London', reportsTo: { id: MANAGER, firstName: 'Alan', surname: 'Tullin' } },
      learnerFixture({ externalId: EMPLOYEE }),
    );
    expect(world.hibob?.reportsTo).toMatchObject({ id: MANAGER });
    const taskQueue = uniqueTaskQueue('emp-manager');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event());
      const first = await waitFor(async () => (await handle.query(stateQuery)).lastOutcome, 'the first sync');
      expect(first.deferredManager).toBe(true);
      world.managerLearnerId = '64f1c2a9e4b0a1b2c3d4aaaa';
      await env.sleep(6 * 60_000);
      await waitFor(
        async () => (world.learner?.managerIds.includes('64f1c2a9e4b0a1b2c3d4aaaa') ? true : undefined),
        'the manager link',
      );
    });
    expect(world.operations().map((o) => o.op)).toContain('addManager');
  });

  it('carries the learner, the fingerprint, pending events and the timer over continue-as-new', async () => {
    const now = await env.currentTimeMs();
    const lastDay = localDate(now + 3 * DAY, 'Europe/London');
    const world = new World(
      env,
      { site: 'London', lastDayOfWork: lastDay, terminationDate: lastDay },
      learnerFixture({ externalId: EMPLOYEE }),
    );
    const taskQueue = uniqueTaskQueue('emp-continue');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event(), { historyEventsBeforeContinue: 40 });
      const firstRun = (await handle.describe()).runId;
      const timer = await waitFor(async () => (await handle.query(stateQuery)).pendingTimer, 'the deactivation timer');
      for (let i = 0; i < 6; i++) {
        world.hibob = { ...world.hibob, surname: `Doe-${i}` };
        await handle.signal(hibobEventSignal, event('employee.updated', ['root.surname']));
      }
      const carried = await waitFor(async () => {
        const d = await handle.describe();
        if (d.runId === firstRun) return undefined;
        const s = await handle.query(stateQuery);
        return world.learner?.fields.lastName === 'Doe-5' && s.pendingEvents === 0 ? s : undefined;
      }, 'a new run with every event applied');
      expect(carried.learnerId).toBe(world.learner!.learnerId);
      expect(carried.pendingTimer).toBe(timer);
      expect(carried.lastFingerprint).toBeDefined();
      // The timer carried over fires in the new run.
      await env.sleep(Date.parse(timer) - (await env.currentTimeMs()) + 1_000);
      await waitFor(
        async () => (world.learner?.status === 'deleted' ? true : undefined),
        'the deactivation in the new run',
      );
      await recordHistoryIfAsked(
        env.client.workflow.getHandle(handle.workflowId, firstRun),
        'employee-sync-continue-as-new',
      );
    });
    // Every surname was applied at most once and the last one stands; nothing was lost at the hand-over.
    expect(world.learner?.fields.lastName).toBe('Doe-5');
  });

  /** The webhook for a surname edit, received at the test server's time (which earlier tests may have moved days ahead): the lag counts from it. */
  const surnameEdited = async (): Promise<HibobEventSignal> => ({
    ...event('employee.updated', ['root.surname']),
    receivedAt: new Date(await env.currentTimeMs()).toISOString(),
  });
  /** Skips past the lag once the workflow has set its first pause: skipped earlier, it would eat the lag's budget. */
  const skipPastLag = async (workflowId: string, timersBefore: number) => {
    await timerStartedAfter(env, workflowId, timersBefore);
    await env.sleep(30_000);
  };
  /** The workflow's state once it has processed `count` events. */
  const processedState = (handle: { query: (q: typeof stateQuery) => Promise<EmployeeSyncState> }, count: number) =>
    waitFor(async () => {
      const state = await handle.query(stateQuery);
      return state.processed === count ? state : undefined;
    }, `${count} event(s) processed`);

  it('while an edit still reads as before, re-reads HiBob alone, then looks the learner up once and applies it', async () => {
    const world = new World(env, { site: 'London', surname: 'Lovelace' }, learnerFixture({ externalId: EMPLOYEE }));
    const taskQueue = uniqueTaskQueue('emp-read-lag');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      // An event naming no field: the record as it stands is applied, and its digests with it.
      const handle = await start(taskQueue, event('employee.updated'));
      await processedState(handle, 1);
      const reads = { hibob: world.log.of('fetchEmployee').length, lms: world.log.of('lookupLearner').length };

      // The surname is edited; HiBob serves the old one to the next two reads.
      world.editWithReadLag({ surname: 'Byron' }, 2);
      const idleTimers = await timersStarted(env, handle.workflowId);
      await handle.signal(hibobEventSignal, await surnameEdited());
      await skipPastLag(handle.workflowId, idleTimers);
      const state = await processedState(handle, 2);

      expect(state.lastOutcome?.rereads).toBe(2);
      expect(state.lastOutcome?.detail).toMatch(/HiBob read 3 times/);
      expect(world.log.of('fetchEmployee').length - reads.hibob).toBe(3);
      // Looked up once, after the read that shows the edit: none beside the stale reads.
      const lookups = world.log.of('lookupLearner').slice(reads.lms);
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.scheduledAt).toBeGreaterThanOrEqual(world.log.of('fetchEmployee').at(-1)!.scheduledAt);
      expect(state.lastOutcome?.operations).toEqual(['updateFields']);
      expect(world.learner?.fields.lastName).toBe('Byron');
      await recordHistoryIfAsked(handle, 'employee-sync-read-lag');
    });
  });

  it('re-reads HiBob and the LMS together when only a plan can tell the read is stale', async () => {
    const world = new World(env, { site: 'London', surname: 'Lovelace' }, learnerFixture({ externalId: EMPLOYEE }));
    const taskQueue = uniqueTaskQueue('emp-read-lag-new');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const first = await start(taskQueue, event('employee.updated'));
      await processedState(first, 1);
      await first.terminate('a later workflow for the employee knows no digests');
      const reads = { hibob: world.log.of('fetchEmployee').length, lms: world.log.of('lookupLearner').length };

      // A new workflow has applied nothing: the stale read shows as a plan that changes nothing.
      world.editWithReadLag({ surname: 'Byron' }, 1);
      const handle = await start(taskQueue, await surnameEdited());
      await skipPastLag(handle.workflowId, 0);
      const state = await processedState(handle, 1);

      expect(state.lastOutcome?.rereads).toBe(1);
      expect(world.log.of('fetchEmployee').length - reads.hibob).toBe(2);
      expect(world.log.of('lookupLearner').length - reads.lms).toBe(2);
      expect(state.lastOutcome?.operations).toEqual(['updateFields']);
      expect(world.learner?.fields.lastName).toBe('Byron');
    });
  });

  it("takes a full sync's snapshot record instead of reading HiBob only when it is newer than the last read applied", async () => {
    const world = new World(env, { site: 'London', surname: 'Live' }, learnerFixture({ externalId: EMPLOYEE }));
    const fields = hibobFieldsFor(mapping);
    const snapshotOf = (surname: string, readAt: number): SnapshotRead => {
      const record = rawEmployee({ ...world.hibob!, surname });
      return {
        readAt: new Date(readAt).toISOString(),
        fetched: { found: true, record, digests: fieldDigests(normaliseEmployee(record), fields), readLagSeconds: 5 },
      };
    };
    const hints = { managerLearnerIds: { [MANAGER]: '64f1c2a9e4b0a1b2c3d4bbbb' } };
    const taskQueue = uniqueTaskQueue('emp-snapshot');
    await runWorkers(env, { taskQueue, activities: world.activities() }, async () => {
      const handle = await start(taskQueue, event());
      await waitFor(async () => (world.learner?.fields.lastName === 'Live' ? true : undefined), 'the first sync');
      const liveReadAt = await env.currentTimeMs();
      expect(world.log.of('fetchEmployee')).toHaveLength(1);

      // Searched before the read this workflow applied: applying it would undo what that read found.
      const older = await handle.executeUpdate(syncNowUpdate, {
        args: [{ reason: 'full sync', snapshot: snapshotOf('Stale', liveReadAt - 60_000), lookupHints: hints }],
      });
      expect(world.log.of('fetchEmployee')).toHaveLength(2);
      expect(world.learner?.fields.lastName).toBe('Live');
      expect(older.result).toBe('unchanged');

      // Searched more than the read lag after that read: it stands in for a read, and the lookup gets the hints.
      await env.sleep(2 * 60_000);
      const newer = await handle.executeUpdate(syncNowUpdate, {
        args: [
          {
            reason: 'full sync',
            snapshot: snapshotOf('Searched', (await env.currentTimeMs()) - 10_000),
            lookupHints: hints,
          },
        ],
      });
      expect(world.log.of('fetchEmployee')).toHaveLength(2);
      expect(newer.result).toBe('applied');
      expect(world.learner?.fields.lastName).toBe('Searched');
      expect(world.log.of('lookupLearner').at(-1)?.args[4]).toEqual(hints);

      // A webhook read after that search, then the same search again: HiBob is read, not the search.
      world.hibob = { ...world.hibob!, surname: 'Edited' };
      await handle.signal(hibobEventSignal, event());
      await waitFor(async () => (world.learner?.fields.lastName === 'Edited' ? true : undefined), 'the edit');
      const again = await handle.executeUpdate(syncNowUpdate, {
        args: [{ reason: 'full sync', snapshot: snapshotOf('Searched', (await env.currentTimeMs()) - 1_000) }],
      });
      expect(world.log.of('fetchEmployee')).toHaveLength(4);
      expect(again.result).toBe('unchanged');
      expect(world.learner?.fields.lastName).toBe('Edited');
    });
  });

  it('runs a syncNow, a signal and a due timer that arrive together strictly one after another, in arrival order', async () => {
    let planSeq = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    let recheckAt: number | undefined;
    let open!: () => void;
    const gate = { armed: false, waiting: 0, opened: new Promise<void>((resolve) => (open = resolve)) };
    const taskQueue = uniqueTaskQueue('emp-race');
    const hold = async <T>(work: () => Promise<T>): Promise<T> => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        // Long enough in wall-clock time for a second sync running at once to overlap.
        await new Promise((r) => setTimeout(r, 150));
        return await work();
      } finally {
        inFlight -= 1;
      }
    };
    const log = new ActivityLog();
    const activities = {
      hibob: log.stub({
        fetchEmployee: async (): Promise<FetchedEmployee> => {
          if (gate.armed) {
            gate.waiting += 1;
            await gate.opened;
          }
          return hold(async () => ({ found: true, record: { id: EMPLOYEE }, digests: {}, readLagSeconds: 0 }));
        },
      }),
      lmsReads: log.stub({
        lookupLearner: async (): Promise<LearnerLookup> =>
          hold(async () => ({ match: { kind: 'none' }, managerLearnerIds: {}, linkedManagerLearnerIds: [] })),
      }),
      lmsWrites: log.stub({
        applyOperation: async (): Promise<AppliedOperation> => hold(async () => ({ note: 'applied' })),
      }),
      workflows: log.stub({
        planEmployee: async (): Promise<Plan> =>
          hold(async () => {
            planSeq += 1;
            const now = await env.currentTimeMs();
            // An effective date a few seconds after the first sync, until it has passed. Time does
            // not skip while an update is open, so this timer comes due in wall-clock time.
            recheckAt ??= now + 4_000;
            const plan: Plan = {
              employeeId: EMPLOYEE,
              fingerprint: `plan-${planSeq}`,
              outcome: { kind: 'apply', operations: [{ op: 'updateFields', changes: [], reason: `plan ${planSeq}` }] },
            };
            if (now < recheckAt) plan.recheckAt = new Date(recheckAt).toISOString();
            return plan;
          }),
        reportFailure: async () => undefined,
      }),
    };
    let updateOutcome: SyncOutcome | undefined;
    let final: EmployeeSyncState | undefined;
    await runWorkers(env, { taskQueue, activities }, async () => {
      const handle = await start(taskQueue, event());
      await waitFor(
        async () => ((await handle.query(stateQuery)).processed === 1 ? true : undefined),
        'the first sync',
      );
      // An operator's syncNow is held at its HiBob read; a webhook event and the due timer come meanwhile.
      gate.armed = true;
      const update = await handle.startUpdate(syncNowUpdate, {
        args: [{ reason: 'operator' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      await waitFor(async () => (gate.waiting === 1 ? true : undefined), 'the syncNow to read HiBob');
      await handle.signal(hibobEventSignal, event());
      await waitFor(
        async () => ((await env.currentTimeMs()) > recheckAt! + 500 ? true : undefined),
        'the effective date to pass',
      );
      // Whatever else started a sync meanwhile would be waiting at the gate too.
      await new Promise((r) => setTimeout(r, 500));
      gate.armed = false;
      open();
      updateOutcome = await update.result();
      final = await waitFor(async () => {
        const s = await handle.query(stateQuery);
        return s.processed === 2 && s.pendingEvents === 0 ? s : undefined;
      }, 'the signal handled');
      await recordHistoryIfAsked(handle, 'employee-sync-timer-signal-update');
    });
    // One activity at a time across the whole workflow: no two syncs overlapped.
    expect(maxInFlight).toBe(1);
    expect(gate.waiting).toBe(1);
    // The syncNow (first to arrive) re-planned after the due instant, which settled the timer;
    // then the signal's sync. Nothing ran twice.
    expect(updateOutcome?.trigger).toBe('on demand: operator');
    expect(updateOutcome?.plan).toMatchObject({ operations: [{ reason: 'plan 2' }] });
    expect(final?.lastOutcome).toMatchObject({
      trigger: 'employee.updated',
      plan: { operations: [{ reason: 'plan 3' }] },
    });
    expect(final?.pendingTimer).toBeUndefined();
    expect(planSeq).toBe(3);
  });
});
