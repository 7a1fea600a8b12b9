/**
 * Email bodies for a full-sync report and for a plan waiting on the safeguard. Mail clients strip
 * <style> blocks and block remote content, so the layout is tables with inline styles only: no
 * classes, no images, no links, no scripts. Every HR value goes through `esc`.
 */
import type { RenderedEmail } from '../notifications/digest';
import type { EmployeeAction, FieldChange, PlanRow } from '../domain/types';
import {
  ACTION_LABEL,
  ACTIONS,
  DESTINATION_LABEL,
  OUTCOME_LABEL,
  OUTCOMES,
  approvalSentence,
  describeTally,
  formatDuration,
  formatOperations,
  formatTime,
  formatValue,
  headline,
  isAwaitingApproval,
  outcomeText,
  personName,
  plural,
  PREVIEW_CATEGORIES,
  PREVIEW_CATEGORY_TITLE,
  previewCategoryOf,
  reportStatus,
  reportSubject,
  rowsByImportance,
  safeguardSentence,
  tallyPlan,
  type PreviewMeta,
  type ReportStatus,
} from './format';
import type { NotInHibobEntry, RowOutcome, SyncReport } from './types';

/** What the approval email needs beyond the preview: the workflow to signal, and when it gives up. */
export interface PreviewEmailMeta extends PreviewMeta {
  workflowId: string;
  /** When an unanswered request lapses, if it does. */
  expiresAt?: string;
}

/** Rows listed in an email body; the attachments always carry all of them. */
export const BODY_ROW_LIMIT = 200;

const FONT = "-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "Consolas,Menlo,'Courier New',monospace";
const INK = '#1f2937';
const MUTED = '#6b7280';
const RULE = '#e5e7eb';

interface Tone {
  bg: string;
  fg: string;
  border: string;
}
const TONES = {
  green: { bg: '#ecfdf5', fg: '#065f46', border: '#a7f3d0' },
  blue: { bg: '#eff6ff', fg: '#1e40af', border: '#bfdbfe' },
  amber: { bg: '#fffbeb', fg: '#92400e', border: '#fcd34d' },
  red: { bg: '#fef2f2', fg: '#991b1b', border: '#fca5a5' },
  orange: { bg: '#fff7ed', fg: '#9a3412', border: '#fdba74' },
  purple: { bg: '#f5f3ff', fg: '#5b21b6', border: '#c4b5fd' },
  grey: { bg: '#f3f4f6', fg: '#374151', border: '#d1d5db' },
} satisfies Record<string, Tone>;

const STATUS_TONE: Record<ReportStatus, Tone> = {
  ok: TONES.green,
  failures: TONES.red,
  awaitingApproval: TONES.amber,
  dryRun: TONES.blue,
};

const ACTION_TONE: Record<EmployeeAction, Tone> = {
  create: TONES.green,
  reactivate: TONES.green,
  update: TONES.blue,
  deactivate: TONES.grey,
  held: TONES.amber,
  park: TONES.orange,
  protected: TONES.purple,
  noop: TONES.grey,
};

const OUTCOME_TONE: Record<RowOutcome, Tone> = {
  failed: TONES.red,
  held: TONES.amber,
  changedSinceApproval: TONES.amber,
  parked: TONES.orange,
  applied: TONES.green,
  planned: TONES.blue,
  skipped: TONES.grey,
  unchanged: TONES.grey,
};

export const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Escapes, and keeps the line breaks a value carries. */
const escLines = (s: string): string => esc(s).replace(/\r?\n/g, '<br>');

// ---- building blocks -------------------------------------------------------------------------

const badge = (label: string, tone: Tone): string =>
  `<span style="display:inline-block;padding:1px 6px;border:1px solid ${tone.border};border-radius:3px;background:${tone.bg};color:${tone.fg};font-size:12px;line-height:16px;white-space:nowrap">${esc(label)}</span>`;

const section = (inner: string, style = 'padding:8px 24px'): string => `<tr><td style="${style}">${inner}</td></tr>`;

const heading = (text: string): string =>
  `<h2 style="margin:16px 0 8px;font-size:16px;line-height:22px;color:${INK}">${esc(text)}</h2>`;

