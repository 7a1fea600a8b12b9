/**
 * Wording, ordering and counting shared by the CSV, XLSX and HTML renderings, so that the email
 * body and its attachments say the same thing in the same words.
 */
import type { EmployeeAction, FieldChange, PlanRow } from '../domain/types';
import type { ApprovalOutcome, PlanApproval, ReportRow, RowOutcome, SafeguardState, SyncReport } from './types';

/** What a plan preview carries besides its rows (the XLSX summary sheet, the approval email). */
export interface PreviewMeta {
  connection: string;
  generatedAt: string;
  dryRun: boolean;
  safeguard?: SafeguardState;
  /** What the run waits for before applying; absent means the safeguard alone decides. */
  approval?: PlanApproval;
}

/** Order in which actions are listed: what creates or removes access first. */
export const ACTIONS: readonly EmployeeAction[] = [
  'create',
  'reactivate',
  'update',
  'deactivate',
  'held',
  'park',
  'protected',
  'noop',
];

/** Order in which outcomes are listed: what needs a person's attention first. */
export const OUTCOMES: readonly RowOutcome[] = [
  'failed',
  'held',
  'changedSinceApproval',
  'parked',
  'applied',
  'planned',
  'skipped',
  'unchanged',
];

export const ACTION_LABEL: Record<EmployeeAction, string> = {
  create: 'Create',
  reactivate: 'Reactivate',
  update: 'Update',
  deactivate: 'Deactivate',
  held: 'Held for approval',
  park: 'Parked',
  protected: 'Protected',
  noop: 'Unchanged',
};

export const OUTCOME_LABEL: Record<RowOutcome, string> = {
  failed: 'Failed',
  held: 'Held',
  changedSinceApproval: 'Changed since approval',
  parked: 'Parked',
  applied: 'Applied',
  planned: 'Planned',
  skipped: 'Skipped',
  unchanged: 'Unchanged',
};

/** An outcome as the CSV and the employee tables write it: its id, or words where the id is not one. */
export const outcomeText = (outcome: RowOutcome): string =>
  outcome === 'changedSinceApproval' ? 'changed since approval' : outcome;

export const DESTINATION_LABEL: Record<SyncReport['destination'], string> = {
  '360learning': '360Learning',
  skillcast: 'Skillcast',
};

/** How an absent value reads in every rendering: cleared (null), never set (undefined) or blank. */
export const EMPTY = '(empty)';

export const formatValue = (value: string | null | undefined): string =>
  value === null || value === undefined || value === '' ? EMPTY : value;

export const formatChange = (c: FieldChange): string => `${c.field}: ${formatValue(c.from)} → ${formatValue(c.to)}`;

export const formatChanges = (changes: readonly FieldChange[], separator = '; '): string =>
  changes.map(formatChange).join(separator);

export const formatOperations = (operations: readonly string[]): string => operations.join(', ');

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const h = Math.floor(totalSeconds / 3600);
  const min = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (h > 0) return `${h} h ${min} min`;
  if (min > 0) return `${min} min ${s} s`;
  return `${s} s`;
}

/** "2026-03-02 06:04 UTC": readers are in many time zones, and the run ids are in UTC too. */
export function formatTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Parses an ISO timestamp for spreadsheet date cells; unparseable text stays text. */
export function toDate(iso: string): Date | string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t);
}

/** A connection name made safe for a file name (mail clients and Windows disagree about the rest). */
export function fileSlug(connection: string): string {
  const slug = connection.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  return slug || 'connection';
}

export function fileDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 'undated' : new Date(t).toISOString().slice(0, 10);
}

/**
 * Each report row falls into exactly one bucket for headlines and subjects. The outcome wins over
 * the planned action: a create that failed is a failure, not a creation.
 */
export type Bucket =
  | 'unchanged'
  | 'created'
  | 'reactivated'
  | 'updated'
  | 'deactivated'
  | 'toCreate'
  | 'toReactivate'
  | 'toUpdate'
  | 'toDeactivate'
  | 'parked'
  | 'held'
  | 'changedSinceApproval'
  | 'protected'
  | 'skipped'
  | 'failed';

const BUCKET_ORDER: readonly Bucket[] = [
  'unchanged',
  'created',
  'toCreate',
  'reactivated',
  'toReactivate',
  'updated',
  'toUpdate',
  'deactivated',
  'toDeactivate',
  'parked',
  'held',
  'changedSinceApproval',
  'protected',
  'skipped',
  'failed',
];

const BUCKET_WORDS: Record<Bucket, string> = {
  unchanged: 'unchanged',
  created: 'created',
  reactivated: 'reactivated',
  updated: 'updated',
  deactivated: 'deactivated',
  toCreate: 'to create',
  toReactivate: 'to reactivate',
  toUpdate: 'to update',
  toDeactivate: 'to deactivate',
  parked: 'parked',
  held: 'held for approval',
  changedSinceApproval: 'changed since approval',
  protected: 'protected',
  skipped: 'skipped',
  failed: 'failed',
};

