/**
 * Activities of the full sync: snapshots into the blob store, planning from snapshots, the
 * preview, applying one employee through its own workflow, and the ending: the report, the
 * state the next run starts from, and the report e-mail, each an activity of its own so a
 * retry repeats nothing the others did.
 */
import { createHash } from 'node:crypto';
import { Context, getClient, log } from '@temporalio/activity';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { ApiError } from '../clients/http/errors';
import { BlobNotFoundError, getJsonIfStored, type BlobRef, type BlobStore } from '../blobstore/blob-store';
import {
  GONE_DIGEST,
  settledFingerprints,
  type SettledEmployee,
  learnerOfUnmatchedKey,
  unmatchedLearnerKey,
  planFullRun,
  SnapshotIndex,
  sourceDigestOf,
  type EmployeeSource,
  type LmsSnapshot,
  type PendingTimer,
  type PlannedRow,
  type UnmatchedLearner,
} from '../domain/full-plan';
import { normaliseEmployee } from '../domain/normalise';
import { desiredLearner } from '../domain/desired';
import type { Operation } from '../domain/types';
import type { StoredSteadyMemo } from '../domain/steady-memo';
import { createMailer } from '../notifications/mailer';
import {
  previewAttachments,
  renderPreviewEmail,
  renderReportEmail,
  reportAttachments,
  reportCsv,
  reportXlsx,
  planPreviewCsv,
  planPreviewXlsx,
} from '../reports';
import type {
  ApprovalOutcome,
  NotInHibobEntry,
  PlanApproval,
  PlanRow,
  ReportRow,
  RowOutcome,
  SafeguardState,
  SyncReport,
} from '../reports/types';
import { approvalMode } from '../config/schema';
import type { NormalisedEmployee } from '../domain/types';
import { employeeSync } from '../workflows/employee-sync';
import { rowOutcome } from '../workflows/sync-batch';
import { employeeWorkflowId } from '../workflows/ids';
import {
  scheduleRecheckSignal,
  syncNowUpdate,
  type EmployeeSyncInput,
  type SyncNowRequest,
  type SyncOutcome,
} from '../workflows/employee-sync-api';
import type {
  ApprovalState,
  BatchResult,
  ConfirmedPlan,
  FullSyncResult,
  PlannedSync,
} from '../workflows/full-sync-api';
import {
  armingHeartbeat,
  armingProgressOf,
  listHeldTimers,
  needsArming,
  type ArmingProgress,
  type HeldTimers,
} from './armed-timers';
import type { ConnectionRegistry } from './deps';
import {
  hibobReportClients,
  readHibobPopulation,
  type HibobPopulation,
  type HibobPopulationProblem,
} from './hibob-snapshot';
import { checkpointedPages } from './page-checkpoints';
import { EmployeeRecords } from '../clients/hibob/employee-records';
import { GroupOwnership } from './group-ownership';
import { lmsActivities } from './lms';
import { fetchedFromRecord } from './employee';
import { destinationTraits } from './traits';
import { readingOptions } from './wanted-learner';

/** What the plan blob holds: every changed row, and the ids of unchanged employees with their fingerprints. */
interface StoredPlan {
  /** `sourceDigest`: the digest of the normalised HiBob employee the row was planned from (`sourceDigestOf`). */
  rows: PlannedRow[];
  unchanged: Record<string, string>;
  /** Learners that match no HiBob person (absent from plans stored before they were listed). */
  unmatched?: UnmatchedLearner[];
  /** The snapshots the plan was made from (absent from plans stored before they were kept). */
  sources?: { hibob: BlobRef; lms: BlobRef };
  /** Rows of HiBob employees say where their record is in `sources.hibob` (plans stored before they did: absent). */
  rowPositions?: boolean;
}

/** Plan, preview and report rows carry none of the plan's bookkeeping. */
function withoutBookkeeping(row: StoredPlan['rows'][number]): PlanRow {
  const { fingerprint: _f, held: _h, sourceDigest: _s, position: _p, ...rest } = row;
  return rest;
}

/** An unmatched learner's deactivation row, as its "Not in HiBob" entry tells what became of it. */
const OUTCOME_WORD: Record<RowOutcome, string> = {
  applied: 'deactivated',
  unchanged: 'left as it was',
  parked: 'parked',
  failed: 'deactivation failed',
  skipped: 'not deactivated',
  held: 'held for approval',
  planned: 'to be deactivated (dry run)',
  changedSinceApproval: 'changed since approval',
};

/** Employee id → why, of the employees an approved plan leaves out (confirmApprovedPlan). */
type ChangedSinceApproval = Record<string, string>;

/** A run's approval as the report tells it (without the workflow's blob reference). */
const outcomeOfApproval = ({ changedRef: _c, ...outcome }: ApprovalState): ApprovalOutcome => outcome;

interface RunMeta {
  connection: string;
  workflowId: string;
  runId: string;
  dryRun: boolean;
  startedAt: string;
  trigger: string;
  previewRefs?: { csv: BlobRef; xlsx: BlobRef };
}

/** Per connection, across runs: the people count of the last run and each employee's last fingerprint. */
interface ConnectionState {
  hibobEmployees?: number;
  finishedAt?: string;
  fingerprints: Record<string, string>;
}

const stateKey = (connection: string) => `state/${connection}/full-sync.json`;

/** The employees the last plan found in step, with what their plans read (src/domain/steady-memo.ts). */
const steadyMemoBlobKey = (connection: string) => `state/${connection}/steady-memo.json`;

