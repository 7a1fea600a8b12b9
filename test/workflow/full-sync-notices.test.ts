/**
 * Nobody is left uninformed, on the time-skipping server: a full sync that fails, is cancelled or
 * works longer than fullSync.runTimeoutHours mails the connection's recipients (kind, phase,
 * error) and ends as it would have; a pending approval is recalled every
 * safety.approvalReminderHours until someone decides or the request lapses.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FullSyncActivities } from '../../src/activities/full-sync';
import type { NoticeMailing, RunNoticeActivities } from '../../src/activities/run-notices';
import type { BlobRef } from '../../src/blobstore/blob-store';
import type { PlanApproval, SafeguardState } from '../../src/reports/types';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import { fullSync } from '../../src/workflows/full-sync';
import {
  approveUpdate,
  progressQuery,
  type ApprovalReminderNotice,
  type ConfirmedPlan,
  type FullSyncResult,
  type PlannedSync,
  type RunFailureNotice,
  type RunNoticeSettings,
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
const CONNECTION = 'acme-360';

const ref = (key: string): BlobRef => ({ key, bytes: 1, sha256: key });

const BATCHES: Record<string, string[]> = {
  'batch-0': ['emp-1', 'emp-2'],
  'held-0': ['emp-7'],
  'approved-0': ['emp-1', 'emp-2'],
};
const TRIPPED: SafeguardState = { tripped: true, reason: '1 deactivation, above the limit of 0' };
const WHOLE_PLAN: PlanApproval = { scope: 'plan', reason: 'approval mode always' };
const HELD: PlanApproval = { scope: 'held', reason: TRIPPED.reason! };

interface Scenario {
  /** What the run waits for (default: nothing). */
  approval?: PlanApproval;
  approvalTimeoutMs?: number;
  settings?: RunNoticeSettings;
  /** planFullSync fails for good with this message. */
  planFails?: string;
  /** The LMS snapshot is rate-limited, each attempt told to come back in 2 hours. */
  lmsThrottled?: boolean;
}

/** The full sync's activities as stubs (two updates, one deactivation a safeguard holds), every call recorded. */
function stubActivities(log: ActivityLog, scenario: Scenario): QueueActivities {
  type Stubs<K extends keyof FullSyncActivities> = Pick<FullSyncActivities, K>;
  const approval = scenario.approval ?? { scope: 'none', reason: 'no safeguard tripped' };
  const held = approval.scope === 'held';
  const hibobSearch: Stubs<'snapshotHibob'> = {
    snapshotHibob: async (_connection, runKey) => ({ ref: ref(`${runKey}/hibob.json`), count: 120 }),
  };
  const lmsReads: Stubs<'snapshotLms' | 'planFullSync'> = {
    snapshotLms: async (_connection, runKey) => {
      if (scenario.lmsThrottled) {
        throw ApplicationFailure.create({
          message: '360Learning answered 429 Too Many Requests',
          type: '360learning:rate_limited',
          nextRetryDelay: '2 hours',
        });
      }
      return { ref: ref(`${runKey}/lms.json`), count: 118 };
    },
    planFullSync: async (_connection, runKey): Promise<PlannedSync> => {
      if (scenario.planFails) throw ApplicationFailure.nonRetryable(scenario.planFails, 'ReportMismatch');
      return {
        runKey,
        planRef: ref(`${runKey}/plan.json`),
        hibobEmployees: 120,
        lmsLearners: 118,
        byAction: { noop: 117, update: 2, ...(held ? { deactivate: 1 } : {}) },
        batches: [ref('batch-0')],
        heldBatches: held ? [ref('held-0')] : [],
        toApply: held ? 3 : 2,
        heldCount: held ? 1 : 0,
        settings: { parallelism: 1, concurrencyPerBatch: 2, approvalTimeoutMs: scenario.approvalTimeoutMs ?? 3 * HOUR },
        safeguard: held ? TRIPPED : { tripped: false },
        approval,
        apiCalls: { hibob: 1, lmsReads: 0 },
      };
    },
  };
  const sent = (): Promise<NoticeMailing> => Promise.resolve({ status: 'sent', messageId: '<notice@test>' });
  const workflows: Stubs<
    | 'writePreview'
    | 'loadBatch'
    | 'syncEmployeeNow'
    | 'storeBatchOutcomes'
    | 'rebatch'
    | 'confirmApprovedPlan'
    | 'buildReport'
    | 'saveSyncState'
    | 'sendReportEmail'
  > &
    RunNoticeActivities = {
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
      toApply: 2,
      changed: 0,
      changedRef: ref(`${runKey}/changed.json`),
    }),
    buildReport: async (connection, runKey, plan, _results, meta, safeguard, approval): Promise<FullSyncResult> => ({
      connection,
      dryRun: meta.dryRun,
      reportRef: ref(`${runKey}/report.json`),
      byAction: plan.byAction,
      outcomes: {},
      safeguard,
      approval,
      durationMs: 0,
    }),
    saveSyncState: async () => undefined,
    sendReportEmail: async () => ({ status: 'sent', messageId: '<report@test>' }),
    runNoticeSettings: async () => scenario.settings ?? { runTimeoutHours: 12, approvalReminderHours: 24 },
    sendRunFailureEmail: sent,
    sendApprovalReminder: sent,
  };
  return { hibobSearch: log.stub(hibobSearch), lmsReads: log.stub(lmsReads), workflows: log.stub(workflows) };
}

