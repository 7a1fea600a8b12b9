/**
 * A HiBob custom report as a feed of employees, the way Skillcast's native HiBob provisioning
 * reads it: each report column has a name (Skillcast's "data feed name": "Email", "First name",
 * "Department") and every row is addressed by those names. The same rows also become the
 * `NormalisedEmployee` the domain engine works with (fields keyed by HiBob field id).
 *
 * Bob's JSON report carries no column names: it is `{"employees":[…]}` in the dual shape of the
 * people API (slash keys by field id, nested values by jsonPath, an optional `humanReadable`
 * mirror), limited to the report's fields. Column names therefore come from the connection's
 * column mapping (name → field id, for columns renamed in the report), then from field
 * metadata (Bob names a column after its field by default), and last from the field id itself.
 *
 * Before anything is written, `validateReportColumns` checks that the report has every column
 * the mapping needs, the identity column included, and names the missing column and the report.
 * Rows without a usable identity and rows sharing one are per-row problems, not feed failures.
 *
 * Pure: no I/O, no clock.
 */
import { defaultJsonPath, nested, normaliseEmployee, type NormaliseOptions } from './normalise';
import type { NormalisedEmployee, SourceField, SourceValue } from './types';

export type ReportHumanReadable = 'APPEND' | 'REPLACE';

/** A downloaded JSON report (what `HibobReportClient.downloadJson` returns fits). */
export interface ReportDocument {
  employees: readonly Record<string, unknown>[];
  /** How the report was downloaded; APPEND when unknown. */
  humanReadable?: ReportHumanReadable;
}

/** A report column: its name in the report and the HiBob field behind it. */
export interface ReportColumnDef {
  name: string;
  fieldId: string;
  /** Where the value sits in each row when it differs from the field id (custom fields); metadata supplies it. */
  jsonPath?: string;
}

/** Field metadata as `GET /company/people/fields` returns it (only these keys are read). */
export interface FieldNaming {
  id: string;
  name: string;
  jsonPath?: string;
}

export interface ParseReportOptions {
  /** Column name → HiBob field id for the report's columns, at least those renamed in Bob ("Bob ID" → root.id). */
  columns?: Readonly<Record<string, string>> | readonly ReportColumnDef[];
  /** Field metadata: names every other column after its field, as Bob does by default. */
  fields?: readonly FieldNaming[];
  /** Overrides the document's own `humanReadable`. */
  humanReadable?: ReportHumanReadable;
}

export interface ReportColumnInfo {
  name: string;
  fieldId: string;
  /** Where the name comes from: the column mapping, the field's metadata name, or nothing (the field id). */
  namedBy: 'mapping' | 'metadata' | 'fieldId';
}

/** A feed cell as a feed consumer sees it: the display value when Bob sent one. */
export type FeedValue = string | number | boolean | null;

export interface ReportRow {
  /** 1-based position in the report. */
  row: number;
  /** Machine value and label by column name. A column the report lacks is absent. */
  cells: Record<string, SourceField>;
  /** Display value (label, else machine value) by column name, as a data feed reads it. */
  feed: Record<string, FeedValue>;
  /** The row's values in the dual shape keyed by field id, as the normaliser reads them. */
  source: Record<string, unknown>;
}

export interface ParsedReport {
  humanReadable: ReportHumanReadable;
  /** Columns present in the report, in the order Bob sends their fields. */
  columns: ReportColumnInfo[];
  /** Mapped columns whose field is not in the report (removed from it, or not readable by the service user). */
  unavailable: ReportColumnDef[];
  /** Names given to more than one field, with those fields; the first one is used. */
  ambiguous: Record<string, string[]>;
  rows: ReportRow[];
}

/** A column the mapping needs; `mappedTo` says what it feeds, for the error message. */
export interface RequiredColumn {
  column: string;
  mappedTo?: string;
}

export interface ValidateColumnsOptions {
  reportName: string;
  requiredColumns: readonly (string | RequiredColumn)[];
  /** The column whose value identifies a row: the HiBob id or the email column, as configured. */
  identityColumn: string;
}

export type ReportColumnProblemCode = 'missingColumn' | 'missingIdentityColumn' | 'ambiguousColumn' | 'emptyReport';

export interface ReportColumnProblem {
  code: ReportColumnProblemCode;
  column?: string;
  message: string;
}

