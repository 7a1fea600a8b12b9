import ExcelJS from 'exceljs';
import { planPreviewXlsx, reportXlsx } from '../../src/reports/xlsx';
import {
  COMMA_QUOTE_REASON,
  FORMULA_NAME,
  MULTILINE_VALUE,
  samplePlan,
  sampleReport,
  sampleRows,
} from '../fixtures/reports/sample-report';

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
    expectTableSheet(ws, [
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
    ]);
    expect(ws.rowCount).toBe(1 + sampleRows.length);
    expect(rowValues(ws, 2)).toEqual([
      '1001',
      'Zoë Müller',
      'zoe.mueller@acme.example',
      '64f0c1a2b3c4d5e6f7a80001',
      'update',
      'applied',
      'job: Ingénieure → Ingénieure principale\ncustomFields.site: Zürich → Genève',
      'updateFields, setCustomFields',
      'job title and site changed in HiBob',
      '360Learning answered 204',
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
    expect(rowValues(ws, 2)).toEqual([
      '1008',
      'José Álvarez',
      'conflict',
      '409 from 360Learning: email already used by another learner',
    ]);
  });

  it('shows a tripped safeguard and its decision', async () => {
    const wb = await load(
      await reportXlsx(
        sampleReport({
          safeguard: {
            tripped: true,
            reason: '42 deactivations, above 10% (25)',
            decision: 'approved',
            decidedBy: 'ops@acme.example',
          },
        }),
      ),
    );
    const s = summary(sheet(wb, 'Summary'));
    expect(s.get('Tripped')).toBe('Yes');
    expect(s.get('Reason')).toBe('42 deactivations, above 10% (25)');
    expect(s.get('Decision')).toBe('approved');
    expect(s.get('Decided by')).toBe('ops@acme.example');
  });
});

