/**
 * The report and approval emails.
 *
 * Golden files: the rendered emails are compared with test/fixtures/reports/*.golden.*. After an
 * intended change to the wording or layout, regenerate them with
 *
 *   BOBSYNC_UPDATE_GOLDEN=1 BOBSYNC_TEST_SKIP_TEMPORAL=1 npx jest --selectProjects unit -- test/unit/report-html
 *
 * then read the diff, and look at the result in a browser, before committing them.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BODY_ROW_LIMIT, renderPreviewEmail, renderReportEmail, type PreviewEmailMeta } from '../../src/reports/html';
import type { ReportRow } from '../../src/reports/types';
import { samplePlan, sampleReport, sampleRows } from '../fixtures/reports/sample-report';

const GOLDEN_DIR = join(__dirname, '..', 'fixtures', 'reports');

function expectGolden(name: string, actual: string): void {
  const path = join(GOLDEN_DIR, name);
  if (process.env.BOBSYNC_UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  if (!existsSync(path)) throw new Error(`${name} is missing: run with BOBSYNC_UPDATE_GOLDEN=1 to write it`);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

const previewMeta: PreviewEmailMeta = {
  connection: 'acme-360',
  generatedAt: '2026-03-02T06:01:00Z',
  dryRun: false,
  workflowId: 'full-sync/acme-360/2026-03-02T06:00:00Z',
  expiresAt: '2026-03-03T06:01:00Z',
  safeguard: { tripped: true, reason: '4 deactivations, above the limit of 0.5% (2)' },
};

/** Every string in the fixture that came from HR data or the LMS. */
const hrValues = sampleRows
  .flatMap((r) => [r.displayName, r.email, r.reason, r.detail, ...r.changes.flatMap((c) => [c.field, c.from, c.to])])
  .filter((v): v is string => typeof v === 'string' && v.length > 0);

const escaped = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\n/g, '<br>');

/** The only elements the emails use: mail-safe layout, nothing that loads or runs anything. */
const ALLOWED_TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'body',
  'div',
  'table',
  'thead',
  'tbody',
  'tr',
  'td',
  'th',
  'span',
  'strong',
  'h1',
  'h2',
  'p',
  'br',
]);

