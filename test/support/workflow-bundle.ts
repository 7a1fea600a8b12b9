import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflows } from '../../src/dev/workflow-bundle';

/**
 * Builds the workflow bundle from src/workflows once per test run and hands its path to test
 * files through the environment (see workflowBundle() in ./temporal). A second call in the same
 * run, from another project's global setup, finds it built.
 */
export async function ensureWorkflowBundle(): Promise<void> {
  if (process.env.BOBSYNC_TEST_WORKFLOW_BUNDLE) return;
  const bundle = await bundleWorkflows();
  const dir = mkdtempSync(join(tmpdir(), 'bobsync-test-'));
  const codePath = join(dir, 'workflow-bundle.js');
  writeFileSync(codePath, bundle.code);
  process.env.BOBSYNC_TEST_WORKFLOW_BUNDLE = codePath;
}
