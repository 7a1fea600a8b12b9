/**
 * Shapes the employee workflow exchanges with its activities. Workflows import this file as
 * types only; the activities' own signatures come from src/activities (index.ts).
 */
import type { LearnerBasics } from '../domain/full-plan';
import type { CurrentLearner, Match, OwnedGroupRole, RefusedValue } from '../domain/types';

/**
 * A HiBob employee record as the API returned it (dual shape), or absence when deleted. The
 * digests (one per field the mapping reads, `null` for an empty value) let the workflow see that
 * a field named by a webhook still reads as it was last applied: HiBob's read-after-write lag.
 */
export type FetchedEmployee = ({ found: true; record: Record<string, unknown> } | { found: false }) & {
  digests?: Record<string, string | null>;
  /** source.readAfterWriteLagSeconds of the connection. */
  readLagSeconds?: number;
};

/**
 * The employee's record from a full sync's HiBob snapshot, sent with its `syncNow` so the
 * workflow need not read HiBob again (see snapshotRecordUsable for when it may).
 */
export interface SnapshotRead {
  /** When the snapshot's people search began (ISO). */
  readAt: string;
  fetched: FetchedEmployee & { found: true };
}

/**
 * What a full sync's LMS snapshot showed, sent so a lookup can skip reads: the learner linked to
 * the employee's manager (not deleted), and the employee's own learner as the user list showed it.
 * What the snapshot did not show is read as usual.
 */
export interface LookupHints {
  /** Manager's HiBob id → learner id. */
  managerLearnerIds: Record<string, string>;
  /** Taken instead of reading the user when the employee's link still names this learner. */
  learner?: LearnerBasics;
}

export interface LearnerLookup {
  match: Match;
  /** Manager's HiBob id → learner id, for the one manager this employee has (if provisioned). */
  managerLearnerIds: Record<string, string>;
  /** Learner ids of current managers that are linked to HiBob employees (so the connector owns them). */
  linkedManagerLearnerIds: string[];
  /** Group roles bobsync gave this employee's learner, from its ownership record. */
  ownedGroupRoles?: OwnedGroupRole[];
  /** Values the employee would bring to strict custom fields that the LMS does not list. */
  refusedValues?: RefusedValue[];
}

export interface AppliedOperation {
  /** Learner id after the operation (a create or restore gives the id). */
  learnerId?: string;
  /** What the LMS answered, in words, for the outcome record. */
  note: string;
}

export interface EmployeeFailure {
  employeeId: string;
  code: string;
  reason: string;
  at: string;
}

export type { CurrentLearner };

/** How one employee's plan is made beyond the defaults; full syncs set these. */
export interface PlanOptions {
  adoptLeavers?: boolean;
}

/** A learner's status and the HiBob id it is linked to, if any. */
export interface LearnerLink {
  status: CurrentLearner['status'];
  linkedTo?: string;
}