describe('fullSync notices on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const start = (taskQueue: string) =>
    env.client.workflow.start(fullSync, {
      taskQueue,
      workflowId: `test/full-sync/${taskQueue}`,
      args: [{ connection: CONNECTION, taskQueue, trigger: 'test' }],
    });

  type Handle = Awaited<ReturnType<typeof start>>;
  const untilAwaitingApproval = (handle: Handle) =>
    waitFor(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      'the full sync to ask for approval',
    );

  /** The run's result, or the error it failed with. */
  const outcome = (handle: Handle) =>
    handle.result().then(
      (result) => ({ result, error: undefined }),
      (error: unknown) => ({ result: undefined, error }),
    );

  const failureMails = (log: ActivityLog) => log.of('sendRunFailureEmail').map((c) => c.args[1] as RunFailureNotice);
  const reminders = (log: ActivityLog) =>
    log.of('sendApprovalReminder').map((c) => c.args[1] as ApprovalReminderNotice);

  it('a failing activity mails the failure with the phase and the error, and the run fails', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-failed');
    const message = 'the HiBob report "Everyone" has no column "Work email"';

    const { handle, error } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { planFails: message }) },
      async () => {
        const handle = await start(taskQueue);
        return { handle, ...(await outcome(handle)) };
      },
    );

    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ActivityFailure);
    expect((cause as ActivityFailure).cause?.message).toBe(message);
    expect(failureMails(log)).toEqual([
      {
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        phase: 'plan',
        kind: 'failed',
        error: `activity planFullSync failed: ${message}`,
        startedAt: expect.any(String),
        dryRun: false,
      },
    ]);
    expect(log.of('sendRunFailureEmail')[0]!.args[0]).toBe(CONNECTION);
    expect(log.of('buildReport')).toEqual([]);
  });

  it('a cancelled run mails "cancelled" with the phase it was in, and ends cancelled', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-cancelled');

    const { handle, error, status } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, { approval: WHOLE_PLAN }) },
      async () => {
        const handle = await start(taskQueue);
        await untilAwaitingApproval(handle);
        await handle.cancel();
        const ended = await outcome(handle);
        return { handle, ...ended, status: (await handle.describe()).status.name };
      },
    );

    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(status).toBe('CANCELLED');
    expect(failureMails(log)).toEqual([
      expect.objectContaining({
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        phase: 'awaitingApproval',
        kind: 'cancelled',
      }),
    ]);
    expect(log.of('syncEmployeeNow')).toEqual([]);
  });

  it('a run still working after runTimeoutHours is stopped, mails "timedOut" and fails with the limit', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-timed-out');
    // The LMS asks for 2 hours' patience; the run may work for 1.
    const scenario: Scenario = { lmsThrottled: true, settings: { runTimeoutHours: 1, approvalReminderHours: 24 } };

    const { handle, error } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, scenario) },
      async () => {
        const handle = await start(taskQueue);
        return { handle, ...(await outcome(handle)) };
      },
    );

    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.message).toBe('the full sync did not finish within 1 hour');
    expect(failureMails(log)).toEqual([
      expect.objectContaining({
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        phase: 'snapshot',
        kind: 'timedOut',
        error: 'the full sync did not finish within 1 hour',
      }),
    ]);
    expect(log.of('snapshotLms')).toHaveLength(1);
    const [settingsRead] = log.of('runNoticeSettings');
    const [mail] = log.of('sendRunFailureEmail');
    expect(mail!.scheduledAt - settingsRead!.scheduledAt).toBeGreaterThanOrEqual(HOUR);
    expect(log.of('buildReport')).toEqual([]);
  });

  it('a whole plan waiting 50 hours is recalled after 24 and 48 hours; once approved, no more reminders and the run finishes', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-reminders');
    const scenario: Scenario = {
      approval: WHOLE_PLAN,
      approvalTimeoutMs: 72 * HOUR,
      settings: { runTimeoutHours: 12, approvalReminderHours: 24 },
    };

    const { handle, result, sentBeforeApproval } = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, scenario) },
      async () => {
        const handle = await start(taskQueue);
        await untilAwaitingApproval(handle);
        await env.sleep('50 hours');
        const sentBeforeApproval = reminders(log).length;
        await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
        return { handle, result: await handle.result(), sentBeforeApproval };
      },
    );

    expect(sentBeforeApproval).toBe(2);
    expect(result.approval).toMatchObject({ scope: 'plan', decision: 'approved', decidedBy: 'alice' });
    const sent = reminders(log);
    expect(sent.map((r) => r.reminder)).toEqual([1, 2]);
    for (const r of sent) {
      expect(r).toMatchObject({
        workflowId: handle.workflowId,
        runId: handle.firstExecutionRunId,
        scope: 'plan',
        reason: WHOLE_PLAN.reason,
        waiting: 2,
      });
      expect(Date.parse(r.expiresAt) - Date.parse(r.since)).toBe(72 * HOUR);
    }
    // 24 and 48 hours into the wait, which began once the preview was written.
    const [preview] = log.of('writePreview');
    const offsets = log
      .of('sendApprovalReminder')
      .map((c) => Math.round((c.scheduledAt - preview!.scheduledAt) / HOUR));
    expect(offsets).toEqual([24, 48]);
    expect(failureMails(log)).toEqual([]);
  });

  it('held deactivations are recalled every hour until the request lapses; waiting does not count toward runTimeoutHours', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-held');
    // The wait (3 h) is longer than the run's own limit (1 h): only working time counts.
    const scenario: Scenario = {
      approval: HELD,
      approvalTimeoutMs: 3 * HOUR,
      settings: { runTimeoutHours: 1, approvalReminderHours: 1 },
    };

    const result = await runWorkers(env, { taskQueue, activities: stubActivities(log, scenario) }, async () =>
      (await start(taskQueue)).result(),
    );

    expect(result.safeguard).toMatchObject({ decision: 'timedOut' });
    expect(reminders(log)).toEqual([
      expect.objectContaining({ scope: 'held', reason: TRIPPED.reason, waiting: 1, reminder: 1 }),
      expect.objectContaining({ scope: 'held', reason: TRIPPED.reason, waiting: 1, reminder: 2 }),
    ]);
    expect(failureMails(log)).toEqual([]);
    expect(log.of('buildReport')).toHaveLength(1);
  });

  it('sends no reminders when approvalReminderHours is 0', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('notices-no-reminders');
    const scenario: Scenario = {
      approval: WHOLE_PLAN,
      approvalTimeoutMs: 72 * HOUR,
      settings: { runTimeoutHours: 12, approvalReminderHours: 0 },
    };

    const result = await runWorkers(env, { taskQueue, activities: stubActivities(log, scenario) }, async () =>
      (await start(taskQueue)).result(),
    );

    expect(result.approval).toMatchObject({ scope: 'plan', decision: 'timedOut' });
    expect(reminders(log)).toEqual([]);
  });
});
