/**
 * What a full sync produces for people to read: a plan preview before anything is written, and
 * a report after. Plain data, rendered to HTML, CSV and XLSX by the modules beside this one.
 */
import type { EmployeeAction, PlanRow } from '../domain/types';

/** A plan's rows are the domain's; reports add what became of each. */
export type { EmployeeAction, PlanRow } from '../domain/types';

export type RowOutcome = 'applied' | 'unchanged' | 'parked' | 'failed' | 'skipped' | 'held' | 'planned';

export interface ReportRow extends PlanRow {
  outcome: RowOutcome;
  /** What the LMS answered, or why nothing was done. */
  detail?: string;
}

export interface SafeguardState {
  tripped: boolean;
  /** Why it tripped, in words ("42 deactivations, above the limit of 10% (25)"). */
  reason?: string;
  decision?: 'approved' | 'rejected' | 'timedOut';
  decidedBy?: string;
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
  /** Every employee whose action is not `noop` (unchanged employees are only counted). */
  rows: ReportRow[];
  errors: { employeeId: string; code: string; reason: string }[];
}
