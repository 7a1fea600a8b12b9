/**
 * Messages and shapes of the full sync, apart from the workflow body so the CLI and tests can
 * import them without workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BlobRef } from '../blobstore/blob-store';
import type { ApprovalOutcome, EmployeeAction, PlanApproval, RowOutcome, SafeguardState } from '../reports/types';

export type { ApprovalOutcome, ApprovalScope, PlanApproval } from '../reports/types';

export interface FullSyncInput {
  connection: string;
  /** Base task queue of the deployment. */
  taskQueue: string;
  /** Plan and preview only; write nothing. */
  dryRun?: boolean;
  /** Who or what started it ("schedule", "cli", …), for the report. */
  trigger?: string;
}

export type FullSyncPhase = 'snapshot' | 'plan' | 'awaitingApproval' | 'apply' | 'report' | 'done';

export interface FullSyncProgress {
  phase: FullSyncPhase;
  hibobEmployees?: number;
  lmsLearners?: number;
  planned: Partial<Record<EmployeeAction, number>>;
  /** Employees to apply (changed), and how many have finished. */
  toApply: number;
  applied: number;
  outcomes: Partial<Record<RowOutcome, number>>;
  batchesTotal: number;
  batchesDone: number;
  safeguard?: SafeguardState;
  /** What the run waits for (or waited for) before applying, and the decision. */
  approval?: ApprovalState;
}

/** A run's approval as the workflow keeps it: the outcome, and which employees an approved plan left out. */
export interface ApprovalState extends ApprovalOutcome {
  /** Employee id → why, of the employees HiBob changed after the preview (written by confirmApprovedPlan). */
  changedRef?: BlobRef;
}

/** An approved plan checked against HiBob again: what is applied, and who is left for the next run. */
export interface ConfirmedPlan {
  /** Batches of the approved employees whose HiBob record is as it was at plan time, in plan order. */
  batches: BlobRef[];
  toApply: number;
  /** Employees left out because HiBob changed them (or no longer returns them) since the preview. */
  changed: number;
  changedRef: BlobRef;
}

/** The plan as the workflow holds it: counts and references, never the rows themselves. */
export interface PlannedSync {
  runKey: string;
  planRef: BlobRef;
  hibobEmployees: number;
  lmsLearners: number;
  byAction: Partial<Record<EmployeeAction, number>>;
  /** Batches of employee ids to apply now, and those held back by a safeguard. */
  batches: BlobRef[];
  heldBatches: BlobRef[];
  /** Employees in `batches` and in `heldBatches`. */
  toApply: number;
  heldCount: number;
  settings: { parallelism: number; concurrencyPerBatch: number; approvalTimeoutMs: number };
  safeguard: SafeguardState;
  /**
   * What the run waits for, from the connection's approval mode: the whole plan, the held
   * deactivations, or nothing (held deactivations are then left undone). Absent from plans made
   * before approval modes; the safeguard alone decides then.
   */
  approval?: PlanApproval;
  apiCalls: { hibob: number; lmsReads: number };
  /**
   * Employees not applied in this run with an effective date ahead (within the horizon): their
   * workflows are made to hold a timer for it. Absent in dry runs.
   */
  timers?: { ref: BlobRef; count: number };
}

export interface BatchResult {
  ref: BlobRef;
  outcomes: Partial<Record<RowOutcome, number>>;
  writes: number;
  /** Employees whose manager had no learner yet when they were synced, to sync once more. */
  deferred?: BlobRef;
}

export interface FullSyncResult {
  connection: string;
  dryRun: boolean;
  reportRef: BlobRef;
  previewRefs?: { csv: BlobRef; xlsx: BlobRef };
  byAction: Partial<Record<EmployeeAction, number>>;
  outcomes: Partial<Record<RowOutcome, number>>;
  safeguard?: SafeguardState;
  /** The run's approval when its mode asked for (or decided against) one. */
  approval?: ApprovalOutcome;
  durationMs: number;
  /** Employee workflows made to hold a timer for an effective date ahead. */
  timersArmed?: number;
}

export interface SyncBatchInput {
  connection: string;
  taskQueue: string;
  runKey: string;
  batch: BlobRef;
  index: number;
  concurrency: number;
}

/** A run's own limit and reminders, from the connection's config, read when the run starts. */
export interface RunNoticeSettings {
  /** fullSync.runTimeoutHours: how long the run may work; time waiting for approval does not count. */
  runTimeoutHours: number;
  /** safety.approvalReminderHours: how often a pending approval is recalled by e-mail; 0 never. */
  approvalReminderHours: number;
}

/** How a run ended without finishing: an error, someone cancelled it, or it passed fullSync.runTimeoutHours. */
export type RunEnding = 'failed' | 'cancelled' | 'timedOut';

/** What the e-mail about a run that did not finish says. */
export interface RunFailureNotice {
  workflowId: string;
  runId: string;
  /** Where the run was when it stopped. */
  phase: FullSyncPhase;
  kind: RunEnding;
  /** The error in words; for a time-out, the limit that was passed. */
  error: string;
  startedAt?: string;
  dryRun?: boolean;
}

/** What a reminder about a pending approval says. */
export interface ApprovalReminderNotice {
  workflowId: string;
  runId: string;
  /** The whole plan waits, or the deactivations a safeguard holds. */
  scope: 'plan' | 'held';
  /** Why the run waits, in words. */
  reason: string;
  /** Employees the plan would change, or deactivations held. */
  waiting: number;
  since: string;
  expiresAt: string;
  /** 1 for the first reminder, 2 for the second… */
  reminder: number;
}

export interface Decision {
  by?: string;
  reason?: string;
}

export const progressQuery = defineQuery<FullSyncProgress>('progress');
/** The answer to approve and reject: the safeguard's state, and the run's approval when it waited for its whole plan. */
export type ApprovalAnswer = SafeguardState & { approval?: ApprovalOutcome };

/** Approve or reject what the run waits for: its whole plan, or the deactivations a safeguard holds. Updates answer with the new state. */
export const approveUpdate = defineUpdate<ApprovalAnswer, [Decision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalAnswer, [Decision]>('reject');
/** The same as signals, for `temporal workflow signal --name approve`. */
export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