function box(inner: string, tone: Tone, size = 14): string {
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse"><tr><td bgcolor="${tone.bg}" style="background:${tone.bg};border:1px solid ${tone.border};border-left:4px solid ${tone.fg};padding:10px 14px;color:${tone.fg};font-size:${size}px;line-height:${Math.round(size * 1.4)}px">${inner}</td></tr></table>`;
}

interface Tile {
  value: number;
  label: string;
  tone: Tone;
}

function tiles(items: Tile[], perRow = 5): string {
  if (items.length === 0) return `<p style="margin:0;color:${MUTED};font-size:13px">None.</p>`;
  const rows: string[] = [];
  for (let i = 0; i < items.length; i += perRow) {
    const cells = items
      .slice(i, i + perRow)
      .map(
        (t) =>
          `<td width="${Math.floor(100 / perRow)}%" valign="top" style="padding:0 8px 8px 0"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse"><tr><td style="border:1px solid ${RULE};border-top:3px solid ${t.tone.fg};padding:8px 10px"><div style="font-size:22px;line-height:28px;font-weight:bold;color:${INK}">${t.value.toLocaleString('en-US')}</div><div style="font-size:12px;line-height:16px;color:${MUTED}">${esc(t.label)}</div></td></tr></table></td>`,
      );
    while (cells.length < perRow)
      cells.push(`<td width="${Math.floor(100 / perRow)}%" style="padding:0 8px 8px 0"></td>`);
    rows.push(`<tr>${cells.join('')}</tr>`);
  }
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">\n${rows.join('\n')}\n</table>`;
}

function changeLines(changes: FieldChange[]): string {
  return changes
    .map((c) => {
      const from =
        c.from === null || c.from === undefined || c.from === ''
          ? `<span style="color:${MUTED};font-style:italic">${esc(formatValue(c.from))}</span>`
          : `<span style="color:#991b1b;text-decoration:line-through">${escLines(c.from)}</span>`;
      const to =
        c.to === null || c.to === ''
          ? `<span style="color:${MUTED};font-style:italic">${esc(formatValue(c.to))}</span>`
          : `<span style="color:#065f46">${escLines(c.to)}</span>`;
      return `<div style="margin:0 0 2px"><span style="font-family:${MONO};font-size:12px;color:${INK}">${esc(c.field)}</span>: ${from} → ${to}</div>`;
    })
    .join('');
}

const TH = `style="padding:6px 8px;border-bottom:2px solid ${RULE};font-size:12px;line-height:16px;color:${MUTED};text-align:left;font-weight:bold"`;
const TD = `style="padding:6px 8px;border-bottom:1px solid ${RULE};font-size:13px;line-height:18px;color:${INK};vertical-align:top;text-align:left"`;

/** Headers with their share of the width, so that every table of a kind lines up the same. */
function table(headers: [label: string, width: number][], body: string[], more: string | undefined): string {
  const head = headers.map(([h, w]) => `<th align="left" width="${w}%" ${TH}>${esc(h)}</th>`).join('');
  const tail = more
    ? `<tr><td colspan="${headers.length}" style="padding:8px;font-size:13px;color:${MUTED};font-style:italic">${esc(more)}</td></tr>`
    : '';
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse"><thead><tr>${head}</tr></thead><tbody>\n${[...body, tail].filter(Boolean).join('\n')}\n</tbody></table>`;
}

const moreLine = (total: number, shown: number): string | undefined =>
  total > shown ? `… and ${(total - shown).toLocaleString('en-US')} more in the attachments.` : undefined;