/** The report's metadata: the run's, and when the run finished (chosen by the workflow, so every attempt agrees). */
type ReportMeta = RunMeta & { finishedAt: string };

/** What became of a run's report e-mail. */
export interface ReportMailing {
  /** Sent now; sent by an earlier attempt (nothing sent again); or no SMTP server or recipients configured. */
  status: 'sent' | 'alreadySent' | 'notConfigured';
  messageId?: string;
}

/** Written beside a run's report once its e-mail went out. */
interface MailedMarker {
  messageId: string;
  sentAt: string;
  to: string[];
}

const mailedKey = (runKey: string) => `${runKey}/report-mailed.json`;

/** One Message-ID per workflow run, so a mail server or client can drop a second copy of the report. */
export function reportMessageId(workflowId: string, runId: string): string {
  const digest = createHash('sha256').update(`${workflowId}\n${runId}`).digest('hex').slice(0, 32);
  return `<full-sync-report.${digest}@bobsync>`;
}

/**
 * An employee synced twice in one run (a deferred manager): what was done adds up, the last
 * result stands, and the learner is the one either sync linked. (The second sync finds nothing
 * to do when the workflow's own retry timer added the manager first, in runs longer than that
 * timer; its outcome must not lose the learner the first one created.)
 */
export function mergeOutcomes(first: SyncOutcome | undefined, second: SyncOutcome): SyncOutcome {
  if (!first) return second;
  const operations = [...first.operations, ...second.operations];
  const result = second.result === 'unchanged' && first.result === 'applied' ? 'applied' : second.result;
  const learnerId = second.learnerId ?? first.learnerId;
  return {
    ...second,
    result,
    operations,
    detail: [first.detail, second.detail].filter(Boolean).join('; '),
    ...(learnerId ? { learnerId } : {}),
  };
}

/** Details of the last heartbeat of an earlier attempt (none on a first attempt or outside an activity). */
function lastHeartbeat(): unknown {
  try {
    return Context.current().info.heartbeatDetails as unknown;
  } catch {
    return undefined;
  }
}

/** The activity's cancellation, passed on to HTTP calls (none outside an activity). */
function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* called outside an activity (tests): nothing to report to */
  }
}

/** Logs through the activity's logger (nowhere outside an activity). */
function activityLog(level: 'info' | 'warn', message: string, meta: Record<string, unknown>): void {
  try {
    log[level](message, meta);
  } catch {
    /* called outside an activity (tests): nothing to log to */
  }
}

/**
 * The timers the connection's employee workflows already hold, by workflow id; undefined when
 * visibility cannot say, so that every timer is armed. Heartbeats while it lists carry the
 * attempt's progress, so a retry still resumes where the arming had got to.
 */
async function heldTimersOrNone(
  client: Client,
  connection: string,
  progress: ArmingProgress,
): Promise<HeldTimers | undefined> {
  try {
    const listed = await listHeldTimers(client, connection, new Date(), (rows) => {
      if (rows % 200 === 0) heartbeat(armingHeartbeat(progress));
    });
    activityLog('info', `visibility: ${listed.held.size} employee workflows of ${connection} hold a timer`, {
      connection,
      rows: listed.rows,
      untrusted: listed.untrusted,
    });
    return listed.held;
  } catch (err) {
    activityLog(
      'warn',
      `visibility cannot list the timers employee workflows hold; arming every timer of ${connection}`,
      {
        connection,
        error: err instanceof Error ? err.message : String(err),
      },
    );
    return undefined;
  }
}

/** Report rows a run could not use, kept beside its HiBob snapshot. */
interface PopulationProblems {
  problems: HibobPopulationProblem[];
  heldEmployeeIds: string[];
}

const problemsKey = (runKey: string) => `${runKey}/hibob-problems.json`;
/** When the run's people search began, kept beside its HiBob snapshot. */
const hibobReadKey = (runKey: string) => `${runKey}/hibob-read.json`;
/** What a batch's employees were planned from (BatchSources), beside the batch's list of ids. */
const batchSourcesKey = (batchKey: string) => batchKey.replace(/\.json$/, '.sources.json');

/** The HiBob records and manager learners a batch's employees were planned from, and when HiBob was read. */
interface BatchSources {
  readAt: string;
  employees: Record<string, EmployeeSource>;
}

/** Batches whose sources syncEmployeeNow keeps at hand: each is asked for once per employee. */
const SOURCES_KEPT = 16;
/** Signal-with-starts armEmployeeTimers keeps in flight: one at a time, the first run after go-live spends minutes at 100,000. */
const TIMERS_ARMED_AT_ONCE = 8;

/** How long a worker keeps the population it stored for the step after (see justStored). */
const JUST_STORED_HELD_MS = 5 * 60_000;

