/**
 * What the worker measures. Workflows cannot touch prom-client (they replay), so everything here
 * is counted where the worker learns it: in activities the workflows already call, in the vendor
 * clients' errors and in the blob store. Label values are the words bobsync's reports and CLI
 * use (`applied`, `invalidEmail`, `timedOut`), and never name an employee.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { oneOf, processRegistry } from './registry';

export const EMPLOYEE_OUTCOMES = ['applied', 'unchanged', 'parked', 'failed', 'deleted'] as const;
/** The codes of a failure report: the park codes of the plan, and `syncFailed` for a sync that threw. */
export const FAILURE_CODES = [
  'invalidEmail',
  'missingEmail',
  'conflict',
  'invalidValue',
  'unauthorizedValue',
  'syncFailed',
] as const;
export const LMS_DESTINATIONS = ['360learning', 'skillcast'] as const;
/** How one LMS write ended: done, failed in a way Temporal retries (429, 5xx, network), or refused for good. */
export type LmsWriteResult = 'ok' | 'retryableError' | 'rejected';
export type FullSyncResultLabel = 'completed' | 'failed' | 'cancelled' | 'timedOut';
export const FULL_SYNC_PHASES = ['snapshot', 'plan', 'awaitingApproval', 'apply', 'report', 'done'] as const;
/** The steps of a full sync that are one activity each, timed separately. */
export type FullSyncStep = 'snapshotHibob' | 'snapshotLms' | 'plan' | 'preview' | 'report';
export type ApprovalScopeLabel = 'plan' | 'held';
export type ApprovalDecisionLabel = 'approved' | 'rejected' | 'timedOut';

const MINUTE = 60;
const HOUR = 3600;

export class WorkerMetrics {
  readonly employeeSyncs: Counter<'connection' | 'outcome'>;
  readonly employeeFailures: Counter<'connection' | 'code'>;
  readonly parkedEmployees: Gauge<'connection'>;
  readonly lmsWrites: Counter<'destination' | 'connection' | 'operation' | 'result'>;
  readonly lmsThrottled: Counter<'destination'>;
  readonly hibobThrottled: Counter;
  readonly blobBytes: Counter<'direction'>;
  readonly fullSyncsStarted: Counter<'connection'>;
  readonly fullSyncs: Counter<'connection' | 'result' | 'phase'>;
  readonly fullSyncDuration: Histogram<'connection'>;
  readonly fullSyncStepDuration: Histogram<'connection' | 'phase'>;
  readonly fullSyncLastSuccess: Gauge<'connection'>;
  readonly approvalRequests: Counter<'connection' | 'scope'>;
  readonly approvals: Counter<'connection' | 'scope' | 'decision'>;
  readonly approvalReminders: Counter<'connection'>;
  readonly sdkMetricsUp: Gauge;

  constructor(readonly registry: Registry = processRegistry()) {
    const registers = [registry];
    this.employeeSyncs = new Counter({
      name: 'bobsync_employee_syncs_total',
      help: "Employees a full sync provisioned through their employee workflow, by the sync's outcome (real-time syncs are not counted here)",
      labelNames: ['connection', 'outcome'],
      registers,
    });
    this.employeeFailures = new Counter({
      name: 'bobsync_employee_failures_total',
      help: 'Employees reported to the failure digest, real-time and full sync alike: parked (invalidEmail, conflict…) or failed (syncFailed)',
      labelNames: ['connection', 'code'],
      registers,
    });
    this.parkedEmployees = new Gauge({
      name: 'bobsync_parked_employees',
      help: 'Employees parked in the last full sync this worker reported on',
      labelNames: ['connection'],
      registers,
    });
    this.lmsWrites = new Counter({
      name: 'bobsync_lms_writes_total',
      help: 'Write operations sent to the LMS (one per planned operation), by operation and result (ok, retryableError, rejected)',
      labelNames: ['destination', 'connection', 'operation', 'result'],
      registers,
    });
    this.lmsThrottled = new Counter({
      name: 'bobsync_lms_throttled_total',
      help: 'HTTP 429 answers from the LMS',
      labelNames: ['destination'],
      registers,
    });
    this.hibobThrottled = new Counter({
      name: 'bobsync_hibob_throttled_total',
      help: 'HTTP 429 answers from HiBob',
      registers,
    });
    this.blobBytes = new Counter({
      name: 'bobsync_blob_store_bytes_total',
      help: 'Bytes of blob content (before compression and sealing) written to and read from the blob store',
      labelNames: ['direction'],
      registers,
    });
    this.fullSyncsStarted = new Counter({
      name: 'bobsync_full_syncs_started_total',
      help: 'Full syncs that started (took their first HiBob snapshot)',
      labelNames: ['connection'],
      registers,
    });
    this.fullSyncs = new Counter({
      name: 'bobsync_full_syncs_total',
      help: 'Full syncs that ended, by result (completed, failed, cancelled, timedOut) and the phase they ended in',
      labelNames: ['connection', 'result', 'phase'],
      registers,
    });
    this.fullSyncDuration = new Histogram({
      name: 'bobsync_full_sync_duration_seconds',
      help: 'Start to report of full syncs that completed (dry runs left out), approval waits included',
      labelNames: ['connection'],
      buckets: [
        30,
        MINUTE * 2,
        MINUTE * 5,
        MINUTE * 15,
        MINUTE * 30,
        HOUR,
        HOUR * 2,
        HOUR * 4,
        HOUR * 8,
        HOUR * 12,
        HOUR * 24,
        HOUR * 72,
      ],
      registers,
    });
    this.fullSyncStepDuration = new Histogram({
      name: 'bobsync_full_sync_phase_duration_seconds',
      help: 'Time of the full-sync steps that are one activity each (snapshotHibob, snapshotLms, plan, preview, report), per successful attempt',
      labelNames: ['connection', 'phase'],
      buckets: [0.5, 2, 5, 15, 30, MINUTE, MINUTE * 5, MINUTE * 15, MINUTE * 30, HOUR, HOUR * 2, HOUR * 4],
      registers,
    });
    this.fullSyncLastSuccess = new Gauge({
      name: 'bobsync_full_sync_last_success_timestamp_seconds',
      help: 'When the last full sync that completed (not a dry run) finished, as Unix time',
      labelNames: ['connection'],
      registers,
    });
    this.approvalRequests = new Counter({
      name: 'bobsync_full_sync_approval_requests_total',
      help: 'Full syncs that started waiting for bobsync approve|reject, by what waits (plan: the whole plan, held: held deactivations)',
      labelNames: ['connection', 'scope'],
      registers,
    });
    this.approvals = new Counter({
      name: 'bobsync_full_sync_approvals_total',
      help: 'Approval waits that ended, by decision (approved, rejected, timedOut)',
      labelNames: ['connection', 'scope', 'decision'],
      registers,
    });
    this.approvalReminders = new Counter({
      name: 'bobsync_full_sync_approval_reminders_total',
      help: 'Reminders sent for full syncs still waiting for approval',
      labelNames: ['connection'],
      registers,
    });
    this.sdkMetricsUp = new Gauge({
      name: 'bobsync_worker_sdk_metrics_up',
      help: "1 when this scrape includes the Temporal SDK's own metrics (temporal_*), 0 when they could not be read",
      registers,
    });
  }

