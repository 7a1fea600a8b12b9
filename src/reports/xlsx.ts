/**
 * XLSX renderings: the full-sync report (attached to the report email) and the plan preview an
 * operator reads before approving. HR values are written as string cells, never as formulas, so
 * a name such as "=HYPERLINK(…)" stays text without the apostrophe the CSV needs.
 */
import ExcelJS from 'exceljs';
import {
  ACTION_LABEL,
  ACTIONS,
  DESTINATION_LABEL,
  OUTCOME_LABEL,
  OUTCOMES,
  PREVIEW_CATEGORY_TITLE,
  approvalSentence,
  formatChanges,
  formatDuration,
  formatOperations,
  formatValue,
  headline,
  outcomeText,
  previewCategoryOf,
  safeguardSentence,
  toDate,
  type PreviewMeta,
} from './format';
import type { FieldChange, PlanRow } from '../domain/types';
import type { ApprovalOutcome, NotInHibobEntry, ReportRow, SafeguardState, SyncReport } from './types';

type CellValue = string | number | Date | undefined;

interface ColumnSpec<T> {
  header: string;
  value: (row: T) => CellValue;
  /** Long free text: wrapped, with a wider limit. */
  wrap?: boolean;
}

/** Excel refuses cells longer than this and offers to "repair" the file. */
const MAX_CELL_CHARS = 32_767;
const LINE_HEIGHT_PT = 15;
const MAX_ROW_HEIGHT_PT = 409;
const DATE_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE5E7EB' } };
const SECTION_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFF3F4F6' } };

function clip(value: CellValue): CellValue {
  if (typeof value !== 'string') return value;
  return value.length > MAX_CELL_CHARS ? `${value.slice(0, MAX_CELL_CHARS - 1)}…` : value;
}

/** Visual lines a text takes in a column of the given width (characters), for row heights. */
function lineCount(text: string, width: number): number {
  return text.split('\n').reduce((n, line) => n + Math.max(1, Math.ceil(line.length / Math.max(1, width - 2))), 0);
}

const longestLine = (text: string): number => Math.max(0, ...text.split('\n').map((l) => l.length));

/**
 * One sheet as a filterable table: bold header that stays in view when scrolling, an autofilter
 * over every column, and widths taken from the content within sensible limits.
 */
function addTableSheet<T>(
  workbook: ExcelJS.Workbook,
  name: string,
  columns: ColumnSpec<T>[],
  rows: readonly T[],
): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet(name, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1, activeCell: 'A2' }] });
  const values = rows.map((row) => columns.map((c) => clip(c.value(row))));
  sheet.columns = columns.map((c, i) => {
    const contentWidth = Math.max(
      c.header.length,
      ...values.map((v) => {
        const cell = v[i];
        if (cell instanceof Date) return 20;
        return cell === undefined ? 0 : longestLine(String(cell));
      }),
    );
    return { header: c.header, key: `c${i}`, width: Math.min(Math.max(contentWidth + 2, 10), c.wrap ? 60 : 40) };
  });
  const header = sheet.getRow(1);
  header.font = { bold: true };
  header.eachCell((cell) => {
    cell.fill = HEADER_FILL;
    cell.border = { bottom: { style: 'thin', color: { argb: 'FF9CA3AF' } } };
    cell.alignment = { vertical: 'middle' };
  });
  for (const rowValues of values) {
    const row = sheet.addRow(rowValues);
    let lines = 1;
    rowValues.forEach((value, i) => {
      const cell = row.getCell(i + 1);
      if (value instanceof Date) cell.numFmt = DATE_FORMAT;
      if (columns[i]?.wrap) {
        cell.alignment = { wrapText: true, vertical: 'top' };
        if (typeof value === 'string') lines = Math.max(lines, lineCount(value, sheet.getColumn(i + 1).width ?? 60));
      } else {
        cell.alignment = { vertical: 'top' };
      }
    });
    // Excel does not grow rows for wrapped text written by a program; size them here.
    if (lines > 1) row.height = Math.min(lines * LINE_HEIGHT_PT, MAX_ROW_HEIGHT_PT);
  }
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: columns.length } };
  return sheet;
}

type SummaryEntry = { section: string } | [label: string, value: CellValue];