export interface ReportFeedOptions extends NormaliseOptions {
  identityColumn: string;
  /** For messages (default: the report). */
  reportName?: string;
}

export type IdentityKind = 'id' | 'email' | 'other';

/** An employee read from a report row. */
export interface ReportEmployee extends NormalisedEmployee {
  /**
   * The identity column's value: the HiBob id or the email, trimmed. `id` is the row's root.id
   * when the report has that column, otherwise this key.
   */
  key: string;
  /** 1-based position in the report. */
  row: number;
  /** Machine value and label by column name. */
  columns: Record<string, SourceField>;
}

export type ReportRowProblemCode = 'emptyIdentity' | 'invalidIdentity' | 'duplicateIdentity';

export interface ReportRowProblem {
  row: number;
  code: ReportRowProblemCode;
  /** The identity value as the row holds it. */
  identity?: string;
  /** Every row sharing the identity (duplicates). */
  rows?: number[];
  /** HiBob root.id of the row, when the report has that column. */
  employeeId?: string;
  message: string;
}

export interface ReportFeed {
  identity: { column: string; fieldId: string; kind: IdentityKind };
  /** Rows with a usable, unique identity, in report order. */
  employees: ReportEmployee[];
  /** Rows left out, one entry per row. */
  problems: ReportRowProblem[];
  /**
   * Identities carried by rows that were left out (duplicates). They are in the report, so a
   * snapshot consumer must not treat them as leavers.
   */
  heldKeys: string[];
  /** HiBob ids of rows that were left out, when the report has root.id; likewise not leavers. */
  heldEmployeeIds: string[];
}

export type ReadReportFeedResult =
  | { ok: true; report: ParsedReport; feed: ReportFeed }
  | { ok: false; report: ParsedReport; errors: ReportColumnProblem[] };

export interface ReadReportFeedOptions extends ParseReportOptions, ReportFeedOptions {
  reportName: string;
  requiredColumns?: readonly (string | RequiredColumn)[];
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Objects that are one value rather than a category: an employee reference or a period. */
function isValueObject(value: JsonObject): boolean {
  return 'id' in value || 'periodISO' in value;
}

function slashKey(fieldId: string): string {
  return `/${fieldId.split('.').join('/')}`;
}

function fieldIdOfSlashKey(key: string): string {
  return key.slice(1).split('/').join('.');
}

function setPath(target: JsonObject, path: readonly string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (!isObject(next)) node[part] = {};
    node = node[part] as JsonObject;
  }
  node[path[path.length - 1]!] = value;
}

interface ColumnSource {
  fieldId: string;
  path: string[];
}

/** The machine (or, under REPLACE, display) value of a field in a row; `found: false` when the row lacks it. */
function readValue(raw: JsonObject, col: ColumnSource): { found: boolean; value: unknown } {
  const value = nested(raw, col.path);
  if (value !== undefined) return { found: true, value };
  const slash = raw[slashKey(col.fieldId)];
  if (isObject(slash) && 'value' in slash) return { found: true, value: slash.value };
  return { found: false, value: undefined };
}

function readDisplay(raw: JsonObject, col: ColumnSource): unknown {
  const human = raw.humanReadable;
  if (!isObject(human)) return undefined;
  const value = nested(human, col.path);
  if (value !== undefined) return value;
  const slash = human[slashKey(col.fieldId)];
  return isObject(slash) && 'value' in slash ? slash.value : undefined;
}

function feedValueOf(field: SourceField | undefined): FeedValue {
  if (!field) return null;
  const shown: SourceValue = field.label !== undefined ? field.label : field.value;
  if (shown === undefined || shown === null) return null;
  if (Array.isArray(shown)) return shown.join(', ');
  return shown;
}

/** Under REPLACE a value is already the display value: it is its own label (empty values have none, as under APPEND). */
function asOwnLabel(field: SourceField): void {
  const value = field.value;
  if (value === undefined || value === null) return;
  field.label = Array.isArray(value) ? value.join(', ') : String(value);
}

function mappingColumns(columns: ParseReportOptions['columns']): ReportColumnDef[] {
  if (!columns) return [];
  if (Array.isArray(columns)) return (columns as readonly ReportColumnDef[]).map((c) => ({ ...c }));
  return Object.entries(columns as Readonly<Record<string, string>>).map(([name, fieldId]) => ({ name, fieldId }));
}