describe('plan preview XLSX', () => {
  const plan = samplePlan();
  const META = {
    connection: 'acme-360',
    generatedAt: '2026-03-02T06:01:00Z',
    dryRun: false,
    safeguard: { tripped: true, reason: '4 deactivations, above the limit of 0.5% (2)' },
  };
  let workbook: ExcelJS.Workbook;
  beforeAll(async () => {
    workbook = await load(await planPreviewXlsx(plan, META));
  });

  /** Every data row of a sheet, cell values only. */
  const dataRows = (ws: ExcelJS.Worksheet): unknown[][] => {
    const out: unknown[][] = [];
    ws.eachRow((row, n) => {
      if (n > 1) out.push(rowValues(ws, n));
    });
    return out;
  };

  it('has the summary, then the bulk-upload preview sheets in their order, then every employee', () => {
    expect(workbook.worksheets.map((w) => w.name)).toEqual([
      'Summary',
      'To be added',
      'To be reactivated',
      'To be updated',
      'To be archived',
      'Errors',
      'Employees',
    ]);
    const s = summary(sheet(workbook, 'Summary'));
    expect(s.get('Connection')).toBe('acme-360');
    expect(s.get('Employees listed')).toBe(plan.length);
    expect(s.get('Held for approval')).toBe(3);
    expect(s.get('Decision')).toBe('Waiting for approval');
    const employees = sheet(workbook, 'Employees');
    expectTableSheet(employees, [
      'Employee ID',
      'Name',
      'Email',
      'Learner ID',
      'Action',
      'Changes',
      'Operations',
      'Reason',
    ]);
    expect(employees.rowCount).toBe(1 + plan.length);
  });

  it('"To be added" lists each new learner once, with the attributes it gets', () => {
    const ws = sheet(workbook, 'To be added');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Attributes', 'Reason']);
    expect(dataRows(ws)).toEqual([
      [
        '1002',
        'Łukasz Żółkiewski',
        'lukasz.zolkiewski@acme.example',
        'mail: lukasz.zolkiewski@acme.example\nfirstName: Łukasz\nlastName: Żółkiewski',
        'new joiner, starts 2026-03-02',
      ],
    ]);
  });

  it('"To be reactivated" lists the rehires with their changes', () => {
    const ws = sheet(workbook, 'To be reactivated');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Learner ID', 'Changes', 'Reason']);
    expect(dataRows(ws)).toEqual([
      [
        '1007',
        'Chloé Dubois',
        'chloe.dubois@acme.example',
        '64f0c1a2b3c4d5e6f7a80007',
        'organization: (empty) → R&D',
        'rehired: same learner reactivated, training history kept',
      ],
    ]);
  });

  it('"To be updated" has one row per attribute change: employee, email, attribute, old → new, rule', () => {
    const ws = sheet(workbook, 'To be updated');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Attribute', 'Old value', 'New value', 'Change', 'Rule']);
    const updates = plan.filter((r) => r.action === 'update');
    const rows = dataRows(ws);
    expect(rows.map((r) => [r[0], r[3]])).toEqual(
      updates.flatMap((r) => r.changes.map((c) => [r.employeeId, c.field])),
    );
    expect(rows[0]).toEqual([
      '1001',
      'Zoë Müller',
      'zoe.mueller@acme.example',
      'job',
      'Ingénieure',
      'Ingénieure principale',
      'Ingénieure → Ingénieure principale',
      'fields.job ← work.title',
    ]);
    expect(rows[1]).toEqual([
      '1001',
      'Zoë Müller',
      'zoe.mueller@acme.example',
      'customFields.site',
      'Zürich',
      'Genève',
      'Zürich → Genève',
      'customFields.site ← work.site',
    ]);
    expect(rows.find((r) => r[0] === '1005')?.[5]).toBe(MULTILINE_VALUE);
    // HR values stay text, never formulas.
    const formula = rows.findIndex((r) => r[0] === '1003');
    expect(ws.getRow(formula + 2).getCell(2).value).toBe(FORMULA_NAME);
    ws.eachRow((row) => row.eachCell((c) => expect(c.type).not.toBe(ExcelJS.ValueType.Formula)));
  });

  it('"To be updated" lists an update without an attribute change once, by its operations', async () => {
    const managerOnly = {
      employeeId: '3001',
      displayName: 'Mina Park',
      email: 'mina.park@acme.example',
      action: 'update' as const,
      changes: [],
      operations: ['deferManager' as const],
      reason: 'manager has no learner yet',
    };
    const ws = sheet(
      await load(await planPreviewXlsx([managerOnly], { ...META, safeguard: undefined })),
      'To be updated',
    );
    expect(dataRows(ws)).toEqual([
      [
        '3001',
        'Mina Park',
        'mina.park@acme.example',
        'deferManager',
        undefined,
        undefined,
        undefined,
        'manager has no learner yet',
      ],
    ]);
  });

  it('"To be archived" lists deactivations, noting those the safeguard holds', () => {
    const ws = sheet(workbook, 'To be archived');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Learner ID', 'Reason', 'Note']);
    expect(dataRows(ws).map((r) => [r[0], r[5] ?? null])).toEqual([
      ['1006', null],
      ['2000', 'Held by the safeguard: archived only once approved'],
      ['2010', 'Held by the safeguard: archived only once approved'],
      ['2020', 'Held by the safeguard: archived only once approved'],
    ]);
  });

  it('"Errors" lists the parked employees with the reason', () => {
    const ws = sheet(workbook, 'Errors');
    expectTableSheet(ws, ['Employee ID', 'Name', 'Email', 'Reason']);
    expect(dataRows(ws)).toEqual([['1004', "Anna O'Brien", "anna.o'brien@acme", COMMA_QUOTE_REASON]]);
  });

  it('leaves a category with no employee as a sheet with its header only', async () => {
    const wb = await load(
      await planPreviewXlsx(
        plan.filter((r) => r.action === 'update'),
        { ...META, safeguard: undefined },
      ),
    );
    for (const name of ['To be added', 'To be reactivated', 'To be archived', 'Errors'])
      expect(sheet(wb, name).rowCount).toBe(1);
    expect(sheet(wb, 'To be updated').rowCount).toBe(1 + 5);
  });

  it('says in the summary when the run waits for approval of the whole plan, and why', async () => {
    const wb = await load(
      await planPreviewXlsx(plan, {
        ...META,
        safeguard: undefined,
        approval: { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' },
      }),
    );
    const s = summary(sheet(wb, 'Summary'));
    expect(s.get('Waits for')).toBe('The whole plan');
    expect(s.get('Why')).toBe('first run of this connection, approval mode firstRun');
    expect(s.get('Decision')).toBe('Waiting for approval');
    expect(String(s.get('In words'))).toContain('nothing is applied until someone approves it');
  });

  it('notes the held archives that approval mode never leaves undone', async () => {
    const wb = await load(
      await planPreviewXlsx(plan, { ...META, safeguard: { ...META.safeguard, decision: 'notAsked' } }),
    );
    const s = summary(sheet(wb, 'Summary'));
    expect(s.get('Decision')).toBe('Not asked (approval mode never)');
    expect(dataRows(sheet(wb, 'To be archived')).find((r) => r[0] === '2000')?.[5]).toBe(
      'Held by the safeguard; approval mode never: not archived in this run',
    );
  });
});

describe('report XLSX with approval outcomes', () => {
  it('shows "changed since approval" as the outcome and the whole-plan approval in the summary', async () => {
    const changed = {
      ...sampleRows[0]!,
      outcome: 'changedSinceApproval' as const,
      detail: 'changed since approval: the HiBob record changed after the preview; left for the next run',
    };
    const wb = await load(
      await reportXlsx(
        sampleReport({
          rows: [changed, ...sampleRows.slice(1)],
          approval: {
            scope: 'plan',
            reason: 'approval mode always',
            decision: 'approved',
            decidedBy: 'hr-lead',
            changedSinceApproval: 1,
          },
        }),
      ),
    );
    expect(rowValues(sheet(wb, 'Employees'), 2)[5]).toBe('changed since approval');
    const s = summary(sheet(wb, 'Summary'));
    expect(s.get('Waits for')).toBe('The whole plan');
    expect(s.get('Decided by')).toBe('hr-lead');
    expect(s.get('Changed since approval')).toBe(1);
    expect(String(s.get('In words'))).toBe(
      'The whole plan waited for approval (approval mode always). Approved by hr-lead; it was applied as previewed. 1 employee changed in HiBob since the preview was left for the next run.',
    );
  });
});
