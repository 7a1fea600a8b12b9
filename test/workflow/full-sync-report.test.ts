/**
 * The ending of a full sync on the time-skipping server: the report is built, then the state the
 * next run compares against is saved, then the report is mailed, each its own activity, so a
 * retried e-mail repeats neither the report nor the state.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FullSyncActivities, ReportMailing } from '../../src/activities/full-sync';
import type { BlobRef } from '../../src/blobstore/blob-store';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import { fullSync } from '../../src/workflows/full-sync';
import type { FullSyncResult, PlannedSync } from '../../src/workflows/full-sync-api';
import {
  ActivityLog,
  runWorkers,
  timeSkippingEnvironment,
  uniqueTaskQueue,
  type QueueActivities,
} from '../support/time-skipping';

const ref = (key: string): BlobRef => ({ key, bytes: 1, sha256: key });

const ENDING = ['buildReport', 'saveSyncState', 'sendReportEmail'];

/** Activities a test puts in place of the stubs', and what the plan adds. */
interface Overrides {
  plan?: Partial<PlannedSync>;
  workflows?: Partial<FullSyncActivities>;
}

/** A plan with two updates in one batch and no safeguard; `sendFailures` attempts of the e-mail fail first. */
function stubActivities(log: ActivityLog, sendFailures = 0, overrides: Overrides = {}): QueueActivities {
  type Stubs<K extends keyof FullSyncActivities> = Pick<FullSyncActivities, K>;
  const hibobSearch: Stubs<'snapshotHibob'> = {
    snapshotHibob: async (_connection, runKey) => ({ ref: ref(`${runKey}/hibob.json`), count: 3 }),
  };
  const lmsReads: Stubs<'snapshotLms' | 'planFullSync'> = {
    snapshotLms: async (_connection, runKey) => ({ ref: ref(`${runKey}/lms.json`), count: 3 }),
    planFullSync: async (_connection, runKey, _hibob, _lms, dryRun): Promise<PlannedSync> => ({
      runKey,
      planRef: ref(`${runKey}/plan.json`),
      hibobEmployees: 3,
      lmsLearners: 3,
      byAction: { noop: 1, update: 2 },
      batches: dryRun ? [] : [ref('batch-0')],
      heldBatches: [],
      toApply: 2,
      heldCount: 0,
      settings: { parallelism: 1, concurrencyPerBatch: 2, approvalTimeoutMs: 3_600_000 },
      safeguard: { tripped: false },
      apiCalls: { hibob: 1, lmsReads: 0 },
      ...overrides.plan,
    }),
  };
  let sendAttempts = 0;
  const workflows: Stubs<
    | 'writePreview'
    | 'loadBatch'
    | 'syncEmployeeNow'
    | 'storeBatchOutcomes'
    | 'rebatch'
    | 'finishFullSync'
    | 'buildReport'
    | 'saveSyncState'
    | 'sendReportEmail'
  > = {
    writePreview: async (_connection, runKey) => ({
      csv: ref(`${runKey}/preview.csv`),
      xlsx: ref(`${runKey}/preview.xlsx`),
    }),
    loadBatch: async () => ['emp-1', 'emp-2'],
    syncEmployeeNow: async (): Promise<SyncOutcome> => ({
      at: new Date().toISOString(),
      trigger: 'full sync',
      result: 'applied',
      detail: '',
      operations: ['updateFields'],
    }),
    storeBatchOutcomes: async (runKey, index, _data, kind = 'outcomes') => ref(`${runKey}/${kind}-${index}.json`),
    rebatch: async () => [],
    finishFullSync: async () => {
      throw new Error('a new run never ends in the single-step report');
    },
    buildReport: async (connection, runKey, plan, _results, meta, safeguard): Promise<FullSyncResult> => ({
      connection,
      dryRun: meta.dryRun,
      reportRef: ref(`${runKey}/report.json`),
      previewRefs: meta.previewRefs,
      byAction: plan.byAction,
      outcomes: { applied: 2, unchanged: 1 },
      safeguard,
      durationMs: 0,
    }),
    saveSyncState: async () => undefined,
    sendReportEmail: async (): Promise<ReportMailing> => {
      sendAttempts += 1;
      if (sendAttempts <= sendFailures) throw new Error('SMTP server unavailable');
      return { status: 'sent', messageId: '<report@test>' };
    },
  };
  return {
    hibobSearch: log.stub(hibobSearch),
    lmsReads: log.stub(lmsReads),
    workflows: log.stub({ ...workflows, ...overrides.workflows }),
  };
}

