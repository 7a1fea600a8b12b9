/**
 * `bobsync sync`: starts a full sync, optionally follows it with a live progress line, and saves
 * its report and plan preview from the blob store as files an operator can open.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { blobStoreFromEnv, type BlobStore } from '../blobstore';
import type { fullSync } from '../workflows/full-sync';
import {
  progressQuery,
  type FullSyncInput,
  type FullSyncProgress,
  type FullSyncResult,
} from '../workflows/full-sync-api';
import { fullSyncWorkflowId } from '../workflows/ids';
import {
  formatCounts,
  formatDuration,
  println,
  resolveConnection,
  withClient,
  workflowUiUrl,
  type CommandIo,
  type Output,
} from './io';

export interface SyncOptions {
  connection?: string;
  /** Plan and preview only. Waits for the result, since the preview files are the point. */
  dryRun?: boolean;
  /** Draw progress until the result. */
  follow?: boolean;
  /** Wait for the result without drawing progress. */
  wait?: boolean;
  /** Folder for the report and preview files (default ./bobsync-reports/<connection>/<start time>). */
  outDir?: string;
  pollMs?: number;
}

export interface SyncRun {
  workflowId: string;
  runId: string;
  /** Absent when the command did not wait. */
  result?: FullSyncResult;
  /** File name → absolute path of what was saved. */
  files?: Record<string, string>;
  /** The run stopped to ask for an approval while this command watched it. */
  askedForApproval?: boolean;
}

type FullSyncHandle = WorkflowHandle<typeof fullSync>;

export async function runSync(io: CommandIo, opts: SyncOptions = {}): Promise<SyncRun> {
  const connection = resolveConnection(io, opts.connection).name;
  const taskQueue = io.ctx.config.temporal.taskQueue;
  const dryRun = opts.dryRun ?? false;
  const startedAt = new Date();
  const workflowId = fullSyncWorkflowId(connection, startedAt.toISOString().replace(/[:.]/g, '-'));
  const out = io.out;

  return withClient(io, async (client) => {
    if (!dryRun) {
      const running = await runningFullSync(client, connection, taskQueue);
      if (running)
        throw new Error(
          `a full sync of ${connection} is already running: ${running}. Wait for it (or follow it in the Temporal UI) before starting another.`,
        );
    }
    const input: FullSyncInput = { connection, taskQueue, dryRun, trigger: 'cli' };
    const handle = await client.workflow.start<typeof fullSync>('fullSync', { taskQueue, workflowId, args: [input] });
    println(out, `Started ${dryRun ? 'a dry run of the full sync' : 'a full sync'} of ${connection}: ${workflowId}`);
    println(out, `  Temporal UI  ${workflowUiUrl(io, workflowId)}`);
    const run: SyncRun = { workflowId, runId: handle.firstExecutionRunId };
    if (!opts.follow && !opts.wait && !dryRun) {
      println(out, '  Add --follow to watch its progress here, or --wait to wait for its report.');
      return run;
    }

    const watched = await watch(handle, out, opts.follow ?? false, opts.pollMs ?? 500);
    run.askedForApproval = watched.askedForApproval;
    run.result = watched.result;
    printSummary(out, watched.result);
    const dir = resolve(
      opts.outDir ?? join('bobsync-reports', connection, startedAt.toISOString().slice(0, 19).replace(/:/g, '-') + 'Z'),
    );
    run.files = await saveRunFiles(blobStoreFromEnv(io.env), watched.result, dir);
    printFiles(out, watched.result, run.files);
    return run;
  });
}

