/**
 * E-mails about a full sync that needs someone: a run that did not finish (it failed, was
 * cancelled or passed its time limit), and a reminder that an approval is still pending. Short
 * and plain: what happened, what it means for the employees, and what to run next.
 */
import type { RenderedEmail } from '../notifications/digest';
import type { ApprovalReminderNotice, FullSyncPhase, RunEnding, RunFailureNotice } from '../workflows/full-sync-api';
import { formatTime, plural } from './format';

/** Where a reader finds the run: the Temporal UI when its address is known, and the Temporal CLI. */
export interface RunLocation {
  namespace: string;
  /** Base address of the Temporal UI (TEMPORAL_UI_URL), when set. */
  uiUrl?: string;
}

const PHASE_WORDS: Record<FullSyncPhase, string> = {
  snapshot: 'reading HiBob and the LMS',
  plan: 'planning',
  awaitingApproval: 'waiting for approval',
  apply: 'applying changes',
  report: 'writing the report',
  done: 'finishing',
};

const ENDING_WORDS: Record<RunEnding, string> = {
  failed: 'failed',
  cancelled: 'was cancelled',
  timedOut: 'was stopped at its time limit',
};

const WHAT_NOW: Record<RunEnding, string> = {
  failed:
    'The run stopped at this error. Changes it already wrote stay; nothing else is written. The next full sync reads HiBob again and picks up what this one left.',
  cancelled:
    'Someone cancelled the run. Changes it already wrote stay; nothing else is written. The next full sync picks up what this one left.',
  timedOut:
    'The run worked longer than fullSync.runTimeoutHours allows (time waiting for approval does not count) and was stopped. Changes it already wrote stay; the next full sync picks up what this one left. If runs of this connection need longer, raise the limit.',
};

/** The run's page in the Temporal UI. */
export function runUiUrl(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  const base = uiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

/** The command that prints the run's history. */
export function showCommand(workflowId: string, namespace: string): string {
  return `temporal workflow show -w ${workflowId}${namespace === 'default' ? '' : ` --namespace ${namespace}`}`;
}

/** Label and value lines that say where to find the run. */
function runLines(run: { workflowId: string; runId: string }, where: RunLocation): [string, string][] {
  return [
    ...(where.uiUrl
      ? [['Temporal UI', runUiUrl(where.uiUrl, where.namespace, run.workflowId, run.runId)] as [string, string]]
      : []),
    ['Workflow', run.workflowId],
    ['Run', run.runId],
    ['History', showCommand(run.workflowId, where.namespace)],
  ];
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const FONT = 'Segoe UI,Helvetica,Arial,sans-serif';
const MONO = 'Consolas,Menlo,monospace';

function html(title: string, paragraphs: string[], commands: [string, string][], facts: [string, string][]): string {
  const p = (text: string) => `<p style="margin:0 0 10px;line-height:20px">${escapeHtml(text)}</p>`;
  const row = ([label, value]: [string, string], mono: boolean) =>
    `<tr><td style="padding:2px 12px 2px 0;color:#555;vertical-align:top">${escapeHtml(label)}</td>` +
    `<td style="padding:2px 0;${mono ? `font-family:${MONO};` : ''}word-break:break-all">${escapeHtml(value)}</td></tr>`;
  const table = (rows: [string, string][], mono: boolean) =>
    rows.length
      ? `<table role="presentation" style="border-collapse:collapse;margin:0 0 12px;font-size:13px">${rows.map((r) => row(r, mono)).join('')}</table>`
      : '';
  return [
    '<!doctype html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>`,
    `<body style="font-family:${FONT};color:#1f2937;font-size:14px">`,
    `<h2 style="margin:0 0 12px;font-size:18px">${escapeHtml(title)}</h2>`,
    ...paragraphs.map(p),
    table(commands, true),
    table(facts, false),
    '</body></html>',
    '',
  ].join('\n');
}

const textLines = (rows: [string, string][]) => {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
};

/** The e-mail about a full sync that failed, was cancelled, or was stopped at fullSync.runTimeoutHours. */
export function renderRunFailureEmail(connection: string, notice: RunFailureNotice, where: RunLocation): RenderedEmail {
  const run = `full sync${notice.dryRun ? ' (dry run)' : ''}`;
  const phase = PHASE_WORDS[notice.phase] ?? notice.phase;
  const subject = `[bobsync] ${connection} ${run} ${ENDING_WORDS[notice.kind]} while ${phase}`;
  const title = `${connection}: the ${run} ${ENDING_WORDS[notice.kind]} while ${phase}`;
  const error = `${notice.kind === 'failed' ? 'Error' : 'Reason'}: ${notice.error}`;
  const facts = [
    ...(notice.startedAt ? [['Started', formatTime(notice.startedAt)] as [string, string]] : []),
    ...runLines(notice, where),
  ];
  const text = [title, '', error, '', WHAT_NOW[notice.kind], '', ...textLines(facts), ''].join('\n');
  return { subject, text, html: html(title, [error, WHAT_NOW[notice.kind]], [], facts) };
}

/** The reminder that a full sync still waits for someone to approve or reject what it holds. */
export function renderApprovalReminderEmail(
  connection: string,
  reminder: ApprovalReminderNotice,
  where: RunLocation,
  now: string,
): RenderedEmail {
  const waitedHours = Math.max(0, Math.round((Date.parse(now) - Date.parse(reminder.since)) / 3_600_000));
  const what =
    reminder.scope === 'plan'
      ? `the whole plan, changes to ${plural(reminder.waiting, 'employee')}`
      : `${plural(reminder.waiting, 'deactivation')} a safeguard holds`;
  const subject = `[bobsync] Reminder: ${connection} full sync still waits for approval of ${what}`;
  const title = `${connection}: a full sync has waited ${plural(waitedHours, 'hour')} for approval`;
  const paragraphs = [
    `Waiting since ${formatTime(reminder.since)}: ${what}. Why: ${reminder.reason}.`,
    reminder.scope === 'plan'
      ? 'Nothing in the plan is applied until someone approves it.'
      : 'Everything else in the plan has been applied; the held deactivations wait for a decision.',
    `The request lapses at ${formatTime(reminder.expiresAt)} if nobody decides; then ${
      reminder.scope === 'plan' ? 'nothing in the plan is applied' : 'the held deactivations are left undone'
    }. The approval request e-mail has the plan attached.`,
  ];
  const commands: [string, string][] = [
    ['Approve', `bobsync approve ${reminder.workflowId}`],
    ['Reject', `bobsync reject ${reminder.workflowId}`],
  ];
  const facts: [string, string][] = [['Reminder', String(reminder.reminder)], ...runLines(reminder, where)];
  const text = [title, '', ...paragraphs, '', ...textLines(commands), '', ...textLines(facts), ''].join('\n');
  return { subject, text, html: html(title, paragraphs, commands, facts) };
}