describe('fullSync report, state and e-mail on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function run(
    log: ActivityLog,
    name: string,
    options: { dryRun?: boolean; sendFailures?: number; overrides?: Overrides } = {},
  ) {
    const taskQueue = uniqueTaskQueue(name);
    const result = await runWorkers(
      env,
      { taskQueue, activities: stubActivities(log, options.sendFailures, options.overrides) },
      async () =>
        env.client.workflow.execute(fullSync, {
          taskQueue,
          workflowId: `test/full-sync/${taskQueue}`,
          args: [{ connection: 'acme-360', taskQueue, trigger: 'test', dryRun: options.dryRun }],
        }),
    );
    return { result, taskQueue };
  }

  const ending = (log: ActivityLog) =>
    log.calls.map((c) => c.name).filter((name) => ENDING.includes(name) || name === 'finishFullSync');

  it('builds the report, saves the state from it, then mails it, after the last batch', async () => {
    const log = new ActivityLog();
    const { result } = await run(log, 'full-sync-report-order');

    expect(ending(log)).toEqual(ENDING);
    expect(log.calls.slice(-3).map((c) => c.name)).toEqual(ENDING);
    const [build] = log.of('buildReport');
    const runKey = build!.args[1] as string;
    const reportRef = ref(`${runKey}/report.json`);
    expect(log.of('saveSyncState')[0]!.args).toEqual(['acme-360', ref(`${runKey}/plan.json`), reportRef]);
    expect(log.of('sendReportEmail')[0]!.args).toEqual(['acme-360', runKey, reportRef]);
    // The workflow dates the report, so a retried buildReport writes the same report.
    const meta = build!.args[4] as { startedAt: string; finishedAt: string };
    expect(Date.parse(meta.finishedAt)).toBeGreaterThanOrEqual(Date.parse(meta.startedAt));
    expect(result).toMatchObject({
      connection: 'acme-360',
      dryRun: false,
      reportRef,
      outcomes: { applied: 2, unchanged: 1 },
    });
  });

  it('retries a failing e-mail on its own: the report is built and the state saved once', async () => {
    const log = new ActivityLog();
    const { result } = await run(log, 'full-sync-report-mail-retry', { sendFailures: 2 });

    expect(ending(log)).toEqual([
      'buildReport',
      'saveSyncState',
      'sendReportEmail',
      'sendReportEmail',
      'sendReportEmail',
    ]);
    expect(log.of('buildReport')).toHaveLength(1);
    expect(log.of('saveSyncState')).toHaveLength(1);
    // Every attempt mails the same stored report of the same run.
    expect(new Set(log.of('sendReportEmail').map((c) => JSON.stringify(c.args))).size).toBe(1);
    expect(result.reportRef).toEqual(log.of('sendReportEmail')[0]!.args[2]);
  });

  it('in a dry run, builds and mails the report but saves no state', async () => {
    const log = new ActivityLog();
    const { result } = await run(log, 'full-sync-report-dry-run', { dryRun: true });

    expect(ending(log)).toEqual(['buildReport', 'sendReportEmail']);
    expect(log.of('syncEmployeeNow')).toEqual([]);
    expect(result.dryRun).toBe(true);
  });

  it('writes the preview while the batches run, and arms the timers while the report is built, when nobody approves', async () => {
    const log = new ActivityLog();
    /** Resolves once the log holds a call of `name`, or after 10 s of wall-clock time; says whether it came. */
    const called = async (name: string) => {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;)
        if (log.of(name).length > 0) return true;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      return false;
    };
    const seen: Record<string, boolean> = {};
    const { result } = await run(log, 'full-sync-steps-aside', {
      overrides: {
        plan: { timers: { ref: ref('timers.json'), count: 2 } },
        workflows: {
          writePreview: async (_connection, runKey) => {
            seen.batchesDuringPreview = await called('syncEmployeeNow');
            return { csv: ref(`${runKey}/preview.csv`), xlsx: ref(`${runKey}/preview.xlsx`) };
          },
          armEmployeeTimers: async () => {
            seen.reportDuringArming = await called('buildReport');
            return 2;
          },
        },
      },
    });

    expect(seen).toEqual({ batchesDuringPreview: true, reportDuringArming: true });
    // The report still names the preview, and the result counts the timers.
    const runKey = log.of('buildReport')[0]!.args[1] as string;
    expect((log.of('buildReport')[0]!.args[4] as { previewRefs: unknown }).previewRefs).toEqual({
      csv: ref(`${runKey}/preview.csv`),
      xlsx: ref(`${runKey}/preview.xlsx`),
    });
    expect(result.timersArmed).toBe(2);
    expect(ending(log)).toEqual(ENDING);
  });

  it('fails the run when the preview written beside the batches fails', async () => {
    const log = new ActivityLog();
    const failing = run(log, 'full-sync-preview-fails', {
      overrides: {
        workflows: {
          writePreview: async () => {
            throw ApplicationFailure.nonRetryable('the blob store refused the preview');
          },
        },
      },
    });
    await expect(failing).rejects.toThrow(WorkflowFailedError);
    expect(log.of('buildReport')).toEqual([]);
  });
});
