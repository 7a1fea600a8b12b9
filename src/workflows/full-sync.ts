/**
 * The full sync: every HiBob employee reconciled with the LMS. Snapshots and the plan live in
 * the blob store (claim check); the workflow holds counts and references only. Changed
 * employees are applied in batch child workflows with a sliding window, each employee through
 * its own employee workflow (the single writer), which re-reads HiBob: a webhook applied while
 * the sync runs is never overwritten by the older snapshot. Unchanged employees cost nothing.
 * The run ends with the report, the state the next run compares against, and the report
 * e-mail, in that order.
 */
import { condition, executeChild, patched, proxyActivities, setHandler, workflowInfo, type RetryPolicy } from '@temporalio/workflow';
import type { HibobSearchActivities, LmsReadActivities, WorkflowQueueActivities } from '../activities';
import type { BlobRef } from '../blobstore/blob-store';
import type { RowOutcome, SafeguardState } from '../reports/types';
import {
  approveSignal,
  approveUpdate,
  progressQuery,
  rejectSignal,
  rejectUpdate,
  type BatchResult,
  type Decision,
  type FullSyncInput,
  type FullSyncProgress,
  type FullSyncResult,
} from './full-sync-api';
import { syncBatch } from './sync-batch';
import { taskQueues } from './task-queues';

export async function fullSync(input: FullSyncInput): Promise<FullSyncResult> {
  const queues = taskQueues(input.taskQueue, input.connection);
  const retry: RetryPolicy = { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 };
  const search = proxyActivities<HibobSearchActivities>({ taskQueue: queues.hibobSearch, startToCloseTimeout: '30 minutes', heartbeatTimeout: '2 minutes', retry });
  const lmsReads = proxyActivities<LmsReadActivities>({ taskQueue: queues.lmsReads, startToCloseTimeout: '4 hours', heartbeatTimeout: '2 minutes', retry });
  const general = proxyActivities<WorkflowQueueActivities>({ taskQueue: queues.workflows, startToCloseTimeout: '30 minutes', retry });

  const info = workflowInfo();
  const dryRun = input.dryRun ?? false;
  const startedAt = new Date().toISOString();
  const runKey = `runs/${input.connection}/${startedAt.replace(/[:.]/g, '-')}-${info.runId.slice(0, 8)}`;
  const progress: FullSyncProgress = { phase: 'snapshot', planned: {}, toApply: 0, applied: 0, outcomes: {}, batchesTotal: 0, batchesDone: 0 };
  const results: BatchResult[] = [];
  let decision: { approved: boolean; by?: string } | undefined;
  let batchSeq = 0;
  const retried = new Set<string>();

  setHandler(progressQuery, () => progress);
  const record = (approved: boolean) => (d: Decision) => {
    if (progress.phase === 'awaitingApproval' && !decision) decision = { approved, by: d.by };
  };
  const awaitingApproval = (_decision: Decision) => {
    if (progress.phase !== 'awaitingApproval') throw new Error(`nothing is waiting for approval (phase: ${progress.phase})`);
  };
  const answer = (approved: boolean) => async (d: Decision): Promise<SafeguardState> => {
    record(approved)(d);
    await condition(() => progress.safeguard?.decision !== undefined);
    return progress.safeguard!;
  };
  setHandler(approveUpdate, answer(true), { validator: awaitingApproval });
  setHandler(rejectUpdate, answer(false), { validator: awaitingApproval });
  setHandler(approveSignal, record(true));
  setHandler(rejectSignal, record(false));

  const hibob = await search.snapshotHibob(input.connection, runKey);
  progress.hibobEmployees = hibob.count;
  const lms = await lmsReads.snapshotLms(input.connection, runKey);
  progress.lmsLearners = lms.count;
  progress.phase = 'plan';
  const plan = await lmsReads.planFullSync(input.connection, runKey, hibob.ref, lms.ref, dryRun);
  progress.planned = plan.byAction;
  progress.safeguard = plan.safeguard;

  const meta = { connection: input.connection, workflowId: info.workflowId, runId: info.runId, dryRun, startedAt, trigger: input.trigger ?? 'manual' };
  const preview = await general.writePreview(input.connection, runKey, plan.planRef, meta, plan.safeguard);

  if (!dryRun) {
    progress.phase = 'apply';
    progress.toApply = plan.toApply - plan.heldCount;
    await applyBatches(plan.batches);
    await retryDeferredManagers();
    if (plan.heldCount > 0) {
      progress.phase = 'awaitingApproval';
      const answered = await condition(() => decision !== undefined, plan.settings.approvalTimeoutMs);
      progress.safeguard = {
        ...plan.safeguard,
        decision: !answered ? 'timedOut' : decision!.approved ? 'approved' : 'rejected',
        decidedBy: decision?.by,
      };
      progress.phase = 'apply';
      if (progress.safeguard.decision === 'approved') {
        progress.toApply += plan.heldCount;
        await applyBatches(plan.heldBatches);
        await retryDeferredManagers();
      }
    }
  }

  // Effective dates ahead (a hire starting next month, a leaver's last day) get a durable timer.
  let timersArmed: number | undefined;
  if (plan.timers && patched('full-sync-arms-timers')) {
    timersArmed = await general.armEmployeeTimers(input.connection, plan.timers.ref, input.taskQueue);
  }

  progress.phase = 'report';
  let report: FullSyncResult;
  if (patched('full-sync-report-split')) {
    // One effect per activity: a retried e-mail rewrites no report, a retried report saves no state twice.
    const finishedAt = new Date().toISOString();
    report = await general.buildReport(input.connection, runKey, plan, results, { ...meta, previewRefs: preview, finishedAt }, progress.safeguard);
    if (!dryRun) await general.saveSyncState(input.connection, plan.planRef, report.reportRef);
    await general.sendReportEmail(input.connection, runKey, report.reportRef);
  } else {
    report = await general.finishFullSync(input.connection, runKey, plan, results, { ...meta, previewRefs: preview }, progress.safeguard);
  }
  progress.phase = 'done';
  return timersArmed === undefined ? report : { ...report, timersArmed };

  /** Employees synced before their manager had a learner get one more pass, now that it has. */
  async function retryDeferredManagers(): Promise<void> {
    const pending = results.filter((r) => r.deferred && !retried.has(r.deferred.key));
    if (pending.length === 0) return;
    for (const r of pending) retried.add(r.deferred!.key);
    // A second pass over people already counted: progress counts them once.
    await applyBatches(await general.rebatch(runKey, input.connection, pending.map((r) => r.deferred!), batchSeq), false);
  }

  /** Runs batch children with at most `parallelism` at once: a sliding window, not waves. */
  async function applyBatches(batches: BlobRef[], counted = true): Promise<void> {
    progress.batchesTotal += batches.length;
    const queue = [...batches];
    const lane = async () => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const index = batchSeq++;
        const result = await executeChild(syncBatch, {
          workflowId: `${info.workflowId}/batch-${index}`,
          taskQueue: input.taskQueue,
          args: [{ connection: input.connection, taskQueue: input.taskQueue, runKey, batch, index, concurrency: plan.settings.concurrencyPerBatch }],
        });
        results.push(result);
        progress.batchesDone += 1;
        if (!counted) continue;
        for (const [outcome, n] of Object.entries(result.outcomes) as [RowOutcome, number][]) {
          progress.outcomes[outcome] = (progress.outcomes[outcome] ?? 0) + n;
          progress.applied += n;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(plan.settings.parallelism, batches.length) }, lane));
  }
}