  employeeSynced(connection: string, outcome: string): void {
    this.employeeSyncs.inc({ connection, outcome: oneOf(outcome, EMPLOYEE_OUTCOMES) });
  }

  failureReported(connection: string, code: string): void {
    this.employeeFailures.inc({ connection, code: oneOf(code, FAILURE_CODES) });
  }

  lmsWrite(destination: string, connection: string, operation: string, result: LmsWriteResult): void {
    this.lmsWrites.inc({ destination: oneOf(destination, LMS_DESTINATIONS), connection, operation, result });
  }

  /** An HTTP answer from a vendor; only 429s count. */
  vendorAnswered(service: string, status: number): void {
    if (status !== 429) return;
    if (service === 'hibob') this.hibobThrottled.inc();
    else this.lmsThrottled.inc({ destination: oneOf(service, LMS_DESTINATIONS) });
  }

  blobTransferred(direction: 'read' | 'write', bytes: number): void {
    this.blobBytes.inc({ direction }, bytes);
  }

  fullSyncStarted(connection: string): void {
    this.fullSyncsStarted.inc({ connection });
  }

  fullSyncStep(connection: string, step: FullSyncStep, seconds: number): void {
    this.fullSyncStepDuration.observe({ connection, phase: step }, seconds);
  }

  /** A run's report was built. `parked`: its parked employees; the duration counts for runs that wrote. */
  fullSyncCompleted(connection: string, run: { dryRun: boolean; durationSeconds: number; parked: number }): void {
    this.fullSyncs.inc({ connection, result: 'completed', phase: 'done' });
    this.parkedEmployees.set({ connection }, run.parked);
    if (run.dryRun) return;
    this.fullSyncDuration.observe({ connection }, run.durationSeconds);
    this.fullSyncLastSuccess.set({ connection }, Date.now() / 1000);
  }

  /** A run that did not finish: failed, cancelled or stopped at its time limit, in `phase`. */
  fullSyncStopped(connection: string, result: Exclude<FullSyncResultLabel, 'completed'>, phase: string): void {
    this.fullSyncs.inc({ connection, result, phase: oneOf(phase, FULL_SYNC_PHASES) });
  }

  approvalRequested(connection: string, scope: ApprovalScopeLabel): void {
    this.approvalRequests.inc({ connection, scope });
  }

  approvalDecided(connection: string, scope: ApprovalScopeLabel, decision: ApprovalDecisionLabel): void {
    this.approvals.inc({ connection, scope, decision });
  }

  approvalReminderSent(connection: string): void {
    this.approvalReminders.inc({ connection });
  }
}

let processWorkerMetrics: WorkerMetrics | undefined;

/** This process's worker metrics: what the worker's /metrics serves, unless createWorkers is given others. */
export function workerMetrics(): WorkerMetrics {
  processWorkerMetrics ??= new WorkerMetrics();
  return processWorkerMetrics;
}
