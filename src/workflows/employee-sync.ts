/**
 * One workflow per connection and employee: the single writer for that person (design
 * decision 1). Webhook events arrive as signals and are handled strictly in arrival order;
 * each handling re-reads HiBob (events are triggers, HiBob is the truth), plans against the
 * learner's current state and applies the plan one rate-limited write at a time. Effective
 * dates (pre-start activation, end-of-last-day deactivation) wait as durable timers.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { EmployeeActivities } from '../activities/employee-types';
import type { Plan } from '../domain/types';
import {
  hibobEventSignal,
  stateQuery,
  syncNowUpdate,
  type EmployeeSyncInput,
  type HibobEventSignal,
  type SyncOutcome,
} from './employee-sync-api';
import { taskQueues } from './task-queues';

/** An idle workflow completes; the LMS external-id link, not the workflow, is the durable identity. */
const IDLE_TIMEOUT_MS = 10 * 60_000;
/** A manager not provisioned yet is tried again after this long. */
const DEFERRED_MANAGER_RETRY_MS = 5 * 60_000;
const MAX_SEEN_KEYS = 200;
const HISTORY_EVENTS_BEFORE_CONTINUE = 2_000;

export async function employeeSync(input: EmployeeSyncInput): Promise<SyncOutcome | undefined> {
  const queues = taskQueues(input.taskQueue);
  const retry: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 12 };
  const hibob = proxyActivities<EmployeeActivities>({ taskQueue: queues.hibob, startToCloseTimeout: '30 seconds', retry });
  const lmsReads = proxyActivities<EmployeeActivities>({ taskQueue: queues.lmsReads, startToCloseTimeout: '1 minute', retry });
  const lmsWrites = proxyActivities<EmployeeActivities>({ taskQueue: queues.lmsWrites, startToCloseTimeout: '30 seconds', retry });
  const local = proxyLocalActivities<EmployeeActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 3 } });
  const general = proxyActivities<EmployeeActivities>({ taskQueue: queues.workflows, startToCloseTimeout: '30 seconds', retry });

  const carried = input.carried;
  let learnerId = carried?.learnerId;
  let lastFingerprint = carried?.lastFingerprint;
  let lastOutcome = carried?.lastOutcome;
  let recheckAt = carried?.recheckAt;
  const pending: HibobEventSignal[] = [...(carried?.pending ?? [])];
  const seen = new Set<string>(carried?.seenKeys ?? []);
  let processed = 0;
  let busy = false;

  setHandler(hibobEventSignal, (event) => {
    // HiBob delivers at least once: the same delivery twice has one effect.
    if (seen.has(event.dedupeKey)) return;
    seen.add(event.dedupeKey);
    if (seen.size > MAX_SEEN_KEYS) seen.delete(seen.values().next().value as string);
    pending.push(event);
  });
  setHandler(stateQuery, () => ({
    connection: input.connection,
    employeeId: input.employeeId,
    learnerId,
    lastFingerprint,
    lastOutcome,
    pendingEvents: pending.length,
    pendingTimer: recheckAt,
    processed,
  }));
  setHandler(syncNowUpdate, async (request) => {
    await condition(() => !busy);
    const outcome = await exclusive(() => sync(`on demand${request.reason ? `: ${request.reason}` : ''}`, true));
    lastOutcome = outcome;
    return outcome;
  });

  async function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    busy = true;
    try {
      return await fn();
    } finally {
      busy = false;
    }
  }

  async function sync(trigger: string, force = false): Promise<SyncOutcome> {
    const at = new Date().toISOString();
    try {
      const fetched = await hibob.fetchEmployee(input.connection, input.employeeId);
      const record = fetched.found ? fetched.record : null;
      const lookup = await lmsReads.lookupLearner(input.connection, input.employeeId, record, learnerId);
      const plan: Plan = await local.planEmployee(input.connection, input.employeeId, record, lookup, force ? undefined : lastFingerprint);
      if (lookup.match.kind !== 'none') learnerId = lookup.match.learner.learnerId;
      recheckAt = plan.recheckAt;
      const outcome = await carryOut(plan, trigger, at, fetched.found);
      lastFingerprint = outcome.result === 'failed' ? undefined : plan.fingerprint;
      return outcome;
    } catch (err) {
      const reason = failureMessage(err);
      await general.reportFailure(input.connection, { employeeId: input.employeeId, code: 'syncFailed', reason, at });
      lastFingerprint = undefined;
      return { at, trigger, result: 'failed', detail: reason, operations: [] };
    }
  }

  async function carryOut(plan: Plan, trigger: string, at: string, found: boolean): Promise<SyncOutcome> {
    const { outcome } = plan;
    if (outcome.kind === 'noop') return { at, trigger, result: found ? 'unchanged' : 'deleted', detail: outcome.reason, operations: [], plan: outcome };
    if (outcome.kind === 'park') {
      // The same problem seen again (a burst of events for one edit) is reported once.
      const reportedBefore = lastOutcome?.result === 'parked' && plan.fingerprint === lastFingerprint;
      if (!reportedBefore) await general.reportFailure(input.connection, { employeeId: input.employeeId, code: outcome.code, reason: outcome.reason, at });
      return { at, trigger, result: 'parked', detail: outcome.reason, operations: [], plan: outcome };
    }
    const done: SyncOutcome['operations'] = [];
    const notes: string[] = [];
    let deferredManager = false;
    for (const operation of outcome.operations) {
      if (operation.op === 'deferManager') {
        // Retried later rather than dropped: the manager may be provisioned by then.
        const retryAt = new Date(Date.now() + DEFERRED_MANAGER_RETRY_MS).toISOString();
        if (!recheckAt || retryAt < recheckAt) recheckAt = retryAt;
        deferredManager = true;
        notes.push(operation.reason);
        continue;
      }
      const applied = await lmsWrites.applyOperation(input.connection, input.employeeId, learnerId, operation);
      if (applied.learnerId) learnerId = applied.learnerId;
      done.push(operation.op);
      notes.push(applied.note);
    }
    return { at, trigger, result: found ? 'applied' : 'deleted', detail: notes.join('; '), operations: done, deferredManager, plan: outcome };
  }

  for (;;) {
    const waitMs = recheckAt ? Math.max(0, Date.parse(recheckAt) - Date.now()) : IDLE_TIMEOUT_MS;
    const woken = await condition(() => pending.length > 0 && !busy, waitMs);
    if (woken) {
      const batch = pending.splice(0, pending.length);
      // One re-read covers every event that queued up meanwhile: HiBob holds the latest state.
      lastOutcome = await exclusive(() => sync(batch.map((e) => e.type).join(', ')));
      processed += batch.length;
    } else if (recheckAt && Date.parse(recheckAt) <= Date.now()) {
      lastOutcome = await exclusive(() => sync('effective date reached', true));
    } else if (!recheckAt && pending.length === 0 && !busy) {
      await condition(allHandlersFinished);
      if (pending.length === 0) return lastOutcome;
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_BEFORE_CONTINUE) {
      await condition(() => allHandlersFinished() && !busy);
      await continueAsNew<typeof employeeSync>({
        ...input,
        carried: { learnerId, lastFingerprint, lastOutcome, pending, seenKeys: [...seen], recheckAt },
      });
    }
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}
