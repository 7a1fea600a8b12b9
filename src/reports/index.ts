/**
 * Full-sync reports and plan previews, rendered for people: an email body, and CSV and XLSX
 * attachments that carry every row the body has no room for.
 */
import type { PlanRow } from '../domain/types';
import type { Attachment } from '../notifications/mailer';
import { planPreviewCsv, reportCsv } from './csv';
import { fileDate, fileSlug, type PreviewMeta } from './format';
import { planPreviewXlsx, reportXlsx } from './xlsx';
import type { SyncReport } from './types';

export * from './types';
export { reportCsv, planPreviewCsv } from './csv';
export { reportXlsx, planPreviewXlsx } from './xlsx';
export { renderReportEmail, renderPreviewEmail, BODY_ROW_LIMIT, type PreviewEmailMeta } from './html';
export { headline, reportStatus, reportSubject, type PreviewMeta, type ReportStatus } from './format';
export {
  renderApprovalReminderEmail,
  renderRunFailureEmail,
  runUiUrl,
  showCommand,
  type RunLocation,
} from './run-notices';

const CSV_TYPE = 'text/csv; charset=utf-8';
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** `bobsync-acme-360-2026-03-02.csv` (`-dry-run` or `-preview` before the extension when so). */
function baseName(connection: string, at: string, suffix: string): string {
  return `bobsync-${fileSlug(connection)}-${fileDate(at)}${suffix}`;
}

export async function reportAttachments(report: SyncReport): Promise<Attachment[]> {
  const base = baseName(report.connection, report.finishedAt, report.dryRun ? '-dry-run' : '');
  return [
    { filename: `${base}.csv`, content: Buffer.from(reportCsv(report), 'utf8'), contentType: CSV_TYPE },
    { filename: `${base}.xlsx`, content: await reportXlsx(report), contentType: XLSX_TYPE },
  ];
}

export async function previewAttachments(rows: PlanRow[], meta: PreviewMeta): Promise<Attachment[]> {
  const base = baseName(meta.connection, meta.generatedAt, meta.dryRun ? '-dry-run-preview' : '-preview');
  return [
    { filename: `${base}.csv`, content: Buffer.from(planPreviewCsv(rows), 'utf8'), contentType: CSV_TYPE },
    { filename: `${base}.xlsx`, content: await planPreviewXlsx(rows, meta), contentType: XLSX_TYPE },
  ];
}