/** The id of a full sync of this connection running on this deployment's task queue (scheduled, by hand, or a dry run). */
async function runningFullSync(client: Client, connection: string, taskQueue: string): Promise<string | undefined> {
  const prefix = fullSyncWorkflowId(connection, '');
  const query = `WorkflowType = 'fullSync' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  for await (const w of client.workflow.list({ query })) {
    if (w.workflowId.startsWith(prefix)) return w.workflowId;
  }
  return undefined;
}

async function watch(
  handle: FullSyncHandle,
  out: Output,
  follow: boolean,
  pollMs: number,
): Promise<{ result: FullSyncResult; askedForApproval: boolean }> {
  let settled: { ok: true; result: FullSyncResult } | { ok: false; error: unknown } | undefined;
  const finished = handle.result().then(
    (result) => (settled = { ok: true, result }),
    (error: unknown) => (settled = { ok: false, error }),
  );
  const line = new ProgressLine(out);
  let askedForApproval = false;
  while (!settled) {
    const progress = await Promise.race([
      handle.query(progressQuery).catch(() => undefined),
      finished.then(() => undefined),
    ]);
    if (progress && !settled) {
      if (follow) line.show(renderProgress(progress, out.isTTY ? out.columns || 100 : Infinity), progress.phase);
      if (progress.phase === 'awaitingApproval' && !askedForApproval) {
        askedForApproval = true;
        line.break();
        printApprovalPrompt(out, handle.workflowId, progress);
      }
    }
    await Promise.race([new Promise((r) => setTimeout(r, pollMs)), finished]);
  }
  line.break();
  if (!settled.ok) {
    const err = settled.error;
    // The activity or child failure inside says more than "workflow execution failed".
    const failure = err instanceof WorkflowFailedError ? err.cause : undefined;
    const inner = failure?.cause instanceof Error ? failure.cause : (failure ?? (err as Error));
    throw new Error(`full sync ${handle.workflowId} failed: ${inner.message}`);
  }
  return { result: settled.result, askedForApproval };
}

/** On a terminal, one line redrawn in place; elsewhere a new line only when something changed. */
class ProgressLine {
  private last = '';
  private lastPhase = '';
  private lastPrintedAt = 0;
  private open = false;
  constructor(
    private readonly out: Output,
    /** Without a terminal, counts within one phase are printed at most this often, so logs stay short. */
    private readonly plainIntervalMs = 2_000,
  ) {}

  show(text: string, phase: string): void {
    if (text === this.last) return;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${text}`);
      this.open = true;
    } else {
      if (phase === this.lastPhase && Date.now() - this.lastPrintedAt < this.plainIntervalMs) return;
      println(this.out, text);
      this.lastPrintedAt = Date.now();
    }
    this.last = text;
    this.lastPhase = phase;
  }

  /** Ends the redrawn line so what follows starts on a line of its own. */
  break(): void {
    if (!this.open) return;
    this.out.write('\n');
    this.open = false;
    this.last = '';
  }
}

const PHASES: Record<FullSyncProgress['phase'], string> = {
  snapshot: 'reading HiBob and the LMS',
  plan: 'planning',
  apply: 'applying',
  awaitingApproval: 'waiting for approval',
  report: 'writing the report',
  done: 'done',
};

export function renderProgress(p: FullSyncProgress, width = Infinity): string {
  const parts = [PHASES[p.phase]];
  if (p.phase === 'snapshot' || p.phase === 'plan') {
    if (p.hibobEmployees !== undefined) parts.push(`HiBob ${p.hibobEmployees}`);
    if (p.lmsLearners !== undefined) parts.push(`LMS ${p.lmsLearners}`);
  }
  if (Object.keys(p.planned).length) parts.push(`planned ${formatCounts(p.planned)}`);
  if (p.toApply > 0) {
    // A second pass for employees whose manager came later counts them again: cap at the total.
    const applied = Math.min(p.applied, p.toApply);
    parts.push(`${bar(applied, p.toApply)} ${applied}/${p.toApply}`);
  }
  if (p.batchesTotal > 0) parts.push(`batches ${p.batchesDone}/${p.batchesTotal}`);
  const failed = p.outcomes.failed ?? 0;
  if (failed > 0) parts.push(`${failed} failed`);
  const text = parts.join('  ');
  return text.length > width - 1 ? `${text.slice(0, Math.max(0, width - 2))}…` : text;
}

function bar(done: number, total: number, size = 20): string {
  const filled = Math.min(size, Math.round((done / total) * size));
  return `[${'#'.repeat(filled)}${'.'.repeat(size - filled)}]`;
}

