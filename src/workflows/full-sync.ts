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
 *
 * Nobody is left uninformed: a run that fails, is cancelled or works longer than
 * fullSync.runTimeoutHours mails the connection's recipients how and where it stopped, and a
 * pending approval is recalled every safety.approvalReminderHours until someone decides.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowFailure,
  condition,
  executeChild,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
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
  type ApprovalReminderNotice,
  type ApprovalState,
  type BatchResult,
  type Decision,
  type FullSyncInput,
  type FullSyncProgress,
  type FullSyncResult,
  type RunEnding,
  type FullSyncPhase,
  type RunNoticeSettings,
} from './full-sync-api';
import {
  connectionAttribute,
  outcomeAttribute,
  phaseAttribute,
  searchAttributePublisher,
  triggerAttribute,
  type FullSyncOutcomeValue,
} from './search-attributes';
import { syncBatch } from './sync-batch';
import { taskQueues } from './task-queues';

const HOUR_MS = 3_600_000;
/** Runs begun before the HiBob and LMS snapshots were taken at once replay one after the other. */
const PARALLEL_SNAPSHOTS_PATCH = 'full-sync-parallel-snapshots';
/** The preview (when nobody approves) and the timers are written beside the steps after them. */
const STEPS_ASIDE_PATCH = 'full-sync-steps-aside';

/** The defaults of fullSync.runTimeoutHours and safety.approvalReminderHours, for a run that cannot read its connection's: notices are no reason to stop a sync. */
const NOTICE_DEFAULTS: RunNoticeSettings = { runTimeoutHours: 12, approvalReminderHours: 24 };

