/**
 * What a full sync produces for people to read: a plan preview before anything is written, and
 * a report after. Plain data, rendered to HTML, CSV and XLSX by the modules beside this one.
 */
import type { EmployeeAction, PlanRow } from '../domain/types';

/** A plan's rows are the domain's; reports add what became of each. */
export type { EmployeeAction, PlanRow } from '../domain/types';

/**
 * What became of a row. `changedSinceApproval`: the whole plan was approved, but HiBob changed
 * the employee after the preview, so nothing was written and the next run plans it again.
 */
export type RowOutcome =
  'applied' | 'unchanged' | 'parked' | 'failed' | 'skipped' | 'held' | 'planned' | 'changedSinceApproval';

export interface ReportRow extends PlanRow {
  outcome: RowOutcome;
  /** What the LMS answered, or why nothing was done. */
  detail?: string;
}

export interface SafeguardState {
  tripped: boolean;
  /** Why it tripped, in words ("42 deactivations, above the limit of 10% (25)"). */
  reason?: string;
  /** `notAsked`: the connection's approval mode is never, so the held changes were left undone without asking. */
  decision?: 'approved' | 'rejected' | 'timedOut' | 'notAsked';
  decidedBy?: string;
}

/**
 * What a run waits for before applying: the whole plan (`plan`), only the deactivations a
 * safeguard holds (`held`), or nothing (`none`; held deactivations, if any, are left undone).
 */
export type ApprovalScope = 'plan' | 'held' | 'none';

/** A run's approval, decided with its plan from the connection's approval mode. */
export interface PlanApproval {
  scope: ApprovalScope;
  /** Why, in words ("first run of this connection (approval mode firstRun)", "held: safeguard, approval mode never"). */
  reason: string;
}

/** A run's approval and what became of it. */
export interface ApprovalOutcome extends PlanApproval {
  decision?: 'approved' | 'rejected' | 'timedOut';
  decidedBy?: string;
  /** Employees of an approved plan left undone because HiBob changed them after the preview. */
  changedSinceApproval?: number;
}

export interface SyncReport {
  connection: string;
  destination: '360learning' | 'skillcast';
  workflowId: string;
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** People HiBob returned and learners the LMS holds at snapshot time. */
  totals: { hibobEmployees: number; lmsLearners: number };
  counts: {
    byAction: Partial<Record<EmployeeAction, number>>;
    byOutcome: Partial<Record<RowOutcome, number>>;
  };
  apiCalls: { hibob: number; lmsReads: number; lmsWrites: number };
  safeguard?: SafeguardState;
  /** Present when the run's approval mode asked for (or decided against) an approval. */
  approval?: ApprovalOutcome;
  /** Learners that match no HiBob person, and what the run did with each (absent in reports of older runs). */
  notInHibob?: NotInHibobEntry[];
  /** Every employee whose action is not `noop` (unchanged employees are only counted). */
  rows: ReportRow[];
  errors: { employeeId: string; code: string; reason: string }[];
}

/** A learner no HiBob person matches: listed in every report, deactivated only under `unmatchedLearners: deactivate`. */
export interface NotInHibobEntry {
  learnerId: string;
  email?: string;
  displayName?: string;
  /** ISO instant of the last sign-in, where the LMS tells. */
  lastLogin?: string;
  status: 'active' | 'invited' | 'deleted';
  /** What the run did: kept (report mode), protected, deactivated, held for approval, failed, … in words. */
  handling: string;
}