function printApprovalPrompt(out: Output, workflowId: string, p: FullSyncProgress): void {
  if (p.approval?.scope === 'plan') {
    println(out, `The full sync is waiting for approval of its whole plan: ${p.approval.reason}.`);
    println(out, 'Nothing is applied before someone approves; see the preview. Decide with:');
  } else {
    println(out, `The full sync is waiting for approval: ${p.safeguard?.reason ?? 'a safeguard tripped'}.`);
    println(out, 'Held deactivations are applied only once someone approves; everything else is done. Decide with:');
  }
  println(out, `  bobsync approve ${workflowId} --by <your name>`);
  println(out, `  bobsync reject ${workflowId} --by <your name>`);
}

function printSummary(out: Output, result: FullSyncResult): void {
  println(
    out,
    `Full sync of ${result.connection} finished in ${formatDuration(result.durationMs)}${result.dryRun ? ' (dry run: nothing was written)' : ''}`,
  );
  println(out, `  planned    ${formatCounts(result.byAction)}`);
  println(out, `  outcome    ${formatCounts(result.outcomes)}`);
  const failed = result.outcomes.failed ?? 0;
  if (failed > 0) println(out, `  ${failed} employee(s) failed: see the report for each reason`);
  const guard = result.safeguard;
  if (guard?.tripped) {
    const decided = guard.decision
      ? `${guard.decision}${guard.decidedBy ? ` by ${guard.decidedBy}` : ''}`
      : 'no decision';
    println(out, `  safeguard  ${guard.reason ?? 'tripped'}: ${decided}`);
  }
  const approval = result.approval;
  if (approval?.scope === 'plan') {
    const decided = approval.decision
      ? `${approval.decision}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`
      : 'no decision';
    const changed = approval.changedSinceApproval
      ? `; ${approval.changedSinceApproval} changed since approval, left for the next run`
      : '';
    println(out, `  approval   whole plan (${approval.reason}): ${decided}${changed}`);
  }
}

function printFiles(out: Output, result: FullSyncResult, files: Record<string, string>): void {
  const group = (title: string, names: string[]) => {
    const present = names.filter((n) => files[n]);
    if (!present.length) return;
    println(out, title);
    for (const n of present) println(out, `  ${files[n]}`);
  };
  if (result.dryRun) {
    group('Preview of what a real run would do:', ['preview.csv', 'preview.xlsx']);
    group('Dry-run report:', ['report.csv', 'report.xlsx', 'report.json']);
  } else {
    group('Report:', ['report.csv', 'report.xlsx', 'report.json']);
    group('Plan preview:', ['preview.csv', 'preview.xlsx']);
  }
}

/**
 * Copies the run's report and preview out of the blob store (where they are sealed) into `dir`.
 * The report's CSV and XLSX sit beside its JSON under the run's key.
 */
export async function saveRunFiles(
  blobs: BlobStore,
  result: FullSyncResult,
  dir: string,
): Promise<Record<string, string>> {
  const sibling = (name: string) => result.reportRef.key.replace(/[^/]+$/, name);
  const sources: [string, () => Promise<Buffer>][] = [
    ['report.csv', () => blobs.getBytes(sibling('report.csv'))],
    ['report.xlsx', () => blobs.getBytes(sibling('report.xlsx'))],
    ['report.json', async () => Buffer.from(`${JSON.stringify(await blobs.getJson(result.reportRef), null, 2)}\n`)],
  ];
  if (result.previewRefs) {
    const { csv, xlsx } = result.previewRefs;
    sources.push(['preview.csv', () => blobs.getBytes(csv)], ['preview.xlsx', () => blobs.getBytes(xlsx)]);
  }
  await mkdir(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const [name, read] of sources) {
    let data: Buffer;
    try {
      data = await read();
    } catch (err) {
      throw new Error(
        `cannot read ${name} of the run from the blob store (${(err as Error).message}); run this command where the worker's BOBSYNC_DATA_DIR is reachable`,
      );
    }
    const path = join(dir, name);
    // Reports name people: readable by the operator only.
    await writeFile(path, data, { mode: 0o600 });
    files[name] = path;
  }
  return files;
}
