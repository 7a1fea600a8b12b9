/**
 * armEmployeeTimers on the real dev server: a full sync signals only the employee workflows that
 * do not already hold the effective-date timer it wants, as Temporal's visibility shows them,
 * and every one when visibility cannot say.
 *
 * The activity runs in Temporal's mock activity context with a real client; the employee
 * workflows run on the stack's worker. Their employees exist nowhere: a workflow given a timer
 * weeks ahead only waits, so nothing reads HiBob.
 */
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { listHeldTimers } from '../../src/activities/armed-timers';
import { ConnectionRegistry } from '../../src/activities/deps';
import { fullSyncActivities } from '../../src/activities/full-sync';
import { blobStoreFromEnv } from '../../src/blobstore';
import type { PendingTimer } from '../../src/domain/full-plan';
import { stateQuery } from '../../src/workflows/employee-sync-api';
import { employeeWorkflowId } from '../../src/workflows/ids';
import { uniqueTaskQueue } from '../support/temporal';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(180_000);

const CONNECTION = 'demo-360';
const DAY = 86_400_000;
const SIGNALED = temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;

let stack: TestStack;
let runs = 0;

beforeAll(async () => {
  stack = await startTestStack({ name: 'armed-timers', employees: 0, only: ['hibob', '360learning'] });
});
afterAll(async () => {
  await stack?.close();
});

/** Employee ids no other test uses, as HiBob's numeric root ids. */
const newIds = (n: number) => {
  const base = `7${Date.now()}`;
  return Array.from({ length: n }, (_, i) => `${base}${String(i).padStart(3, '0')}`);
};

/** Whole-second instants weeks ahead, as a plan's effective dates are. */
const ahead = (days: number) => new Date(Math.floor((Date.now() + days * DAY) / 1000) * 1000).toISOString();

/** Runs armEmployeeTimers through `client` over `timers`, stored as a run's plan stores them. */
async function arm(client: Client, timers: PendingTimer[]): Promise<number> {
  const blobs = blobStoreFromEnv(stack.env);
  const ref = await blobs.putJson(`runs/${CONNECTION}/armed-timers-${++runs}/timers.json`, timers);
  const { armEmployeeTimers } = fullSyncActivities(
    new ConnectionRegistry({ config: stack.config, env: stack.env }),
    blobs,
    stack.env,
  );
  const env = new MockActivityEnvironment(
    { activityType: 'armEmployeeTimers' },
    { client, logger: new DefaultLogger('ERROR') },
  );
  return env.run(armEmployeeTimers, CONNECTION, ref, stack.taskQueue);
}

/** How many times each employee's workflow was signalled, over its whole history. */
async function signalsOf(client: Client, employeeIds: string[]): Promise<number[]> {
  return Promise.all(
    employeeIds.map(async (id) => {
      const history = await client.workflow.getHandle(employeeWorkflowId(CONNECTION, id)).fetchHistory();
      return (history.events ?? []).filter((e) => e.eventType === SIGNALED).length;
    }),
  );
}

/** Waits until visibility shows each employee's workflow holding exactly its timer. */
async function visiblyHeld(timers: PendingTimer[]): Promise<void> {
  const want = Object.fromEntries(timers.map((t) => [employeeWorkflowId(CONNECTION, t.employeeId), Date.parse(t.at)]));
  let seen: Record<string, number> = {};
  await eventually(
    async () => {
      const { held } = await listHeldTimers(stack.client, CONNECTION, new Date());
      seen = Object.fromEntries([...held].filter(([id]) => id in want).sort(([a], [b]) => a.localeCompare(b)));
      return Object.keys(want).every((id) => seen[id] === want[id]) ? true : undefined;
    },
    60_000,
    'visibility to show the timers held',
  ).catch(() => undefined);
  expect(seen).toEqual(want);
}

const pendingTimerOf = async (employeeId: string) =>
  (await stack.client.workflow.getHandle(employeeWorkflowId(CONNECTION, employeeId)).query(stateQuery)).pendingTimer;

describe('armEmployeeTimers against visibility', () => {
  const ids = newIds(6);
  const timers: PendingTimer[] = ids.slice(0, 5).map((employeeId, i) => ({
    employeeId,
    at: ahead(10 + i),
    reason: `starts in ${10 + i} days`,
  }));

  it('signals every workflow the first time, then none once visibility shows them holding their timers', async () => {
    expect(await arm(stack.client, timers)).toBe(5);
    expect(await signalsOf(stack.client, ids.slice(0, 5))).toEqual([1, 1, 1, 1, 1]);
    await visiblyHeld(timers);

    expect(await arm(stack.client, timers)).toBe(0);
    expect(await signalsOf(stack.client, ids.slice(0, 5))).toEqual([1, 1, 1, 1, 1]);
  });

  it('signals a timer moved earlier and a new employee, not one moved later (the workflow keeps the earlier)', async () => {
    const [earlier, later, ...same] = timers;
    const moved: PendingTimer[] = [
      { ...earlier!, at: new Date(Date.parse(earlier!.at) - DAY).toISOString(), reason: 'start date moved earlier' },
      { ...later!, at: new Date(Date.parse(later!.at) + DAY).toISOString(), reason: 'start date moved later' },
      ...same,
      { employeeId: ids[5]!, at: ahead(20), reason: 'new hire' },
    ];
    await visiblyHeld(timers);

    expect(await arm(stack.client, moved)).toBe(2);
    expect(await signalsOf(stack.client, ids)).toEqual([2, 1, 1, 1, 1, 1]);
    expect(await pendingTimerOf(earlier!.employeeId)).toBe(moved[0]!.at);
    expect(await pendingTimerOf(later!.employeeId)).toBe(later!.at);
    expect(await pendingTimerOf(ids[5]!)).toBe(moved.at(-1)!.at);
  });

  it('signals every workflow when the listing fails, though visibility shows them holding their timers', async () => {
    const held = timers.slice(2);
    await visiblyHeld(held);
    const failing = new Proxy(stack.client.workflow, {
      get: (target, key, receiver) =>
        key === 'list'
          ? () => {
              throw new Error('visibility unavailable');
            }
          : (Reflect.get(target, key, receiver) as unknown),
    });
    const client = new Proxy(stack.client, {
      get: (target, key, receiver) => (key === 'workflow' ? failing : (Reflect.get(target, key, receiver) as unknown)),
    });

    expect(await arm(client, held)).toBe(3);
    expect(
      await signalsOf(
        stack.client,
        held.map((t) => t.employeeId),
      ),
    ).toEqual([2, 2, 2]);
  });
});

describe('armEmployeeTimers on a namespace without bobsync’s search attributes', () => {
  let connection: Connection;
  let client: Client;

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS! });
    const namespace = uniqueTaskQueue('no-attributes');
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    client = new Client({ connection, namespace });
    // A namespace is usable a moment after it is registered.
    await eventually(
      async () => {
        await client.workflow.count();
        return true;
      },
      30_000,
      'the new namespace',
    );
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('cannot list the timers held, so every run signals every workflow', async () => {
    const timers = newIds(3).map((employeeId, i) => ({ employeeId, at: ahead(12 + i), reason: 'starts soon' }));
    await expect(listHeldTimers(client, CONNECTION, new Date())).rejects.toThrow();

    expect(await arm(client, timers)).toBe(3);
    expect(await arm(client, timers)).toBe(3);
    expect(
      await signalsOf(
        client,
        timers.map((t) => t.employeeId),
      ),
    ).toEqual([2, 2, 2]);
  });
});
