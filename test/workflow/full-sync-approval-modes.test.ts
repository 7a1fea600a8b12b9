/**
 * Approval modes of the full sync on the time-skipping server. The plan says what a run waits
 * for (planFullSync decides it from the connection's mode):
 *
 * - the whole plan (always; firstRun on the first run): nothing is applied before approval; once
 *   approved, HiBob is read again and confirmApprovedPlan leaves out the employees changed since
 *   the preview; rejected or unanswered, nothing is applied;
 * - nothing (never, or a later run of firstRun): nothing waits, and deactivations a tripped
 *   safeguard holds are left undone.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FullSyncActivities } from '../../src/activities/full-sync';
import type { BlobRef } from '../../src/blobstore/blob-store';
import type { PlanApproval, SafeguardState } from '../../src/reports/types';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import { fullSync } from '../../src/workflows/full-sync';
import {
  approveUpdate,
  progressQuery,
  rejectUpdate,
  type ApprovalState,
  type ConfirmedPlan,
  type FullSyncProgress,
  type FullSyncResult,
  type PlannedSync,
} from '../../src/workflows/full-sync-api';
import {
  ActivityLog,
  runWorkers,
  timeSkippingEnvironment,
  uniqueTaskQueue,
  waitFor,
  type QueueActivities,
} from '../support/time-skipping';

const HOUR = 60 * 60_000;
const APPROVAL_TIMEOUT_MS = 3 * HOUR;
const CONNECTION = 'acme-360';

const ref = (key: string): BlobRef => ({ key, bytes: 1, sha256: key });

/**
 * Two updates and a creation to apply, one deactivation a tripped safeguard holds. After
 * approval, confirmApprovedPlan finds emp-2 changed in HiBob and batches the others again.
 */
const BATCHES: Record<string, string[]> = {
  'batch-0': ['emp-1', 'emp-2', 'emp-3'],
  'held-0': ['emp-7'],
  'approved-0': ['emp-1', 'emp-3', 'emp-7'],
};
const TRIPPED: SafeguardState = { tripped: true, reason: '1 deactivation, above the limit of 0' };

interface Scenario {
  approval: PlanApproval;
  safeguard?: SafeguardState;
  /** Deactivations the safeguard holds (held-0). */
  held?: boolean;
  /** Runs inside the HiBob snapshot, before it answers. */
  duringHibobSnapshot?: () => Promise<void>;
}

/** The full sync's activities as stubs: the plan of the scenario, every call recorded. */
function stubActivities(log: ActivityLog, scenario: Scenario): QueueActivities {
  type Stubs<K extends keyof FullSyncActivities> = Pick<FullSyncActivities, K>;
  const held = scenario.held ?? false;
  const hibobSearch: Stubs<'snapshotHibob'> = {
    snapshotHibob: async (_connection, runKey) => {
      await scenario.duringHibobSnapshot?.();
      return { ref: ref(`${runKey}/hibob.json`), count: 120 };
    },
  };
  const lmsReads: Stubs<'snapshotLms' | 'planFullSync'> = {
    snapshotLms: async (_connection, runKey) => ({ ref: ref(`${runKey}/lms.json`), count: 118 }),
    planFullSync: async (_connection, runKey, _hibob, _lms, dryRun): Promise<PlannedSync> => ({
      runKey,
      planRef: ref(`${runKey}/plan.json`),
      hibobEmployees: 120,
      lmsLearners: 118,
      byAction: { noop: 116, update: 2, create: 1, ...(held ? { deactivate: 1 } : {}) },
      batches: dryRun ? [] : [ref('batch-0')],
      heldBatches: dryRun || !held ? [] : [ref('held-0')],
      toApply: held ? 4 : 3,
      heldCount: held ? 1 : 0,
      settings: { parallelism: 2, concurrencyPerBatch: 2, approvalTimeoutMs: APPROVAL_TIMEOUT_MS },
      safeguard: scenario.safeguard ?? { tripped: false },
      approval: scenario.approval,
      apiCalls: { hibob: 1, lmsReads: 0 },
      // Effective dates ahead: armed only when the plan may be applied.
      timers: dryRun ? undefined : { ref: ref(`${runKey}/timers.json`), count: 2 },
    }),
  };
  const workflows: Stubs<
    | 'writePreview'
    | 'loadBatch'
    | 'syncEmployeeNow'
    | 'storeBatchOutcomes'
    | 'rebatch'
    | 'buildReport'
    | 'saveSyncState'
    | 'sendReportEmail'
    | 'armEmployeeTimers'
    | 'confirmApprovedPlan'
  > = {
    writePreview: async (_connection, runKey) => ({
      csv: ref(`${runKey}/preview.csv`),
      xlsx: ref(`${runKey}/preview.xlsx`),
    }),
    loadBatch: async (batch) => BATCHES[batch.key] ?? [],
    syncEmployeeNow: async (): Promise<SyncOutcome> => ({
      at: new Date().toISOString(),
      trigger: 'full sync',
      result: 'applied',
      detail: '',
      operations: ['updateFields'],
    }),
    storeBatchOutcomes: async (runKey, index, _data, kind = 'outcomes') => ref(`${runKey}/${kind}-${index}.json`),
    rebatch: async () => [],
    confirmApprovedPlan: async (_connection, runKey): Promise<ConfirmedPlan> => ({
      batches: [ref('approved-0')],
      toApply: 3,
      changed: 1,
      changedRef: ref(`${runKey}/changed-since-approval.json`),
    }),
    armEmployeeTimers: async () => 2,
    buildReport: async (connection, runKey, plan, results, meta, safeguard, approval): Promise<FullSyncResult> => ({
      connection,
      dryRun: meta.dryRun,
      reportRef: ref(`${runKey}/report.json`),
      previewRefs: meta.previewRefs,
      byAction: plan.byAction,
      outcomes: { applied: results.reduce((n, r) => n + (r.outcomes.applied ?? 0), 0) },
      safeguard,
      approval,
      durationMs: 0,
    }),
    saveSyncState: async () => undefined,
    sendReportEmail: async () => ({ status: 'sent', messageId: '<report@test>' }),
  };
  return { hibobSearch: log.stub(hibobSearch), lmsReads: log.stub(lmsReads), workflows: log.stub(workflows) };
}