/**
 * Reads a downloaded JSON report into rows addressed by column name. Which fields the report
 * has is read from the rows themselves (a field some row carries is a column of the report;
 * rows lacking it hold an empty value, since Bob leaves slash keys out for empty values).
 */
export function parseReport(doc: ReportDocument, options: ParseReportOptions = {}): ParsedReport {
  const humanReadable = options.humanReadable ?? doc.humanReadable ?? 'APPEND';
  const mapped = mappingColumns(options.columns);
  const metadata = new Map((options.fields ?? []).map((f) => [f.id, f]));

  const jsonPathOf = (fieldId: string, own?: string) =>
    own ?? metadata.get(fieldId)?.jsonPath ?? defaultJsonPath(fieldId);
  // Known json paths → field id, so nested values are attributed to the right field.
  const fieldAtPath = new Map<string, string>();
  for (const f of metadata.values()) fieldAtPath.set(jsonPathOf(f.id), f.id);
  for (const c of mapped) fieldAtPath.set(jsonPathOf(c.fieldId, c.jsonPath), c.fieldId);
  // Paths stated by the mapping or metadata; other fields sit where their id says, or where they were found.
  const statedPath = (fieldId: string) =>
    mapped.find((c) => c.fieldId === fieldId && c.jsonPath)?.jsonPath ?? metadata.get(fieldId)?.jsonPath;

  // Fields present in the report, in the order Bob sends them. Slash keys name fields by id;
  // nested values are attributed through known json paths, else their path is taken as the id.
  const order: Array<{ fieldId: string } | { path: string }> = [];
  const ordered = new Set<string>();
  const note = (entry: { fieldId: string } | { path: string }) => {
    const token = 'fieldId' in entry ? `f:${entry.fieldId}` : `p:${entry.path}`;
    if (ordered.has(token)) return;
    ordered.add(token);
    order.push(entry);
  };
  const slashFields = new Set<string>();
  const leafPaths = new Set<string>();
  const walk = (node: JsonObject, path: string[], raw: JsonObject) => {
    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key];
      const joined = at.join('.');
      const known = fieldAtPath.get(joined);
      if (known) note({ fieldId: known });
      else if (isObject(value) && !isValueObject(value) && !(slashKey(joined) in raw)) walk(value, at, raw);
      else {
        leafPaths.add(joined);
        note(at.length === 1 ? { fieldId: `root.${key}` } : { path: joined });
      }
    }
  };
  for (const raw of doc.employees) {
    for (const key of Object.keys(raw)) {
      if (!key.startsWith('/')) continue;
      slashFields.add(fieldIdOfSlashKey(key));
      note({ fieldId: fieldIdOfSlashKey(key) });
    }
    const body: JsonObject = {};
    for (const [key, value] of Object.entries(raw))
      if (key !== 'humanReadable' && !key.startsWith('/')) body[key] = value;
    walk(body, [], raw);
  }
  // Without metadata, a custom field nested under its category (custom.category_1.field_9) is the
  // field whose slash key ends the same way (/custom/field_9) and that has no value at its own path.
  const lastSegment = (text: string) => text.slice(text.lastIndexOf('.') + 1);
  for (const path of leafPaths) {
    if (fieldAtPath.has(path) || slashFields.has(path)) continue;
    const owners = [...slashFields].filter(
      (id) => id !== path && lastSegment(id) === lastSegment(path) && !leafPaths.has(jsonPathOf(id)),
    );
    if (owners.length === 1) fieldAtPath.set(path, owners[0]!);
  }
  const present = new Set<string>();
  const pathOfField = new Map<string, string>();
  for (const entry of order) {
    if ('fieldId' in entry) present.add(entry.fieldId);
    else {
      const owner = fieldAtPath.get(entry.path);
      present.add(owner ?? entry.path);
      if (owner) pathOfField.set(owner, entry.path);
    }
  }

  // Name every present field: mapping first, then metadata, then the field id.
  const columns: ReportColumnInfo[] = [];
  const sources = new Map<string, ColumnSource>();
  const namedByMapping = new Map<string, string[]>();
  for (const c of mapped) namedByMapping.set(c.fieldId, [...(namedByMapping.get(c.fieldId) ?? []), c.name]);
  for (const fieldId of present) {
    sources.set(fieldId, {
      fieldId,
      path: (statedPath(fieldId) ?? pathOfField.get(fieldId) ?? defaultJsonPath(fieldId)).split('.'),
    });
    const names = namedByMapping.get(fieldId);
    if (names) for (const name of names) columns.push({ name, fieldId, namedBy: 'mapping' });
    else {
      const meta = metadata.get(fieldId);
      columns.push(
        meta ? { name: meta.name, fieldId, namedBy: 'metadata' } : { name: fieldId, fieldId, namedBy: 'fieldId' },
      );
    }
  }
  // One field per name: a mapped name beats a metadata name; two unmapped fields sharing a name are ambiguous.
  const byName = new Map<string, ReportColumnInfo[]>();
  for (const c of columns) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const ambiguous: Record<string, string[]> = {};
  const kept: ReportColumnInfo[] = [];
  for (const c of columns) {
    const same = byName.get(c.name)!;
    const winner = same.find((s) => s.namedBy === 'mapping') ?? same[0]!;
    const fields = [...new Set(same.map((s) => s.fieldId))];
    if (fields.length > 1 && !same.some((s) => s.namedBy === 'mapping')) ambiguous[c.name] = fields;
    if (c === winner) kept.push(c);
  }

  const rows = doc.employees.map((raw, i) => buildRow(raw, i + 1, kept, sources, humanReadable));
  const unavailable = mapped.filter((c) => !present.has(c.fieldId));
  return { humanReadable, columns: kept, unavailable, ambiguous, rows };
}