/** A two-column sheet of labelled values, grouped under bold section rows. */
function addSummarySheet(workbook: ExcelJS.Workbook, entries: SummaryEntry[]): ExcelJS.Worksheet {
  const sheet = workbook.addWorksheet('Summary', { views: [{ state: 'frozen', xSplit: 0, ySplit: 1 }] });
  sheet.columns = [
    { header: 'Item', key: 'item', width: 28 },
    { header: 'Value', key: 'value', width: 70 },
  ];
  sheet.getRow(1).font = { bold: true };
  sheet.getRow(1).eachCell((cell) => (cell.fill = HEADER_FILL));
  for (const entry of entries) {
    if (Array.isArray(entry)) {
      const [label, value] = entry;
      const row = sheet.addRow([label, clip(value)]);
      const cell = row.getCell(2);
      if (value instanceof Date) cell.numFmt = DATE_FORMAT;
      cell.alignment = {
        horizontal: 'left',
        vertical: 'top',
        wrapText: typeof value === 'string' && value.length > 70,
      };
      row.getCell(1).alignment = { vertical: 'top' };
    } else {
      const row = sheet.addRow([entry.section]);
      row.font = { bold: true };
      row.getCell(1).fill = SECTION_FILL;
      row.getCell(2).fill = SECTION_FILL;
    }
  }
  return sheet;
}

function safeguardEntries(safeguard: SafeguardState | undefined, dryRun: boolean): SummaryEntry[] {
  return [
    { section: 'Safeguard' },
    ['Tripped', safeguard?.tripped ? 'Yes' : 'No'],
    ...(safeguard?.tripped
      ? ([
          ['Reason', safeguard.reason],
          [
            'Decision',
            safeguard.decision === 'notAsked'
              ? 'Not asked (approval mode never)'
              : (safeguard.decision ?? (dryRun ? 'None (dry run)' : 'Waiting for approval')),
          ],
          ['Decided by', safeguard.decidedBy],
          ['In words', safeguardSentence(safeguard, dryRun)],
        ] satisfies SummaryEntry[])
      : []),
  ];
}

const SCOPE_LABEL: Record<ApprovalOutcome['scope'], string> = {
  plan: 'The whole plan',
  held: 'Deactivations a safeguard holds',
  none: 'Nothing',
};

function approvalEntries(approval: ApprovalOutcome | undefined, dryRun: boolean): SummaryEntry[] {
  if (!approval) return [];
  return [
    { section: 'Approval' },
    ['Waits for', SCOPE_LABEL[approval.scope]],
    ['Why', approval.reason],
    ...(approval.scope === 'plan'
      ? ([
          ['Decision', approval.decision ?? (dryRun ? 'None (dry run)' : 'Waiting for approval')],
          ['Decided by', approval.decidedBy],
          ['Changed since approval', approval.changedSinceApproval],
          ['In words', approvalSentence(approval, dryRun)],
        ] satisfies SummaryEntry[])
      : []),
  ];
}

async function toBuffer(workbook: ExcelJS.Workbook): Promise<Buffer> {
  const out = await workbook.xlsx.writeBuffer();
  return Buffer.isBuffer(out) ? out : Buffer.from(out);
}

function newWorkbook(at: string): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'bobsync';
  workbook.lastModifiedBy = 'bobsync';
  // Dated by the run, not by the clock, so the same report renders the same workbook.
  const when = toDate(at);
  if (when instanceof Date) {
    workbook.created = when;
    workbook.modified = when;
  }
  return workbook;
}

const nameOf = (row: PlanRow): string | undefined => row.displayName;

/** The columns that say who a row is about, first on every per-employee sheet. */
const employeeColumns: ColumnSpec<PlanRow>[] = [
  { header: 'Employee ID', value: (r) => r.employeeId },
  { header: 'Name', value: nameOf },
  { header: 'Email', value: (r) => r.email },
];

const changesCell = (changes: FieldChange[]): string => formatChanges(changes, '\n');

