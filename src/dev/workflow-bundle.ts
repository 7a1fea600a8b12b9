import { bundleWorkflowCode } from '@temporalio/worker';
import { failureConverterPath } from '../codec/aes-gcm-codec';
import { quietBundleLogger } from './ports';

/**
 * bobsync's workflows bundled once ahead of the workers (tests, benchmarks), with the failure
 * converter the data converter names, as `npm run build` makes them.
 */
export function bundleWorkflows(): Promise<{ code: string }> {
  return bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    failureConverterPath,
    logger: quietBundleLogger,
  });
}