const DONE: Partial<Record<EmployeeAction, Bucket>> = {
  create: 'created',
  reactivate: 'reactivated',
  update: 'updated',
  deactivate: 'deactivated',
};
const TODO: Partial<Record<EmployeeAction, Bucket>> = {
  create: 'toCreate',
  reactivate: 'toReactivate',
  update: 'toUpdate',
  deactivate: 'toDeactivate',
};

export function bucketOf(row: ReportRow, dryRun: boolean): Bucket {
  const { action, outcome } = row;
  if (outcome === 'failed') return 'failed';
  if (action === 'park' || outcome === 'parked') return 'parked';
  if (action === 'protected') return 'protected';
  if (outcome === 'held') return 'held';
  if (outcome === 'changedSinceApproval') return 'changedSinceApproval';
  if (outcome === 'skipped') return 'skipped';
  if (action === 'held') return 'held';
  if (action === 'noop' || outcome === 'unchanged') return 'unchanged';
  const bucket = !dryRun && outcome === 'applied' ? DONE[action] : TODO[action];
  return bucket ?? 'unchanged';
}

/** Plan rows have no outcome yet: everything in them is still to do. */
export function planBucketOf(row: PlanRow): Bucket {
  return bucketOf({ ...row, outcome: 'planned' }, true);
}

export function tally(report: SyncReport): Map<Bucket, number> {
  const counts = new Map<Bucket, number>();
  const add = (b: Bucket, n: number) => counts.set(b, (counts.get(b) ?? 0) + n);
  // Unchanged employees have no rows, only a count.
  add('unchanged', report.counts.byAction.noop ?? 0);
  for (const row of report.rows) add(bucketOf(row, report.dryRun), 1);
  return counts;
}

