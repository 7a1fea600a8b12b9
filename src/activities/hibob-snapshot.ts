/**
 * The HiBob population a full sync starts from: one people search, or, when the connection
 * names a HiBob custom report (`source.report`), that report, read the way Skillcast's native
 * HiBob provisioning reads it (contracts: hibob.md §9, skillcast.md §5).
 *
 * Either way the result is one record per employee in Bob's dual shape keyed by field id, which
 * is what `normaliseEmployee` reads. A report is checked before anything is returned: every
 * field the mapping reads must be a column of it, so a renamed or removed column stops the run
 * before any write (a non-retryable `reportColumns` failure naming each column and the report).
 * Rows without a usable identity, and rows sharing one, are left out and returned as problems;
 * the ids they carry are in HiBob and must not be taken for leavers.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { HibobClient } from '../clients/hibob/client';
import { EmployeeRecords } from '../clients/hibob/employee-records';
import {
  HibobReportClient,
  type HibobReportClientOptions,
  type ReportDownloadMode,
  type ReportView,
} from '../clients/hibob/reports';
import { readSecret } from '../config/loader';
import type { ConnectionConfig } from '../config/schema';
import { conditionFields, expressionFields } from '../domain/expressions';
import type { MappingConfig } from '../domain/mapping-schema';
import { hibobFieldsFor } from '../domain/normalise';
import { readReportFeed, type FieldNaming, type RequiredColumn } from '../domain/report-feed';

/** What a report read needs from the report client (a `HibobReportClient` fits). */
export type HibobReportReader = Pick<HibobReportClient, 'listReports' | 'listFields' | 'downloadJson'>;

/** Where the population comes from: the connection's people-search client and, for report connections, its report client. */
export interface HibobSnapshotSource {
  /** The connection's HiBob client; used when the connection reads no report. */
  hibob: Pick<HibobClient, 'searchPeopleAnswer'>;
  /** The connection's report client (e.g. from `hibobReportClients`); only called when the connection reads a report. */
  reports?: (connection: ConnectionConfig) => HibobReportReader;
}

export interface ReadHibobPopulationOptions {
  /** Cancels the report calls, including the wait for an asynchronous report file. */
  signal?: AbortSignal;
  /** Called while HiBob is being read (the activity's heartbeat). */
  heartbeat?: (details: unknown) => void;
  /** How often `heartbeat` is called while one HiBob call is under way (default 10 s). */
  heartbeatIntervalMs?: number;
  /** How the report file is obtained (default `auto`: synchronously, or asynchronously when Bob says it is too large). */
  downloadMode?: ReportDownloadMode;
}

export interface HibobPopulationProblem {
  /** 1-based row of the report. */
  row: number;
  employeeId?: string;
  identity?: string;
  code: string;
  message: string;
}

export interface HibobPopulation {
  /** What normaliseEmployee reads, one per employee. */
  records: EmployeeRecords;
  source:
    { kind: 'search' } | { kind: 'report'; reportName: string; reportId: number | string; humanReadable: boolean };
  /** Report rows left out (no usable identity, duplicates): the caller parks them in the report; the ids/keys in heldEmployeeIds/heldKeys must not count as leavers. */
  problems: HibobPopulationProblem[];
  /** HiBob ids of rows left out. */
  heldEmployeeIds: string[];
  /** Identity values (the identity column's value, e.g. the email) of rows left out. */
  heldKeys: string[];
}

const DEFAULT_HEARTBEAT_INTERVAL_MS = 10_000;

/** Fields every employee needs whatever the mapping says: its id and what the status rules read. */
const STATUS_FIELDS: Record<string, string> = {
  'root.id': "the employee's id",
  'root.email': 'matching',
  'internal.status': 'status rules',
  'internal.lifecycleStatus': 'status rules',
  'internal.terminationDate': 'status rules',
  'employee.lastDayOfWork': 'status rules',
  'work.startDate': 'status rules',
};

