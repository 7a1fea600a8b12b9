/**
 * A full sync's batch on the time-skipping server, with group roles its employee workflows left
 * to one bulk request: the batch gives them in one activity on the connection's LMS write queue
 * (retried when 360Learning throttles it), writes each role's result into its employee's outcome
 * (a refused role fails that employee and is reported) and counts the bulk request as one write.
 * An employee whose sync fails for good is that employee's failure: the batch goes on.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { BulkRolesResult, PendingGroupRole } from '../../src/activities/bulk-memberships';
import type { EmployeeFailure } from '../../src/activities/employee-types';
import type { BlobRef } from '../../src/blobstore/blob-store';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import { syncBatch } from '../../src/workflows';
import {
  ActivityLog,
  runWorkers,
  TEST_CONNECTION,
  timeSkippingEnvironment,
  uniqueTaskQueue,
} from '../support/time-skipping';

const ref = (key: string): BlobRef => ({ key, bytes: 1, sha256: key });
const GROUP_A = '6a00000000000000000000a1';
const GROUP_B = '6a00000000000000000000b2';
const OPERATION = '6a0000000000000000000f01';

const applied = (learnerId: string, bulkGroupRoles?: SyncOutcome['bulkGroupRoles']): SyncOutcome => ({
  at: new Date().toISOString(),
  trigger: 'full sync',
  result: 'applied',
  detail: 'created invited learner',
  operations: ['create', 'linkExternalId'],
  learnerId,
  ...(bulkGroupRoles ? { bulkGroupRoles } : {}),
});

/** Three employees: two leave roles to the batch, one of them a role 360Learning refuses. */
const OUTCOMES: Record<string, SyncOutcome> = {
  'emp-1': applied('6a00000000000000000000e1', [{ groupId: GROUP_A, role: 'learner' }]),
  'emp-2': applied('6a00000000000000000000e2', [
    { groupId: GROUP_A, role: 'coach' },
    { groupId: GROUP_B, role: 'learner' },
  ]),
  'emp-3': { at: new Date().toISOString(), trigger: 'full sync', result: 'unchanged', detail: '', operations: [] },
};

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await timeSkippingEnvironment();
});
afterAll(async () => {
  await env?.teardown();
});

function run(
  outcomes: Record<string, SyncOutcome>,
  bulkThrottles = 0,
  bulkRefused?: string,
  /** An employee whose sync always fails, as when their workflow was terminated meanwhile. */
  unsyncable?: string,
) {
  const log = new ActivityLog();
  const stored: Record<string, unknown> = {};
  const failures: EmployeeFailure[] = [];
  let bulkAttempts = 0;
  const taskQueue = uniqueTaskQueue('bulk-batch');
  const activities = {
    workflows: log.stub({
      loadBatch: async () => Object.keys(outcomes),
      // A fresh copy each call, as a real activity's result is.
      syncEmployeeNow: async (_connection: string, id: string) => {
        if (id === unsyncable) throw ApplicationFailure.retryable(`workflow of ${id} terminated`, 'WorkflowNotFound');
        return structuredClone(outcomes[id]!);
      },
      storeBatchOutcomes: async (runKey: string, index: number, data: unknown, kind = 'outcomes') => {
        stored[kind] = data;
        return ref(`${runKey}/${kind}-${index}.json`);
      },
      reportFailure: async (_connection: string, failure: EmployeeFailure) => {
        failures.push(failure);
      },
    }),
    lmsWrites: log.stub({
      addGroupRolesInBulk: async (_connection: string, roles: PendingGroupRole[]): Promise<BulkRolesResult> => {
        bulkAttempts += 1;
        if (bulkRefused) throw ApplicationFailure.nonRetryable(bulkRefused, '360learning:inputTooLong');
        if (bulkAttempts <= bulkThrottles)
          throw ApplicationFailure.retryable('360learning answered 429 bulkOperationsConcurrencyLimitReached', 'x');
        return {
          bulkOperationIds: [OPERATION],
          writes: 1,
          results: roles.map((r) =>
            r.employeeId === 'emp-2' && r.groupId === GROUP_B ? { ...r, error: 'userDeleted' } : r,
          ),
        };
      },
    }),
  };
  const result = runWorkers(env, { taskQueue, activities }, () =>
    env.client.workflow.execute(syncBatch, {
      taskQueue,
      workflowId: `bulk-batch-${taskQueue}`,
      args: [
        { connection: TEST_CONNECTION, taskQueue, runKey: 'run-1', batch: ref('batch-0'), index: 0, concurrency: 2 },
      ],
    }),
  );
  return { result, log, stored, failures, attempts: () => bulkAttempts };
}

