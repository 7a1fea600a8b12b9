import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FullSyncActivities } from '../../src/activities/full-sync';
import type { BlobRef } from '../../src/blobstore/blob-store';
import type { SafeguardState } from '../../src/reports/types';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import { fullSync } from '../../src/workflows/full-sync';
import { lmsQueue } from '../../src/workflows/task-queues';
import { approveUpdate, progressQuery, type FullSyncResult, type PlannedSync } from '../../src/workflows/full-sync-api';
import {
  ActivityLog,
  runWorkers,
  timeSkippingEnvironment,
  uniqueTaskQueue,
  waitFor,
  type QueueActivities,
} from '../support/time-skipping';

const HOUR = 60 * 60_000;
const APPROVAL_TIMEOUT_MS = 2 * HOUR;

const ref = (key: string): BlobRef => ({ key, bytes: 1, sha256: key });

/** Two updates to apply now; three deactivations held by the safeguard, in two batches. */
const BATCHES: Record<string, string[]> = {
  'batch-0': ['emp-1', 'emp-2'],
  'held-0': ['emp-7', 'emp-8'],
  'held-1': ['emp-9'],
};
const SAFEGUARD: SafeguardState = { tripped: true, reason: '3 deactivations, above the limit of 2' };

/** The full sync's activities as stubs: a plan that holds deactivations, every write recorded. */
function stubActivities(log: ActivityLog): QueueActivities {
  type Stubs<K extends keyof FullSyncActivities> = Pick<FullSyncActivities, K>;
  const hibobSearch: Stubs<'snapshotHibob'> = {
    snapshotHibob: async (_connection, runKey) => ({ ref: ref(`${runKey}/hibob.json`), count: 120 }),
  };
  const lmsReads: Stubs<'snapshotLms' | 'planFullSync'> = {
    snapshotLms: async (_connection, runKey) => ({ ref: ref(`${runKey}/lms.json`), count: 118 }),
    planFullSync: async (_connection, runKey): Promise<PlannedSync> => ({
      runKey,
      planRef: ref(`${runKey}/plan.json`),
      hibobEmployees: 120,
      lmsLearners: 118,
      byAction: { noop: 115, update: 2, deactivate: 3 },
      batches: [ref('batch-0')],
      heldBatches: [ref('held-0'), ref('held-1')],
      toApply: 5,
      heldCount: 3,
      settings: { parallelism: 2, concurrencyPerBatch: 2, approvalTimeoutMs: APPROVAL_TIMEOUT_MS },
      safeguard: SAFEGUARD,
      apiCalls: { hibob: 1, lmsReads: 0 },
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
  > = {
    writePreview: async (_connection, runKey) => ({
      csv: ref(`${runKey}/preview.csv`),
      xlsx: ref(`${runKey}/preview.xlsx`),
    }),
    loadBatch: async (batch) => BATCHES[batch.key] ?? [],
    syncEmployeeNow: async (_connection, employeeId): Promise<SyncOutcome> => ({
      at: new Date().toISOString(),
      trigger: 'full sync',
      result: 'applied',
      detail: '',
      operations: [BATCHES['batch-0']!.includes(employeeId) ? 'updateFields' : 'deactivate'],
    }),
    storeBatchOutcomes: async (runKey, index, _data, kind = 'outcomes') => ref(`${runKey}/${kind}-${index}.json`),
    rebatch: async () => [],
    buildReport: async (connection, runKey, plan, results, meta, safeguard): Promise<FullSyncResult> => ({
      connection,
      dryRun: meta.dryRun,
      reportRef: ref(`${runKey}/report.json`),
      previewRefs: meta.previewRefs,
      byAction: plan.byAction,
      outcomes: { applied: results.reduce((n, r) => n + (r.outcomes.applied ?? 0), 0) },
      safeguard,
      durationMs: 0,
    }),
    saveSyncState: async () => undefined,
    sendReportEmail: async () => ({ status: 'sent', messageId: '<report@test>' }),
  };
  return { hibobSearch: log.stub(hibobSearch), lmsReads: log.stub(lmsReads), workflows: log.stub(workflows) };
}

describe('fullSync approval window on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** Starts a full sync and waits (in real time, the clock held) until it asks for approval. */
  async function untilAwaitingApproval(taskQueue: string) {
    const handle = await env.client.workflow.start(fullSync, {
      taskQueue,
      workflowId: `test/full-sync/${taskQueue}`,
      args: [{ connection: 'acme-360', taskQueue, trigger: 'test' }],
    });
    const progress = await waitFor(async () => {
      const p = await handle.query(progressQuery);
      return p.phase === 'awaitingApproval' ? p : undefined;
    }, 'the full sync to ask for approval');
    return { handle, progress };
  }

  const synced = (log: ActivityLog) =>
    log
      .of('syncEmployeeNow')
      .map((c) => c.args[1] as string)
      .sort();
  const loaded = (log: ActivityLog) => log.of('loadBatch').map((c) => (c.args[0] as BlobRef).key);

  it('leaves the held deactivations alone and reports timedOut when nobody decides in time', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-timeout');

    const { progress, result } = await runWorkers(env, { taskQueue, activities: stubActivities(log) }, async () => {
      const { handle, progress } = await untilAwaitingApproval(taskQueue);
      // Waiting for the result lets the server skip the two hours of the approval window.
      return { progress, result: await handle.result() };
    });

    // Before the window: the unheld batch applied, the held ones waiting.
    expect(progress).toMatchObject({ toApply: 2, applied: 2, batchesTotal: 1, batchesDone: 1, safeguard: SAFEGUARD });
    expect(progress.safeguard?.decision).toBeUndefined();

    // After it: nothing held was loaded or synced, and the report says why.
    expect(loaded(log)).toEqual(['batch-0']);
    expect(synced(log)).toEqual(['emp-1', 'emp-2']);
    const finish = log.of('buildReport');
    expect(finish).toHaveLength(1);
    expect(finish[0]!.args[5]).toEqual({ ...SAFEGUARD, decision: 'timedOut', decidedBy: undefined });
    expect(finish[0]!.args[3]).toHaveLength(1);
    expect(result.safeguard).toEqual({ ...SAFEGUARD, decision: 'timedOut' });
    expect(result.outcomes).toEqual({ applied: 2 });

    // The report was written once the whole window had passed on the server's clock.
    const lastBatchWrite = Math.max(...log.of('storeBatchOutcomes').map((c) => c.scheduledAt));
    expect(finish[0]!.scheduledAt - lastBatchWrite).toBeGreaterThanOrEqual(APPROVAL_TIMEOUT_MS);

    // Each activity ran on the queue the deployment gives it.
    const queueOf = Object.fromEntries(log.calls.map((c) => [c.name, c.taskQueue]));
    expect(queueOf).toEqual({
      snapshotHibob: `${taskQueue}-hibob-search`,
      snapshotLms: lmsQueue(taskQueue, 'reads', 'acme-360'),
      planFullSync: lmsQueue(taskQueue, 'reads', 'acme-360'),
      writePreview: taskQueue,
      loadBatch: taskQueue,
      syncEmployeeNow: taskQueue,
      storeBatchOutcomes: taskQueue,
      buildReport: taskQueue,
      saveSyncState: taskQueue,
      sendReportEmail: taskQueue,
    });
  });

  it('applies the held deactivations when approved within the window', async () => {
    const log = new ActivityLog();
    const taskQueue = uniqueTaskQueue('full-sync-approved');

    const { answer, result } = await runWorkers(env, { taskQueue, activities: stubActivities(log) }, async () => {
      const { handle } = await untilAwaitingApproval(taskQueue);
      const answer = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
      return { answer, result: await handle.result() };
    });

    expect(answer).toEqual({ ...SAFEGUARD, decision: 'approved', decidedBy: 'alice' });
    expect(loaded(log).sort()).toEqual(['batch-0', 'held-0', 'held-1']);
    expect(synced(log)).toEqual(['emp-1', 'emp-2', 'emp-7', 'emp-8', 'emp-9']);
    expect(result.safeguard).toEqual({ ...SAFEGUARD, decision: 'approved', decidedBy: 'alice' });
    expect(result.outcomes).toEqual({ applied: 5 });
    const [finish] = log.of('buildReport');
    const [preview] = log.of('writePreview');
    expect(finish!.scheduledAt - preview!.scheduledAt).toBeLessThan(APPROVAL_TIMEOUT_MS);
  });
});