/** Site fields only serve `status.siteTimeZones`; a report needs one of them when that is set, or any the mapping reads. */
const SITE_FIELDS = ['work.site', 'work.siteId'] as const;

/**
 * The fields a report must have for this mapping, each with what reads it (for messages). Every
 * field of `hibobFieldsFor` is listed except the site fields, which are required only where the
 * mapping reads them explicitly; `status.siteTimeZones` is checked separately.
 */
export function reportFieldUses(mapping: MappingConfig): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (fieldId: string, use: string) => {
    const list = uses.get(fieldId) ?? [];
    if (!list.includes(use)) list.push(use);
    uses.set(fieldId, list);
  };
  for (const [fieldId, use] of Object.entries(STATUS_FIELDS)) add(fieldId, use);
  for (const [name, expr] of Object.entries(mapping.fields))
    if (expr) expressionFields(expr).forEach((f) => add(f, `fields.${name}`));
  for (const custom of mapping.customFields)
    expressionFields(custom.source).forEach((f) => add(f, `customFields "${custom.name}"`));
  mapping.groups.forEach((rule, i) => conditionFields(rule.when).forEach((f) => add(f, `groups[${i}]`)));
  if (mapping.scope.include) conditionFields(mapping.scope.include).forEach((f) => add(f, 'scope.include'));
  if (mapping.scope.exclude) conditionFields(mapping.scope.exclude).forEach((f) => add(f, 'scope.exclude'));
  if (mapping.manager.enabled) add('work.reportsTo', 'manager');
  if (mapping.status.timeZoneField) add(mapping.status.timeZoneField, 'status.timeZoneField');
  // Whatever else the people search would request is needed too.
  for (const fieldId of hibobFieldsFor(mapping)) {
    if (!uses.has(fieldId) && !(SITE_FIELDS as readonly string[]).includes(fieldId)) add(fieldId, 'the mapping');
  }
  return uses;
}

