import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { failureConverterPath } from '../../src/codec/aes-gcm-codec';
import { quietBundleLogger } from '../../src/dev/ports';

/**
 * Builds the workflow bundle from src/workflows once per test run and hands its path to test
 * files through the environment (see workflowBundle() in ./temporal). A second call in the same
 * run, from another project's global setup, finds it built.
 */
export async function ensureWorkflowBundle(): Promise<void> {
  if (process.env.BOBSYNC_TEST_WORKFLOW_BUNDLE) return;
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    failureConverterPath,
    logger: quietBundleLogger,
  });
  const dir = mkdtempSync(join(tmpdir(), 'bobsync-test-'));
  const codePath = join(dir, 'workflow-bundle.js');
  writeFileSync(codePath, bundle.code);
  process.env.BOBSYNC_TEST_WORKFLOW_BUNDLE = codePath;
}