export function tallyPlan(rows: readonly PlanRow[]): Map<Bucket, number> {
  const counts = new Map<Bucket, number>();
  for (const row of rows) {
    const bucket = planBucketOf(row);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

/** "3 created, 12 updated, 1 parked", in a fixed order, zeros left out. */
export function describeTally(counts: Map<Bucket, number>, options: { unchanged: boolean }): string[] {
  return BUCKET_ORDER.filter((b) => (options.unchanged || b !== 'unchanged') && (counts.get(b) ?? 0) > 0).map(
    (b) => `${counts.get(b)} ${BUCKET_WORDS[b]}`,
  );
}

export type ReportStatus = 'awaitingApproval' | 'dryRun' | 'failures' | 'ok';

export function reportStatus(report: SyncReport): ReportStatus {
  if (report.safeguard?.tripped && !report.safeguard.decision && !report.dryRun) return 'awaitingApproval';
  if (report.approval?.scope === 'plan' && !report.approval.decision && !report.dryRun) return 'awaitingApproval';
  if (report.dryRun) return 'dryRun';
  if (report.errors.length > 0 || report.rows.some((r) => r.outcome === 'failed')) return 'failures';
  return 'ok';
}

/**
 * The categories of Skillcast's bulk-upload preview (contracts: skillcast.md §4), in its order,
 * plus the employees that cannot be written and why.
 */
export type PreviewCategory = 'toAdd' | 'toReactivate' | 'toUpdate' | 'toArchive' | 'errors';

export const PREVIEW_CATEGORIES: readonly PreviewCategory[] = [
  'toAdd',
  'toReactivate',
  'toUpdate',
  'toArchive',
  'errors',
];

export const PREVIEW_CATEGORY_TITLE: Record<PreviewCategory, string> = {
  toAdd: 'To be added',
  toReactivate: 'To be reactivated',
  toUpdate: 'To be updated',
  toArchive: 'To be archived',
  errors: 'Errors',
};

/** The preview category of a plan row; protected and unchanged employees have none. */
export function previewCategoryOf(row: Pick<PlanRow, 'action'>): PreviewCategory | undefined {
  switch (row.action) {
    case 'create':
      return 'toAdd';
    case 'reactivate':
      return 'toReactivate';
    case 'update':
      return 'toUpdate';
    case 'deactivate':
    case 'held':
      return 'toArchive';
    case 'park':
      return 'errors';
    default:
      return undefined;
  }
}

/** Rows that wait on the safeguard: the deactivations it holds back. */
export const isAwaitingApproval = (row: PlanRow): boolean => row.action === 'held' || row.action === 'deactivate';

/** The one line a reader needs: "✔ 412 unchanged, 12 updated, 3 created, 1 parked". */
export function headline(report: SyncReport): string {
  const parts = describeTally(tally(report), { unchanged: true });
  const counts = parts.length > 0 ? parts.join(', ') : 'no employees';
  switch (reportStatus(report)) {
    case 'awaitingApproval':
      return `Stopped: waiting for approval (${counts})`;
    case 'dryRun':
      return `Dry run, nothing written: ${counts}`;
    case 'failures':
      return `⚠ ${counts}`;
    case 'ok':
      return `✔ ${counts}`;
  }
}

/** "[bobsync] acme-360 full sync: 3 created, 12 updated, 1 parked" and its dry-run and approval forms. */
export function reportSubject(report: SyncReport): string {
  const parts = describeTally(tally(report), { unchanged: false });
  const changes = parts.length > 0 ? parts.join(', ') : 'no changes';
  switch (reportStatus(report)) {
    case 'awaitingApproval':
      return `[bobsync] ${report.connection} full sync needs approval: ${changes}`;
    case 'dryRun':
      return `[bobsync] ${report.connection} full sync dry run: ${changes}`;
    case 'failures':
    case 'ok':
      return `[bobsync] ${report.connection} full sync: ${changes}`;
  }
}

/** Sentences about the safeguard, or undefined when it did not trip. */
export function safeguardSentence(safeguard: SafeguardState | undefined, dryRun: boolean): string | undefined {
  if (!safeguard?.tripped) return undefined;
  const why = safeguard.reason ? `: ${safeguard.reason}` : '';
  const by = safeguard.decidedBy ? ` by ${safeguard.decidedBy}` : '';
  if (safeguard.decision === 'notAsked') {
    return `Safeguard ${dryRun ? 'would trip' : 'tripped'}${why}. Approval mode never: the held deactivations ${dryRun ? 'would not be' : 'were not'} applied and are reported as held.`;
  }
  if (dryRun) return `Safeguard would trip${why}. A real run would stop and wait for approval.`;
  switch (safeguard.decision) {
    case undefined:
      return `Safeguard tripped${why}. The held changes wait for approval.`;
    case 'approved':
      return `Safeguard tripped${why}. Approved${by}; the held changes were applied.`;
    case 'rejected':
      return `Safeguard tripped${why}. Rejected${by}; the held changes were not applied.`;
    case 'timedOut':
      return `Safeguard tripped${why}. Nobody decided in time; the held changes were not applied.`;
  }
}

/**
 * Sentences about a whole-plan approval, or undefined when the run did not wait for one (a
 * safeguard's approval has `safeguardSentence`).
 */
export function approvalSentence(approval: ApprovalOutcome | undefined, dryRun: boolean): string | undefined {
  if (approval?.scope !== 'plan') return undefined;
  const { reason } = approval;
  const by = approval.decidedBy ? ` by ${approval.decidedBy}` : '';
  if (dryRun) return `A real run would wait for approval of the whole plan (${reason}) before applying anything.`;
  switch (approval.decision) {
    case undefined:
      return `The whole plan waits for approval (${reason}); nothing is applied until someone approves it.`;
    case 'approved': {
      const changed = approval.changedSinceApproval ?? 0;
      const left =
        changed > 0
          ? ` ${plural(changed, 'employee')} changed in HiBob since the preview ${changed === 1 ? 'was' : 'were'} left for the next run.`
          : '';
      return `The whole plan waited for approval (${reason}). Approved${by}; it was applied as previewed.${left}`;
    }
    case 'rejected':
      return `The whole plan waited for approval (${reason}). Rejected${by}; nothing was applied.`;
    case 'timedOut':
      return `The whole plan waited for approval (${reason}). Nobody decided in time; nothing was applied.`;
  }
}

/**
 * The order rows are listed in an email body, where only the first few hundred fit: failures and
 * held or parked employees first, then by action, then by name.
 */
export function rowsByImportance<T extends PlanRow & { outcome?: RowOutcome }>(rows: readonly T[]): T[] {
  const outcomeRank = (r: T) => (r.outcome ? OUTCOMES.indexOf(r.outcome) : OUTCOMES.length);
  const actionRank = (r: T) => ACTIONS.indexOf(r.action);
  const nameOf = (r: T) => r.displayName ?? r.email ?? r.employeeId;
  return [...rows].sort(
    (a, b) =>
      outcomeRank(a) - outcomeRank(b) ||
      actionRank(a) - actionRank(b) ||
      nameOf(a).localeCompare(nameOf(b)) ||
      a.employeeId.localeCompare(b.employeeId),
  );
}

/** A name for the employee in lists: the display name, else the email, else the HiBob id. */
export const personName = (row: Pick<PlanRow, 'displayName' | 'email' | 'employeeId'>): string =>
  row.displayName || row.email || `HiBob ${row.employeeId}`;
