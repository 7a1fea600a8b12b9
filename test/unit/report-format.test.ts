import { reportAttachments, previewAttachments } from '../../src/reports';
import { fileSlug, formatChange, formatDuration, formatTime, headline, reportStatus } from '../../src/reports/format';
import { samplePlan, sampleReport } from '../fixtures/reports/sample-report';

describe('report wording', () => {
  it('writes changes as "field: old → new", with absent values spelled out', () => {
    expect(formatChange({ field: 'job', from: 'Analyst', to: 'Lead', rule: 'r' })).toBe('job: Analyst → Lead');
    expect(formatChange({ field: 'phone', from: undefined, to: '+41 44 000 00 00', rule: 'r' })).toBe(
      'phone: (empty) → +41 44 000 00 00',
    );
    expect(formatChange({ field: 'organization', from: 'R&D', to: null, rule: 'r' })).toBe(
      'organization: R&D → (empty)',
    );
  });

  it('formats durations and times for people', () => {
    expect(formatDuration(1_400)).toBe('1.4 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(252_480)).toBe('4 min 12 s');
    expect(formatDuration(3_725_000)).toBe('1 h 2 min');
    expect(formatTime('2026-03-02T07:04:12+01:00')).toBe('2026-03-02 06:04 UTC');
    expect(formatTime('not a time')).toBe('not a time');
  });

  it('tells the status apart: stopped, dry run, failures, fine', () => {
    expect(reportStatus(sampleReport())).toBe('failures');
    expect(reportStatus(sampleReport({ rows: [], errors: [] }))).toBe('ok');
    expect(headline(sampleReport({ rows: [], errors: [] }))).toBe('✔ 412 unchanged');
    expect(headline(sampleReport({ rows: [], errors: [], counts: { byAction: {}, byOutcome: {} } }))).toBe(
      '✔ no employees',
    );
    expect(reportStatus(sampleReport({ dryRun: true }))).toBe('dryRun');
    expect(reportStatus(sampleReport({ safeguard: { tripped: true } }))).toBe('awaitingApproval');
    expect(
      reportStatus(sampleReport({ rows: [], errors: [], safeguard: { tripped: true, decision: 'approved' } })),
    ).toBe('ok');
  });

  it('makes connection names safe for file names', () => {
    expect(fileSlug('acme-360')).toBe('acme-360');
    expect(fileSlug('Acme / Zürich 360')).toBe('Acme-Z-rich-360');
    expect(fileSlug('../..')).toBe('connection');
  });
});

describe('attachments', () => {
  it('attaches the report as CSV and XLSX named after the connection and date', async () => {
    const files = await reportAttachments(sampleReport());
    expect(files.map((f) => [f.filename, f.contentType])).toEqual([
      ['bobsync-acme-360-2026-03-02.csv', 'text/csv; charset=utf-8'],
      ['bobsync-acme-360-2026-03-02.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
    ]);
    const [csv, xlsx] = files.map((f) => f.content as Buffer);
    expect(csv!.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(csv!.toString('utf8')).toContain('Zoë Müller');
    expect(xlsx!.subarray(0, 2).toString('latin1')).toBe('PK');
    const dry = await reportAttachments(sampleReport({ dryRun: true }));
    expect(dry.map((f) => f.filename)).toEqual([
      'bobsync-acme-360-2026-03-02-dry-run.csv',
      'bobsync-acme-360-2026-03-02-dry-run.xlsx',
    ]);
  });

  it('attaches a plan preview as CSV and XLSX', async () => {
    const files = await previewAttachments(samplePlan(), {
      connection: 'acme-360',
      generatedAt: '2026-03-02T06:01:00Z',
      dryRun: false,
    });
    expect(files.map((f) => f.filename)).toEqual([
      'bobsync-acme-360-2026-03-02-preview.csv',
      'bobsync-acme-360-2026-03-02-preview.xlsx',
    ]);
  });
});
