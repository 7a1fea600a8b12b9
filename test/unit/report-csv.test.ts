import { parse, type Options } from 'csv-parse/sync';
import { planPreviewCsv, reportCsv } from '../../src/reports/csv';
import {
  COMMA_QUOTE_REASON,
  FORMULA_NAME,
  MARKUP_JOB,
  MULTILINE_VALUE,
  samplePlan,
  sampleReport,
  sampleRows,
} from '../fixtures/reports/sample-report';

/** Parsed by an independent RFC 4180 reader, not by the code under test. */
const strict: Options = { record_delimiter: '\r\n' };
const read = (csv: string): string[][] => parse(csv.replace(/^\uFEFF/, ''), strict);

describe('report CSV', () => {
  const csv = reportCsv(sampleReport());
  const [header, ...rows] = read(csv);

  it('starts with a byte order mark and ends every record with CRLF', () => {
    expect(csv.startsWith('\uFEFF')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    // Outside quoted fields there is no bare LF: the only LF outside CRLF is the one in a value.
    expect(csv.replace(/\r\n/g, '').split('\n')).toHaveLength(2);
  });

  it('has a header and one record per employee row, in report order', () => {
    expect(header).toEqual([
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
    expect(rows.map((r) => r[0])).toEqual(sampleRows.map((r) => r.employeeId));
  });

  it('round-trips diacritics, multiple changes and LMS detail', () => {
    expect(rows[0]).toEqual([
      '1001',
      'Zoë Müller',
      'zoe.mueller@acme.example',
      '64f0c1a2b3c4d5e6f7a80001',
      'update',
      'applied',
      'job: Ingénieure → Ingénieure principale; customFields.site: Zürich → Genève',
      'updateFields, setCustomFields',
      'job title and site changed in HiBob',
      '360Learning answered 204',
    ]);
    expect(rows[1]).toEqual([
      '1002',
      'Łukasz Żółkiewski',
      'lukasz.zolkiewski@acme.example',
      '64f0c1a2b3c4d5e6f7a80002',
      'create',
      'applied',
      'mail: (empty) → lukasz.zolkiewski@acme.example; firstName: (empty) → Łukasz; lastName: (empty) → Żółkiewski',
      'create, addGroupRole',
      'new joiner, starts 2026-03-02',
      '',
    ]);
  });

  it('writes an employee changed since approval in words', () => {
    const changed = reportCsv(
      sampleReport({
        rows: [
          {
            ...sampleRows[0]!,
            outcome: 'changedSinceApproval',
            detail: 'changed since approval: left for the next run',
          },
        ],
      }),
    );
    const [, row] = read(changed);
    expect(row!.slice(5, 6)).toEqual(['changed since approval']);
  });

  it('quotes commas, quotes and line breaks so they come back intact', () => {
    const parked = rows.find((r) => r[0] === '1004');
    expect(parked).toEqual([
      '1004',
      "Anna O'Brien",
      "anna.o'brien@acme",
      '',
      'park',
      'parked',
      '',
      '',
      COMMA_QUOTE_REASON,
      '',
    ]);
    expect(csv).toContain('"email ""anna.o\'brien@acme"" is not a valid address, parked"');
    expect(rows.find((r) => r[0] === '1005')?.[6]).toBe(`job: Sales Manager → ${MULTILINE_VALUE}`);
    expect(rows.find((r) => r[0] === '1003')?.[6]).toBe(`job: Analyst → ${MARKUP_JOB}`);
  });

  it('neutralises cells a spreadsheet would run as formulas', () => {
    const row = rows.find((r) => r[0] === '1003');
    expect(row?.[1]).toBe(`'${FORMULA_NAME}`);
    expect(row?.[9]).toBe("'-1 warnings");
    for (const record of rows) for (const cell of record) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('is just a header for a report without changed employees', () => {
    const empty = reportCsv(sampleReport({ rows: [] }));
    expect(read(empty)).toHaveLength(1);
  });
});

describe('plan preview CSV', () => {
  it('leaves out outcome and detail, which a plan does not have yet', () => {
    const plan = samplePlan();
    const [header, ...rows] = read(planPreviewCsv(plan));
    expect(header).toEqual(['Employee ID', 'Name', 'Email', 'Learner ID', 'Action', 'Changes', 'Operations', 'Reason']);
    expect(rows).toHaveLength(plan.length);
    expect(rows.at(-1)).toEqual([
      '2020',
      'Małgorzata Wójcik',
      'leaver2@acme.example',
      '64f0c1a2b3c4d5e6f7a80202',
      'held',
      '',
      'deactivate',
      'missing from HiBob (archived)',
    ]);
    expect(rows.find((r) => r[0] === '1003')?.[1]).toBe(`'${FORMULA_NAME}`);
  });
});
