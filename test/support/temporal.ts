import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ConnectionLike } from '@temporalio/client';
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