function buildRow(
  raw: JsonObject,
  rowNumber: number,
  columns: readonly ReportColumnInfo[],
  sources: ReadonlyMap<string, ColumnSource>,
  humanReadable: ReportHumanReadable,
): ReportRow {
  const source: JsonObject = {};
  const human: JsonObject = {};
  const fieldIds = [...new Set(columns.map((c) => c.fieldId))];
  for (const fieldId of fieldIds) {
    const col = sources.get(fieldId)!;
    const { value } = readValue(raw, col);
    const path = defaultJsonPath(fieldId).split('.');
    const machine = value === undefined ? null : value;
    setPath(source, path, machine);
    if (machine !== null && !(Array.isArray(machine) && machine.length === 0))
      source[slashKey(fieldId)] = { value: machine };
    if (humanReadable === 'APPEND') {
      const display = readDisplay(raw, col);
      if (display !== undefined) setPath(human, path, display);
    }
  }
  if (humanReadable === 'APPEND' && Object.keys(human).length > 0) source.humanReadable = human;

  const fields = normaliseFields(source, humanReadable);
  const cells: Record<string, SourceField> = {};
  const feed: Record<string, FeedValue> = {};
  for (const c of columns) {
    const field = fields[c.fieldId] ?? { value: null };
    cells[c.name] = field;
    feed[c.name] = feedValueOf(field);
  }
  return { row: rowNumber, cells, feed, source };
}

/** Fields of a rebuilt row keyed by field id; under REPLACE the values are display values and double as labels. */
function normaliseFields(source: JsonObject, humanReadable: ReportHumanReadable): Record<string, SourceField> {
  const { fields } = normaliseRow(source);
  if (humanReadable === 'REPLACE') {
    for (const field of Object.values(fields)) asOwnLabel(field);
  }
  return fields;
}

/** Normalises a rebuilt row whatever its root.id holds; the caller decides what the id is. */
function normaliseRow(source: JsonObject, options: NormaliseOptions = {}): NormalisedEmployee {
  const hasId = 'id' in source;
  const id = source.id;
  const usable = typeof id === 'string' || typeof id === 'number';
  const employee = normaliseEmployee(usable ? source : { ...source, id: '' }, options);
  if (!hasId) delete employee.fields['root.id'];
  else if (!usable) employee.fields['root.id'] = { value: id === undefined ? undefined : null };
  return employee;
}

const MAX_LISTED_COLUMNS = 40;