const WHOLE_PLAN: PlanApproval = { scope: 'plan', reason: 'approval mode always' };

describe('fullSync approval modes on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const start = (taskQueue: string, dryRun = false) =>
    env.client.workflow.start(fullSync, {
      taskQueue,
      workflowId: `test/full-sync/${taskQueue}`,
      args: [{ connection: CONNECTION, taskQueue, trigger: 'test', dryRun }],
    });

  /** Waits (in real time, the clock held) until the run asks for approval. */
  const untilAwaitingApproval = (handle: Awaited<ReturnType<typeof start>>) =>
    waitFor(async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'awaitingApproval' ? p : undefined;
    }, 'the full sync to ask for approval');

  const synced = (log: ActivityLog) =>
    log
      .of('syncEmployeeNow')
      .map((c) => c.args[1] as string)
      .sort();
  const loaded = (log: ActivityLog) =>
    log
      .of('loadBatch')
      .map((c) => (c.args[0] as BlobRef).key)
      .sort();
  const reportApproval = (log: ActivityLog) => log.of('buildReport')[0]!.args[6] as ApprovalState | undefined;

  it('always: waits before applying anything; approved, applies the confirmed batches, leaving out those changed since approval', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-always-approved');

    const { waiting, before, answer, result, final } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: WHOLE_PLAN, safeguard: TRIPPED, held: true }) },
      async () => {
        const handle = await start(taskQueue);
        const waiting = await untilAwaitingApproval(handle);
        const before = log.calls.map((c) => c.name);
        const answer = await handle.executeUpdate(approveUpdate, { args: [{ by: 'hr-lead' }] });
        const result = await handle.result();
        return { waiting, before, answer, result, final: await handle.query(progressQuery) };
      },
    );

    // While waiting: snapshotted (both at once, in either order), planned and previewed, nothing loaded or written.
    expect([...before.slice(0, 2)].sort()).toEqual(['snapshotHibob', 'snapshotLms']);
    expect(before.slice(2)).toEqual(['planFullSync', 'writePreview']);
    expect(waiting).toMatchObject<Partial<FullSyncProgress>>({ applied: 0, batchesTotal: 0, approval: WHOLE_PLAN });
    expect(log.of('writePreview')[0]!.args[5]).toEqual(WHOLE_PLAN);

    // The answer tells the approver what was approved: the whole plan, held deactivations included.
    expect(answer).toEqual({
      ...TRIPPED,
      decision: 'approved',
      decidedBy: 'hr-lead',
      approval: { ...WHOLE_PLAN, decision: 'approved', decidedBy: 'hr-lead' },
    });

    // HiBob read again, as the snapshot reads it, under a key of its own; the plan checked against it.
    const snapshots = log.of('snapshotHibob');
    expect(snapshots).toHaveLength(2);
    const runKey = snapshots[0]!.args[1] as string;
    expect(snapshots[1]!.args[1]).toBe(`${runKey}/approved`);
    const [confirm] = log.of('confirmApprovedPlan');
    expect(confirm!.args[0]).toBe(CONNECTION);
    expect((confirm!.args[2] as PlannedSync).planRef.key).toBe(`${runKey}/plan.json`);
    expect(confirm!.args[3]).toEqual(ref(`${runKey}/approved/hibob.json`));
    expect(confirm!.taskQueue).toBe(taskQueue);

    // Only the confirmed batches ran: emp-2 changed since approval, the held deactivation (emp-7) was approved with the plan.
    expect(loaded(log)).toEqual(['approved-0']);
    expect(synced(log)).toEqual(['emp-1', 'emp-3', 'emp-7']);
    expect(final).toMatchObject({ toApply: 3, applied: 3, outcomes: { applied: 3, changedSinceApproval: 1 } });

    // The report learns the decision and where the changed employees are listed.
    expect(reportApproval(log)).toEqual({
      ...WHOLE_PLAN,
      decision: 'approved',
      decidedBy: 'hr-lead',
      changedSinceApproval: 1,
      changedRef: ref(`${runKey}/changed-since-approval.json`),
    });
    expect(log.of('buildReport')[0]!.args[5]).toEqual({ ...TRIPPED, decision: 'approved', decidedBy: 'hr-lead' });
    expect(result.approval).toMatchObject({ scope: 'plan', decision: 'approved', changedSinceApproval: 1 });
    expect(log.of('armEmployeeTimers')).toHaveLength(1);
    expect(log.of('saveSyncState')).toHaveLength(1);
  });

  it('always: rejected, nothing is applied and the report says so', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-always-rejected');

    const { answer, result } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: WHOLE_PLAN }) },
      async () => {
        const handle = await start(taskQueue);
        await untilAwaitingApproval(handle);
        const answer = await handle.executeUpdate(rejectUpdate, { args: [{ by: 'hr-lead' }] });
        return { answer, result: await handle.result() };
      },
    );

    expect(answer.approval).toEqual({ ...WHOLE_PLAN, decision: 'rejected', decidedBy: 'hr-lead' });
    expect(answer.decision).toBeUndefined();
    expect(log.of('loadBatch')).toEqual([]);
    expect(log.of('syncEmployeeNow')).toEqual([]);
    expect(log.of('confirmApprovedPlan')).toEqual([]);
    expect(log.of('snapshotHibob')).toHaveLength(1);
    // Timers would have the employees' workflows apply the plan unapproved.
    expect(log.of('armEmployeeTimers')).toEqual([]);
    expect(reportApproval(log)).toEqual({ ...WHOLE_PLAN, decision: 'rejected', decidedBy: 'hr-lead' });
    expect(result.outcomes).toEqual({ applied: 0 });
  });

  it('always: nobody decides in time, nothing is applied and the report says timedOut', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-always-timeout');

    const result = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: WHOLE_PLAN }) },
      async () => {
        const handle = await start(taskQueue);
        await untilAwaitingApproval(handle);
        // Waiting for the result lets the server skip the approval window.
        return handle.result();
      },
    );

    expect(log.of('loadBatch')).toEqual([]);
    expect(log.of('syncEmployeeNow')).toEqual([]);
    expect(log.of('confirmApprovedPlan')).toEqual([]);
    expect(reportApproval(log)).toEqual({ ...WHOLE_PLAN, decision: 'timedOut', decidedBy: undefined });
    expect(result.approval).toEqual({ ...WHOLE_PLAN, decision: 'timedOut' });
    const [preview] = log.of('writePreview');
    const [report] = log.of('buildReport');
    expect(report!.scheduledAt - preview!.scheduledAt).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_MS);
  });

  it('never: a tripped safeguard holds its deactivations, which are not applied, and nothing waits', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-never');
    const notAsked: SafeguardState = { ...TRIPPED, decision: 'notAsked' };
    const never: PlanApproval = { scope: 'none', reason: 'held: safeguard, approval mode never' };

    const { phases, result } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: never, safeguard: notAsked, held: true }) },
      async () => {
        const handle = await start(taskQueue);
        const phases = new Set<string>();
        const watching = (async () => {
          for (;;) {
            const p = await handle.query(progressQuery).catch(() => undefined);
            if (!p || p.phase === 'done') return;
            phases.add(p.phase);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        })();
        const result = await handle.result();
        await watching;
        return { phases, result };
      },
    );

    expect(phases.has('awaitingApproval')).toBe(false);
    expect(loaded(log)).toEqual(['batch-0']);
    expect(synced(log)).toEqual(['emp-1', 'emp-2', 'emp-3']);
    expect(log.of('confirmApprovedPlan')).toEqual([]);
    expect(log.of('buildReport')[0]!.args[5]).toEqual(notAsked);
    expect(reportApproval(log)).toEqual(never);
    expect(result.outcomes).toEqual({ applied: 3 });
    // No approval window passed on the server's clock.
    const [preview] = log.of('writePreview');
    const [report] = log.of('buildReport');
    expect(report!.scheduledAt - preview!.scheduledAt).toBeLessThan(APPROVAL_TIMEOUT_MS);
  });

  it('snapshots HiBob and the LMS at once: the LMS is read while the HiBob search still runs', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-parallel-snapshots');
    const none: PlanApproval = { scope: 'none', reason: 'no safeguard tripped' };
    let lmsReadDuringSearch = false;
    const activities = stubActivities(log, {
      approval: none,
      // Held, in real time, until the LMS snapshot begins; one after the other, it never would.
      duringHibobSnapshot: async () => {
        const deadline = Date.now() + 5_000;
        while (!lmsReadDuringSearch && Date.now() < deadline) {
          lmsReadDuringSearch = log.of('snapshotLms').length > 0;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
    });
    const result = await runWorkers(env, { taskQueue, activities }, async () => (await start(taskQueue)).result());
    expect(lmsReadDuringSearch).toBe(true);
    expect(result.outcomes).toEqual({ applied: 3 });
  });

  it('firstRun: waits for the whole plan when the plan says it is the first run, and not on a later run', async () => {
    const first: PlanApproval = { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' };
    const later: PlanApproval = { scope: 'none', reason: 'no safeguard tripped' };

    const firstLog = new ActivityLog();
    const firstQueue = uniqueTaskQueue('full-sync-first-run');
    const waited = await runWorkers(
      env,
      { taskQueue: firstQueue, activities: stubActivities(firstLog, { approval: first }) },
      async () => {
        const handle = await start(firstQueue);
        const waiting = await untilAwaitingApproval(handle);
        expect(firstLog.of('syncEmployeeNow')).toEqual([]);
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'hr-lead' }] });
        await handle.result();
        return waiting;
      },
    );
    expect(waited.approval).toEqual(first);
    expect(firstLog.of('confirmApprovedPlan')).toHaveLength(1);
    expect(synced(firstLog)).toEqual(['emp-1', 'emp-3', 'emp-7']);

    const laterLog = new ActivityLog();
    const laterQueue = uniqueTaskQueue('full-sync-later-run');
    const result = await runWorkers(
      env,
      { taskQueue: laterQueue, activities: stubActivities(laterLog, { approval: later }) },
      async () => {
        const handle = await start(laterQueue);
        return handle.result();
      },
    );
    expect(laterLog.of('confirmApprovedPlan')).toEqual([]);
    expect(laterLog.of('snapshotHibob')).toHaveLength(1);
    expect(synced(laterLog)).toEqual(['emp-1', 'emp-2', 'emp-3']);
    expect(result.outcomes).toEqual({ applied: 3 });
    const [preview] = laterLog.of('writePreview');
    const [report] = laterLog.of('buildReport');
    expect(report!.scheduledAt - preview!.scheduledAt).toBeLessThan(APPROVAL_TIMEOUT_MS);
  });

  it('a dry run of a whole-plan mode waits for nothing and applies nothing', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-always-dry');

    const result = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: WHOLE_PLAN }) },
      async () => {
        const handle = await start(taskQueue, true);
        return handle.result();
      },
    );

    expect(result.dryRun).toBe(true);
    expect(log.of('syncEmployeeNow')).toEqual([]);
    expect(log.of('confirmApprovedPlan')).toEqual([]);
    expect(log.of('saveSyncState')).toEqual([]);
    expect(reportApproval(log)).toEqual(WHOLE_PLAN);
  });
});