export async function reportXlsx(report: SyncReport): Promise<Buffer> {
  const workbook = newWorkbook(report.finishedAt);
  addSummarySheet(workbook, [
    { section: 'Run' },
    ['Connection', report.connection],
    ['Destination', DESTINATION_LABEL[report.destination]],
    ['Status', headline(report)],
    ['Dry run', report.dryRun ? 'Yes' : 'No'],
    ['Workflow ID', report.workflowId],
    ['Run ID', report.runId],
    ['Started', toDate(report.startedAt)],
    ['Finished', toDate(report.finishedAt)],
    ['Duration', formatDuration(report.durationMs)],
    { section: 'Totals' },
    ['HiBob employees', report.totals.hibobEmployees],
    ['LMS learners', report.totals.lmsLearners],
    ['Employees listed', report.rows.length],
    ['Errors', report.errors.length],
    { section: 'Employees by action' },
    ...ACTIONS.map((a): SummaryEntry => [ACTION_LABEL[a], report.counts.byAction[a] ?? 0]),
    { section: 'Employees by outcome' },
    ...OUTCOMES.map((o): SummaryEntry => [OUTCOME_LABEL[o], report.counts.byOutcome[o] ?? 0]),
    { section: 'API calls' },
    ['HiBob', report.apiCalls.hibob],
    ['LMS reads', report.apiCalls.lmsReads],
    ['LMS writes', report.apiCalls.lmsWrites],
    ...approvalEntries(report.approval, report.dryRun),
    ...safeguardEntries(report.safeguard, report.dryRun),
  ]);
  addTableSheet<ReportRow>(
    workbook,
    'Employees',
    [
      ...employeeColumns,
      { header: 'Learner ID', value: (r) => r.learnerId },
      { header: 'Action', value: (r) => r.action },
      { header: 'Outcome', value: (r) => outcomeText(r.outcome) },
      { header: 'Changes', value: (r) => changesCell(r.changes), wrap: true },
      { header: 'Operations', value: (r) => formatOperations(r.operations), wrap: true },
      { header: 'Reason', value: (r) => r.reason, wrap: true },
      { header: 'Detail', value: (r) => r.detail, wrap: true },
    ],
    report.rows,
  );
  const names = new Map(report.rows.map((r) => [r.employeeId, r.displayName]));
  addTableSheet<SyncReport['errors'][number]>(
    workbook,
    'Errors',
    [
      { header: 'Employee ID', value: (e) => e.employeeId },
      { header: 'Name', value: (e) => names.get(e.employeeId) },
      { header: 'Code', value: (e) => e.code },
      { header: 'Reason', value: (e) => e.reason, wrap: true },
    ],
    report.errors,
  );
  if (report.notInHibob)
    addTableSheet<NotInHibobEntry>(
      workbook,
      'Not in HiBob',
      [
        { header: 'Learner ID', value: (e) => e.learnerId },
        { header: 'Email', value: (e) => e.email },
        { header: 'Name', value: (e) => e.displayName },
        { header: 'Last login', value: (e) => (e.lastLogin ? toDate(e.lastLogin) : 'never') },
        { header: 'Status', value: (e) => e.status },
        { header: 'What bobsync did', value: (e) => e.handling, wrap: true },
      ],
      report.notInHibob,
    );
  return toBuffer(workbook);
}

/** One attribute change of an employee to be updated, as the "To be updated" sheet lists it. */
interface AttributeChange {
  row: PlanRow;
  /** Absent when the update changes no attribute (a manager link to set, say): the operations stand in. */
  change?: FieldChange;
}

/** "firstName: Łukasz", one attribute a line: what an added employee gets. */
const attributesCell = (changes: FieldChange[]): string =>
  changes.map((c) => `${c.field}: ${formatValue(c.to)}`).join('\n');

/**
 * The plan preview: a summary, then the sheets of Skillcast's bulk-upload preview in its order
 * (to be added, reactivated, updated — one row per attribute change — and archived), the
 * employees that cannot be written with the reason, and every listed employee.
 */
