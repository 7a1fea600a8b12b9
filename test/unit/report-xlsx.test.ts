import ExcelJS from 'exceljs';
import { planPreviewXlsx, reportXlsx } from '../../src/reports/xlsx';
import { FORMULA_NAME, MULTILINE_VALUE, samplePlan, sampleReport, sampleRows } from '../fixtures/reports/sample-report';

async function load(buffer: Buffer): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  // exceljs declares its own Buffer type; a Node Buffer is what it reads.
  await workbook.xlsx.load(buffer as unknown as ExcelJS.Buffer);
  return workbook;
}

function sheet(workbook: ExcelJS.Workbook, name: string): ExcelJS.Worksheet {
  const ws = workbook.getWorksheet(name);
  if (!ws) throw new Error(`no sheet ${name}`);
  return ws;
}

const rowValues = (ws: ExcelJS.Worksheet, n: number): unknown[] => (ws.getRow(n).values as unknown[]).slice(1);

/** Summary sheet as label → value (section rows have no value). */
function summary(ws: ExcelJS.Worksheet): Map<string, unknown> {
  const out = new Map<string, unknown>();
  ws.eachRow((row, n) => {
    if (n > 1) out.set(row.getCell(1).text, row.getCell(2).value);
  });
  return out;
}

function expectTableSheet(ws: ExcelJS.Worksheet, headers: string[]): void {
  expect(rowValues(ws, 1)).toEqual(headers);
  expect(ws.getRow(1).getCell(1).font?.bold).toBe(true);
  expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
  expect(ws.autoFilter).toBe(`A1:${String.fromCharCode(64 + headers.length)}1`);
}

describe('report XLSX', () => {
  let workbook: ExcelJS.Workbook;
  beforeAll(async () => {
    const buffer = await reportXlsx(sampleReport());
    expect(buffer.subarray(0, 2).toString('latin1')).toBe('PK');
    workbook = await load(buffer);
  });

  it('has a summary, an employee sheet and an error sheet', () => {
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['Summary', 'Employees', 'Errors']);
  });

  it('summarises the run: connection, timing, totals, counts, API calls, safeguard', () => {
    const s = summary(sheet(workbook, 'Summary'));
    expect(s.get('Connection')).toBe('acme-360');
    expect(s.get('Destination')).toBe('360Learning');
    expect(s.get('Dry run')).toBe('No');
    expect(s.get('Run ID')).toBe('0195a1b2-7c3d-7e4f-9a0b-1c2d3e4f5a6b');
    expect(s.get('Started')).toEqual(new Date('2026-03-02T06:00:00.000Z'));
    expect(s.get('Duration')).toBe('4 min 12 s');
    expect(s.get('HiBob employees')).toBe(421);
    expect(s.get('LMS learners')).toBe(418);
    expect(s.get('Unchanged')).toBe(412);
    expect(s.get('Update')).toBe(4);
    expect(s.get('Applied')).toBe(6);
    expect(s.get('Failed')).toBe(1);
    expect(s.get('LMS writes')).toBe(9);
    expect(s.get('Tripped')).toBe('No');
    expect(String(s.get('Status'))).toMatch(/^⚠ 412 unchanged/);
  });

  it('lists one row per employee with frozen, bold, filterable headers', () => {
    const ws = sheet(workbook, 'Employees');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Learner ID', 'Action', 'Outcome', 'Changes', 'Operations', 'Reason', 'Detail']);
    expect(ws.rowCount).toBe(1 + sampleRows.length);
    expect(rowValues(ws, 2)).toEqual([
      '1001', 'Zoë Müller', 'zoe.mueller@acme.example', '64f0c1a2b3c4d5e6f7a80001', 'update', 'applied',
      'job: Ingénieure → Ingénieure principale\ncustomFields.site: Zürich → Genève',
      'updateFields, setCustomFields', 'job title and site changed in HiBob', '360Learning answered 204',
    ]);
    for (let c = 1; c <= 10; c++) expect(ws.getColumn(c).width).toBeGreaterThanOrEqual(10);
  });

  it('keeps HR values as text, never as formulas', () => {
    const ws = sheet(workbook, 'Employees');
    const cell = ws.getRow(4).getCell(2);
    expect(cell.value).toBe(FORMULA_NAME);
    expect(cell.type).toBe(ExcelJS.ValueType.String);
    ws.eachRow((row) => row.eachCell((c) => expect(c.type).not.toBe(ExcelJS.ValueType.Formula)));
  });

  it('lists errors with the employee name when the report has it', () => {
    const ws = sheet(workbook, 'Errors');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Code', 'Reason']);
    expect(rowValues(ws, 2)).toEqual(['1008', 'José Álvarez', 'conflict', '409 from 360Learning: email already used by another learner']);
  });

  it('shows a tripped safeguard and its decision', async () => {
    const wb = await load(await reportXlsx(sampleReport({ safeguard: { tripped: true, reason: '42 deactivations, above 10% (25)', decision: 'approved', decidedBy: 'ops@acme.example' } })));
    const s = summary(sheet(wb, 'Summary'));
    expect(s.get('Tripped')).toBe('Yes');
    expect(s.get('Reason')).toBe('42 deactivations, above 10% (25)');
    expect(s.get('Decision')).toBe('approved');
    expect(s.get('Decided by')).toBe('ops@acme.example');
  });
});

describe('plan preview XLSX', () => {
  const plan = samplePlan();
  let workbook: ExcelJS.Workbook;
  beforeAll(async () => {
    workbook = await load(await planPreviewXlsx(plan, {
      connection: 'acme-360', generatedAt: '2026-03-02T06:01:00Z', dryRun: false,
      safeguard: { tripped: true, reason: '4 deactivations, above the limit of 0.5% (2)' },
    }));
  });

  it('has a summary, one row per employee and one row per field change', () => {
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['Summary', 'Employees', 'Changes']);
    const s = summary(sheet(workbook, 'Summary'));
    expect(s.get('Connection')).toBe('acme-360');
    expect(s.get('Employees listed')).toBe(plan.length);
    expect(s.get('Held for approval')).toBe(3);
    expect(s.get('Decision')).toBe('Waiting for approval');
    const employees = sheet(workbook, 'Employees');
    expectTableSheet(employees, ['Employee ID', 'Name', 'Email', 'Learner ID', 'Action', 'Changes', 'Operations', 'Reason']);
    expect(employees.rowCount).toBe(1 + plan.length);
  });

  it('puts each field change on its own row with the old and new value and the rule', () => {
    const ws = sheet(workbook, 'Changes');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Action', 'Field', 'Old value', 'New value', 'Rule']);
    const expected = plan.flatMap((r) => r.changes.map((c) => [r.employeeId, c.field, c.from ?? null, c.to ?? null, c.rule]));
    const actual: unknown[][] = [];
    ws.eachRow((row, n) => {
      if (n > 1) actual.push([row.getCell(1).value, row.getCell(4).value, row.getCell(5).value, row.getCell(6).value, row.getCell(7).value]);
    });
    expect(actual).toEqual(expected);
    expect(actual.find((r) => r[0] === '1005')?.[3]).toBe(MULTILINE_VALUE);
  });
});
