/**
 * armEmployeeTimers, the full-sync activity that hands effective dates ahead to the employees'
 * own workflows: it reads the pending timers from the blob store and signal-with-starts each
 * employee's workflow with `scheduleRecheck`, heart-beating how many are done so that a retried
 * attempt carries on where the last one stopped instead of signalling everyone again.
 *
 * It runs in Temporal's mock activity context, whose client is a stand-in that records each
 * signal-with-start; the timers sit in a sealed file blob store in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { ConnectionRegistry } from '../../src/activities/deps';
import { fullSyncActivities } from '../../src/activities/full-sync';
import { FileBlobStore, type BlobRef } from '../../src/blobstore/blob-store';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import { scheduleRecheckSignal, type EmployeeSyncInput, type RecheckRequest } from '../../src/workflows/employee-sync-api';
import { employeeWorkflowId } from '../../src/workflows/ids';
import { testCodecEnv } from '../support/codec';

const CONNECTION = 'acme-360';
const TASK_QUEUE = 'bobsync';

const CONFIG = parseConfig(
  `
connections:
  - name: ${CONNECTION}
    source:
      type: hibob
      baseUrl: http://127.0.0.1:9/v1
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_SERVICE_USER_TOKEN }
    destination:
      type: 360learning
      baseUrl: http://127.0.0.1:9
      clientId: acme
      clientSecret: { env: LEARNING360_CLIENT_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
`,
  'test config',
);

/** Five employees whose status changes within the horizon, in the order the plan listed them. */
const TIMERS = [
  { employeeId: '3332883894235038401', at: '2025-06-20T23:00:00.000Z', reason: 'starts on 2025-06-21' },
  { employeeId: '3332883894235038402', at: '2025-06-30T22:00:00.000Z', reason: 'last day of work 2025-06-30' },
  { employeeId: '3332883894235038403', at: '2025-07-01T04:00:00.000Z', reason: 'starts on 2025-07-01' },
  { employeeId: '3332883894235038404', at: '2025-07-14T14:00:00.000Z', reason: 'leave ends 2025-07-14' },
  { employeeId: '3332883894235038405', at: '2025-07-31T23:00:00.000Z', reason: 'terminated on 2025-08-01' },
];

interface SignalWithStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: EmployeeSyncInput[];
  signal: unknown;
  signalArgs: RecheckRequest[];
}

/** A client whose signal-with-start only records the call; `failOn` makes the nth call (1-based) fail. */
function standInClient(failOn?: number) {
  const calls: SignalWithStart[] = [];
  const client = {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => R): R => fn(),
    workflow: {
      signalWithStart: async (workflowType: string, options: Omit<SignalWithStart, 'workflowType'>) => {
        calls.push({ workflowType, ...options });
        if (calls.length === failOn) throw new Error('Temporal frontend unavailable');
        return { workflowId: options.workflowId };
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

/** A mock activity context (a retry when `info` carries heartbeat details) and the heartbeats it reports. */
function activityEnv(client: Client, info: Partial<Info> = {}) {
  const env = new MockActivityEnvironment({ activityType: 'armEmployeeTimers', ...info }, { client, logger: new DefaultLogger('ERROR') });
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return { env, heartbeats };
}

const signalled = (calls: SignalWithStart[]) => calls.map((c) => c.workflowId);
const workflowsOf = (timers: typeof TIMERS) => timers.map((t) => employeeWorkflowId(CONNECTION, t.employeeId));

let dir: string;
let ref: BlobRef;
let armEmployeeTimers: ReturnType<typeof fullSyncActivities>['armEmployeeTimers'];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bobsync-full-sync-'));
  const blobs = new FileBlobStore(dir, codecFromEnv(testCodecEnv));
  ref = await blobs.putJson(`runs/${CONNECTION}/run-1/timers.json`, TIMERS);
  ({ armEmployeeTimers } = fullSyncActivities(new ConnectionRegistry({ config: CONFIG, env: {} }), blobs, {}));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('armEmployeeTimers', () => {
  it('signal-with-starts every employee’s workflow with its recheck, in plan order, heart-beating the count done', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client);

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);

    expect(calls).toEqual(
      TIMERS.map(({ employeeId, at, reason }) => ({
        workflowType: 'employeeSync',
        workflowId: employeeWorkflowId(CONNECTION, employeeId),
        taskQueue: TASK_QUEUE,
        args: [{ connection: CONNECTION, employeeId, taskQueue: TASK_QUEUE }],
        signal: scheduleRecheckSignal,
        signalArgs: [{ at, reason }],
      })),
    );
    expect(heartbeats).toEqual([1, 2, 3, 4, 5]);
  });

  it('on a retried attempt, signals only the employees after the last heartbeat', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 2, heartbeatDetails: 2 });

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);

    expect(signalled(calls)).toEqual(workflowsOf(TIMERS.slice(2)));
    expect(calls.map((c) => c.signalArgs)).toEqual(TIMERS.slice(2).map(({ at, reason }) => [{ at, reason }]));
    expect(heartbeats).toEqual([3, 4, 5]);
  });

  it('after a failure part-way, the retry resumes at the employee that failed', async () => {
    const first = standInClient(4);
    const failed = activityEnv(first.client);
    await expect(failed.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).rejects.toThrow('Temporal frontend unavailable');
    expect(signalled(first.calls)).toEqual(workflowsOf(TIMERS.slice(0, 4)));
    // The fourth was not acknowledged, so progress stops at three.
    expect(failed.heartbeats).toEqual([1, 2, 3]);

    const second = standInClient();
    const retried = activityEnv(second.client, { attempt: 2, heartbeatDetails: failed.heartbeats.at(-1) });
    await expect(retried.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);
    expect(signalled(second.calls)).toEqual(workflowsOf(TIMERS.slice(3)));
    expect(retried.heartbeats).toEqual([4, 5]);
  });

  it('signals nobody again when the last attempt had reached the end of the list', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 3, heartbeatDetails: TIMERS.length });

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);
    expect(calls).toEqual([]);
    expect(heartbeats).toEqual([]);
  });

  it.each([
    ['no details', undefined],
    ['a negative count', -1],
    ['details that are not a count', { planned: 3 }],
    ['a count as text', '2'],
  ])('starts from the first employee when the heartbeat has %s', async (_what, heartbeatDetails: unknown) => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 2, heartbeatDetails });

    await env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE);
    expect(signalled(calls)).toEqual(workflowsOf(TIMERS));
    expect(heartbeats).toEqual([1, 2, 3, 4, 5]);
  });
});
