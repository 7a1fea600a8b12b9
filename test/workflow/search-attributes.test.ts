/**
 * The workflows' search attributes on the time-skipping server. The employee workflow: a timer
 * a full sync sets is searchable before it fires and gone once it has, each sync says what
 * started it and how it ended, and a sync that changes none of them adds nothing to the
 * history. A full sync's batches name their connection.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EmployeeFailure, FetchedEmployee, LearnerLookup } from '../../src/activities/employee-types';
import type { Plan, PlanOutcome } from '../../src/domain/types';
import type { BlobRef } from '../../src/blobstore/blob-store';
import { employeeSync, syncBatch } from '../../src/workflows';
import { hibobEventSignal, scheduleRecheckSignal, stateQuery } from '../../src/workflows/employee-sync-api';
import {
  connectionAttribute,
  employeeIdAttribute,
  outcomeAttribute,
  pendingTimerAttribute,
  triggerAttribute,
} from '../../src/workflows/search-attributes';
import { recordHistoryIfAsked } from '../support/histories';
import {
  ActivityLog,
  runWorkers,
  TEST_CONNECTION,
  timeSkippingEnvironment,
  uniqueTaskQueue,
  waitFor,
} from '../support/time-skipping';

jest.setTimeout(120_000);

const EMPLOYEE = '3332883894235038499';
const DAY = 86_400_000;

describe('employeeSync search attributes on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('publishes the pending timer, then each sync’s trigger and outcome, and nothing when nothing changed', async () => {
    const taskQueue = uniqueTaskQueue('search-attributes');
    const workflowId = `test/employee/${taskQueue}`;
    // What the next plan says: parked at first (no e-mail), then nothing to do.
    let next: PlanOutcome = { kind: 'park', code: 'missingEmail', reason: 'no work e-mail in HiBob' };
    const log = new ActivityLog();
    const activities = {
      hibob: log.stub({
        fetchEmployee: async (): Promise<FetchedEmployee> => ({ found: true, record: {}, readLagSeconds: 0 }),
      }),
      lmsReads: log.stub({
        lookupLearner: async (): Promise<LearnerLookup> => ({
          match: { kind: 'none' },
          managerLearnerIds: {},
          linkedManagerLearnerIds: [],
        }),
      }),
      workflows: log.stub({
        planEmployee: async (): Promise<Plan> => ({ employeeId: EMPLOYEE, outcome: next, fingerprint: 'fp' }),
        reportFailure: async (_c: string, _f: EmployeeFailure) => undefined,
      }),
    };

    await runWorkers(env, { taskQueue, activities }, async () => {
      const at = new Date((await env.currentTimeMs()) + 3 * DAY).toISOString();
      // As a full sync arms the timer of someone it does not sync: no sync runs before it fires.
      const handle = await env.client.workflow.signalWithStart(employeeSync, {
        taskQueue,
        workflowId,
        args: [{ connection: TEST_CONNECTION, employeeId: EMPLOYEE, taskQueue }],
        signal: scheduleRecheckSignal,
        signalArgs: [{ at, reason: 'start date ahead' }],
      });
      const attributes = async () => (await handle.describe()).typedSearchAttributes;
      const armed = await waitFor(async () => {
        const a = await attributes();
        return a.get(pendingTimerAttribute) ? a : undefined;
      }, 'the pending timer');
      expect(armed.get(pendingTimerAttribute)?.toISOString()).toBe(at);
      expect(armed.get(connectionAttribute)).toBe(TEST_CONNECTION);
      expect(armed.get(employeeIdAttribute)).toBe(EMPLOYEE);
      expect(armed.get(outcomeAttribute)).toBeUndefined();
      expect(log.of('fetchEmployee')).toHaveLength(0);

      await env.sleep(Date.parse(at) - (await env.currentTimeMs()) + 1_000);
      const fired = await waitFor(async () => {
        const a = await attributes();
        return a.get(outcomeAttribute) ? a : undefined;
      }, 'the sync at the timer');
      expect(fired.get(outcomeAttribute)).toBe('parked');
      expect(fired.get(triggerAttribute)).toBe('timer');
      expect(fired.get(pendingTimerAttribute)).toBeUndefined();

      next = { kind: 'noop', reason: 'up to date' };
      const event = (n: number) => ({
        type: 'employee.updated',
        employeeId: EMPLOYEE,
        triggeredAt: new Date().toISOString(),
        fieldIds: [],
        dedupeKey: `search-${n}`,
        receivedAt: new Date().toISOString(),
      });
      await handle.signal(hibobEventSignal, event(1));
      const synced = await waitFor(async () => {
        const a = await attributes();
        return a.get(outcomeAttribute) === 'unchanged' ? a : undefined;
      }, 'the sync of the webhook');
      expect(synced.get(triggerAttribute)).toBe('webhook');

      // Another webhook with the same result changes no attribute, so it upserts nothing.
      const upserts = async () =>
        ((await handle.fetchHistory()).events ?? []).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)
          .length;
      const before = await upserts();
      await handle.signal(hibobEventSignal, event(2));
      await waitFor(async () => ((await handle.query(stateQuery)).processed === 2 ? true : undefined), 'second sync');
      expect(await upserts()).toBe(before);
      expect(before).toBeGreaterThanOrEqual(3);

      // A timer armed while the workflow idles is searchable at once, without a sync.
      const reads = log.of('fetchEmployee').length;
      const later = new Date((await env.currentTimeMs()) + 5 * DAY).toISOString();
      await handle.signal(scheduleRecheckSignal, { at: later, reason: 'last day ahead' });
      const rearmed = await waitFor(async () => (await attributes()).get(pendingTimerAttribute), 'the new timer');
      expect(rearmed.toISOString()).toBe(later);
      expect(log.of('fetchEmployee')).toHaveLength(reads);

      await recordHistoryIfAsked(handle, 'employee-sync-search-attributes');
      await handle.terminate('test over');
    });
  });

  it('a batch of a full sync names its connection', async () => {
    const taskQueue = uniqueTaskQueue('search-batch');
    const ref = (key: string): BlobRef => ({ key, bytes: 0, sha256: '' });
    const activities = {
      workflows: {
        loadBatch: async () => [EMPLOYEE],
        syncEmployeeNow: async () => ({
          at: new Date().toISOString(),
          trigger: 'on demand: full sync',
          result: 'unchanged' as const,
          detail: 'up to date',
          operations: [],
        }),
        storeBatchOutcomes: async () => ref('outcomes'),
      },
    };
    await runWorkers(env, { taskQueue, activities }, async () => {
      const handle = await env.client.workflow.start(syncBatch, {
        taskQueue,
        workflowId: `test/batch/${taskQueue}`,
        args: [
          {
            connection: TEST_CONNECTION,
            taskQueue,
            runKey: 'runs/test',
            batch: ref('batch'),
            index: 0,
            concurrency: 1,
          },
        ],
      });
      expect((await handle.result()).outcomes).toEqual({ unchanged: 1 });
      expect((await handle.describe()).typedSearchAttributes.get(connectionAttribute)).toBe(TEST_CONNECTION);
      await recordHistoryIfAsked(handle, 'sync-batch-search-attributes');
    });
  });
});