function employeeTable(rows: (PlanRow & { outcome?: RowOutcome; detail?: string })[], limit = BODY_ROW_LIMIT): string {
  const shown = rowsByImportance(rows).slice(0, limit);
  const body = shown.map((r) => {
    const ids = [`HiBob ${r.employeeId}`, r.learnerId ? `learner ${r.learnerId}` : undefined].filter(
      Boolean,
    ) as string[];
    const small = (s: string) =>
      `<div style="font-size:12px;line-height:16px;color:${MUTED};word-break:break-all">${s}</div>`;
    const person = `<strong>${esc(personName(r))}</strong>${r.email && r.email !== personName(r) ? small(esc(r.email)) : ''}${small(ids.map(esc).join(' · '))}`;
    const status =
      badge(r.action, ACTION_TONE[r.action]) +
      (r.outcome ? `<br>${badge(outcomeText(r.outcome), OUTCOME_TONE[r.outcome])}` : '');
    const changes =
      r.changes.length > 0
        ? changeLines(r.changes)
        : `<span style="color:${MUTED}">${esc(formatOperations(r.operations) || '—')}</span>`;
    const why =
      escLines(r.reason) +
      (r.detail ? `<div style="margin-top:4px;font-size:12px;color:${MUTED}">${escLines(r.detail)}</div>` : '');
    return `<tr><td ${TD}>${person}</td><td ${TD}>${status}</td><td ${TD}>${changes}</td><td ${TD}>${why}</td></tr>`;
  });
  return table(
    [
      ['Employee', 28],
      ['Action', 12],
      ['Changes', 34],
      ['Reason', 26],
    ],
    body,
    moreLine(rows.length, shown.length),
  );
}

function errorTable(report: SyncReport): string {
  const names = new Map(report.rows.map((r) => [r.employeeId, r]));
  const shown = report.errors.slice(0, BODY_ROW_LIMIT);
  const body = shown.map((e) => {
    const row = names.get(e.employeeId);
    const who = row?.displayName
      ? `<strong>${esc(row.displayName)}</strong><br><span style="font-size:12px;color:${MUTED}">HiBob ${esc(e.employeeId)}</span>`
      : `HiBob ${esc(e.employeeId)}`;
    return `<tr><td ${TD}>${who}</td><td ${TD}><span style="font-family:${MONO};font-size:12px">${esc(e.code)}</span></td><td ${TD}>${escLines(e.reason)}</td></tr>`;
  });
  return table(
    [
      ['Employee', 28],
      ['Problem', 12],
      ['Reason', 60],
    ],
    body,
    moreLine(report.errors.length, shown.length),
  );
}

function notInHibobTable(entries: readonly NotInHibobEntry[]): string {
  const shown = entries.slice(0, BODY_ROW_LIMIT);
  const body = shown.map((e) => {
    const who = e.displayName
      ? `<strong>${esc(e.displayName)}</strong><br><span style="font-size:12px;color:${MUTED}">${esc(e.email ?? e.learnerId)}</span>`
      : esc(e.email ?? e.learnerId);
    return `<tr><td ${TD}>${who}</td><td ${TD}>${esc(e.lastLogin ? formatTime(e.lastLogin) : 'never')}</td><td ${TD}>${esc(e.status)}</td><td ${TD}>${escLines(e.handling)}</td></tr>`;
  });
  return table(
    [
      ['Learner', 34],
      ['Last login', 18],
      ['Status', 10],
      ['What bobsync did', 38],
    ],
    body,
    moreLine(entries.length, shown.length),
  );
}

function textNotInHibob(entries: readonly NotInHibobEntry[]): string[] {
  const shown = entries.slice(0, BODY_ROW_LIMIT);
  const lines = shown.map(
    (e) =>
      `- ${[e.displayName, e.email].filter(Boolean).join(', ') || e.learnerId} (learner ${e.learnerId}, ${e.status}, last login ${e.lastLogin ? formatTime(e.lastLogin) : 'never'}): ${e.handling}`,
  );
  const more = moreLine(entries.length, shown.length);
  return more ? [...lines, more] : lines;
}