function expectMailSafe(html: string): void {
  const tags = new Set([...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((m) => m[1]!.toLowerCase()));
  expect([...tags].filter((t) => !ALLOWED_TAGS.has(t))).toEqual([]);
  expect(html).not.toMatch(/https?:\/\//i);
  expect(html).not.toMatch(/\b(src|href|class|on[a-z]+)\s*=/i);
  expect(html).not.toMatch(/url\(|@import|<style|<script|<link/i);
}

describe('report email', () => {
  const mail = renderReportEmail(sampleReport());

  it('matches the golden HTML and text', () => {
    expectGolden('report-email.golden.html', mail.html);
    expectGolden('report-email.golden.txt', mail.text);
  });

  it('says what happened in the subject and the headline', () => {
    expect(mail.subject).toBe(
      '[bobsync] acme-360 full sync: 1 created, 1 reactivated, 3 updated, 1 deactivated, 1 parked, 1 protected, 1 failed',
    );
    expect(mail.text.split('\n')[1]).toBe(
      '⚠ 412 unchanged, 1 created, 1 reactivated, 3 updated, 1 deactivated, 1 parked, 1 protected, 1 failed',
    );
    const clean = renderReportEmail(
      sampleReport({ rows: sampleRows.filter((r) => r.outcome === 'applied'), errors: [] }),
    );
    expect(clean.subject).toBe('[bobsync] acme-360 full sync: 1 created, 1 reactivated, 3 updated, 1 deactivated');
    expect(clean.text).toContain('✔ 412 unchanged, 1 created');
  });

  it('escapes every HR value and uses nothing a mail client would block', () => {
    for (const value of hrValues) expect(mail.html).toContain(escaped(value));
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &lt;b&gt;Lead&lt;/b&gt;');
    expectMailSafe(mail.html);
  });

  it('lists errors and the footer figures', () => {
    expect(mail.html).toContain('Errors (1)');
    expect(mail.html).toContain('409 from 360Learning: email already used by another learner');
    expect(mail.text).toContain('Duration 4 min 12 s');
    expect(mail.text).toContain('API calls: HiBob 9, 360Learning reads 431, writes 9');
    expect(mail.text).toContain('run 0195a1b2-7c3d-7e4f-9a0b-1c2d3e4f5a6b');
  });

  it('caps the employee table and points to the attachments for the rest', () => {
    const many: ReportRow[] = Array.from({ length: BODY_ROW_LIMIT + 50 }, (_, i) => ({
      employeeId: String(5000 + i),
      displayName: `Employee ${i}`,
      action: 'update',
      outcome: 'applied',
      changes: [{ field: 'job', from: 'A', to: 'B', rule: 'fields.job ← work.title' }],
      operations: ['updateFields'],
      reason: 'job changed',
    }));
    const big = renderReportEmail(sampleReport({ rows: many, errors: [] }));
    expect(big.html.match(/>HiBob 5\d{3}/g)).toHaveLength(BODY_ROW_LIMIT);
    expect(big.html).toContain('… and 50 more in the attachments.');
    expect(big.text).toContain('… and 50 more in the attachments.');
    expect(big.html).toContain('Changed employees (250)');
  });

  it('says when a sync stopped for approval', () => {
    const held: ReportRow[] = ['1', '2'].map((id) => ({
      employeeId: id,
      displayName: `Leaver ${id}`,
      action: 'held',
      outcome: 'held',
      changes: [],
      operations: ['deactivate'],
      reason: 'missing from HiBob',
    }));
    const stopped = renderReportEmail(
      sampleReport({
        rows: held,
        errors: [],
        safeguard: { tripped: true, reason: '2 deactivations, above the limit of 0.1% (1)' },
      }),
    );
    expect(stopped.subject).toBe('[bobsync] acme-360 full sync needs approval: 2 held for approval');
    expect(stopped.text).toContain('Stopped: waiting for approval (412 unchanged, 2 held for approval)');
    expect(stopped.html).toContain(
      'Safeguard tripped: 2 deactivations, above the limit of 0.1% (1). The held changes wait for approval.',
    );
  });

  it('marks a dry run as one everywhere', () => {
    const rows = sampleRows.map((r): ReportRow => ({
      ...r,
      outcome: r.outcome === 'applied' || r.outcome === 'failed' ? 'planned' : r.outcome,
    }));
    const dry = renderReportEmail(sampleReport({ dryRun: true, rows, errors: [] }));
    expect(dry.subject).toBe(
      '[bobsync] acme-360 full sync dry run: 1 to create, 1 to reactivate, 4 to update, 1 to deactivate, 1 parked, 1 protected',
    );
    expect(dry.text).toContain('Dry run, nothing written: 412 unchanged, 1 to create');
    expect(dry.html).toContain('Dry run: nothing was written to 360Learning.');
  });
});

describe('approval email', () => {
  const mail = renderPreviewEmail(samplePlan(), previewMeta);

  it('matches the golden HTML and text', () => {
    expectGolden('preview-email.golden.html', mail.html);
    expectGolden('preview-email.golden.txt', mail.text);
  });

  it('asks for a decision and gives both commands', () => {
    expect(mail.subject).toBe('[bobsync] acme-360 full sync needs approval: 4 deactivations waiting');
    expect(mail.text).toContain('4 deactivations are waiting for your approval');
    expect(mail.text).toContain('bobsync approve full-sync/acme-360/2026-03-02T06:00:00Z');
    expect(mail.text).toContain('bobsync reject full-sync/acme-360/2026-03-02T06:00:00Z');
    expect(mail.html).toContain('Waiting for approval (4)');
    expect(mail.html).toContain('Other changes in this plan (8)');
  });

  it('escapes every HR value and uses nothing a mail client would block', () => {
    for (const value of hrValues.filter((v) => !sampleRows.some((r) => r.detail === v)))
      expect(mail.html).toContain(escaped(value));
    expectMailSafe(mail.html);
  });

  it('is a plain preview when nothing waits for a decision', () => {
    const preview = renderPreviewEmail(samplePlan(), { ...previewMeta, dryRun: true, safeguard: undefined });
    expect(preview.subject).toBe(
      '[bobsync] acme-360 plan preview (dry run): 1 to create, 1 to reactivate, 4 to update, 1 to deactivate, 1 parked, 3 held for approval, 1 protected',
    );
    expect(preview.text).not.toContain('bobsync approve');
  });
});

describe('whole-plan approval email', () => {
  const meta: PreviewEmailMeta = {
    ...previewMeta,
    safeguard: { tripped: false },
    approval: { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' },
  };
  const mail = renderPreviewEmail(samplePlan(), meta);

  it('asks for approval of the whole plan, says why, and gives both commands', () => {
    expect(mail.subject).toBe(
      '[bobsync] acme-360 full sync needs approval of the whole plan: 1 to create, 1 to reactivate, 4 to update, 1 to deactivate, 1 parked, 3 held for approval, 1 protected',
    );
    expect(mail.text).toContain(
      'The whole plan waits for approval (first run of this connection, approval mode firstRun); nothing is applied until someone approves it.',
    );
    expect(mail.text).toContain('Approve:  bobsync approve full-sync/acme-360/2026-03-02T06:00:00Z');
    expect(mail.text).toContain('Reject:   bobsync reject full-sync/acme-360/2026-03-02T06:00:00Z');
    expect(mail.text).toContain(
      'an employee whose HiBob record changes after this preview is left out and picked up by the next run',
    );
    expect(mail.html).toContain('bobsync approve full-sync/acme-360/2026-03-02T06:00:00Z');
  });

  it('lists the changes by the categories of the preview spreadsheet', () => {
    const headings = [...mail.text.matchAll(/^(To be \w+|Errors) \((\d+)\):$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(headings).toEqual([
      ['To be added', 1],
      ['To be reactivated', 1],
      ['To be updated', 4],
      ['To be archived', 4],
      ['Errors', 1],
    ]);
    expect(mail.html).toContain('To be archived (4)');
  });

  it('escapes every HR value and uses nothing a mail client would block', () => {
    for (const value of hrValues.filter(
      (v) =>
        !sampleRows.some((r) => r.detail === v) &&
        !sampleRows.some((r) => r.action === 'protected' && (r.displayName === v || r.email === v || r.reason === v)),
    )) {
      expect(mail.html).toContain(escaped(value));
    }
    expectMailSafe(mail.html);
  });

  it('mentions a tripped safeguard, whose deactivations are part of the plan', () => {
    const tripped = renderPreviewEmail(samplePlan(), { ...meta, safeguard: previewMeta.safeguard });
    expect(tripped.text).toContain('Safeguard tripped: 4 deactivations, above the limit of 0.5% (2).');
  });

  it('is a plain preview in a dry run', () => {
    const dry = renderPreviewEmail(samplePlan(), { ...meta, dryRun: true });
    expect(dry.subject).toMatch(/^\[bobsync\] acme-360 plan preview \(dry run\): /);
    expect(dry.text).toContain(
      'A real run would wait for approval of the whole plan (first run of this connection, approval mode firstRun) before applying anything.',
    );
    expect(dry.text).not.toContain('bobsync approve');
  });
});

describe('report email after a whole-plan approval', () => {
  it('says when the plan was rejected and nothing was applied', () => {
    const rows = sampleRows.map((r): ReportRow => ({
      ...r,
      outcome: 'skipped',
      detail: 'not applied: the plan was rejected by hr-lead',
    }));
    const mail = renderReportEmail(
      sampleReport({
        rows,
        errors: [],
        approval: { scope: 'plan', reason: 'approval mode always', decision: 'rejected', decidedBy: 'hr-lead' },
      }),
    );
    expect(mail.text).toContain(
      'The whole plan waited for approval (approval mode always). Rejected by hr-lead; nothing was applied.',
    );
    expect(mail.html).toContain('Rejected by hr-lead; nothing was applied.');
  });

  it('says when nobody approved in time', () => {
    const mail = renderReportEmail(
      sampleReport({ approval: { scope: 'plan', reason: 'approval mode always', decision: 'timedOut' } }),
    );
    expect(mail.text).toContain('Nobody decided in time; nothing was applied.');
  });

  it('shows employees changed since approval as such', () => {
    const rows: ReportRow[] = [
      {
        ...sampleRows[0]!,
        outcome: 'changedSinceApproval',
        detail: 'changed since approval: the HiBob record changed after the preview; left for the next run',
      },
    ];
    const mail = renderReportEmail(
      sampleReport({
        rows,
        errors: [],
        counts: { byAction: { noop: 412, update: 1 }, byOutcome: { unchanged: 412, changedSinceApproval: 1 } },
        approval: {
          scope: 'plan',
          reason: 'approval mode always',
          decision: 'approved',
          decidedBy: 'hr-lead',
          changedSinceApproval: 1,
        },
      }),
    );
    expect(mail.subject).toBe('[bobsync] acme-360 full sync: 1 changed since approval');
    expect(mail.text).toContain('Zoë Müller (HiBob 1001, zoe.mueller@acme.example): update, changed since approval');
    expect(mail.text).toContain('By outcome: Changed since approval 1, Unchanged 412');
    expect(mail.text).toContain('1 employee changed in HiBob since the preview was left for the next run.');
    expect(mail.html).toContain('changed since approval');
  });

  it('says that approval mode never left the held deactivations undone', () => {
    const held: ReportRow[] = [
      {
        employeeId: '1',
        displayName: 'Leaver 1',
        action: 'held',
        outcome: 'held',
        changes: [],
        operations: ['deactivate'],
        reason: 'missing from HiBob',
        detail: 'held: safeguard, approval mode never',
      },
    ];
    const mail = renderReportEmail(
      sampleReport({
        rows: held,
        errors: [],
        safeguard: { tripped: true, reason: '1 deactivation, above the limit of 0', decision: 'notAsked' },
      }),
    );
    expect(mail.subject).toBe('[bobsync] acme-360 full sync: 1 held for approval');
    expect(mail.text).toContain(
      'Approval mode never: the held deactivations were not applied and are reported as held.',
    );
    expect(mail.text).toContain('held: safeguard, approval mode never');
  });
});

// Looks at the email in a real browser where one is installed; CI has none, and relies on the
// golden files above.
const chromium = '/usr/bin/chromium';
(existsSync(chromium) ? describe : describe.skip)('report email in headless Chromium', () => {
  it('renders to a non-trivial screenshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bobsync-report-'));
    const page = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    writeFileSync(page, renderReportEmail(sampleReport()).html);
    await promisify(execFile)(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--screenshot=${png}`,
        '--window-size=900,1400',
        `file://${page}`,
      ],
      { timeout: 60_000 },
    );
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
    // A blank 900×1400 page compresses to a few KB; the rendered report is far larger.
    expect(statSync(png).size).toBeGreaterThan(50_000);
  }, 90_000);
});