export async function fullSync(input: FullSyncInput): Promise<FullSyncResult> {
  const queues = taskQueues(input.taskQueue, input.connection);
  const retry: RetryPolicy = {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
  };
  const search = proxyActivities<HibobSearchActivities>({
    taskQueue: queues.hibobSearch,
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry,
  });
  const lmsReads = proxyActivities<LmsReadActivities>({
    taskQueue: queues.lmsReads,
    startToCloseTimeout: '4 hours',
    heartbeatTimeout: '2 minutes',
    retry,
  });
  const general = proxyActivities<WorkflowQueueActivities>({
    taskQueue: queues.workflows,
    startToCloseTimeout: '30 minutes',
    retry,
  });
  // A worker of an earlier release does not know the settings activity (NotFoundError): the defaults apply at once.
  const configReads = proxyActivities<WorkflowQueueActivities>({
    taskQueue: queues.workflows,
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes: ['NotFoundError'] },
  });

  const info = workflowInfo();
  const dryRun = input.dryRun ?? false;
  const startedAt = new Date().toISOString();
  const runKey = `runs/${input.connection}/${startedAt.replace(/[:.]/g, '-')}-${info.runId.slice(0, 8)}`;
  const progress: FullSyncProgress = {
    phase: 'snapshot',
    planned: {},
    toApply: 0,
    applied: 0,
    outcomes: {},
    batchesTotal: 0,
    batchesDone: 0,
  };
  const results: BatchResult[] = [];
  let decision: { approved: boolean; by?: string } | undefined;
  let batchSeq = 0;
  const retried = new Set<string>();

  setHandler(progressQuery, () => progress);
  const record = (approved: boolean) => (d: Decision) => {
    if (progress.phase === 'awaitingApproval' && !decision) decision = { approved, by: d.by };
  };
  const awaitingApproval = (_decision: Decision) => {
    if (progress.phase !== 'awaitingApproval')
      throw new Error(`nothing is waiting for approval (phase: ${progress.phase})`);
  };
  const answer =
    (approved: boolean) =>
    async (d: Decision): Promise<ApprovalAnswer> => {
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

  // Searchable runs: the connection and what started the run at once, then every phase change.
  const publish = searchAttributePublisher();
  const setPhase = (phase: FullSyncPhase, outcome?: FullSyncOutcomeValue) => {
    progress.phase = phase;
    publish([{ key: phaseAttribute, value: phase }, ...(outcome ? [{ key: outcomeAttribute, value: outcome }] : [])]);
  };
  const setOutcome = (outcome: FullSyncOutcomeValue) => publish([{ key: outcomeAttribute, value: outcome }]);
  publish([
    { key: connectionAttribute, value: input.connection },
    { key: triggerAttribute, value: input.trigger ?? 'manual' },
    { key: phaseAttribute, value: progress.phase },
  ]);

  // Runs begun before run notices keep no deadline of their own and tell nobody how they ended.
  const notices = patched('full-sync-run-notices') ? await noticeSettings() : undefined;
  return notices ? watched(notices) : run();

  /** The sync itself: snapshots, plan, preview, approval, batches, report. */
  async function run(): Promise<FullSyncResult> {
    // Two vendors, two queues: read at once. Runs begun before that read HiBob first.
    const [hibob, lms] = patched(PARALLEL_SNAPSHOTS_PATCH)
      ? await Promise.all([
          search.snapshotHibob(input.connection, runKey),
          lmsReads.snapshotLms(input.connection, runKey),
        ])
      : [await search.snapshotHibob(input.connection, runKey), await lmsReads.snapshotLms(input.connection, runKey)];
    progress.hibobEmployees = hibob.count;
    progress.lmsLearners = lms.count;
    setPhase('plan');
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

    const meta = {
      connection: input.connection,
      workflowId: info.workflowId,
      runId: info.runId,
      dryRun,
      startedAt,
      trigger: input.trigger ?? 'manual',
    };
    const previewing = approvalModes
      ? general.writePreview(input.connection, runKey, plan.planRef, meta, plan.safeguard, plan.approval)
      : general.writePreview(input.connection, runKey, plan.planRef, meta, plan.safeguard);
    // Nobody is asked to approve it: the preview is written while the plan is applied, and waited
    // for by the report. Runs begun before wrote it first.
    const previewAside = approvalModes && approval.scope === 'none' && patched(STEPS_ASIDE_PATCH);
    if (previewAside) previewing.catch(() => undefined); // awaited below; a failure fails the run there
    const preview = previewAside ? undefined : await previewing;

    if (!dryRun && approval.scope === 'plan') {
      await applyApprovedPlan();
    } else if (!dryRun) {
      setPhase('apply');
      progress.toApply = plan.toApply - plan.heldCount;
      await applyBatches(plan.batches);
      await retryDeferredManagers();
      // Only scope held waits here. With scope none (approval mode never) held deactivations are left undone; the report says so.
      if (plan.heldCount > 0 && approval.scope === 'held') {
        setPhase('awaitingApproval');
        const answered = await awaitDecision(plan.settings.approvalTimeoutMs, {
          scope: 'held',
          reason: approval.reason,
          waiting: plan.heldCount,
        });
        progress.safeguard = {
          ...plan.safeguard,
          decision: !answered ? 'timedOut' : decision!.approved ? 'approved' : 'rejected',
          decidedBy: decision?.by,
        };
        setPhase('apply');
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
    let arming: Promise<number> | undefined;
    if (plan.timers && patched('full-sync-arms-timers') && !planRefused) {
      arming = general.armEmployeeTimers(input.connection, plan.timers.ref, input.taskQueue);
      // The report does not wait for the timers, which it does not count; runs begun before did.
      if (patched(STEPS_ASIDE_PATCH))
        arming.catch(() => undefined); // awaited below
      else timersArmed = await arming;
    }

    setPhase('report');
    let report: FullSyncResult;
    if (patched('full-sync-report-split')) {
      // One effect per activity: a retried e-mail rewrites no report, a retried report saves no state twice.
      const finishedAt = new Date().toISOString();
      const reportMeta = { ...meta, previewRefs: preview ?? (await previewing), finishedAt };
      report = approvalModes
        ? await general.buildReport(
            input.connection,
            runKey,
            plan,
            results,
            reportMeta,
            progress.safeguard,
            progress.approval,
          )
        : await general.buildReport(input.connection, runKey, plan, results, reportMeta, progress.safeguard);
      if (!dryRun) await general.saveSyncState(input.connection, plan.planRef, report.reportRef);
      await general.sendReportEmail(input.connection, runKey, report.reportRef);
    } else {
      report = await general.finishFullSync(
        input.connection,
        runKey,
        plan,
        results,
        { ...meta, previewRefs: preview ?? (await previewing) },
        progress.safeguard,
      );
    }
    if (arming) timersArmed = await arming;
    const refused = [progress.approval?.decision, progress.safeguard?.decision].some(
      (d) => d === 'rejected' || d === 'timedOut',
    );
    setPhase('done', refused ? 'notApproved' : 'completed');
    return timersArmed === undefined ? report : { ...report, timersArmed };

    /**
     * Waits for approval of the whole plan, then applies what was approved: HiBob is read again
     * as the snapshot read it, and employees HiBob changed since the preview are left out (the
     * report lists them as changed since approval; the next run plans them again). Rejected or
     * unanswered in time, nothing is applied.
     */
    async function applyApprovedPlan(): Promise<void> {
      setPhase('awaitingApproval');
      progress.toApply = plan.toApply;
      const answered = await awaitDecision(plan.settings.approvalTimeoutMs, {
        scope: 'plan',
        reason: approval.reason,
        waiting: plan.toApply,
      });
      const verdict = !answered ? 'timedOut' : decision!.approved ? 'approved' : 'rejected';
      // Approving the whole plan approves the deactivations a safeguard holds in it as well.
      if (plan.safeguard.tripped)
        progress.safeguard = { ...plan.safeguard, decision: verdict, decidedBy: decision?.by };
      progress.approval = { ...approval, decision: verdict, decidedBy: decision?.by };
      setPhase('apply');
      if (verdict !== 'approved') {
        progress.toApply = 0;
        return;
      }
      const fresh = await search.snapshotHibob(input.connection, `${runKey}/approved`);
      const confirmed = await general.confirmApprovedPlan(input.connection, runKey, plan, fresh.ref);
      progress.approval = {
        ...progress.approval,
        changedSinceApproval: confirmed.changed,
        changedRef: confirmed.changedRef,
      };
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
      await applyBatches(
        await general.rebatch(
          runKey,
          input.connection,
          pending.map((r) => r.deferred!),
          batchSeq,
        ),
        false,
      );
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
            args: [
              {
                connection: input.connection,
                taskQueue: input.taskQueue,
                runKey,
                batch,
                index,
                concurrency: plan.settings.concurrencyPerBatch,
              },
            ],
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

  /**
   * Runs the sync under a deadline of its own and tells the recipients when it does not finish.
   * Temporal ends a run at its execution timeout without letting it run any code, so the run
   * keeps its own limit, cancels the sync when it passes, and can still say so.
   */
  async function watched(limits: RunNoticeSettings): Promise<FullSyncResult> {
    const sync = new CancellationScope();
    const deadline = new CancellationScope();
    let timedOut = false;
    deadline
      .run(async () => {
        await workedFor(limits.runTimeoutHours * HOUR_MS);
        timedOut = true;
        sync.cancel();
      })
      .catch(() => undefined); // cancelled once the sync ends
    try {
      return await sync.run(run);
    } catch (err) {
      const kind: RunEnding = timedOut ? 'timedOut' : isCancellation(err) ? 'cancelled' : 'failed';
      setOutcome(kind);
      const error = timedOut
        ? `the full sync did not finish within ${limits.runTimeoutHours} hour${limits.runTimeoutHours === 1 ? '' : 's'}`
        : describeError(err);
      // A cancelled run may still send its notice.
      await CancellationScope.nonCancellable(() => notify(kind, error));
      if (timedOut) throw ApplicationFailure.nonRetryable(error, 'FullSyncTimedOut');
      throw err;
    } finally {
      deadline.cancel();
    }
  }

  /** Resolves once the run has worked `limitMs`. Time waiting for approval does not count: that wait has its own limit. */
  async function workedFor(limitMs: number): Promise<void> {
    const waiting = () => progress.phase === 'awaitingApproval';
    let left = limitMs;
    for (;;) {
      const from = Date.now();
      if (!(await condition(waiting, Math.max(1, left)))) return;
      left -= Date.now() - from;
      await condition(() => !waiting());
    }
  }

  /** Mails how the run ended; a notice that cannot go out is logged, and the run ends as it would have. */
  async function notify(kind: RunEnding, error: string): Promise<void> {
    try {
      await general.sendRunFailureEmail(input.connection, {
        workflowId: info.workflowId,
        runId: info.runId,
        phase: progress.phase,
        kind,
        error,
        startedAt,
        dryRun,
      });
    } catch (err) {
      log.warn('full-sync notice not sent', { kind, error: describeError(err) });
    }
  }

  /** The connection's limit and reminders for this run; the defaults when they cannot be read. */
  async function noticeSettings(): Promise<RunNoticeSettings> {
    try {
      return await configReads.runNoticeSettings(input.connection);
    } catch (err) {
      log.warn('full-sync limits not read; the defaults apply', { ...NOTICE_DEFAULTS, error: describeError(err) });
      return NOTICE_DEFAULTS;
    }
  }

  /**
   * Waits up to `timeoutMs` for approve or reject; true when someone decided. Meanwhile the
   * recipients are reminded every approvalReminderHours: one e-mail is easily missed, and an
   * unanswered request lapses.
   */
  async function awaitDecision(
    timeoutMs: number,
    waiting: Pick<ApprovalReminderNotice, 'scope' | 'reason' | 'waiting'>,
  ): Promise<boolean> {
    const decided = () => decision !== undefined;
    const everyMs = (notices?.approvalReminderHours ?? 0) * HOUR_MS;
    if (everyMs <= 0) return condition(decided, timeoutMs);
    const since = Date.now();
    const expiresAt = since + timeoutMs;
    const reminders = new CancellationScope();
    const reminding = reminders.run(async () => {
      for (let reminder = 1; since + reminder * everyMs < expiresAt; reminder++) {
        await sleep(since + reminder * everyMs - Date.now());
        const notice = {
          workflowId: info.workflowId,
          runId: info.runId,
          ...waiting,
          since: new Date(since).toISOString(),
          expiresAt: new Date(expiresAt).toISOString(),
          reminder,
        };
        try {
          await general.sendApprovalReminder(input.connection, notice);
        } catch (err) {
          if (isCancellation(err)) throw err;
          log.warn('approval reminder not sent', { reminder, error: describeError(err) });
        }
      }
    });
    try {
      return await condition(decided, timeoutMs);
    } finally {
      reminders.cancel();
      await reminding.catch(() => undefined); // cancelled: the wait is over
    }
  }
}

/** An error with its causes, in words: "activity planFullSync failed: HiBob answered 401". */
function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 6; e = e.cause) {
    if (e instanceof ActivityFailure) parts.push(`activity ${e.activityType} failed`);
    else if (e instanceof ChildWorkflowFailure) parts.push(`${e.workflowType} ${e.execution.workflowId} failed`);
    else parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}