function page(title: string, preheader: string, kicker: string, h1: string, sections: string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light">',
    `<title>${esc(title)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f3f4f6;color:${INK};font-family:${FONT}">`,
    // Shown by inbox lists next to the subject, hidden in the message.
    `<div style="display:none;max-height:0;overflow:hidden;opacity:0;font-size:1px;line-height:1px;color:#f3f4f6">${esc(preheader)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" bgcolor="#f3f4f6" style="background:#f3f4f6;border-collapse:collapse">',
    '<tr><td align="center" style="padding:24px 12px">',
    `<table role="presentation" width="760" cellpadding="0" cellspacing="0" border="0" bgcolor="#ffffff" style="width:100%;max-width:760px;background:#ffffff;border:1px solid ${RULE};border-collapse:collapse;font-family:${FONT};color:${INK}">`,
    section(
      `<div style="font-size:12px;line-height:16px;color:${MUTED};text-transform:uppercase;letter-spacing:1px">${esc(kicker)}</div>` +
        `<h1 style="margin:4px 0 0;font-size:22px;line-height:28px;color:${INK}">${h1}</h1>`,
      'padding:20px 24px 8px',
    ),
    ...sections,
    '</table>',
    '</td></tr></table>',
    '</body></html>',
    '',
  ].join('\n');
}

const footer = (lines: string[]): string =>
  section(
    lines.map((l) => `<div style="margin:0 0 4px">${l}</div>`).join(''),
    `padding:16px 24px 20px;border-top:1px solid ${RULE};font-size:12px;line-height:18px;color:${MUTED}`,
  );

// ---- plain text ------------------------------------------------------------------------------

const indent = (text: string, prefix: string): string => text.replace(/\r?\n/g, `\n${prefix}`);

function textRows(rows: (PlanRow & { outcome?: RowOutcome; detail?: string })[], limit = BODY_ROW_LIMIT): string[] {
  const shown = rowsByImportance(rows).slice(0, limit);
  const lines = shown.flatMap((r) => {
    const who = [`HiBob ${r.employeeId}`, r.email].filter(Boolean).join(', ');
    const out = [`- ${personName(r)} (${who}): ${r.action}${r.outcome ? `, ${outcomeText(r.outcome)}` : ''}`];
    for (const c of r.changes)
      out.push(`    ${indent(`${c.field}: ${formatValue(c.from)} → ${formatValue(c.to)}`, '      ')}`);
    if (r.changes.length === 0 && r.operations.length > 0)
      out.push(`    operations: ${formatOperations(r.operations)}`);
    out.push(`    reason: ${indent(r.reason, '      ')}`);
    if (r.detail) out.push(`    detail: ${indent(r.detail, '      ')}`);
    return out;
  });
  const more = moreLine(rows.length, shown.length);
  return more ? [...lines, more] : lines;
}

function textErrors(report: SyncReport): string[] {
  const shown = report.errors.slice(0, BODY_ROW_LIMIT);
  const lines = shown.map((e) => `- HiBob ${e.employeeId} (${e.code}): ${indent(e.reason, '  ')}`);
  const more = moreLine(report.errors.length, shown.length);
  return more ? [...lines, more] : lines;
}

// ---- the report ------------------------------------------------------------------------------

export function renderReportEmail(report: SyncReport): RenderedEmail {
  const subject = reportSubject(report);
  const status = reportStatus(report);
  const head = headline(report);
  const destination = DESTINATION_LABEL[report.destination];
  const guard = safeguardSentence(report.safeguard, report.dryRun);
  const approval = approvalSentence(report.approval, report.dryRun);
  const actionTiles = ACTIONS.filter((a) => (report.counts.byAction[a] ?? 0) > 0).map((a): Tile => ({
    value: report.counts.byAction[a] ?? 0,
    label: ACTION_LABEL[a],
    tone: ACTION_TONE[a],
  }));
  const outcomeTiles = OUTCOMES.filter((o) => (report.counts.byOutcome[o] ?? 0) > 0).map((o): Tile => ({
    value: report.counts.byOutcome[o] ?? 0,
    label: OUTCOME_LABEL[o],
    tone: OUTCOME_TONE[o],
  }));
  const totals = `HiBob returned ${plural(report.totals.hibobEmployees, 'employee')}; ${destination} held ${plural(report.totals.lmsLearners, 'learner')}.`;
  const apiCalls = `API calls: HiBob ${report.apiCalls.hibob}, ${destination} reads ${report.apiCalls.lmsReads}, writes ${report.apiCalls.lmsWrites}`;
  const timing = `Duration ${formatDuration(report.durationMs)} (${formatTime(report.startedAt)} → ${formatTime(report.finishedAt)})`;
  const ids = `Workflow ${report.workflowId} · run ${report.runId}`;
  const dryNote = report.dryRun ? `Dry run: nothing was written to ${destination}.` : undefined;
  const attachmentsNote = 'The CSV and XLSX attachments list every employee in this report.';
  const notInHibob = report.notInHibob ?? [];

  const sections = [
    section(
      box(
        `<strong>${esc(head)}</strong><div style="margin-top:4px;font-size:13px">${esc(totals)}</div>`,
        STATUS_TONE[status],
        16,
      ),
    ),
    approval ? section(box(esc(approval), report.dryRun ? TONES.blue : TONES.amber)) : '',
    guard ? section(box(esc(guard), report.dryRun ? TONES.blue : TONES.amber)) : '',
    section(heading('Employees by action') + tiles(actionTiles) + heading('Outcomes') + tiles(outcomeTiles)),
    section(
      heading(`Changed employees (${report.rows.length.toLocaleString('en-US')})`) +
        (report.rows.length > 0
          ? employeeTable(report.rows)
          : `<p style="margin:0;color:${MUTED};font-size:13px">Every employee is already in step.</p>`),
    ),
    report.errors.length > 0
      ? section(heading(`Errors (${report.errors.length.toLocaleString('en-US')})`) + errorTable(report))
      : '',
    notInHibob.length > 0
      ? section(heading(`Not in HiBob (${notInHibob.length.toLocaleString('en-US')})`) + notInHibobTable(notInHibob))
      : '',
    footer(
      [dryNote, esc(timing), esc(apiCalls), esc(ids), esc(attachmentsNote)].filter((l): l is string => Boolean(l)),
    ),
  ].filter(Boolean);
  const html = page(
    subject,
    head,
    `bobsync · full sync${report.dryRun ? ' · dry run' : ''}`,
    `${esc(report.connection)} <span style="font-weight:normal;color:${MUTED}">→ ${esc(destination)}</span>`,
    sections,
  );

  const countLine = (label: string, entries: [string, number][]) =>
    `${label}: ${entries.length > 0 ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}`;
  const text = [
    `${report.connection} → ${destination}, full sync${report.dryRun ? ' (dry run)' : ''}`,
    head,
    totals,
    ...(approval ? ['', approval] : []),
    ...(guard ? ['', guard] : []),
    '',
    countLine(
      'By action',
      ACTIONS.filter((a) => (report.counts.byAction[a] ?? 0) > 0).map((a) => [
        ACTION_LABEL[a],
        report.counts.byAction[a] ?? 0,
      ]),
    ),
    countLine(
      'By outcome',
      OUTCOMES.filter((o) => (report.counts.byOutcome[o] ?? 0) > 0).map((o) => [
        OUTCOME_LABEL[o],
        report.counts.byOutcome[o] ?? 0,
      ]),
    ),
    '',
    `Changed employees (${report.rows.length}):`,
    ...(report.rows.length > 0 ? textRows(report.rows) : ['Every employee is already in step.']),
    ...(report.errors.length > 0 ? ['', `Errors (${report.errors.length}):`, ...textErrors(report)] : []),
    ...(notInHibob.length > 0 ? ['', `Not in HiBob (${notInHibob.length}):`, ...textNotInHibob(notInHibob)] : []),
    '',
    ...(dryNote ? [dryNote] : []),
    timing,
    apiCalls,
    ids,
    attachmentsNote,
    '',
  ].join('\n');
  return { subject, text, html };
}

// ---- the plan waiting for approval -----------------------------------------------------------

/**
 * The email a safeguard sends when it stops a sync: what is held, why, and the two commands that
 * decide. Without a pending decision (a dry run, say) it is a plain plan preview.
 */
export function renderPreviewEmail(rows: PlanRow[], meta: PreviewEmailMeta): RenderedEmail {
  if (meta.approval?.scope === 'plan') return renderPlanApprovalEmail(rows, meta);
  const awaiting = Boolean(meta.safeguard?.tripped && !meta.safeguard.decision && !meta.dryRun);
  const held = rows.filter(isAwaitingApproval);
  const others = rows.filter((r) => !isAwaitingApproval(r) && r.action !== 'noop');
  const parts = describeTally(tallyPlan(rows.filter((r) => r.action !== 'noop')), { unchanged: false });
  const changes = parts.length > 0 ? parts.join(', ') : 'no changes';
  const waiting = `${plural(held.length, 'deactivation')} ${held.length === 1 ? 'is' : 'are'} waiting for your approval`;
  const subject = awaiting
    ? `[bobsync] ${meta.connection} full sync needs approval: ${plural(held.length, 'deactivation')} waiting`
    : `[bobsync] ${meta.connection} plan preview${meta.dryRun ? ' (dry run)' : ''}: ${changes}`;
  const head = awaiting
    ? waiting
    : `Plan preview${meta.dryRun ? ' (dry run, nothing will be written)' : ''}: ${changes}`;
  const guard = safeguardSentence(meta.safeguard, meta.dryRun);
  const approve = `bobsync approve ${meta.workflowId}`;
  const reject = `bobsync reject ${meta.workflowId}`;
  const expiry = meta.expiresAt ? `The request lapses at ${formatTime(meta.expiresAt)} if nobody decides.` : undefined;
  const holdNote = 'The held deactivations are not applied until someone approves them.';
  const code = (s: string) =>
    `<span style="font-family:${MONO};font-size:13px;background:#ffffff;border:1px solid ${TONES.amber.border};padding:1px 6px;white-space:nowrap">${esc(s)}</span>`;
  const actionTiles = ACTIONS.map((a): Tile => ({
    value: rows.filter((r) => r.action === a).length,
    label: ACTION_LABEL[a],
    tone: ACTION_TONE[a],
  })).filter((t) => t.value > 0);

  const sections = [
    section(
      box(
        `<strong>${esc(head)}</strong>${guard ? `<div style="margin-top:4px;font-size:13px">${esc(guard)}</div>` : ''}`,
        awaiting ? TONES.amber : TONES.blue,
        16,
      ),
    ),
    awaiting
      ? section(
          `<p style="margin:8px 0;font-size:14px;line-height:22px">Approve with ${code(approve)}<br>or reject with ${code(reject)}</p>` +
            `<p style="margin:0;font-size:13px;line-height:18px;color:${MUTED}">${esc([holdNote, expiry].filter(Boolean).join(' '))}</p>`,
        )
      : '',
    section(heading('Employees by action') + tiles(actionTiles)),
    held.length > 0
      ? section(
          heading(`${awaiting ? 'Waiting for approval' : 'Deactivations'} (${held.length.toLocaleString('en-US')})`) +
            employeeTable(held),
        )
      : '',
    others.length > 0
      ? section(
          heading(`Other changes in this plan (${others.length.toLocaleString('en-US')})`) + employeeTable(others),
        )
      : '',
    footer([
      esc(`Plan generated ${formatTime(meta.generatedAt)}`),
      esc(`Workflow ${meta.workflowId}`),
      esc('The attached spreadsheet lists every employee and every field change.'),
    ]),
  ].filter(Boolean);
  const html = page(
    subject,
    head,
    `bobsync · ${awaiting ? 'approval needed' : 'plan preview'}`,
    esc(meta.connection),
    sections,
  );

  const text = [
    `${meta.connection}: ${head}`,
    ...(guard ? [guard] : []),
    ...(awaiting
      ? ['', `Approve:  ${approve}`, `Reject:   ${reject}`, [holdNote, expiry].filter(Boolean).join(' ')]
      : []),
    ...(held.length > 0
      ? ['', `${awaiting ? 'Waiting for approval' : 'Deactivations'} (${held.length}):`, ...textRows(held)]
      : []),
    ...(others.length > 0 ? ['', `Other changes in this plan (${others.length}):`, ...textRows(others)] : []),
    '',
    `Plan generated ${formatTime(meta.generatedAt)}`,
    `Workflow ${meta.workflowId}`,
    'The attached spreadsheet lists every employee and every field change.',
    '',
  ].join('\n');
  return { subject, text, html };
}

/**
 * The email of a run that waits for approval of its whole plan (approval mode always, or the
 * first run of a firstRun connection): every change by preview category, and the two commands.
 */
function renderPlanApprovalEmail(rows: PlanRow[], meta: PreviewEmailMeta): RenderedEmail {
  const awaiting = !meta.dryRun;
  const listed = rows.filter((r) => r.action !== 'noop');
  const parts = describeTally(tallyPlan(listed), { unchanged: false });
  const changes = parts.length > 0 ? parts.join(', ') : 'no changes';
  const subject = awaiting
    ? `[bobsync] ${meta.connection} full sync needs approval of the whole plan: ${changes}`
    : `[bobsync] ${meta.connection} plan preview${meta.dryRun ? ' (dry run)' : ''}: ${changes}`;
  const head = awaiting
    ? `This plan waits for your approval: ${changes}`
    : `Plan preview (dry run, nothing will be written): ${changes}`;
  const why = approvalSentence(meta.approval, meta.dryRun);
  const guard = safeguardSentence(meta.safeguard, meta.dryRun);
  const approve = `bobsync approve ${meta.workflowId}`;
  const reject = `bobsync reject ${meta.workflowId}`;
  const expiry = meta.expiresAt
    ? `The request lapses at ${formatTime(meta.expiresAt)} if nobody decides, and then nothing is applied.`
    : undefined;
  const bindNote =
    'Nothing in this plan is applied until someone approves it. Approval applies the plan shown here: an employee whose HiBob record changes after this preview is left out and picked up by the next run.';
  const code = (s: string) =>
    `<span style="font-family:${MONO};font-size:13px;background:#ffffff;border:1px solid ${TONES.amber.border};padding:1px 6px;white-space:nowrap">${esc(s)}</span>`;
  const actionTiles = ACTIONS.map((a): Tile => ({
    value: rows.filter((r) => r.action === a).length,
    label: ACTION_LABEL[a],
    tone: ACTION_TONE[a],
  })).filter((t) => t.value > 0);
  const groups = PREVIEW_CATEGORIES.map((c) => ({
    title: PREVIEW_CATEGORY_TITLE[c],
    rows: listed.filter((r) => previewCategoryOf(r) === c),
  })).filter((g) => g.rows.length > 0);
  const notes = [why, guard].filter((l): l is string => Boolean(l));

  const sections = [
    section(
      box(
        `<strong>${esc(head)}</strong>${notes.map((n) => `<div style="margin-top:4px;font-size:13px">${esc(n)}</div>`).join('')}`,
        awaiting ? TONES.amber : TONES.blue,
        16,
      ),
    ),
    awaiting
      ? section(
          `<p style="margin:8px 0;font-size:14px;line-height:22px">Approve with ${code(approve)}<br>or reject with ${code(reject)}</p>` +
            `<p style="margin:0;font-size:13px;line-height:18px;color:${MUTED}">${esc([bindNote, expiry].filter(Boolean).join(' '))}</p>`,
        )
      : '',
    section(heading('Employees by action') + tiles(actionTiles)),
    ...groups.map((g) =>
      section(heading(`${g.title} (${g.rows.length.toLocaleString('en-US')})`) + employeeTable(g.rows)),
    ),
    footer([
      esc(`Plan generated ${formatTime(meta.generatedAt)}`),
      esc(`Workflow ${meta.workflowId}`),
      esc(
        'The attached spreadsheet has a sheet per category: to be added, reactivated, updated (one row per attribute change) and archived, and the errors.',
      ),
    ]),
  ].filter(Boolean);
  const html = page(
    subject,
    head,
    `bobsync · ${awaiting ? 'approval needed' : 'plan preview'}`,
    esc(meta.connection),
    sections,
  );

  const text = [
    `${meta.connection}: ${head}`,
    ...notes,
    ...(awaiting
      ? ['', `Approve:  ${approve}`, `Reject:   ${reject}`, [bindNote, expiry].filter(Boolean).join(' ')]
      : []),
    ...groups.flatMap((g) => ['', `${g.title} (${g.rows.length}):`, ...textRows(g.rows)]),
    '',
    `Plan generated ${formatTime(meta.generatedAt)}`,
    `Workflow ${meta.workflowId}`,
    'The attached spreadsheet has a sheet per category: to be added, reactivated, updated (one row per attribute change) and archived, and the errors.',
    '',
  ].join('\n');
  return { subject, text, html };
}
