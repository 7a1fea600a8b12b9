/** Company reports: definitions, JSON/CSV rendering and async report files (contract §9). */
import type { FieldCatalog, FieldDef, ReadEnv } from './fields';
import { asText, displayValue, machineValue, renderEmployee, type HumanReadableMode } from './render';
import type { DateFormat, HibobEmployeeRecord, ReportDefinition } from './types';

export const DEFAULT_REPORTS: ReportDefinition[] = [
  {
    id: 1234,
    name: 'LMS feed',
    columns: [
      { fieldId: 'root.id', name: 'Bob ID' },
      { fieldId: 'root.email', name: 'Email' },
      { fieldId: 'work.employeeIdInCompany', name: 'Employee ID' },
      { fieldId: 'root.firstName', name: 'First name' },
      { fieldId: 'root.surname', name: 'Last name' },
      { fieldId: 'work.department', name: 'Department', humanReadable: true },
      { fieldId: 'work.title', name: 'Job title', humanReadable: true },
      { fieldId: 'work.site', name: 'Site' },
      { fieldId: 'work.reportsTo', name: 'Manager', humanReadable: true },
      { fieldId: 'work.startDate', name: 'Start date' },
      { fieldId: 'internal.lifecycleStatus', name: 'Lifecycle status', humanReadable: true },
      { fieldId: 'internal.status', name: 'Status' },
      { fieldId: 'internal.terminationDate', name: 'Termination date' },
      { fieldId: 'employee.lastDayOfWork', name: 'Last day of work' },
    ],
  },
  {
    id: 1235,
    name: 'Headcount by site',
    includeInactive: false,
    columns: [
      { fieldId: 'root.displayName' },
      { fieldId: 'work.site' },
      { fieldId: 'work.department', humanReadable: true },
      { fieldId: 'internal.status' },
    ],
  },
];

export type ReportFormat = 'json' | 'csv';

export interface ReportRequest {
  format: ReportFormat;
  humanReadable: HumanReadableMode;
  includeInfo: boolean;
  dateFormat: DateFormat;
}

export interface ReportFile {
  contentType: string;
  body: string;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (Array.isArray(value)) text = value.map(asText).join(', ');
  else if (typeof value === 'object' && 'id' in value) text = asText(value.id);
  else text = asText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Renders one report over `employees` (already limited to the caller's population). */
export function renderReport(
  def: ReportDefinition,
  employees: HibobEmployeeRecord[],
  catalog: FieldCatalog,
  env: ReadEnv,
  req: ReportRequest,
  options: { csvBom: boolean; generatedAt: string },
): ReportFile {
  const columns = def.columns
    .map((c) => ({ column: c, field: catalog.get(c.fieldId) }))
    .filter((c): c is { column: (typeof def.columns)[number]; field: FieldDef } => c.field !== undefined);
  const people = def.includeInactive === false ? employees.filter((e) => e.status === 'Active') : employees;
  if (req.format === 'json') {
    const rendered = people.map((p) =>
      renderEmployee(
        p,
        columns.map((c) => c.field),
        env,
        { mode: req.humanReadable, dateFormat: req.dateFormat },
      ),
    );
    const info = req.includeInfo ? { info: { id: def.id, name: def.name, generatedAt: options.generatedAt } } : {};
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ ...info, employees: rendered }) };
  }
  const lines: string[] = [];
  if (req.includeInfo) lines.push(csvCell(def.name), csvCell(`Generated ${options.generatedAt}`), '');
  lines.push(columns.map((c) => csvCell(c.column.name ?? c.field.meta.name)).join(','));
  for (const p of people) {
    lines.push(
      columns
        .map(({ column, field }) => {
          const machine = machineValue(field, p, env);
          return csvCell(column.humanReadable ? displayValue(field, machine, env, req.dateFormat) : machine);
        })
        .join(','),
    );
  }
  return { contentType: 'text/csv; charset=utf-8', body: `${options.csvBom ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n` };
}

interface AsyncReport {
  ownerId: string;
  readyAtMs: number;
  file: ReportFile;
}

/** Files produced by download-async, served once ready. */
export class AsyncReportFiles {
  private readonly files = new Map<string, AsyncReport>();
  private counter = 0;

  add(ownerId: string, reportId: number, format: ReportFormat, readyAtMs: number, file: ReportFile): string {
    this.counter += 1;
    const name = `report-${reportId}-${Date.now().toString(36)}${this.counter}.${format}`;
    this.files.set(name, { ownerId, readyAtMs, file });
    return name;
  }

  get(name: string): AsyncReport | undefined {
    return this.files.get(name);
  }

  clear(): void {
    this.files.clear();
  }
}
