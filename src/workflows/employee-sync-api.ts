/**
 * The messages the employee workflow understands. Kept apart from the workflow body so the API
 * and the CLI can import them without pulling in workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LookupHints, SnapshotRead } from '../activities/employee-types';
import type { GroupRole, Operation, PlanOutcome } from '../domain/types';

/** A HiBob webhook event, as the API accepted it. */
export interface HibobEventSignal {
  type: string;
  employeeId: string;
  triggeredAt: string;
  fieldIds: string[];
  dedupeKey: string;
  /** When the API accepted it (ISO), to measure end-to-end latency. */
  receivedAt: string;
}

export interface EmployeeSyncInput {
  connection: string;
  employeeId: string;
  /** Base task queue of the deployment. */
  taskQueue: string;
  /** State carried over continue-as-new. */
  carried?: CarriedState;
  /** Continue as new past this many history events (default 2,000); tests lower it. */
  historyEventsBeforeContinue?: number;
}

export interface CarriedState {
  learnerId?: string;
  lastFingerprint?: string;
  lastOutcome?: SyncOutcome;
  pending: HibobEventSignal[];
  seenKeys: string[];
  recheckAt?: string;
  /** Digest of each HiBob field as last applied, to tell a stale read after an edit. */
  appliedDigests?: Record<string, string | null>;
  /** What started the last sync, as its BobsyncTrigger search attribute says (webhook, timer…). */
  lastTrigger?: string;
  /** When this workflow last finished reading HiBob (ISO), so an older full-sync snapshot is not applied over it. */
  lastReadAt?: string;
}

export interface SyncOutcome {
  at: string;
  trigger: string;
  result: 'applied' | 'unchanged' | 'parked' | 'failed' | 'deleted';
  detail: string;
  operations: Operation['op'][];
  /** The employee's learner after the sync (a create gives its id). */
  learnerId?: string;
  /** A manager link waits for the manager's learner to exist. */
  deferredManager?: boolean;
  /** HiBob was read again this many times because the first read still showed the values before the edit. */
  rereads?: number;
  plan?: PlanOutcome;
  /**
   * Group roles left to the full sync's batch, which gives them in one bulk request
   * (SyncNowRequest.groupRolesInBulk); already recorded as bobsync's.
   */
  bulkGroupRoles?: GroupRole[];
}

export interface EmployeeSyncState {
  connection: string;
  employeeId: string;
  learnerId?: string;
  lastFingerprint?: string;
  lastOutcome?: SyncOutcome;
  pendingEvents: number;
  /** The next automatic re-evaluation (effective date), ISO. */
  pendingTimer?: string;
  processed: number;
}

export const hibobEventSignal = defineSignal<[HibobEventSignal]>('hibobEvent');
export const stateQuery = defineQuery<EmployeeSyncState>('state');
/** Provision-on-demand: re-reads and re-plans even when nothing seems to have changed. */
export interface SyncNowRequest {
  reason?: string;
  /** Sent by full syncs: a leaver takes over the unlinked learner with its address (PlanContext.adoptLeavers). */
  adoptLeavers?: boolean;
  /** Sent by full syncs to 360Learning: group roles to add are left to the batch's bulk request (SyncOutcome.bulkGroupRoles). */
  groupRolesInBulk?: boolean;
  /** Sent by full syncs: the employee's record from the run's HiBob snapshot, used instead of a read when it is new enough. */
  snapshot?: SnapshotRead;
  /** Sent by full syncs: what the run's LMS snapshot showed, so the lookup reads less. */
  lookupHints?: LookupHints;
}
export const syncNowUpdate = defineUpdate<SyncOutcome, [SyncNowRequest]>('syncNow');

/** An effective date a full sync found ahead: the workflow re-evaluates the employee then (earliest wins). */
export interface RecheckRequest {
  /** ISO instant. */
  at: string;
  reason: string;
}
export const scheduleRecheckSignal = defineSignal<[RecheckRequest]>('scheduleRecheck');