function listColumns(report: ParsedReport): string {
  if (report.columns.length === 0) return '(none)';
  const names = report.columns.map((c) => c.name);
  const shown = names.slice(0, MAX_LISTED_COLUMNS).join(', ');
  return names.length > MAX_LISTED_COLUMNS ? `${shown} … and ${names.length - MAX_LISTED_COLUMNS} more` : shown;
}

function squash(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(above + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

/** A column of the report whose name is close to `wanted` (case, spacing, a typo). */
function nearColumn(report: ParsedReport, wanted: string): string | undefined {
  const target = squash(wanted);
  const names = report.columns.map((c) => c.name);
  const same = names.find((n) => squash(n) === target);
  if (same) return same;
  if (target.length < 4) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(squash(name), target);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function findColumn(report: ParsedReport, name: string): ReportColumnInfo | undefined {
  return report.columns.find((c) => c.name === name);
}

function missingMessage(
  report: ParsedReport,
  reportName: string,
  column: string,
  what: string,
  mappedTo?: string,
): string {
  let message = `report "${reportName}" has no ${what}"${column}"${mappedTo ? ` (mapped to ${mappedTo})` : ''}`;
  const configured = report.unavailable.find((c) => c.name === column);
  if (configured)
    message += `: its field ${configured.fieldId} is not in the report, or the service user may not read it`;
  message += `; its columns are: ${listColumns(report)}`;
  const near = nearColumn(report, column);
  if (near) message += `; did you mean "${near}"?`;
  return message;
}

/**
 * Checks, before any write, that the report has the identity column and every required column,
 * each under exactly one field. Returns every problem (empty when the report fits).
 */
export function validateReportColumns(report: ParsedReport, options: ValidateColumnsOptions): ReportColumnProblem[] {
  const { reportName, identityColumn } = options;
  const problems: ReportColumnProblem[] = [];
  if (report.rows.length === 0) {
    problems.push({
      code: 'emptyReport',
      message: `report "${reportName}" has no rows, so its columns cannot be checked; check the report's filters and the service user's access to people`,
    });
    return problems;
  }
  const ambiguity = (column: string) => {
    const fields = report.ambiguous[column];
    if (!fields) return;
    problems.push({
      code: 'ambiguousColumn',
      column,
      message: `report "${reportName}" has ${fields.length} fields named "${column}" (${fields.join(', ')}); map the column to one field id`,
    });
  };
  if (!findColumn(report, identityColumn)) {
    problems.push({
      code: 'missingIdentityColumn',
      column: identityColumn,
      message: missingMessage(report, reportName, identityColumn, 'identity column '),
    });
  } else ambiguity(identityColumn);
  const seen = new Set<string>([identityColumn]);
  for (const required of options.requiredColumns) {
    const { column, mappedTo } = typeof required === 'string' ? { column: required, mappedTo: undefined } : required;
    if (seen.has(column)) continue;
    seen.add(column);
    if (!findColumn(report, column)) {
      problems.push({
        code: 'missingColumn',
        column,
        message: missingMessage(report, reportName, column, 'column ', mappedTo),
      });
    } else ambiguity(column);
  }
  return problems;
}

function identityKindOf(fieldId: string): IdentityKind {
  if (fieldId === 'root.id') return 'id';
  if (fieldId === 'root.email') return 'email';
  return 'other';
}

function textOf(field: SourceField | undefined): string {
  const value = field?.value;
  if (value === null || value === undefined) return '';
  return (Array.isArray(value) ? value.join(', ') : String(value)).trim();
}

function identityProblem(kind: IdentityKind, key: string): string | undefined {
  if (kind === 'id' && !/^\d+$/.test(key)) return 'is not a HiBob employee id';
  if (kind === 'email' && !/^[^@\s]+@[^@\s]+$/.test(key)) return 'is not an email address';
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Turns parsed rows into employees keyed by the identity column. Rows with an empty or malformed
 * identity and rows sharing an identity (email compared without case) are left out and reported
 * one by one. Under REPLACE the values are display values: dates that are not ISO and manager
 * names are left unknown rather than misread.
 */
export function reportEmployees(report: ParsedReport, options: ReportFeedOptions): ReportFeed {
  const reportLabel = options.reportName ? `report "${options.reportName}"` : 'the report';
  const identityColumn = findColumn(report, options.identityColumn);
  if (!identityColumn)
    throw new Error(
      missingMessage(report, options.reportName ?? 'the report', options.identityColumn, 'identity column '),
    );
  const kind = identityKindOf(identityColumn.fieldId);
  const hasRootId = report.columns.some((c) => c.fieldId === 'root.id');
  const feed: ReportFeed = {
    identity: { column: identityColumn.name, fieldId: identityColumn.fieldId, kind },
    employees: [],
    problems: [],
    heldKeys: [],
    heldEmployeeIds: [],
  };

  const candidates: ReportEmployee[] = [];
  for (const row of report.rows) {
    const key = textOf(row.cells[identityColumn.name]);
    const employee = toEmployee(row, options, report.humanReadable);
    const rootId = hasRootId ? textOf(employee.fields['root.id']) : '';
    const where = `row ${row.row} of ${reportLabel}`;
    const base = rootId ? { employeeId: rootId } : {};
    if (!key) {
      feed.problems.push({
        row: row.row,
        code: 'emptyIdentity',
        ...base,
        message: `${where} has no value in identity column "${identityColumn.name}"; the row is left out`,
      });
      if (rootId) feed.heldEmployeeIds.push(rootId);
      continue;
    }
    const invalid = identityProblem(kind, key);
    if (invalid) {
      feed.problems.push({
        row: row.row,
        code: 'invalidIdentity',
        identity: key,
        ...base,
        message: `${where}: "${key}" in identity column "${identityColumn.name}" ${invalid}; the row is left out`,
      });
      if (rootId) feed.heldEmployeeIds.push(rootId);
      continue;
    }
    const id = kind === 'id' ? key : rootId && /^\d+$/.test(rootId) ? rootId : key;
    candidates.push({ ...employee, id, key, row: row.row, columns: row.cells });
  }

  const compareKey = (key: string) => (kind === 'email' ? key.toLowerCase() : key);
  const byKey = new Map<string, ReportEmployee[]>();
  for (const c of candidates) byKey.set(compareKey(c.key), [...(byKey.get(compareKey(c.key)) ?? []), c]);
  for (const c of candidates) {
    const same = byKey.get(compareKey(c.key))!;
    if (same.length === 1) {
      feed.employees.push(c);
      continue;
    }
    const rows = same.map((s) => s.row);
    const rootId = hasRootId ? textOf(c.fields['root.id']) : '';
    feed.problems.push({
      row: c.row,
      code: 'duplicateIdentity',
      identity: c.key,
      rows,
      ...(rootId ? { employeeId: rootId } : {}),
      message: `row ${c.row} of ${reportLabel}: "${c.key}" in identity column "${identityColumn.name}" is on rows ${rows.join(', ')}; none of them is used`,
    });
    if (same[0] === c) feed.heldKeys.push(c.key);
    if (rootId) feed.heldEmployeeIds.push(rootId);
  }
  feed.problems.sort((a, b) => a.row - b.row);
  return feed;
}

function toEmployee(row: ReportRow, options: NormaliseOptions, humanReadable: ReportHumanReadable): NormalisedEmployee {
  const employee = normaliseRow(row.source, {
    siteTimeZones: options.siteTimeZones,
    timeZoneField: options.timeZoneField,
  });
  if (humanReadable === 'REPLACE') {
    for (const field of Object.values(employee.fields)) asOwnLabel(field);
    const lifecycle = employee.lifecycle;
    for (const key of ['startDate', 'terminationDate', 'lastDayOfWork'] as const) {
      const value = lifecycle[key];
      if (typeof value === 'string' && !ISO_DATE.test(value)) lifecycle[key] = undefined;
    }
    if (typeof employee.managerId === 'string' && !/^\d+$/.test(employee.managerId)) employee.managerId = undefined;
  }
  return employee;
}

/**
 * The whole path from a downloaded report to employees: parse, validate the columns (nothing is
 * returned to write when a column is missing), then read the rows.
 */
export function readReportFeed(doc: ReportDocument, options: ReadReportFeedOptions): ReadReportFeedResult {
  const report = parseReport(doc, options);
  const errors = validateReportColumns(report, {
    reportName: options.reportName,
    requiredColumns: options.requiredColumns ?? [],
    identityColumn: options.identityColumn,
  });
  if (errors.length > 0) return { ok: false, report, errors };
  return { ok: true, report, feed: reportEmployees(report, options) };
}
