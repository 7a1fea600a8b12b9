/**
 * Workflow tests on Temporal's time-skipping test server: the workflows of src/workflows (the
 * bundle built in global setup) run for real, their activities are stubs that record each call,
 * and timers of hours or days pass as soon as the test waits for a result.
 *
 *   const env = await timeSkippingEnvironment();               // one per test file (beforeAll)
 *   const log = new ActivityLog();
 *   await runWorkers(env, { taskQueue, activities: { workflows: log.stub({ sendFailureDigest: async () => undefined }) } }, async () => {
 *     const handle = await env.client.workflow.start(failureNotifier, { taskQueue, workflowId, args: [input] });
 *     await handle.signal(failureSignal, failure);            // no time is skipped meanwhile
 *     await env.sleep('10 minutes');                          // moves the server's clock on
 *     await handle.result();                                  // skips every timer until the workflow ends
 *   });
 *   expect(log.calls.map((c) => c.name)).toEqual(['sendFailureDigest']);
 *
 * Time only skips while the test awaits a result through env.client, or sleeps with env.sleep;
 * between those, the workflow runs at wall-clock speed, so queries and signals see the state
 * they expect. Skipping is global to the environment: tests in one file run one at a time.
 */
import { Context } from '@temporalio/activity';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { taskQueues } from '../../src/workflows/task-queues';
import { registerTestSearchAttributes, workflowBundle } from './temporal';

export { uniqueTaskQueue } from './temporal';

/** Starts the time-skipping server through the launcher global setup prepared, and connects to it. */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = process.env.BOBSYNC_TEST_TIME_SKIPPING_SERVER;
  if (!path)
    throw new Error(
      'No time-skipping test server: run the tests through jest so global setup prepares one (see test/support/workflow-setup).',
    );
  const create = () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
  let env: TestWorkflowEnvironment;
  try {
    env = await create();
  } catch (err) {
    // The SDK allows the server 5 seconds to answer; a start on a machine busy with other test
    // files can take longer. A second start finds the JVM's files in the page cache.
    if (!/did not start within/.test(String(err))) throw err;
    env = await create();
  }
  // The workflows set bobsync's search attributes; this server knows none until told.
  await registerTestSearchAttributes(env.connection);
  return env;
}

/** Activities per task queue of the deployment (src/workflows/task-queues), as the workflows address them. */
export type QueueActivities = Partial<Record<keyof ReturnType<typeof taskQueues>, object>>;

/** The connection workflow tests name in their inputs. */
export const TEST_CONNECTION = 'acme-360';

export interface RunWorkersOptions {
  /** Base task queue: the workflows run there, activities on the queues derived from it. */
  taskQueue: string;
  activities: QueueActivities;
  /** The connection the test's workflows name: its LMS queues are polled (default TEST_CONNECTION). */
  connection?: string;
  /**
   * How long `body` may take (default 50 s, inside jest's 60 s test timeout). Past it the call
   * fails and the Workers stop, so a stuck test does not leave them polling a server that
   * afterAll has already stopped.
   */
  timeoutMs?: number;
}

/**
 * Runs `body` while Workers poll every queue that has activities, and the base queue with the
 * workflow bundle (a Worker serves one task queue, as in src/worker.ts). The Workers stop when
 * `body` settles or runs out of time; a Worker that fails meanwhile fails the call.
 */
export async function runWorkers<T>(
  env: TestWorkflowEnvironment,
  options: RunWorkersOptions,
  body: () => Promise<T>,
): Promise<T> {
  const queues = taskQueues(options.taskQueue, options.connection ?? TEST_CONNECTION);
  const common = { connection: env.nativeConnection, namespace: env.namespace ?? 'default' };
  const workers = await Promise.all(
    (Object.keys(queues) as (keyof typeof queues)[])
      .filter((queue) => queue === 'workflows' || options.activities[queue])
      .map((queue) =>
        Worker.create({
          ...common,
          taskQueue: queues[queue],
          activities: options.activities[queue],
          ...(queue === 'workflows' ? { workflowBundle: workflowBundle() } : {}),
        }),
      ),
  );
  const running = workers.map((worker) => worker.run());
  const stopped = Promise.race(running).then(() => {
    throw new Error('a Worker stopped before the test was done');
  });
  stopped.catch(() => undefined);
  const timeoutMs = options.timeoutMs ?? 50_000;
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the test did not finish within ${timeoutMs} ms with its Workers running`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([body(), stopped, overdue]);
  } finally {
    clearTimeout(timer);
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    await Promise.all(running);
  }
}

export interface ActivityCall {
  name: string;
  args: unknown[];
  /** The queue the workflow scheduled it on. */
  taskQueue: string;
  /** When the workflow scheduled it, in the server's (skipped) time. */
  scheduledAt: number;
}

/** Records every call of the stub activities it wraps, in the order they ran. */
export class ActivityLog {
  readonly calls: ActivityCall[] = [];

  /** The same activities, each call recorded before it runs. */
  stub<T extends object>(activities: T): T {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(activities) as [string, (...args: unknown[]) => unknown][]) {
      wrapped[name] = async (...args: unknown[]) => {
        const { info } = Context.current();
        this.calls.push({ name, args, taskQueue: info.taskQueue, scheduledAt: info.scheduledTimestampMs });
        return fn(...args);
      };
    }
    return wrapped as T;
  }

  /** The calls of one activity. */
  of(name: string): ActivityCall[] {
    return this.calls.filter((call) => call.name === name);
  }
}

/** Polls `probe` in wall-clock time until it returns a value (time does not skip meanwhile). */
export async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
