/**
 * One batch of a full sync: each employee goes through its own employee workflow (via an
 * activity using update-with-start), a few at a time. The per-employee outcomes go to the blob
 * store; the parent gets counts and a reference.
 */
import { ActivityFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { LmsWriteActivities, WorkflowQueueActivities } from '../activities';
import type { BulkRolesResult, PendingGroupRole } from '../activities/bulk-memberships';
import type { RowOutcome } from '../reports/types';
import type { BatchResult, SyncBatchInput } from './full-sync-api';
import type { SyncOutcome } from './employee-sync-api';
import { connectionAttribute, searchAttributePublisher } from './search-attributes';
import { taskQueues } from './task-queues';

/** Batches begun before group roles went in bulk replay without it. */
const BULK_GROUP_ROLES_PATCH = 'bulk-group-roles';
/** Batches begun before one employee's lasting failure stopped failing the batch replay without it. */
const EMPLOYEE_FAILURE_KEPT_PATCH = 'employee-failure-kept';

export async function syncBatch(input: SyncBatchInput): Promise<BatchResult> {
  // Every workflow of a connection is found by BobsyncConnection, batches included.
  const publish = searchAttributePublisher();
  publish([{ key: connectionAttribute, value: input.connection }]);
  const general = proxyActivities<WorkflowQueueActivities>({
    taskQueue: taskQueues(input.taskQueue).workflows,
    // Waits for the employee's own workflow, which may itself be retrying a rate-limited write.
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 5 },
  });
  // Batches that began before bulk memberships existed keep giving roles one call each, so their
  // histories replay; the decision is this batch's, and each employee sync is told it.
  const groupRolesInBulk = patched(BULK_GROUP_ROLES_PATCH);
  const keepEmployeeFailures = patched(EMPLOYEE_FAILURE_KEPT_PATCH);
  const employeeIds = await general.loadBatch(input.batch);
  const outcomes: Record<string, SyncOutcome> = {};
  const failed: EmployeeFailure[] = [];
  const queue = [...employeeIds];
  const lane = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      try {
        // The batch's list tells the activity where planning left the employee's record and hints.
        outcomes[id] = await general.syncEmployeeNow(
          input.connection,
          id,
          input.taskQueue,
          groupRolesInBulk,
          input.batch,
        );
      } catch (err) {
        if (!keepEmployeeFailures || isCancellation(err)) throw err;
        // Retries are spent: that employee failed, and the rest of the batch and the run go on.
        const reason = `not synced: ${err instanceof ActivityFailure && err.cause ? err.cause.message : String(err)}`;
        outcomes[id] = {
          at: new Date().toISOString(),
          trigger: 'full sync',
          result: 'failed',
          detail: reason,
          operations: [],
        };
        failed.push({ employeeId: id, reason });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, employeeIds.length) }, lane));
  let writes = 0;
  for (const outcome of Object.values(outcomes)) writes += outcome.operations.length;
  const { pending, failures } = pendingGroupRoles(outcomes);
  if (groupRolesInBulk && pending.length > 0) {
    const lmsWrites = proxyActivities<LmsWriteActivities>({
      taskQueue: taskQueues(input.taskQueue, input.connection).lmsWrites,
      // Polls 360Learning until the bulk operation has run; heartbeats on every poll.
      startToCloseTimeout: '1 hour',
      heartbeatTimeout: '1 minute',
      retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10 },
    });
    try {
      const bulk = await lmsWrites.addGroupRolesInBulk(input.connection, pending);
      writes += bulk.writes;
      failures.push(...mergeBulkResults(outcomes, bulk));
    } catch (err) {
      // The roles could not be given at all: their employees fail, the rest of the run goes on.
      const reason = `group roles not given: ${err instanceof ActivityFailure && err.cause ? err.cause.message : String(err)}`;
      for (const employeeId of new Set(pending.map((p) => p.employeeId)))
        failures.push(fail(outcomes, employeeId, reason));
    }
  }
  const at = new Date().toISOString();
  for (const failure of failed) await general.reportFailure(input.connection, { ...failure, code: 'syncFailed', at });
  for (const failure of failures)
    await general.reportFailure(input.connection, { ...failure, code: 'groupRoleFailed', at });
  const counts: Partial<Record<RowOutcome, number>> = {};
  for (const outcome of Object.values(outcomes)) {
    const row = rowOutcome(outcome);
    counts[row] = (counts[row] ?? 0) + 1;
  }
  const ref = await general.storeBatchOutcomes(input.runKey, input.index, outcomes);
  const waiting = Object.entries(outcomes)
    .filter(([, o]) => o.deferredManager)
    .map(([id]) => id);
  const deferred = waiting.length
    ? await general.storeBatchOutcomes(input.runKey, input.index, waiting, 'deferred')
    : undefined;
  return { ref, outcomes: counts, writes, deferred };
}

/** What an employee's sync outcome counts as in batch counts and in the report: one mapping for both. */
export function rowOutcome(outcome: SyncOutcome): RowOutcome {
  switch (outcome.result) {
    case 'applied':
      return 'applied';
    case 'deleted':
      return outcome.operations.length > 0 ? 'applied' : 'unchanged';
    case 'unchanged':
      return 'unchanged';
    case 'parked':
      return 'parked';
    case 'failed':
      return 'failed';
  }
}

interface EmployeeFailure {
  employeeId: string;
  reason: string;
}

/** Marks an employee's sync failed with the reason; returns the failure to report. */
function fail(outcomes: Record<string, SyncOutcome>, employeeId: string, reason: string): EmployeeFailure {
  const outcome = outcomes[employeeId]!;
  outcome.result = 'failed';
  outcome.detail = [outcome.detail, reason].filter(Boolean).join('; ');
  return { employeeId, reason };
}

/** The group roles the batch's employee workflows left to one bulk request, with their learners. */
function pendingGroupRoles(outcomes: Record<string, SyncOutcome>): {
  pending: PendingGroupRole[];
  failures: EmployeeFailure[];
} {
  const pending: PendingGroupRole[] = [];
  const failures: EmployeeFailure[] = [];
  for (const [employeeId, outcome] of Object.entries(outcomes)) {
    const learnerId = outcome.learnerId;
    if (!outcome.bulkGroupRoles?.length) continue;
    if (!learnerId) {
      failures.push(fail(outcomes, employeeId, 'group roles left to the bulk request, but no learner is linked'));
      continue;
    }
    for (const role of outcome.bulkGroupRoles) pending.push({ employeeId, learnerId, ...role });
  }
  return { pending, failures };
}

/**
 * Writes each role's result into its employee's outcome: given roles count as operations, and an
 * employee any of whose roles failed is failed, with the reason. Returns the failures to report.
 */
function mergeBulkResults(outcomes: Record<string, SyncOutcome>, bulk: BulkRolesResult): EmployeeFailure[] {
  const failures = new Map<string, string[]>();
  for (const result of bulk.results) {
    const outcome = outcomes[result.employeeId]!;
    if (result.error) {
      const reasons = failures.get(result.employeeId) ?? [];
      reasons.push(`${result.role} in group ${result.groupId} not given: ${result.error}`);
      failures.set(result.employeeId, reasons);
      continue;
    }
    outcome.operations.push('addGroupRole');
    const via = bulk.bulkOperationIds.length > 0 ? `bulk operation ${bulk.bulkOperationIds.join(', ')}` : 'one call';
    outcome.detail = [outcome.detail, `added ${result.role} in ${result.groupId} (${via})`].filter(Boolean).join('; ');
  }
  return [...failures].map(([employeeId, reasons]) => fail(outcomes, employeeId, reasons.join('; ')));
}
