/**
 * Global setup of the workflow tests (test/workflow), run by jest only when the run includes one
 * of them: the time-skipping test server, fetched into the per-user cache when missing, and the
 * workflow bundle. These tests need no dev server, so they also run with
 * BOBSYNC_TEST_SKIP_TEMPORAL=1.
 */
import { ensureTemporalTestServer } from '../../src/dev/temporal-test-server';
import { ensureWorkflowBundle } from './workflow-bundle';

export default async function workflowSetup(): Promise<void> {
  const [server] = await Promise.all([ensureTemporalTestServer(), ensureWorkflowBundle()]);
  process.env.BOBSYNC_TEST_TIME_SKIPPING_SERVER = server.path;
}
