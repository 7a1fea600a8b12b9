import { ConnectionRegistry, type ActivityDeps } from './deps';
import { employeeActivities } from './employee';
import { withFailureClassification } from './failures';
import { healthActivities } from './health';
import { learning360Activities } from './learning360';
import { notificationActivities } from './notifications';

/**
 * Activities grouped by the task queue they run on. Each vendor's calls have a queue of their
 * own whose task-queue rate limit keeps every worker together under the vendor's quota.
 */
export function createActivities(deps: ActivityDeps & { taskQueue: string }) {
  const registry = new ConnectionRegistry(deps);
  const employee = employeeActivities(registry);
  const lms = learning360Activities(registry);
  return {
    hibob: withFailureClassification({ fetchEmployee: employee.fetchEmployee }),
    hibobSearch: withFailureClassification({ ...healthActivities(registry) }),
    lmsReads: withFailureClassification({ lookupLearner: lms.lookupLearner }),
    lmsWrites: withFailureClassification({ applyOperation: lms.applyOperation }),
    /** Runs beside the workflows: local activities (planning) and notifications. */
    workflows: withFailureClassification({ planEmployee: employee.planEmployee, ...notificationActivities(registry, deps.env, deps.taskQueue) }),
  };
}
export type Activities = ReturnType<typeof createActivities>;
export type HibobSearchActivities = Activities['hibobSearch'];
