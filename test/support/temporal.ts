import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Connection, type ConnectionLike } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { registerSearchAttributes } from '../../src/cli/temporal-setup';

/** The shared dev server started in global setup, as a TestWorkflowEnvironment. */
export async function testEnvironment(): Promise<TestWorkflowEnvironment> {
  const address = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  return TestWorkflowEnvironment.createFromExistingServer({ address });
}

/** The workflow bundle global setup built from src/workflows. */
export function workflowBundle(): { codePath: string } {
  const codePath = process.env.BOBSYNC_TEST_WORKFLOW_BUNDLE;
  if (!codePath) throw new Error('No workflow bundle: run the tests through jest so global setup builds one.');
  return { codePath };
}

/** A task queue name unique to one test, so tests sharing the server never steal each other's tasks. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Registers bobsync's search attributes on a server its workflows run on: the time-skipping
 * server of each workflow test file, or a dev server the suite did not start itself.
 */
export async function registerTestSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace = 'default',
): Promise<void> {
  await registerSearchAttributes(connection, namespace);
}

/**
 * A namespace of its own on the shared dev server, with bobsync's search attributes. Workflow ids
 * name the connection (`bobsync/demo-360/notifier`), so stacks that share a namespace would signal
 * each other's notifier and see each other's schedule.
 */
export async function createTestNamespace(prefix: string): Promise<string> {
  const address = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  const namespace = uniqueTaskQueue(prefix.replace(/[^a-z0-9-]/gi, '-'));
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await registerSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
  return namespace;
}
