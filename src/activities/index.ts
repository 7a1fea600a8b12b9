import { ConnectionRegistry, type ActivityDeps } from './deps';
import type { OwnedGroupRole } from '../domain/types';
import { blobStoreFromEnv } from '../blobstore';
import { bulkMembershipActivities } from './bulk-memberships';
import { employeeActivities } from './employee';
import { fullSyncActivities } from './full-sync';
import { GroupOwnership } from './group-ownership';
import { withFailureClassification } from './failures';
import { healthActivities } from './health';
import { lmsActivities } from './lms';
import { notificationActivities } from './notifications';
import { runNoticeActivities } from './run-notices';

/**
 * Activities grouped by the task queue they run on. Each vendor's calls have a queue of their
 * own whose task-queue rate limit keeps every worker together under the vendor's quota.
 */
export function createActivities(deps: ActivityDeps & { taskQueue: string }) {
  const registry = new ConnectionRegistry(deps);
  const blobs = deps.blobs ?? blobStoreFromEnv(deps.env);
  const employee = employeeActivities(registry);
  const ownership = new GroupOwnership(blobs);
  const lms = lmsActivities(registry, ownership);
  const full = fullSyncActivities(registry, blobs, deps.env);
  return {
    hibob: withFailureClassification({ fetchEmployee: employee.fetchEmployee }),
    hibobSearch: withFailureClassification({ ...healthActivities(registry), snapshotHibob: full.snapshotHibob }),
    lmsReads: withFailureClassification({
      lookupLearner: lms.lookupLearner,
      snapshotLms: full.snapshotLms,
      planFullSync: full.planFullSync,
    }),
    lmsWrites: withFailureClassification({
      applyOperation: lms.applyOperation,
      ...bulkMembershipActivities(registry),
    }),
    /** Runs beside the workflows: local activities (planning), notifications, full-sync bookkeeping. */
    workflows: withFailureClassification({
      planEmployee: employee.planEmployee,
      /** Roles an employee workflow leaves to its batch's bulk request are recorded as bobsync's first. */
      recordGroupRoles: (connection: string, employeeId: string, roles: OwnedGroupRole[]) =>
        ownership.recordAll(connection, employeeId, roles),
      ...notificationActivities(registry, deps.env, deps.taskQueue),
      writePreview: full.writePreview,
      loadBatch: full.loadBatch,
      syncEmployeeNow: full.syncEmployeeNow,
      storeBatchOutcomes: full.storeBatchOutcomes,
      rebatch: full.rebatch,
      finishFullSync: full.finishFullSync,
      buildReport: full.buildReport,
      saveSyncState: full.saveSyncState,
      sendReportEmail: full.sendReportEmail,
      armEmployeeTimers: full.armEmployeeTimers,
      confirmApprovedPlan: full.confirmApprovedPlan,
      ...runNoticeActivities(registry, deps.env),
    }),
  };
}
/**
 * What each task queue serves. Workflows type their activity proxies with these, so calling an
 * activity on a queue whose Worker does not register it is a compile error, not a stuck run.
 */
export type Activities = ReturnType<typeof createActivities>;
export type HibobActivities = Activities['hibob'];
export type HibobSearchActivities = Activities['hibobSearch'];
export type LmsReadActivities = Activities['lmsReads'];
export type LmsWriteActivities = Activities['lmsWrites'];
export type WorkflowQueueActivities = Activities['workflows'];