export async function planPreviewXlsx(rows: PlanRow[], meta: PreviewMeta): Promise<Buffer> {
  const workbook = newWorkbook(meta.generatedAt);
  const byAction = new Map<string, number>();
  for (const r of rows) byAction.set(r.action, (byAction.get(r.action) ?? 0) + 1);
  const inCategory = (category: ReturnType<typeof previewCategoryOf>) =>
    rows.filter((r) => previewCategoryOf(r) === category);
  const updates = inCategory('toUpdate').flatMap((row): AttributeChange[] =>
    row.changes.length > 0 ? row.changes.map((change) => ({ row, change })) : [{ row }],
  );
  addSummarySheet(workbook, [
    { section: 'Plan' },
    ['Connection', meta.connection],
    ['Generated', toDate(meta.generatedAt)],
    ['Dry run', meta.dryRun ? 'Yes' : 'No'],
    ['Employees listed', rows.length],
    ['Field changes', rows.reduce((n, r) => n + r.changes.length, 0)],
    { section: 'Employees by action' },
    ...ACTIONS.map((a): SummaryEntry => [ACTION_LABEL[a], byAction.get(a) ?? 0]),
    ...approvalEntries(meta.approval, meta.dryRun),
    ...safeguardEntries(meta.safeguard, meta.dryRun),
  ]);
  addTableSheet<PlanRow>(
    workbook,
    PREVIEW_CATEGORY_TITLE.toAdd,
    [
      ...employeeColumns,
      { header: 'Attributes', value: (r) => attributesCell(r.changes), wrap: true },
      { header: 'Reason', value: (r) => r.reason, wrap: true },
    ],
    inCategory('toAdd'),
  );
  addTableSheet<PlanRow>(
    workbook,
    PREVIEW_CATEGORY_TITLE.toReactivate,
    [
      ...employeeColumns,
      { header: 'Learner ID', value: (r) => r.learnerId },
      { header: 'Changes', value: (r) => changesCell(r.changes), wrap: true },
      { header: 'Reason', value: (r) => r.reason, wrap: true },
    ],
    inCategory('toReactivate'),
  );
  // One row per attribute change, so a reviewer can filter on an attribute or a value across everyone.
  addTableSheet<AttributeChange>(
    workbook,
    PREVIEW_CATEGORY_TITLE.toUpdate,
    [
      { header: 'Employee ID', value: (c) => c.row.employeeId },
      { header: 'Name', value: (c) => nameOf(c.row) },
      { header: 'Email', value: (c) => c.row.email },
      { header: 'Attribute', value: (c) => c.change?.field ?? formatOperations(c.row.operations) },
      { header: 'Old value', value: (c) => c.change?.from ?? undefined, wrap: true },
      { header: 'New value', value: (c) => c.change?.to ?? undefined, wrap: true },
      {
        header: 'Change',
        value: (c) => (c.change ? `${formatValue(c.change.from)} → ${formatValue(c.change.to)}` : undefined),
        wrap: true,
      },
      { header: 'Rule', value: (c) => c.change?.rule ?? c.row.reason, wrap: true },
    ],
    updates,
  );
  addTableSheet<PlanRow>(
    workbook,
    PREVIEW_CATEGORY_TITLE.toArchive,
    [
      ...employeeColumns,
      { header: 'Learner ID', value: (r) => r.learnerId },
      { header: 'Reason', value: (r) => r.reason, wrap: true },
      { header: 'Note', value: (r) => (r.action === 'held' ? heldNote(meta) : undefined), wrap: true },
    ],
    inCategory('toArchive'),
  );
  addTableSheet<PlanRow>(
    workbook,
    PREVIEW_CATEGORY_TITLE.errors,
    [...employeeColumns, { header: 'Reason', value: (r) => r.reason, wrap: true }],
    inCategory('errors'),
  );
  addTableSheet<PlanRow>(
    workbook,
    'Employees',
    [
      ...employeeColumns,
      { header: 'Learner ID', value: (r) => r.learnerId },
      { header: 'Action', value: (r) => r.action },
      { header: 'Changes', value: (r) => changesCell(r.changes), wrap: true },
      { header: 'Operations', value: (r) => formatOperations(r.operations), wrap: true },
      { header: 'Reason', value: (r) => r.reason, wrap: true },
    ],
    rows,
  );
  return toBuffer(workbook);
}

/** Why an archive is held, as the "To be archived" sheet notes it. */
function heldNote(meta: PreviewMeta): string {
  if (meta.safeguard?.decision === 'notAsked')
    return 'Held by the safeguard; approval mode never: not archived in this run';
  return 'Held by the safeguard: archived only once approved';
}
