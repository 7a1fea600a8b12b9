/**
 * Failure digests: one email for a burst of problems instead of one per employee. Rendering is
 * pure; sending is the mailer's job.
 */
import type { EmployeeFailure } from '../activities/employee-types';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderFailureDigest(connection: string, reported: EmployeeFailure[]): RenderedEmail {
  // One line per employee and problem: the latest report wins.
  const failures = [...new Map(reported.map((f) => [`${f.employeeId}/${f.code}`, f])).values()];
  const byCode = new Map<string, number>();
  for (const f of failures) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
  const summary = [...byCode.entries()].map(([code, n]) => `${n} × ${code}`).join(', ');
  const subject = `[bobsync] ${connection}: ${failures.length} employee${failures.length === 1 ? '' : 's'} could not be synced`;
  const lines = failures.map((f) => `- HiBob employee ${f.employeeId} (${f.code}) at ${f.at}: ${f.reason}`);
  const text = [
    `bobsync could not synchronise ${failures.length} employee(s) on connection "${connection}" (${summary}).`,
    'Each one is parked: nothing was written for it, and the rest of the sync went on.',
    '',
    ...lines,
    '',
    'Fix the record in HiBob (or the mapping in bobsync.yaml); the next webhook or full sync retries it.',
  ].join('\n');
  const rows = failures
    .map(
      (f) =>
        `<tr><td style="padding:4px 8px;font-family:monospace">${escapeHtml(f.employeeId)}</td><td style="padding:4px 8px">${escapeHtml(f.code)}</td><td style="padding:4px 8px">${escapeHtml(f.reason)}</td><td style="padding:4px 8px;color:#666">${escapeHtml(f.at)}</td></tr>`,
    )
    .join('\n');
  const html = `<!doctype html><html><body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<h2 style="margin:0 0 8px">${escapeHtml(connection)}: ${failures.length} employee(s) could not be synced</h2>
<p>${escapeHtml(summary)}. Each one is parked: nothing was written for it, and the rest of the sync went on.</p>
<table style="border-collapse:collapse;border:1px solid #ddd">
<thead><tr style="background:#f4f4f4"><th align="left" style="padding:4px 8px">HiBob employee</th><th align="left" style="padding:4px 8px">Problem</th><th align="left" style="padding:4px 8px">Reason</th><th align="left" style="padding:4px 8px">When</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<p style="color:#666">Fix the record in HiBob (or the mapping in bobsync.yaml); the next webhook or full sync retries it.</p>
</body></html>`;
  return { subject, text, html };
}