describe('syncBatch with group roles left to a bulk request', () => {
  it('gives them in one activity, fails only the employee whose role was refused, and counts one write', async () => {
    const { result, log, stored, failures, attempts } = run(OUTCOMES, 1);
    const batch = await result;

    // Retried once after the throttle; called with every pending role, with its learner.
    expect(attempts()).toBe(2);
    // Every employee sync was told that this batch gives roles in bulk.
    expect(log.calls.filter((c) => c.name === 'syncEmployeeNow').map((c) => c.args[3])).toEqual([true, true, true]);
    const bulkCalls = log.calls.filter((c) => c.name === 'addGroupRolesInBulk');
    expect(bulkCalls).toHaveLength(2);
    expect(bulkCalls[0]!.taskQueue.endsWith(`-lms-writes-${TEST_CONNECTION}`)).toBe(true);
    // In the order the employees' syncs finished, which the lanes decide.
    const byRole = (r: PendingGroupRole) => `${r.employeeId} ${r.groupId} ${r.role}`;
    expect(
      [...(bulkCalls[0]!.args[1] as PendingGroupRole[])].sort((a, b) => byRole(a).localeCompare(byRole(b))),
    ).toEqual([
      { employeeId: 'emp-1', learnerId: '6a00000000000000000000e1', groupId: GROUP_A, role: 'learner' },
      { employeeId: 'emp-2', learnerId: '6a00000000000000000000e2', groupId: GROUP_A, role: 'coach' },
      { employeeId: 'emp-2', learnerId: '6a00000000000000000000e2', groupId: GROUP_B, role: 'learner' },
    ]);

    expect(batch.outcomes).toEqual({ applied: 1, failed: 1, unchanged: 1 });
    // Two employees' own writes (2 each) and one bulk request.
    expect(batch.writes).toBe(5);

    const outcomes = stored.outcomes as Record<string, SyncOutcome>;
    expect(outcomes['emp-1']!.operations).toEqual(['create', 'linkExternalId', 'addGroupRole']);
    expect(outcomes['emp-1']!.detail).toBe(
      `created invited learner; added learner in ${GROUP_A} (bulk operation ${OPERATION})`,
    );
    expect(outcomes['emp-2']!.result).toBe('failed');
    expect(outcomes['emp-2']!.operations).toEqual(['create', 'linkExternalId', 'addGroupRole']);
    expect(outcomes['emp-2']!.detail).toBe(
      `created invited learner; added coach in ${GROUP_A} (bulk operation ${OPERATION}); ` +
        `learner in group ${GROUP_B} not given: userDeleted`,
    );
    expect(outcomes['emp-3']!.result).toBe('unchanged');
    expect(failures.map((f) => [f.employeeId, f.code, f.reason])).toEqual([
      ['emp-2', 'groupRoleFailed', `learner in group ${GROUP_B} not given: userDeleted`],
    ]);
  });

  it('fails only the employees whose roles were pending when the bulk request is refused, and finishes', async () => {
    const { result, failures, attempts } = run(OUTCOMES, 0, 'the input array has more than 20,000 items');
    const batch = await result;
    expect(attempts()).toBe(1);
    expect(batch.outcomes).toEqual({ failed: 2, unchanged: 1 });
    expect(failures.map((f) => [f.employeeId, f.code, f.reason]).sort()).toEqual([
      ['emp-1', 'groupRoleFailed', 'group roles not given: the input array has more than 20,000 items'],
      ['emp-2', 'groupRoleFailed', 'group roles not given: the input array has more than 20,000 items'],
    ]);
  });

  it('makes no bulk request when no employee left a role to it', async () => {
    const { result, log } = run({ 'emp-1': applied('6a00000000000000000000e1'), 'emp-3': OUTCOMES['emp-3']! });
    const batch = await result;
    expect(log.calls.map((c) => c.name)).not.toContain('addGroupRolesInBulk');
    expect(batch.outcomes).toEqual({ applied: 1, unchanged: 1 });
    expect(batch.writes).toBe(2);
  });
});

describe('syncBatch when an employee cannot be synced', () => {
  it('fails that employee after its retries, reports it, and syncs the others', async () => {
    const { result, log, stored, failures } = run(OUTCOMES, 0, undefined, 'emp-3');
    const batch = await result;

    // Five attempts (the batch's retry policy), then the failure is that employee's outcome.
    expect(log.calls.filter((c) => c.name === 'syncEmployeeNow' && c.args[1] === 'emp-3')).toHaveLength(5);
    expect(batch.outcomes).toEqual({ applied: 1, failed: 2 });
    const outcomes = stored.outcomes as Record<string, SyncOutcome>;
    expect(outcomes['emp-3']).toMatchObject({
      result: 'failed',
      detail: 'not synced: workflow of emp-3 terminated',
      operations: [],
    });
    expect(outcomes['emp-1']!.result).toBe('applied');
    expect(failures.map((f) => [f.employeeId, f.code, f.reason])).toEqual([
      ['emp-3', 'syncFailed', 'not synced: workflow of emp-3 terminated'],
      ['emp-2', 'groupRoleFailed', `learner in group ${GROUP_B} not given: userDeleted`],
    ]);
  });
});
