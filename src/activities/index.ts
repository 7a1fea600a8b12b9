import { ConnectionRegistry, type ActivityDeps } from './deps';
import { healthActivities } from './health';
import { withFailureClassification } from './failures';

/** Activities run on the HiBob task queue, whose task-queue rate limit keeps the tenant under its quota. */
export function createHibobActivities(deps: ActivityDeps) {
  const registry = new ConnectionRegistry(deps);
  return withFailureClassification({ ...healthActivities(registry) });
}
export type HibobActivities = ReturnType<typeof createHibobActivities>;
