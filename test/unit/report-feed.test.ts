/**
 * A HiBob custom report as an employee feed: rows addressed by column name (Skillcast's data
 * feed names), the NormalisedEmployee they become, and the checks that run before any write.
 */
import { normaliseEmployee } from '../../src/domain/normalise';
import {
  parseReport,
  readReportFeed,
  reportEmployees,
  validateReportColumns,
  type FieldNaming,
  type ReportDocument,
  type ReportHumanReadable,
} from '../../src/domain/report-feed';

/** One report column as Bob renders it: field id, where it sits, machine and display value. */
interface Cell {
  fieldId: string;
  jsonPath?: string;
  machine: unknown;
  display?: unknown;
}

const pathOf = (c: Cell) => (c.jsonPath ?? (c.fieldId.startsWith('root.') ? c.fieldId.slice(5) : c.fieldId)).split('.');

function put(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

/** A report row in Bob's dual shape: slash keys for non-empty values, nested values, humanReadable under APPEND. */
function bobRow(cells: Cell[], mode: ReportHumanReadable | 'none'): Record<string, unknown> {
  const slash: Record<string, unknown> = {};
  const nested: Record<string, unknown> = {};
  const human: Record<string, unknown> = {};
  for (const c of cells) {
    const display = c.display === undefined ? c.machine : c.display;
    const value = mode === 'REPLACE' ? display : c.machine;
    if (c.machine !== null && !(Array.isArray(c.machine) && c.machine.length === 0))
      slash[`/${c.fieldId.split('.').join('/')}`] = { value };
    put(nested, pathOf(c), value);
    if (mode === 'APPEND') put(human, pathOf(c), display);
  }
  return mode === 'APPEND' ? { ...slash, ...nested, humanReadable: human } : { ...slash, ...nested };
}

const COST_CENTRE = {
  fieldId: 'custom.field_1701776342011',
  jsonPath: 'custom.category_1701776301234.field_1701776342011',
};

const FIELDS: FieldNaming[] = [
  { id: 'root.id', name: 'ID', jsonPath: 'id' },
  { id: 'root.email', name: 'Email', jsonPath: 'email' },
  { id: 'root.firstName', name: 'First name', jsonPath: 'firstName' },
  { id: 'root.surname', name: 'Last name', jsonPath: 'surname' },
  { id: 'work.department', name: 'Department', jsonPath: 'work.department' },
  { id: 'work.reportsTo', name: 'Reports to', jsonPath: 'work.reportsTo' },
  { id: 'work.startDate', name: 'Start date', jsonPath: 'work.startDate' },
  { id: 'internal.lifecycleStatus', name: 'Lifecycle status', jsonPath: 'internal.lifecycleStatus' },
  { id: 'internal.status', name: 'Status', jsonPath: 'internal.status' },
  { id: 'internal.terminationDate', name: 'Termination date', jsonPath: 'internal.terminationDate' },
  { id: COST_CENTRE.fieldId, name: 'Cost centre', jsonPath: COST_CENTRE.jsonPath },
];

/** Columns renamed in the report; the others carry their field's name. */
const MAPPING = { 'Bob ID': 'root.id', Manager: 'work.reportsTo' };

interface Person {
  id: string | null;
  email: string | null;
  first: string;
  last: string;
  dept: [string, string] | null;
  manager: { id: string; displayName: string } | null;
  start: [string, string];
  lifecycle: [string, string];
  termination?: [string, string] | null;
  costCentre?: string | null;
}

function cellsOf(p: Person): Cell[] {
  return [
    { fieldId: 'root.id', machine: p.id },
    { fieldId: 'root.email', machine: p.email },
    { fieldId: 'root.firstName', machine: p.first },
    { fieldId: 'root.surname', machine: p.last },
    { fieldId: 'work.department', machine: p.dept?.[0] ?? null, display: p.dept?.[1] ?? null },
    {
      fieldId: 'work.reportsTo',
      machine: p.manager
        ? { id: p.manager.id, firstName: 'x', surname: 'y', displayName: p.manager.displayName, email: 'm@example.com' }
        : null,
      display: p.manager?.displayName ?? null,
    },
    { fieldId: 'work.startDate', machine: p.start[0], display: p.start[1] },
    { fieldId: 'internal.lifecycleStatus', machine: p.lifecycle[0], display: p.lifecycle[1] },
    { fieldId: 'internal.terminationDate', machine: p.termination?.[0] ?? null, display: p.termination?.[1] ?? null },
    { ...COST_CENTRE, machine: p.costCentre ?? null },
  ];
}

const ZOE: Person = {
  id: '3332883807015058023',
  email: 'zoe.muller@northwind.example',
  first: 'Zoë',
  last: 'Müller',
  dept: ['209192101', 'Management'],
  manager: null,
  start: ['2017-06-01', '01/06/2017'],
  lifecycle: ['employed', 'Employed'],
  costCentre: 'CC-101',
};
const LUKASZ: Person = {
  id: '3332883807046355291',
  email: 'Lukasz.Nowak@northwind.example',
  first: 'Łukasz',
  last: 'Nowak',
  dept: ['209192110', 'Engineering'],
  manager: { id: ZOE.id!, displayName: 'Zoë Müller' },
  start: ['2020-11-30', '30/11/2020'],
  lifecycle: ['terminated', 'Terminated'],
  termination: ['2025-03-31', '31/03/2025'],
  costCentre: null,
};
const JOSE: Person = {
  id: '3332883807068616699',
  email: 'jose.garcia@northwind.example',
  first: 'José',
  last: 'García',
  dept: null,
  manager: { id: ZOE.id!, displayName: 'Zoë Müller' },
  start: ['2020-12-22', '22/12/2020'],
  lifecycle: ['hired', 'Hired'],
  costCentre: 'CC-120',
};

function report(people: Person[], mode: ReportHumanReadable | 'none' = 'APPEND', drop: string[] = []): ReportDocument {
  const employees = people.map((p) =>
    bobRow(
      cellsOf(p).filter((c) => !drop.includes(c.fieldId)),
      mode,
    ),
  );
  return mode === 'none' ? { employees } : { employees, humanReadable: mode };
}

const LMS = { reportName: 'LMS feed', identityColumn: 'Bob ID' };

describe('parseReport', () => {
  it('names columns from the mapping, then field metadata, in the order Bob sends the fields', () => {
    const parsed = parseReport(report([ZOE, LUKASZ, JOSE]), { columns: MAPPING, fields: FIELDS });
    expect(parsed.columns.map((c) => [c.name, c.fieldId, c.namedBy])).toEqual([
      ['Bob ID', 'root.id', 'mapping'],
      ['Email', 'root.email', 'metadata'],
      ['First name', 'root.firstName', 'metadata'],
      ['Last name', 'root.surname', 'metadata'],
      ['Department', 'work.department', 'metadata'],
      ['Start date', 'work.startDate', 'metadata'],
      ['Lifecycle status', 'internal.lifecycleStatus', 'metadata'],
      ['Cost centre', COST_CENTRE.fieldId, 'metadata'],
      ['Manager', 'work.reportsTo', 'mapping'],
      ['Termination date', 'internal.terminationDate', 'metadata'],
    ]);
    expect(parsed.unavailable).toEqual([]);
    expect(parsed.ambiguous).toEqual({});
  });

  it('APPEND (default): machine values with labels; the feed shows the labels', () => {
    const doc = report([ZOE, LUKASZ]);
    delete doc.humanReadable;
    const parsed = parseReport(doc, { columns: MAPPING, fields: FIELDS });
    expect(parsed.humanReadable).toBe('APPEND');
    const row = parsed.rows[1]!;
    expect(row.row).toBe(2);
    expect(row.cells.Department).toEqual({ value: '209192110', label: 'Engineering' });
    expect(row.cells['Start date']).toEqual({ value: '2020-11-30', label: '30/11/2020' });
    expect(row.cells.Manager).toEqual({ value: ZOE.id, label: 'Zoë Müller' });
    expect(row.cells['Cost centre']).toEqual({ value: null });
    expect(row.feed).toEqual({
      'Bob ID': LUKASZ.id,
      Email: 'Lukasz.Nowak@northwind.example',
      'First name': 'Łukasz',
      'Last name': 'Nowak',
      Department: 'Engineering',
      'Start date': '30/11/2020',
      'Lifecycle status': 'Terminated',
      'Cost centre': null,
      Manager: 'Zoë Müller',
      'Termination date': '31/03/2025',
    });
  });

  it('REPLACE: values are display values and double as labels', () => {
    const parsed = parseReport(report([ZOE, LUKASZ], 'REPLACE'), { columns: MAPPING, fields: FIELDS });
    expect(parsed.humanReadable).toBe('REPLACE');
    const row = parsed.rows[1]!;
    expect(row.cells.Department).toEqual({ value: 'Engineering', label: 'Engineering' });
    expect(row.cells['Start date']).toEqual({ value: '30/11/2020', label: '30/11/2020' });
    expect(row.cells.Manager).toEqual({ value: 'Zoë Müller', label: 'Zoë Müller' });
    expect(row.feed['Lifecycle status']).toBe('Terminated');
    expect(row.feed['Bob ID']).toBe(LUKASZ.id);
  });

  it('the mode is configurable: a report without a humanReadable mirror has no labels', () => {
    const parsed = parseReport(report([LUKASZ], 'none'), { columns: MAPPING, fields: FIELDS, humanReadable: 'APPEND' });
    expect(parsed.rows[0]!.cells.Department).toEqual({ value: '209192110' });
    expect(parsed.rows[0]!.feed.Department).toBe('209192110');
    const forced = parseReport(report([LUKASZ], 'REPLACE'), { humanReadable: 'REPLACE' });
    expect(forced.humanReadable).toBe('REPLACE');
  });

  it('keeps empty values apart from columns the report does not have', () => {
    const parsed = parseReport(report([ZOE, JOSE], 'APPEND', ['work.startDate']), { columns: MAPPING, fields: FIELDS });
    const jose = parsed.rows[1]!;
    // No slash key for an empty department, but the nested null says "empty".
    expect(jose.cells.Department).toEqual({ value: null });
    expect('Start date' in jose.cells).toBe(false);
    expect(parsed.columns.some((c) => c.fieldId === 'work.startDate')).toBe(false);
  });

  it('reads a custom field nested under its category even without metadata', () => {
    const parsed = parseReport(report([ZOE, JOSE]), { columns: { 'Cost centre': COST_CENTRE.fieldId } });
    expect(parsed.columns.find((c) => c.name === 'Cost centre')).toEqual({
      name: 'Cost centre',
      fieldId: COST_CENTRE.fieldId,
      namedBy: 'mapping',
    });
    expect(parsed.rows.map((r) => r.feed['Cost centre'])).toEqual(['CC-101', 'CC-120']);
    // Without any naming, a column is called by its field id.
    expect(parseReport(report([ZOE])).columns.map((c) => c.name)).toContain('work.department');
  });
});

describe('validateReportColumns', () => {
  const parsed = parseReport(report([ZOE, LUKASZ, JOSE], 'APPEND', [COST_CENTRE.fieldId]), {
    columns: MAPPING,
    fields: FIELDS,
  });
  const columnList =
    'Bob ID, Email, First name, Last name, Department, Start date, Lifecycle status, Manager, Termination date';

  it('accepts a report with every required column and the identity column', () => {
    expect(
      validateReportColumns(parsed, {
        ...LMS,
        requiredColumns: ['Email', 'First name', 'Department', { column: 'Manager', mappedTo: 'manager' }],
      }),
    ).toEqual([]);
  });

  it('names the missing column, what it feeds, the report and its columns', () => {
    const problems = validateReportColumns(parsed, {
      ...LMS,
      requiredColumns: ['Email', { column: 'Cost centre', mappedTo: 'customFields.costCentre' }, 'Site'],
    });
    expect(problems).toEqual([
      {
        code: 'missingColumn',
        column: 'Cost centre',
        message: `report "LMS feed" has no column "Cost centre" (mapped to customFields.costCentre); its columns are: ${columnList}`,
      },
      {
        code: 'missingColumn',
        column: 'Site',
        message: `report "LMS feed" has no column "Site"; its columns are: ${columnList}`,
      },
    ]);
  });

  it('points at the renamed column', () => {
    const renamed = FIELDS.map((f) => (f.id === 'work.department' ? { ...f, name: 'Departments' } : f));
    const doc = report([ZOE, LUKASZ]);
    const problems = validateReportColumns(parseReport(doc, { columns: MAPPING, fields: renamed }), {
      ...LMS,
      requiredColumns: [{ column: 'Department', mappedTo: 'customFields.department' }, 'first name'],
    });
    expect(problems.map((p) => p.column)).toEqual(['Department', 'first name']);
    expect(problems[0]!.message).toMatch(
      /^report "LMS feed" has no column "Department" \(mapped to customFields\.department\); its columns are: .*Departments.*; did you mean "Departments"\?$/,
    );
    expect(problems[1]!.message).toMatch(/did you mean "First name"\?$/);
  });

  it('says when a mapped column lost its field (removed from the report or not readable)', () => {
    const doc = report([ZOE, LUKASZ], 'APPEND', ['work.department']);
    const problems = validateReportColumns(
      parseReport(doc, { columns: { ...MAPPING, Department: 'work.department' }, fields: FIELDS }),
      {
        ...LMS,
        requiredColumns: [{ column: 'Department', mappedTo: 'customFields.department' }],
      },
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain(
      'report "LMS feed" has no column "Department" (mapped to customFields.department): its field work.department is not in the report, or the service user may not read it; its columns are: Bob ID, Email,',
    );
  });

  it('reports a missing identity column, by id or by email', () => {
    const noMapping = parseReport(report([ZOE, LUKASZ]), { fields: FIELDS });
    expect(validateReportColumns(noMapping, { ...LMS, requiredColumns: ['Email'] })).toEqual([
      {
        code: 'missingIdentityColumn',
        column: 'Bob ID',
        message: expect.stringMatching(
          /^report "LMS feed" has no identity column "Bob ID"; its columns are: ID, Email, /,
        ),
      },
    ]);
    const noEmail = parseReport(report([ZOE, LUKASZ], 'APPEND', ['root.email']), { columns: MAPPING, fields: FIELDS });
    const problems = validateReportColumns(noEmail, {
      reportName: 'LMS feed',
      identityColumn: 'Email',
      requiredColumns: ['Email', 'Department'],
    });
    expect(problems).toEqual([
      {
        code: 'missingIdentityColumn',
        column: 'Email',
        message: expect.stringContaining('report "LMS feed" has no identity column "Email"'),
      },
    ]);
  });

  it('refuses an empty report, whose columns cannot be checked', () => {
    const problems = validateReportColumns(parseReport({ employees: [] }, { fields: FIELDS }), {
      ...LMS,
      requiredColumns: [],
    });
    expect(problems).toEqual([
      { code: 'emptyReport', message: expect.stringContaining('report "LMS feed" has no rows') },
    ]);
  });

  it('flags a column name two fields share, unless the mapping picks one', () => {
    const fields = [...FIELDS, { id: 'internal.lifecycleStatusCustom', name: 'Lifecycle status' }];
    const doc = report([ZOE]);
    for (const row of doc.employees) (row.internal as Record<string, unknown>).lifecycleStatusCustom = 'x';
    const parsed = parseReport(doc, { columns: MAPPING, fields });
    expect(parsed.ambiguous).toEqual({
      'Lifecycle status': ['internal.lifecycleStatus', 'internal.lifecycleStatusCustom'],
    });
    expect(validateReportColumns(parsed, { ...LMS, requiredColumns: ['Lifecycle status'] })).toEqual([
      {
        code: 'ambiguousColumn',
        column: 'Lifecycle status',
        message: expect.stringContaining('has 2 fields named "Lifecycle status"'),
      },
    ]);
    const picked = parseReport(doc, {
      columns: { ...MAPPING, 'Lifecycle status': 'internal.lifecycleStatus' },
      fields,
    });
    expect(validateReportColumns(picked, { ...LMS, requiredColumns: ['Lifecycle status'] })).toEqual([]);
  });
});

describe('reportEmployees', () => {
  it('identity by HiBob id: NormalisedEmployee keyed by root.id, with a columns map by name', () => {
    const feed = reportEmployees(parseReport(report([ZOE, LUKASZ, JOSE]), { columns: MAPPING, fields: FIELDS }), LMS);
    expect(feed.identity).toEqual({ column: 'Bob ID', fieldId: 'root.id', kind: 'id' });
    expect(feed.problems).toEqual([]);
    expect(feed.employees.map((e) => e.id)).toEqual([ZOE.id, LUKASZ.id, JOSE.id]);
    const lukasz = feed.employees[1]!;
    expect(lukasz.key).toBe(LUKASZ.id);
    expect(lukasz.row).toBe(2);
    expect(lukasz.email).toBe('Lukasz.Nowak@northwind.example');
    expect(lukasz.managerId).toBe(ZOE.id);
    expect(lukasz.lifecycle).toEqual({ status: 'terminated', startDate: '2020-11-30', terminationDate: '2025-03-31' });
    expect(lukasz.fields['work.department']).toEqual({ value: '209192110', label: 'Engineering' });
    expect(lukasz.fields[COST_CENTRE.fieldId]).toEqual({ value: null });
    expect(lukasz.columns.Department).toEqual({ value: '209192110', label: 'Engineering' });
    expect(lukasz.columns['Cost centre']).toEqual(lukasz.fields[COST_CENTRE.fieldId]);
  });

  it('reads built-in fields exactly as the people API normaliser does', () => {
    const doc = report([LUKASZ, JOSE], 'APPEND', [COST_CENTRE.fieldId]);
    const feed = reportEmployees(parseReport(doc, { columns: MAPPING, fields: FIELDS }), LMS);
    doc.employees.forEach((raw, i) => {
      const direct = normaliseEmployee(raw);
      const { key: _key, row: _row, columns: _columns, ...fromReport } = feed.employees[i]!;
      expect(fromReport).toEqual(direct);
    });
  });

  it('identity by email: the key is the email, compared without case; id is root.id when the report has it', () => {
    const parsed = parseReport(report([ZOE, LUKASZ]), { columns: MAPPING, fields: FIELDS });
    const feed = reportEmployees(parsed, { reportName: 'LMS feed', identityColumn: 'Email' });
    expect(feed.identity.kind).toBe('email');
    expect(feed.employees.map((e) => [e.key, e.id])).toEqual([
      ['zoe.muller@northwind.example', ZOE.id],
      ['Lukasz.Nowak@northwind.example', LUKASZ.id],
    ]);
    const withoutIds = parseReport(report([ZOE, LUKASZ], 'APPEND', ['root.id']), { fields: FIELDS });
    const byEmail = reportEmployees(withoutIds, { identityColumn: 'Email' });
    expect(byEmail.employees.map((e) => e.id)).toEqual([
      'zoe.muller@northwind.example',
      'Lukasz.Nowak@northwind.example',
    ]);
    expect('root.id' in byEmail.employees[0]!.fields).toBe(false);
  });

  it('leaves out every row of a duplicated identity, one problem per row, and holds the identity', () => {
    const twin = { ...JOSE, id: '3332883807099999999', email: 'lukasz.nowak@NORTHWIND.example' };
    const parsed = parseReport(report([ZOE, LUKASZ, JOSE, twin]), { columns: MAPPING, fields: FIELDS });
    const feed = reportEmployees(parsed, { reportName: 'LMS feed', identityColumn: 'Email' });
    expect(feed.employees.map((e) => e.row)).toEqual([1, 3]);
    expect(feed.problems).toEqual([
      {
        row: 2,
        code: 'duplicateIdentity',
        identity: 'Lukasz.Nowak@northwind.example',
        rows: [2, 4],
        employeeId: LUKASZ.id,
        message:
          'row 2 of report "LMS feed": "Lukasz.Nowak@northwind.example" in identity column "Email" is on rows 2, 4; none of them is used',
      },
      expect.objectContaining({ row: 4, code: 'duplicateIdentity', rows: [2, 4], employeeId: twin.id }),
    ]);
    expect(feed.heldKeys).toEqual(['Lukasz.Nowak@northwind.example']);
    expect(feed.heldEmployeeIds).toEqual([LUKASZ.id, twin.id]);

    const byId = reportEmployees(
      parseReport(report([ZOE, LUKASZ, { ...JOSE, id: ZOE.id }]), { columns: MAPPING, fields: FIELDS }),
      LMS,
    );
    expect(byId.employees.map((e) => e.row)).toEqual([2]);
    expect(byId.problems.map((p) => [p.row, p.code, p.rows])).toEqual([
      [1, 'duplicateIdentity', [1, 3]],
      [3, 'duplicateIdentity', [1, 3]],
    ]);
  });

  it('reports rows with an empty or malformed identity instead of failing the feed', () => {
    const parsed = parseReport(report([ZOE, { ...LUKASZ, email: null }, { ...JOSE, email: '  ' }]), {
      columns: MAPPING,
      fields: FIELDS,
    });
    const feed = reportEmployees(parsed, { reportName: 'LMS feed', identityColumn: 'Email' });
    expect(feed.employees.map((e) => e.row)).toEqual([1]);
    expect(feed.problems).toEqual([
      {
        row: 2,
        code: 'emptyIdentity',
        employeeId: LUKASZ.id,
        message: 'row 2 of report "LMS feed" has no value in identity column "Email"; the row is left out',
      },
      expect.objectContaining({ row: 3, code: 'emptyIdentity', employeeId: JOSE.id }),
    ]);
    expect(feed.heldEmployeeIds).toEqual([LUKASZ.id, JOSE.id]);

    const noId = reportEmployees(
      parseReport(report([{ ...ZOE, id: null }, LUKASZ]), { columns: MAPPING, fields: FIELDS }),
      LMS,
    );
    expect(noId.problems).toEqual([expect.objectContaining({ row: 1, code: 'emptyIdentity' })]);
    const named = reportEmployees(
      parseReport(report([{ ...ZOE, id: 'Zoë Müller' }]), { columns: MAPPING, fields: FIELDS }),
      LMS,
    );
    expect(named.problems).toEqual([
      expect.objectContaining({
        row: 1,
        code: 'invalidIdentity',
        identity: 'Zoë Müller',
        message: expect.stringContaining('is not a HiBob employee id'),
      }),
    ]);
  });

  it('REPLACE: display dates and manager names are left unknown rather than misread', () => {
    const feed = reportEmployees(parseReport(report([LUKASZ], 'REPLACE'), { columns: MAPPING, fields: FIELDS }), LMS);
    const lukasz = feed.employees[0]!;
    expect(lukasz.id).toBe(LUKASZ.id);
    expect(lukasz.lifecycle).toEqual({ status: 'terminated', startDate: undefined, terminationDate: undefined });
    expect(lukasz.managerId).toBeUndefined();
    expect(lukasz.fields['work.department']).toEqual({ value: 'Engineering', label: 'Engineering' });
    expect(lukasz.columns['Start date']).toEqual({ value: '30/11/2020', label: '30/11/2020' });
  });
});

describe('readReportFeed', () => {
  it('returns nothing to write when a column is missing', () => {
    const result = readReportFeed(report([ZOE, LUKASZ]), {
      reportName: 'LMS feed',
      columns: MAPPING,
      fields: FIELDS,
      identityColumn: 'Bob ID',
      requiredColumns: [{ column: 'Site', mappedTo: 'customFields.site' }],
    });
    expect(result.ok).toBe(false);
    expect(result).not.toHaveProperty('feed');
    if (!result.ok)
      expect(result.errors[0]!.message).toMatch(
        /^report "LMS feed" has no column "Site" \(mapped to customFields\.site\)/,
      );
  });

  it('reads the employees when the report fits', () => {
    const result = readReportFeed(report([ZOE, LUKASZ]), {
      reportName: 'LMS feed',
      columns: MAPPING,
      fields: FIELDS,
      identityColumn: 'Bob ID',
      requiredColumns: ['Email', 'Department'],
    });
    expect(result.ok && result.feed.employees.map((e) => e.id)).toEqual([ZOE.id, LUKASZ.id]);
  });
});