/** Column name of a field: the connection's column mapping first, then the field's metadata name, then its id. */
function columnNameOf(
  fieldId: string,
  configured: Readonly<Record<string, string>>,
  metadata: ReadonlyMap<string, FieldNaming>,
): string {
  const named = Object.entries(configured).find(([, id]) => id === fieldId);
  return named ? named[0] : (metadata.get(fieldId)?.name ?? fieldId);
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Where a field sits in a record: root fields at the top level, others at their id. */
const pathOf = (fieldId: string) => (fieldId.startsWith('root.') ? fieldId.slice('root.'.length) : fieldId).split('.');

function copyPath(from: JsonObject, to: JsonObject, path: readonly string[]): void {
  let source: unknown = from;
  for (const part of path) {
    if (!isObject(source) || !(part in source)) return;
    source = source[part];
  }
  let target = to;
  for (const part of path.slice(0, -1)) {
    if (!isObject(target[part])) target[part] = {};
    target = target[part] as JsonObject;
  }
  target[path[path.length - 1]!] = source;
}

/**
 * A report row limited to `fieldIds`, as a people search asking for those fields answers: the
 * nested value, the slash key and the humanReadable mirror of each. Other columns of the report
 * are left out, so the records do not depend on what else the report shows.
 */
function pickFields(row: JsonObject, fieldIds: readonly string[]): JsonObject {
  const picked: JsonObject = {};
  const human: JsonObject = {};
  for (const fieldId of fieldIds) {
    const path = pathOf(fieldId);
    copyPath(row, picked, path);
    const slash = `/${fieldId.split('.').join('/')}`;
    if (slash in row) picked[slash] = row[slash];
    if (isObject(row.humanReadable)) copyPath(row.humanReadable, human, path);
  }
  if (isObject(row.humanReadable)) picked.humanReadable = human;
  return picked;
}

/** Calls `beat` every `intervalMs` until `work` settles. */
async function beating<T>(work: Promise<T>, beat: (() => void) | undefined, intervalMs: number): Promise<T> {
  if (!beat) return work;
  const timer = setInterval(beat, intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function findReportByName(views: readonly ReportView[], wanted: string): ReportView {
  const text = wanted.trim();
  const exact = views.filter((v) => v.name === wanted);
  const matches = exact.length > 0 ? exact : views.filter((v) => v.name.trim().toLowerCase() === text.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw ApplicationFailure.create({
      type: 'reportAmbiguous',
      nonRetryable: true,
      message: `${matches.length} HiBob reports are named "${text}" (ids ${matches.map((v) => v.id).join(', ')}); give one of them another name in Bob`,
      details: [{ report: text, ids: matches.map((v) => v.id) }],
    });
  }
  const available = views.length > 0 ? views.map((v) => `"${v.name}"`).join(', ') : 'none';
  throw ApplicationFailure.create({
    type: 'reportNotFound',
    nonRetryable: true,
    message: `no HiBob report named "${text}" among the reports the service user can see: ${available}`,
    details: [{ report: text, available: views.map((v) => v.name) }],
  });
}

/**
 * Reads the employees a full sync plans from. Without `source.report`: one people search of
 * the fields the mapping reads, inactive people included, with labels (humanReadable APPEND).
 * With it: the named report, its columns checked against the mapping before anything is returned.
 *
 * Throws non-retryable ApplicationFailures `reportNotFound`, `reportAmbiguous` and
 * `reportColumns`; HiBob call failures are ApiErrors, to be classified by the caller.
 */
export async function readHibobPopulation(
  deps: HibobSnapshotSource,
  connection: ConnectionConfig,
  options: ReadHibobPopulationOptions = {},
): Promise<HibobPopulation> {
  const { mapping, source } = connection;
  const interval = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
  const heartbeat = options.heartbeat;
  const report = source.report;

  if (!report) {
    const beat = heartbeat && (() => heartbeat({ phase: 'search' }));
    const records = await beating(
      deps.hibob.searchPeopleAnswer(
        { fields: hibobFieldsFor(mapping), showInactive: true, humanReadable: 'APPEND' },
        { signal: options.signal },
      ),
      beat,
      interval,
    );
    heartbeat?.({ phase: 'search', employees: records.length });
    return { records, source: { kind: 'search' }, problems: [], heldEmployeeIds: [], heldKeys: [] };
  }

  if (!deps.reports)
    throw new Error(`connection "${connection.name}" reads a HiBob report, but no report client was given`);
  const client = deps.reports(connection);
  const { signal } = options;
  const view = findReportByName(await client.listReports({ signal }), report.name);
  heartbeat?.({ phase: 'report', report: view.name, reportId: view.id });

  const started = Date.now();
  const beat =
    heartbeat &&
    (() => heartbeat({ phase: 'report', report: view.name, reportId: view.id, waitedMs: Date.now() - started }));
  // Field metadata names the columns the connection does not name. Bob's machine-readable file
  // is the APPEND file without its humanReadable mirror, so the report is always asked with APPEND.
  const fields = await client.listFields({ signal });
  const download = await beating(
    client.downloadJson(view.id, { mode: options.downloadMode ?? 'auto', humanReadable: 'APPEND', signal }),
    beat,
    interval,
  );
  const rows = report.humanReadable
    ? download.employees
    : download.employees.map((row) =>
        Object.fromEntries(Object.entries(row).filter(([key]) => key !== 'humanReadable')),
      );
  heartbeat?.({ phase: 'report', report: view.name, reportId: view.id, rows: rows.length, via: download.via });

  const metadata = new Map(fields.map((f) => [f.id, f]));
  const requiredColumns: RequiredColumn[] = [...reportFieldUses(mapping)].map(([fieldId, uses]) => ({
    column: columnNameOf(fieldId, report.columns, metadata),
    mappedTo: `HiBob field ${fieldId}, used for ${uses.join(', ')}`,
  }));
  const result = readReportFeed(
    { employees: rows, humanReadable: 'APPEND' },
    {
      reportName: view.name,
      columns: report.columns,
      fields,
      identityColumn: report.identityColumn,
      requiredColumns,
      siteTimeZones: mapping.status.siteTimeZones,
      timeZoneField: mapping.status.timeZoneField,
    },
  );
  const columnProblems: { code: string; column?: string; message: string }[] = result.ok
    ? []
    : result.errors.map((e) => ({ code: e.code, column: e.column, message: e.message }));
  if (result.ok && Object.keys(mapping.status.siteTimeZones).length > 0) {
    const present = new Set(result.report.columns.map((c) => c.fieldId));
    if (!SITE_FIELDS.some((f) => present.has(f))) {
      const names = SITE_FIELDS.map((f) => `"${columnNameOf(f, report.columns, metadata)}"`).join(' or ');
      columnProblems.push({
        code: 'missingColumn',
        column: columnNameOf('work.site', report.columns, metadata),
        message: `report "${view.name}" has no column ${names} (HiBob field work.site or work.siteId, used for status.siteTimeZones)`,
      });
    }
  }
  if (!result.ok || columnProblems.length > 0) {
    throw ApplicationFailure.create({
      type: 'reportColumns',
      nonRetryable: true,
      message: `HiBob report "${view.name}" does not fit the mapping; nothing was written:\n- ${columnProblems.map((p) => p.message).join('\n- ')}`,
      details: [{ report: view.name, reportId: view.id, problems: columnProblems }],
    });
  }

  const { feed, report: parsed } = result;
  const sourceOfRow = new Map(parsed.rows.map((r) => [r.row, r.source]));
  const wanted = hibobFieldsFor(mapping);
  const problems: HibobPopulationProblem[] = feed.problems.map((p) => ({
    row: p.row,
    ...(p.employeeId !== undefined ? { employeeId: p.employeeId } : {}),
    ...(p.identity !== undefined ? { identity: p.identity } : {}),
    code: p.code,
    message: p.message,
  }));
  const heldEmployeeIds = [...feed.heldEmployeeIds];
  const heldKeys = [...feed.heldKeys];
  const records: Record<string, unknown>[] = [];
  for (const employee of feed.employees) {
    const record = pickFields(sourceOfRow.get(employee.row)!, wanted);
    const id = record.id;
    // A record without its HiBob id cannot be synchronised; its identity stays in HiBob all the same.
    if ((typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') {
      problems.push({
        row: employee.row,
        identity: employee.key,
        code: 'missingEmployeeId',
        message: `row ${employee.row} of report "${view.name}" ("${employee.key}") has no HiBob employee id; the row is left out`,
      });
      heldKeys.push(employee.key);
      continue;
    }
    records.push(record);
  }
  problems.sort((a, b) => a.row - b.row);
  return {
    records: EmployeeRecords.of(records),
    source: { kind: 'report', reportName: view.name, reportId: view.id, humanReadable: report.humanReadable },
    problems,
    heldEmployeeIds,
    heldKeys,
  };
}

/** Report-client settings a caller may tune (tests shorten the polling). */
export type HibobReportClientTuning = Partial<
  Pick<HibobReportClientOptions, 'poll' | 'timeoutMs' | 'downloadsPerMinute'>
>;

/**
 * One report client per connection (its download budget is per service user and must be shared
 * by every run), built from the connection's source on first use. Build this once per worker
 * and pass the returned function as `HibobSnapshotSource.reports`.
 */
export function hibobReportClients(
  env: NodeJS.ProcessEnv,
  fetchImpl?: typeof fetch,
  tuning: HibobReportClientTuning = {},
): (connection: ConnectionConfig) => HibobReportClient {
  const clients = new Map<string, HibobReportClient>();
  return (connection) => {
    const { source } = connection;
    const key = [connection.name, source.baseUrl, source.serviceUserId, source.serviceUserToken.env].join('\n');
    let client = clients.get(key);
    if (!client) {
      client = new HibobReportClient({
        baseUrl: source.baseUrl,
        serviceUserId: source.serviceUserId,
        token: readSecret(source.serviceUserToken, env),
        fetch: fetchImpl,
        ...tuning,
      });
      clients.set(key, client);
    }
    return client;
  };
}