export function fullSyncActivities(registry: ConnectionRegistry, blobs: BlobStore, env: NodeJS.ProcessEnv) {
  const lms = lmsActivities(registry, new GroupOwnership(blobs));
  const reportClients = hibobReportClients(env);

  /** Whether the connection's full syncs give group roles through 360Learning's bulk memberships API. */
  function groupRolesInBulk(connection: string): boolean {
    const { destination } = registry.connection(connection);
    return destination.type === '360learning' && destination.bulkMemberships;
  }

  /** Everyone HiBob has for the connection: one people search, or the connection's custom report. */
  function readPopulation(connection: string): Promise<HibobPopulation> {
    const options = { heartbeat, signal: cancellationSignal() };
    return readHibobPopulation(
      { hibob: registry.hibob(connection), reports: reportClients },
      registry.connection(connection),
      options,
    );
  }

  const sourcesByBatch = new Map<string, Promise<BatchSources | undefined>>();
  /** A batch's sources, or undefined for batches made without (after an approval, a rebatch, a dry run). */
  function batchSources(batch: BlobRef): Promise<BatchSources | undefined> {
    let sources = sourcesByBatch.get(batch.key);
    if (!sources) {
      sources = getJsonIfStored<BatchSources>(blobs, batchSourcesKey(batch.key)).catch((err: unknown) => {
        sourcesByBatch.delete(batch.key);
        throw err;
      });
      sourcesByBatch.set(batch.key, sources);
      if (sourcesByBatch.size > SOURCES_KEPT) sourcesByBatch.delete(sourcesByBatch.keys().next().value as string);
    }
    return sources;
  }

  /** What a full sync sends an employee's workflow besides the request: the record and lookup hints its batch holds. */
  async function plannedFrom(
    connection: string,
    employeeId: string,
    batch: BlobRef | undefined,
  ): Promise<Pick<SyncNowRequest, 'snapshot' | 'lookupHints'>> {
    const sources = batch ? await batchSources(batch) : undefined;
    const source = sources?.employees[employeeId];
    if (!sources || !source) return {};
    return {
      snapshot: { readAt: sources.readAt, fetched: await fetchedFromRecord(registry, connection, source.record) },
      lookupHints: { managerLearnerIds: source.managerLearnerIds, learner: source.learner },
    };
  }

  /** When the run's people search began; undefined for runs snapshotted before it was kept. */
  async function hibobReadAt(runKey: string): Promise<string | undefined> {
    return (await getJsonIfStored<{ readAt: string }>(blobs, hibobReadKey(runKey)))?.readAt;
  }

  async function loadPopulationProblems(runKey: string): Promise<PopulationProblems> {
    return (
      (await getJsonIfStored<PopulationProblems>(blobs, problemsKey(runKey))) ?? { problems: [], heldEmployeeIds: [] }
    );
  }

  // Only a first run has no state. Any other failure stops the run: an empty state would silently
  // turn off the HiBob-drop safeguard and force every learner to be read in full.
  async function loadState(connection: string): Promise<ConnectionState> {
    return (await loadSavedState(connection)) ?? { fingerprints: {} };
  }

  /** The state a finished full sync of the connection left; undefined before the first (approval mode firstRun asks then). */
  async function loadSavedState(connection: string): Promise<ConnectionState | undefined> {
    return getJsonIfStored<ConnectionState>(blobs, stateKey(connection));
  }

  /**
   * The population this worker has just stored, until the next step takes it or a few minutes
   * pass: on one worker, planning then skips reading back, unpacking and parsing what it was
   * handed (seconds at 100,000 people). Another worker reads the blob.
   */
  let justStored: { ref: BlobRef; records: EmployeeRecords; release: NodeJS.Timeout } | undefined;
  function holdJustStored(ref: BlobRef, records: EmployeeRecords): void {
    if (justStored) clearTimeout(justStored.release);
    const release = setTimeout(() => (justStored = undefined), JUST_STORED_HELD_MS);
    release.unref();
    justStored = { ref, records, release };
  }
  function takeJustStored(ref: BlobRef): EmployeeRecords | undefined {
    const held = justStored;
    if (!held) return undefined;
    clearTimeout(held.release);
    justStored = undefined;
    return held.ref.key === ref.key && held.ref.sha256 === ref.sha256 ? held.records : undefined;
  }

  /** The employee records of a HiBob snapshot, as snapshotHibob stored them. */
  async function snapshotRecords(ref: BlobRef): Promise<EmployeeRecords> {
    const held = takeJustStored(ref);
    if (held) return held;
    const stored = await blobs.getBytes(ref);
    // HiBob's answer as received; snapshots stored before were the records' array, or `{ records }`.
    const head = stored.subarray(0, 64).toString('utf8').trimStart();
    if (!head.startsWith('[') && !/^\{\s*"records"/.test(head)) return EmployeeRecords.fromAnswer(stored);
    const legacy = JSON.parse(stored.toString('utf8')) as
      Record<string, unknown>[] | { records: Record<string, unknown>[] };
    return EmployeeRecords.of(Array.isArray(legacy) ? legacy : legacy.records);
  }

  /**
   * A learner that matched no HiBob person when the run planned has no employee workflow to go
   * through: it is deactivated here, once it is seen to be still unlinked and active (a webhook
   * may have linked it since).
   */
  async function deactivateUnmatchedLearner(connection: string, learnerId: string): Promise<SyncOutcome> {
    const at = new Date().toISOString();
    const trigger = 'full sync: matches no HiBob person';
    const left = (detail: string): SyncOutcome => ({ at, trigger, result: 'unchanged', detail, operations: [] });
    try {
      const now = await lms.learnerLink(connection, learnerId);
      if (!now) return left(`learner ${learnerId} no longer exists`);
      if (now.linkedTo)
        return left(`learner ${learnerId} is now linked to HiBob employee ${now.linkedTo}; left to its sync`);
      if (now.status === 'deleted') return left(`learner ${learnerId} is already deactivated`);
      const applied = await lms.applyOperation(connection, unmatchedLearnerKey(learnerId), learnerId, {
        op: 'deactivate',
        reason: 'matches no HiBob person; safety.unmatchedLearners is deactivate',
      });
      return { at, trigger, result: 'applied', detail: applied.note ?? 'deactivated', operations: ['deactivate'] };
    } catch (err) {
      // A throttled or unreachable LMS is retried by the activity; a refusal is this learner's outcome.
      if (err instanceof ApiError && err.retryable) throw err;
      return { at, trigger, result: 'failed', detail: (err as Error).message, operations: [] };
    }
  }

  /** The report of a run from its plan and batch outcomes, with the summary the workflow keeps. */
  async function composeReport(
    connection: string,
    plan: PlannedSync,
    results: BatchResult[],
    meta: ReportMeta,
    safeguard?: SafeguardState,
    approval?: ApprovalState,
  ): Promise<{ report: SyncReport; result: Omit<FullSyncResult, 'reportRef'> }> {
    const stored = await blobs.getJson<StoredPlan>(plan.planRef);
    const outcomes: Record<string, SyncOutcome> = {};
    for (const result of results) {
      for (const [id, outcome] of Object.entries(await blobs.getJson<Record<string, SyncOutcome>>(result.ref))) {
        outcomes[id] = mergeOutcomes(outcomes[id], outcome);
      }
    }
    const changed = approval?.changedRef ? await blobs.getJson<ChangedSinceApproval>(approval.changedRef) : {};
    // A whole plan nobody approved: nothing in it was applied, and each row says why.
    const planRefused =
      approval?.scope === 'plan' && !meta.dryRun && approval.decision !== 'approved'
        ? `not applied: ${approval.decision === 'rejected' ? `the plan was rejected${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}` : 'nobody approved the plan in time'}`
        : undefined;
    const heldDetail =
      safeguard?.decision === 'notAsked'
        ? 'held: safeguard, approval mode never'
        : `held: ${safeguard?.decision ?? 'not approved'}`;
    const rows: ReportRow[] = stored.rows.map((planned) => {
      const { held } = planned;
      const row = withoutBookkeeping(planned);
      const done = outcomes[row.employeeId];
      const changedWhy = changed[row.employeeId];
      let outcome: RowOutcome;
      if (meta.dryRun) outcome = row.action === 'park' ? 'parked' : 'planned';
      else if (row.action === 'park') outcome = 'parked';
      else if (row.action === 'protected') outcome = 'skipped';
      else if (changedWhy && !done) outcome = 'changedSinceApproval';
      else if (done) outcome = rowOutcome(done);
      else outcome = held ? 'held' : 'skipped';
      const detail =
        done?.detail ??
        (outcome === 'changedSinceApproval'
          ? `changed since approval: ${changedWhy}; left for the next run`
          : undefined) ??
        (outcome === 'held' || outcome === 'skipped' ? planRefused : undefined) ??
        (held && outcome === 'held' ? heldDetail : undefined);
      return {
        ...row,
        ...(done?.learnerId ? { learnerId: done.learnerId } : {}),
        // What was done, when the employee was synced: its workflow re-plans on a full read, which may
        // find more than the plan made from the paged lists (a custom value, a role to remove).
        ...(done && !meta.dryRun ? { operations: done.operations } : {}),
        action: held && outcome === 'held' ? 'held' : row.action,
        outcome,
        detail,
      };
    });
    const rowOf = new Map(rows.map((r) => [r.employeeId, r]));
    const notInHibob = stored.unmatched?.map((learner): NotInHibobEntry => {
      const { protected: isProtectedLearner, ...entry } = learner;
      const row = rowOf.get(unmatchedLearnerKey(learner.learnerId));
      const handling = isProtectedLearner
        ? 'protected: kept'
        : !row
          ? 'kept (safety.unmatchedLearners is report)'
          : row.outcome === 'applied'
            ? 'deactivated'
            : `${OUTCOME_WORD[row.outcome]}${row.detail ? `: ${row.detail}` : ''}`;
      return { ...entry, handling };
    });
    const byOutcome: Partial<Record<RowOutcome, number>> = { unchanged: Object.keys(stored.unchanged).length };
    for (const row of rows) byOutcome[row.outcome] = (byOutcome[row.outcome] ?? 0) + 1;
    const report: SyncReport = {
      connection,
      destination: registry.connection(connection).destination.type,
      workflowId: meta.workflowId,
      runId: meta.runId,
      dryRun: meta.dryRun,
      startedAt: meta.startedAt,
      finishedAt: meta.finishedAt,
      durationMs: Date.parse(meta.finishedAt) - Date.parse(meta.startedAt),
      totals: { hibobEmployees: plan.hibobEmployees, lmsLearners: plan.lmsLearners },
      counts: { byAction: plan.byAction, byOutcome },
      apiCalls: {
        hibob: plan.apiCalls.hibob + rows.filter((r) => outcomes[r.employeeId]).length,
        lmsReads: plan.apiCalls.lmsReads,
        lmsWrites: results.reduce((n, r) => n + r.writes, 0),
      },
      safeguard: safeguard?.tripped ? safeguard : undefined,
      approval: approval ? outcomeOfApproval(approval) : undefined,
      ...(notInHibob ? { notInHibob } : {}),
      rows,
      errors: rows
        .filter((r) => r.outcome === 'failed' || r.outcome === 'parked')
        .map((r) => ({ employeeId: r.employeeId, code: r.outcome, reason: r.detail ?? r.reason })),
    };
    const result = {
      connection,
      dryRun: meta.dryRun,
      previewRefs: meta.previewRefs,
      byAction: plan.byAction,
      outcomes: byOutcome,
      safeguard,
      ...(approval ? { approval: outcomeOfApproval(approval) } : {}),
      durationMs: report.durationMs,
    };
    return { report, result };
  }

  async function writeReport(runKey: string, report: SyncReport): Promise<BlobRef> {
    const ref = await blobs.putJson(`${runKey}/report.json`, report);
    await blobs.putBytes(`${runKey}/report.csv`, Buffer.from(reportCsv(report)));
    await blobs.putBytes(`${runKey}/report.xlsx`, await reportXlsx(report));
    return ref;
  }

  /**
   * Employees applied or found in step keep their new fingerprint; any other changed employee
   * (failed, held, changed since approval…) is read again next run. A whole plan nobody approved
   * changed nothing: the state stays as it was, so a firstRun connection asks again next run.
   */
  /** The next run's fingerprints of the employees this run applied (see settledFingerprints). */
  async function settledAfterRun(
    connection: string,
    stored: StoredPlan,
    reported: ReadonlyMap<string, ReportRow>,
  ): Promise<Record<string, string>> {
    if (!stored.sources) return {};
    const applied = new Map<string, { learnerId: string; operations: Operation['op'][] }>();
    for (const row of stored.rows) {
      const done = reported.get(row.employeeId);
      if (done?.outcome === 'applied' && done.learnerId)
        applied.set(row.employeeId, { learnerId: done.learnerId, operations: row.operations });
    }
    if (applied.size === 0) return {};
    const { mapping } = registry.connection(connection);
    const now = new Date();
    const settled: SettledEmployee[] = [];
    const records = await snapshotRecords(stored.sources.hibob);
    // Only the applied employees' records are read where the rows say where they are.
    const positions = stored.rowPositions
      ? stored.rows.flatMap((row) => (applied.has(row.employeeId) && row.position !== undefined ? [row.position] : []))
      : records.keys();
    const options = await readingOptions(registry, connection, records);
    for (const i of positions) {
      const employee = normaliseEmployee(records.at(i), options);
      const done = applied.get(employee.id);
      if (done) settled.push({ employeeId: employee.id, desired: desiredLearner(employee, mapping, now), ...done });
    }
    const index = new SnapshotIndex(await blobs.getJson<LmsSnapshot>(stored.sources.lms));
    return settledFingerprints(settled, index, mapping, destinationTraits(registry, connection));
  }

  async function writeState(connection: string, planRef: BlobRef, report: SyncReport): Promise<void> {
    if (report.approval?.scope === 'plan' && report.approval.decision !== 'approved') return;
    const stored = await blobs.getJson<StoredPlan>(planRef);
    const state = await loadState(connection);
    const reported = new Map(report.rows.map((r) => [r.employeeId, r]));
    const fingerprints = { ...state.fingerprints, ...stored.unchanged };
    for (const row of stored.rows) {
      const outcome = reported.get(row.employeeId)?.outcome;
      if (outcome === 'applied' || outcome === 'unchanged') fingerprints[row.employeeId] = row.fingerprint;
      else delete fingerprints[row.employeeId];
    }
    // Employees written to get the fingerprint the next run will compute, so it reads none of them in full.
    Object.assign(fingerprints, await settledAfterRun(connection, stored, reported));
    await blobs.putJson(stateKey(connection), {
      hibobEmployees: report.totals.hibobEmployees,
      finishedAt: report.finishedAt,
      fingerprints,
    } satisfies ConnectionState);
  }

  async function mailReport(connection: string, runKey: string, report: SyncReport): Promise<ReportMailing> {
    const { notifications } = registry.connection(connection);
    if (!env.BOBSYNC_SMTP_URL || notifications.to.length === 0) return { status: 'notConfigured' };
    const marker = mailedKey(runKey);
    try {
      const mailed = await blobs.getJson<MailedMarker>(marker);
      return { status: 'alreadySent', messageId: mailed.messageId };
    } catch (err) {
      // Only a missing marker means "not sent yet": when the store cannot tell, sending could repeat the mail.
      if (!(err instanceof BlobNotFoundError)) throw err;
    }
    const messageId = reportMessageId(report.workflowId, report.runId);
    const mailer = createMailer(env.BOBSYNC_SMTP_URL);
    try {
      await mailer.send({
        ...renderReportEmail(report),
        messageId,
        from: notifications.from,
        to: notifications.to,
        attachments: await reportAttachments(report),
      });
    } finally {
      mailer.close();
    }
    await blobs.putJson(marker, {
      messageId,
      sentAt: new Date().toISOString(),
      to: notifications.to,
    } satisfies MailedMarker);
    return { status: 'sent', messageId };
  }

  return {
    /** One search for everyone (HiBob has no pagination), every field the mapping needs, inactive people included. */
    snapshotHibob: async (connection: string, runKey: string): Promise<{ ref: BlobRef; count: number }> => {
      const readAt = new Date().toISOString();
      const population = await readPopulation(connection);
      await blobs.putJson(hibobReadKey(runKey), { readAt });
      // Report rows that name nobody usable are parked by the plan, never taken for leavers.
      if (population.problems.length || population.heldEmployeeIds.length) {
        await blobs.putJson(problemsKey(runKey), {
          problems: population.problems,
          heldEmployeeIds: population.heldEmployeeIds,
        } satisfies PopulationProblems);
      }
      const answer = population.records.toAnswer();
      const ref = await blobs.putBytes(`${runKey}/hibob.json`, answer);
      // Planned from text either way, as from the blob, so that the steady memo knows each record.
      holdJustStored(ref, population.records.keepsText ? population.records : EmployeeRecords.fromAnswer(answer));
      return { ref, count: population.records.length };
    },

    /** Every learner the connection can see, from the LMS's paged lists (nothing per user for 360Learning's snapshot). */
    snapshotLms: async (connection: string, runKey: string): Promise<{ ref: BlobRef; count: number }> => {
      const pages = checkpointedPages({ blobs, keyPrefix: `${runKey}/lms`, resumeFrom: lastHeartbeat(), heartbeat });
      const snapshot = await lms.snapshot(connection, pages);
      return { ref: await blobs.putJson(`${runKey}/lms.json`, snapshot), count: snapshot.users.length };
    },

    planFullSync: async (
      connection: string,
      runKey: string,
      hibobRef: BlobRef,
      lmsRef: BlobRef,
      dryRun: boolean,
    ): Promise<PlannedSync> => {
      const config = registry.connection(connection);
      const { mapping, safety, fullSync } = config;
      const readsBefore = lms.reads(connection);
      const records = await snapshotRecords(hibobRef);
      const index = new SnapshotIndex(await blobs.getJson<LmsSnapshot>(lmsRef));
      const saved = await loadSavedState(connection);
      const { problems, heldEmployeeIds } = await loadPopulationProblems(runKey);
      const lastSteady = await getJsonIfStored<StoredSteadyMemo>(blobs, steadyMemoBlobKey(connection));
      const plan = await planFullRun(
        {
          records,
          normalise: await readingOptions(registry, connection, records),
          mapping,
          destination: destinationTraits(registry, connection),
          index,
          safety,
          previous: saved ?? { fingerprints: {} },
          problems,
          heldEmployeeIds,
          now: new Date(),
          timerHorizonDays: fullSync.timerHorizonDays,
          approvalMode: approvalMode(config),
          firstRun: saved === undefined,
          unmatchedLearners: safety.unmatchedLearners,
          progress: (i) => {
            if (i % 200 === 0) heartbeat({ planned: i });
          },
          steady: { last: lastSteady },
        },
        // Custom values and managers are not in the snapshot: the learner is read in full.
        (employeeId, record, learnerId) => lms.lookupLearner(connection, employeeId, record, learnerId),
      );
      // What it read is all in the memo, so a dry run's or an unapproved run's is as good as any.
      // A memo that recalled every entry and added none is stored already.
      if (plan.steady && !plan.steadyAsBefore) await blobs.putJson(steadyMemoBlobKey(connection), plan.steady);
      const readAt = await hibobReadAt(runKey);
      const batchesOf = async (ids: string[], prefix: string) => {
        const refs: BlobRef[] = [];
        if (dryRun) return refs;
        for (let i = 0; i < ids.length; i += fullSync.batchSize) {
          const key = `${runKey}/${prefix}-${refs.length}.json`;
          const batch = ids.slice(i, i + fullSync.batchSize);
          if (readAt) {
            const employees: BatchSources['employees'] = {};
            for (const id of batch) {
              const source = plan.sources.get(id);
              if (source) employees[id] = source;
            }
            await blobs.putJson(batchSourcesKey(key), { readAt, employees } satisfies BatchSources);
          }
          refs.push(await blobs.putJson(key, batch));
        }
        return refs;
      };
      const stored: StoredPlan = {
        rows: plan.rows,
        unchanged: plan.unchanged,
        unmatched: plan.unmatched,
        sources: { hibob: hibobRef, lms: lmsRef },
        rowPositions: true,
      };
      return {
        runKey,
        timers:
          dryRun || plan.pendingTimers.length === 0
            ? undefined
            : {
                ref: await blobs.putJson(`${runKey}/timers.json`, plan.pendingTimers),
                count: plan.pendingTimers.length,
              },
        planRef: await blobs.putJson(`${runKey}/plan.json`, stored),
        hibobEmployees: records.length,
        lmsLearners: index.snapshot.users.length,
        byAction: plan.byAction,
        batches: await batchesOf(plan.applyNow, 'batch'),
        heldBatches: await batchesOf(plan.held, 'held'),
        toApply: plan.toApply,
        heldCount: plan.held.length,
        safeguard: plan.safeguard,
        approval: plan.approval,
        settings: {
          parallelism: fullSync.parallelism,
          concurrencyPerBatch: fullSync.concurrencyPerBatch,
          approvalTimeoutMs: safety.approvalTimeoutHours * 3_600_000,
        },
        apiCalls: { hibob: 1, lmsReads: lms.reads(connection) - readsBefore },
      };
    },

    /**
     * CSV and XLSX of the plan; mailed for approval when the run waits for one: of the whole
     * plan, or of the deactivations a safeguard holds. Without `approval` (runs begun before
     * approval modes) a tripped safeguard alone asks.
     */
    writePreview: async (
      connection: string,
      runKey: string,
      planRef: BlobRef,
      meta: RunMeta,
      safeguard: SafeguardState,
      approval?: PlanApproval,
    ): Promise<{ csv: BlobRef; xlsx: BlobRef }> => {
      const plan = await blobs.getJson<StoredPlan>(planRef);
      const rows: PlanRow[] = plan.rows.map((stored) => {
        const row = withoutBookkeeping(stored);
        return stored.held ? { ...row, action: 'held' } : row;
      });
      const previewMeta = {
        connection,
        generatedAt: new Date().toISOString(),
        dryRun: meta.dryRun,
        safeguard,
        approval,
      };
      const refs = {
        csv: await blobs.putBytes(`${runKey}/preview.csv`, Buffer.from(planPreviewCsv(rows))),
        xlsx: await blobs.putBytes(`${runKey}/preview.xlsx`, await planPreviewXlsx(rows, previewMeta)),
      };
      const { notifications, safety } = registry.connection(connection);
      const waits = approval ? approval.scope !== 'none' : safeguard.tripped;
      if (waits && !meta.dryRun && env.BOBSYNC_SMTP_URL && notifications.to.length) {
        const expiresAt = new Date(Date.now() + safety.approvalTimeoutHours * 3_600_000).toISOString();
        const mail = renderPreviewEmail(rows, { ...previewMeta, workflowId: meta.workflowId, expiresAt });
        const mailer = createMailer(env.BOBSYNC_SMTP_URL);
        try {
          await mailer.send({
            ...mail,
            from: notifications.from,
            to: notifications.to,
            attachments: await previewAttachments(rows, previewMeta),
          });
        } finally {
          mailer.close();
        }
      }
      return refs;
    },

    loadBatch: async (ref: BlobRef): Promise<string[]> => {
      return blobs.getJson<string[]>(ref);
    },

    /**
     * Provisions one employee through its own workflow (started if none runs), waiting for the
     * outcome. `bulkAllowed`: the batch gives group roles in bulk (batches begun before that give
     * them one call each). `batch`: the batch's list, beside which planning left the records and
     * hints it sends along.
     */
    syncEmployeeNow: async (
      connection: string,
      employeeId: string,
      taskQueue: string,
      bulkAllowed = false,
      batch?: BlobRef,
    ): Promise<SyncOutcome> => {
      const unmatched = learnerOfUnmatchedKey(employeeId);
      if (unmatched) return deactivateUnmatchedLearner(connection, unmatched);
      const input: EmployeeSyncInput = { connection, employeeId, taskQueue };
      // Heartbeats while waiting, so a worker that dies here has the wait retried in seconds, not at the timeout.
      const beat = setInterval(() => heartbeat({ employeeId }), 5_000);
      try {
        return await getClient().workflow.executeUpdateWithStart(syncNowUpdate, {
          args: [
            {
              reason: 'full sync',
              adoptLeavers: true,
              groupRolesInBulk: bulkAllowed && groupRolesInBulk(connection),
              ...(await plannedFrom(connection, employeeId, batch)),
            },
          ],
          startWorkflowOperation: new WithStartWorkflowOperation(employeeSync, {
            workflowId: employeeWorkflowId(connection, employeeId),
            taskQueue,
            args: [input],
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        });
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Makes each employee's workflow hold a timer for its effective date: signal-with-start, so a
     * running workflow keeps its one timer (the earliest instant wins) and a missing one is
     * started to wait. Workflows that visibility shows already holding that timer, or an earlier
     * one, are left alone (see armed-timers.ts); when visibility cannot say, every one is
     * signalled. Resumes after the last employee a retried attempt had reached. Returns how many
     * were signalled, by this attempt and the earlier ones.
     */
    armEmployeeTimers: async (connection: string, ref: BlobRef, taskQueue: string): Promise<number> => {
      const timers = await blobs.getJson<PendingTimer[]>(ref);
      const client = getClient();
      const progress = armingProgressOf(lastHeartbeat());
      if (progress.done >= timers.length) return progress.armed;
      const held = await heldTimersOrNone(client, connection, progress);
      const arm = async (timer: PendingTimer): Promise<boolean> => {
        if (!needsArming(held, connection, timer)) return false;
        const input: EmployeeSyncInput = { connection, employeeId: timer.employeeId, taskQueue };
        await client.workflow.signalWithStart(employeeSync, {
          workflowId: employeeWorkflowId(connection, timer.employeeId),
          taskQueue,
          args: [input],
          signal: scheduleRecheckSignal,
          signalArgs: [{ at: timer.at, reason: timer.reason }],
        });
        return true;
      };
      // A few signals in flight, started in plan order and counted done in plan order, so the
      // heartbeat still names the first employee not yet known to be armed. A retry may signal
      // again those that were in flight: the workflow keeps the timer it holds.
      const inFlight: Promise<boolean>[] = [];
      let next = progress.done;
      while (progress.done < timers.length) {
        for (; next < timers.length && next - progress.done < TIMERS_ARMED_AT_ONCE; next++) {
          const arming = arm(timers[next]!);
          arming.catch(() => undefined); // awaited in turn below
          inFlight.push(arming);
        }
        if (await inFlight.shift()!) progress.armed += 1;
        progress.done += 1;
        heartbeat(armingHeartbeat(progress));
      }
      activityLog(
        'info',
        `effective-date timers of ${connection}: ${progress.armed} armed, ${timers.length - progress.armed} already held`,
        {
          connection,
          timers: timers.length,
          armed: progress.armed,
          visibility: held ? 'listed' : 'not used',
        },
      );
      return progress.armed;
    },

    storeBatchOutcomes: async (
      runKey: string,
      index: number,
      data: Record<string, SyncOutcome> | string[],
      kind: 'outcomes' | 'deferred' = 'outcomes',
    ): Promise<BlobRef> => {
      return blobs.putJson(`${runKey}/${kind}-${index}.json`, data);
    },

    /**
     * Binds an approved plan to what the approver saw. `hibobRef` is a HiBob snapshot taken
     * after the approval by snapshotHibob, read exactly as the plan's was; each employee of the
     * plan's batches is compared with it by the digest of the normalised HiBob employee. Those
     * HiBob changed since the preview (or no longer returns) are taken out, listed under
     * `${runKey}/changed-since-approval.json` and left for the next run; the others are batched
     * again, in plan order, to be applied as previewed. Same keys on a retry.
     */
    confirmApprovedPlan: async (
      connection: string,
      runKey: string,
      plan: PlannedSync,
      hibobRef: BlobRef,
    ): Promise<ConfirmedPlan> => {
      const { mapping, fullSync } = registry.connection(connection);
      const stored = await blobs.getJson<StoredPlan>(plan.planRef);
      const planned = new Map(stored.rows.map((row) => [row.employeeId, row.sourceDigest]));
      const now = new Map<string, string>();
      const records = await snapshotRecords(hibobRef);
      const options = await readingOptions(registry, connection, records);
      for (let i = 0; i < records.length; i++) {
        if (i % 200 === 0) heartbeat({ confirmed: i });
        let employee: NormalisedEmployee;
        try {
          employee = normaliseEmployee(records.at(i), options);
        } catch {
          continue; // a record without an id names nobody the plan could hold
        }
        now.set(employee.id, sourceDigestOf(employee, mapping));
      }
      const approved = (
        await Promise.all([...plan.batches, ...plan.heldBatches].map((ref) => blobs.getJson<string[]>(ref)))
      ).flat();
      const changed: ChangedSinceApproval = {};
      const kept: string[] = [];
      for (const id of approved) {
        const then = planned.get(id);
        const current = now.get(id) ?? GONE_DIGEST;
        if (then !== undefined && then === current) kept.push(id);
        else if (then === undefined) changed[id] = 'the plan holds no HiBob digest to compare with';
        else if (current === GONE_DIGEST) changed[id] = 'HiBob no longer returns this employee';
        else if (then === GONE_DIGEST) changed[id] = 'HiBob returns this employee again';
        else changed[id] = 'the HiBob record changed after the preview';
      }
      const batches: BlobRef[] = [];
      for (let i = 0; i < kept.length; i += fullSync.batchSize)
        batches.push(
          await blobs.putJson(`${runKey}/approved-${batches.length}.json`, kept.slice(i, i + fullSync.batchSize)),
        );
      const changedRef = await blobs.putJson(`${runKey}/changed-since-approval.json`, changed);
      return { batches, toApply: kept.length, changed: Object.keys(changed).length, changedRef };
    },

    /** Gathers the employees several batches deferred into new batches. */
    rebatch: async (runKey: string, connection: string, refs: BlobRef[], round: number): Promise<BlobRef[]> => {
      const ids = (await Promise.all(refs.map((r) => blobs.getJson<string[]>(r)))).flat();
      const size = registry.connection(connection).fullSync.batchSize;
      const out: BlobRef[] = [];
      for (let i = 0; i < ids.length; i += size)
        out.push(await blobs.putJson(`${runKey}/round-${round}-${out.length}.json`, ids.slice(i, i + size)));
      return out;
    },

    /**
     * The report in one step: merges, stores, saves state and mails. Runs that were already
     * under way when the ending was split into buildReport, saveSyncState and sendReportEmail
     * still end here.
     */
    finishFullSync: async (
      connection: string,
      runKey: string,
      plan: PlannedSync,
      results: BatchResult[],
      meta: RunMeta,
      safeguard?: SafeguardState,
    ): Promise<FullSyncResult> => {
      const { report, result } = await composeReport(
        connection,
        plan,
        results,
        { ...meta, finishedAt: new Date().toISOString() },
        safeguard,
      );
      const reportRef = await writeReport(runKey, report);
      if (!meta.dryRun) await writeState(connection, plan.planRef, report);
      await mailReport(connection, runKey, report);
      return { ...result, reportRef };
    },

    /**
     * Merges plan and outcomes into the report and stores it as JSON, CSV and XLSX. Dated by
     * `meta.finishedAt`, so a retry writes the same blobs under the same keys. `approval`: what
     * the run waited for and the decision (runs begun before approval modes pass none).
     */
    buildReport: async (
      connection: string,
      runKey: string,
      plan: PlannedSync,
      results: BatchResult[],
      meta: ReportMeta,
      safeguard?: SafeguardState,
      approval?: ApprovalState,
    ): Promise<FullSyncResult> => {
      const { report, result } = await composeReport(connection, plan, results, meta, safeguard, approval);
      return { ...result, reportRef: await writeReport(runKey, report) };
    },

    /**
     * Remembers what the run saw: the people count and the fingerprint of every employee now
     * in step. Written from the plan and the stored report, so a retry writes the same state.
     */
    saveSyncState: async (connection: string, planRef: BlobRef, reportRef: BlobRef): Promise<void> => {
      const report = await blobs.getJson<SyncReport>(reportRef);
      if (report.dryRun) return;
      await writeState(connection, planRef, report);
    },

    /**
     * Mails the stored report to the connection's recipients, once per run: a marker written
     * after the send makes a retry skip it, and the Message-ID derived from the run lets the
     * receiving side drop the copy a retry sends when the marker could not be written.
     */
    sendReportEmail: async (connection: string, runKey: string, reportRef: BlobRef): Promise<ReportMailing> => {
      return mailReport(connection, runKey, await blobs.getJson<SyncReport>(reportRef));
    },
  };
}
export type FullSyncActivities = ReturnType<typeof fullSyncActivities>;
