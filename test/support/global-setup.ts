/**
 * Starts one real Temporal dev server for the whole test run (in memory, headless) and
 * hands its address to the test files through the environment. Starting one server here,
 * instead of one per file, keeps a cold 2-core machine well inside the server's start-up time.
 */
import { startDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import { freePort } from './ports';

declare global {
  var __BOBSYNC_TEMPORAL__: RunningDevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS) return; // an already running server was given
  // Emulator contract tests alone need no Temporal; lets them run while the CLI is still building.
  if (process.env.BOBSYNC_TEST_SKIP_TEMPORAL === '1') return;
  const port = await freePort();
  const server = await startDevServer({ port, headless: true, startTimeoutMs: 90_000 });
  globalThis.__BOBSYNC_TEMPORAL__ = server;
  process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.BOBSYNC_TEST_TEMPORAL_CLI = server.cliPath;
}
