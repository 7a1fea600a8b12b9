/**
 * CSV renderings of a report and of a plan preview: RFC 4180 (CRLF, quoted fields), UTF-8 with a
 * byte order mark because Excel otherwise reads the file in the local code page and mangles
 * names such as "Zoë" or "Łukasz".
 */
import type { PlanRow } from '../domain/types';
import { formatChanges, formatOperations, outcomeText } from './format';
import type { SyncReport } from './types';

const BOM = '\uFEFF';
const EOL = '\r\n';

/**
 * Spreadsheets run a cell that starts with one of these as a formula; names and reasons come
 * from HR data, so such cells get a leading apostrophe and are read as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | undefined): string {
  const raw = value ?? '';
  const safe = FORMULA_START.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const csvLine = (cells: (string | undefined)[]): string => cells.map(csvCell).join(',') + EOL;

export const REPORT_CSV_HEADER = [
  'Employee ID',
  'Name',
  'Email',
  'Learner ID',
  'Action',
  'Outcome',
  'Changes',
  'Operations',
  'Reason',
  'Detail',
];

/** Plan rows have no outcome or LMS answer yet, so the preview leaves those two columns out. */
export const PREVIEW_CSV_HEADER = [
  'Employee ID',
  'Name',
  'Email',
  'Learner ID',
  'Action',
  'Changes',
  'Operations',
  'Reason',
];

export function reportCsv(report: SyncReport): string {
  const lines = report.rows.map((r) =>
    csvLine([
      r.employeeId,
      r.displayName,
      r.email,
      r.learnerId,
      r.action,
      outcomeText(r.outcome),
      formatChanges(r.changes),
      formatOperations(r.operations),
      r.reason,
      r.detail,
    ]),
  );
  return BOM + csvLine(REPORT_CSV_HEADER) + lines.join('');
}

export function planPreviewCsv(rows: PlanRow[]): string {
  const lines = rows.map((r) =>
    csvLine([
      r.employeeId,
      r.displayName,
      r.email,
      r.learnerId,
      r.action,
      formatChanges(r.changes),
      formatOperations(r.operations),
      r.reason,
    ]),
  );
  return BOM + csvLine(PREVIEW_CSV_HEADER) + lines.join('');
}
