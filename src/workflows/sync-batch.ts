/**
 * One batch of a full sync: each employee goes through its own employee workflow (via an
 * activity using update-with-start), a few at a time. The per-employee outcomes go to the blob
 * store; the parent gets counts and a reference.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { WorkflowQueueActivities } from '../activities';
import type { RowOutcome } from '../reports/types';
import type { BatchResult, SyncBatchInput } from './full-sync-api';
import type { SyncOutcome } from './employee-sync-api';
import { connectionAttribute, searchAttributePublisher } from './search-attributes';
import { taskQueues } from './task-queues';

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
  const employeeIds = await general.loadBatch(input.batch);
  const outcomes: Record<string, SyncOutcome> = {};
  const queue = [...employeeIds];
  const lane = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      outcomes[id] = await general.syncEmployeeNow(input.connection, id, input.taskQueue);
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.concurrency, employeeIds.length) }, lane));
  const counts: Partial<Record<RowOutcome, number>> = {};
  let writes = 0;
  for (const outcome of Object.values(outcomes)) {
    const row = rowOutcome(outcome);
    counts[row] = (counts[row] ?? 0) + 1;
    writes += outcome.operations.length;
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
