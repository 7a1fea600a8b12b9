/**
 * The full sync: every HiBob employee reconciled with the LMS. Snapshots and the plan live in
 * the blob store (claim check); the workflow holds counts and references only. Changed
 * employees are applied in batch child workflows with a sliding window, each employee through
 * its own employee workflow (the single writer), which re-reads HiBob: a webhook applied while
 * the sync runs is never overwritten by the older snapshot. Unchanged employees cost nothing.
 * The run ends with the report, the state the next run compares against, and the report
 * e-mail, in that order.
 *
 * What a run waits for comes with its plan, from the connection's approval mode: the whole plan
 * (nothing is applied before `bobsync approve`; once approved, HiBob is read again and employees
 * changed since the preview are left for the next run), the deactivations a safeguard holds
 * (everything else is applied first), or nothing (held deactivations are left undone).
 */
import { condition, executeChild, patched, proxyActivities, setHandler, workflowInfo, type RetryPolicy } from '@temporalio/workflow';
import type { HibobSearchActivities, LmsReadActivities, WorkflowQueueActivities } from '../activities';
import type { BlobRef } from '../blobstore/blob-store';
import type { RowOutcome } from '../reports/types';
import {
  approveSignal,
  approveUpdate,
  progressQuery,
  rejectSignal,
  rejectUpdate,
  type ApprovalAnswer,
  type ApprovalState,
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
  const answer = (approved: boolean) => async (d: Decision): Promise<ApprovalAnswer> => {
    record(approved)(d);
    await condition(() => progress.safeguard?.decision !== undefined || progress.approval?.decision !== undefined);
    if (progress.approval?.scope !== 'plan') return progress.safeguard!;
    const { changedRef: _ref, ...approval } = progress.approval;
    return { ...progress.safeguard!, approval };
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
  // Runs begun before approval modes (and plans without one) wait for held deactivations only.
  const approvalModes = patched('full-sync-approval-modes');
  const approval: ApprovalState =
    approvalModes && plan.approval
      ? { ...plan.approval }
      : plan.heldCount > 0
        ? { scope: 'held', reason: plan.safeguard.reason ?? 'a safeguard holds deactivations' }
        : { scope: 'none', reason: 'nothing held' };
  if (approvalModes) progress.approval = approval;

  const meta = { connection: input.connection, workflowId: info.workflowId, runId: info.runId, dryRun, startedAt, trigger: input.trigger ?? 'manual' };
  const preview = approvalModes
    ? await general.writePreview(input.connection, runKey, plan.planRef, meta, plan.safeguard, plan.approval)
    : await general.writePreview(input.connection, runKey, plan.planRef, meta, plan.safeguard);

  if (!dryRun && approval.scope === 'plan') {
    await applyApprovedPlan();
  } else if (!dryRun) {
    progress.phase = 'apply';
    progress.toApply = plan.toApply - plan.heldCount;
    await applyBatches(plan.batches);
    await retryDeferredManagers();
    // Only scope held waits here. With scope none (approval mode never) held deactivations are left undone; the report says so.
    if (plan.heldCount > 0 && approval.scope === 'held') {
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
  // A whole plan nobody approved arms none: the employees' workflows would apply it unapproved.
  const planRefused = approval.scope === 'plan' && !dryRun && progress.approval?.decision !== 'approved';
  let timersArmed: number | undefined;
  if (plan.timers && patched('full-sync-arms-timers') && !planRefused) {
    timersArmed = await general.armEmployeeTimers(input.connection, plan.timers.ref, input.taskQueue);
  }

  progress.phase = 'report';
  let report: FullSyncResult;
  if (patched('full-sync-report-split')) {
    // One effect per activity: a retried e-mail rewrites no report, a retried report saves no state twice.
    const finishedAt = new Date().toISOString();
    const reportMeta = { ...meta, previewRefs: preview, finishedAt };
    report = approvalModes
      ? await general.buildReport(input.connection, runKey, plan, results, reportMeta, progress.safeguard, progress.approval)
      : await general.buildReport(input.connection, runKey, plan, results, reportMeta, progress.safeguard);
    if (!dryRun) await general.saveSyncState(input.connection, plan.planRef, report.reportRef);
    await general.sendReportEmail(input.connection, runKey, report.reportRef);
  } else {
    report = await general.finishFullSync(input.connection, runKey, plan, results, { ...meta, previewRefs: preview }, progress.safeguard);
  }
  progress.phase = 'done';
  return timersArmed === undefined ? report : { ...report, timersArmed };

  /**
   * Waits for approval of the whole plan, then applies what was approved: HiBob is read again
   * as the snapshot read it, and employees HiBob changed since the preview are left out (the
   * report lists them as changed since approval; the next run plans them again). Rejected or
   * unanswered in time, nothing is applied.
   */
  async function applyApprovedPlan(): Promise<void> {
    progress.phase = 'awaitingApproval';
    progress.toApply = plan.toApply;
    const answered = await condition(() => decision !== undefined, plan.settings.approvalTimeoutMs);
    const verdict = !answered ? 'timedOut' : decision!.approved ? 'approved' : 'rejected';
    // Approving the whole plan approves the deactivations a safeguard holds in it as well.
    if (plan.safeguard.tripped) progress.safeguard = { ...plan.safeguard, decision: verdict, decidedBy: decision?.by };
    progress.approval = { ...approval, decision: verdict, decidedBy: decision?.by };
    progress.phase = 'apply';
    if (verdict !== 'approved') {
      progress.toApply = 0;
      return;
    }
    const fresh = await search.snapshotHibob(input.connection, `${runKey}/approved`);
    const confirmed = await general.confirmApprovedPlan(input.connection, runKey, plan, fresh.ref);
    progress.approval = { ...progress.approval, changedSinceApproval: confirmed.changed, changedRef: confirmed.changedRef };
    if (confirmed.changed > 0) progress.outcomes.changedSinceApproval = confirmed.changed;
    progress.toApply = confirmed.toApply;
    await applyBatches(confirmed.batches);
    await retryDeferredManagers();
  }

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
