/**
 * Starts one real Temporal dev server for the whole test run (in memory, headless) and builds
 * the workflow bundle once; both are handed to test files through the environment. One server
 * and one bundle, instead of one per file, keep a cold 2-core machine inside its time limits.
 * Workflow tests (test/workflow) bring their own time-skipping server: see ./workflow-setup.
 */
import { Connection } from '@temporalio/client';
import { startDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { freePort } from '../../src/dev/ports';
import { registerTestSearchAttributes } from './temporal';
import { ensureWorkflowBundle } from './workflow-bundle';

declare global {
  var __BOBSYNC_TEMPORAL__: RunningDevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  // Emulator contract tests alone need no Temporal.
  if (process.env.BOBSYNC_TEST_SKIP_TEMPORAL === '1') return;
  const bundle = ensureWorkflowBundle();
  if (!process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS) {
    const port = await freePort();
    // With bobsync's search attributes registered: its workflows set them.
    const server = await startDevServer({ port, headless: true, startTimeoutMs: 90_000 });
    globalThis.__BOBSYNC_TEMPORAL__ = server;
    process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS = server.address;
    process.env.BOBSYNC_TEST_TEMPORAL_CLI = server.cliPath;
  } else {
    // A server the suite did not start: bobsync's workflows set search attributes it must know.
    const connection = await Connection.connect({ address: process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS });
    try {
      await registerTestSearchAttributes(connection);
    } finally {
      await connection.close();
    }
  }
  await bundle;
}
