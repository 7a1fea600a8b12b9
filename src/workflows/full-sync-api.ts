/**
 * Messages and shapes of the full sync, apart from the workflow body so the CLI and tests can
 * import them without workflow code.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BlobRef } from '../blobstore/blob-store';
import type { EmployeeAction, RowOutcome, SafeguardState } from '../reports/types';

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

export interface Decision {
  by?: string;
  reason?: string;
}

export const progressQuery = defineQuery<FullSyncProgress>('progress');
/** Approve or reject deactivations held by a safeguard. Updates answer with the new state. */
export const approveUpdate = defineUpdate<SafeguardState, [Decision]>('approve');
export const rejectUpdate = defineUpdate<SafeguardState, [Decision]>('reject');
/** The same as signals, for `temporal workflow signal --name approve`. */
export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
