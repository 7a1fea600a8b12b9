/**
 * The full sync's notices, run directly in Temporal's mock activity context: the e-mail about a
 * run that did not finish and the approval reminder, sent to a real SMTP server on loopback, and
 * the run's limits read from the config.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ConnectionRegistry } from '../../src/activities/deps';
import { runNoticeActivities, runNoticeMessageId } from '../../src/activities/run-notices';
import { parseConfig } from '../../src/config/loader';
import type { ApprovalReminderNotice, RunFailureNotice } from '../../src/workflows/full-sync-api';
import { startSmtpSink, type SmtpSink } from '../support/smtp';

const CONNECTION = 'acme-360';
const WORKFLOW_ID = 'bobsync/acme-360/full-sync/2026-03-02T02-00-00-000Z';
const RUN_ID = '3f6c2a9e-1b7d-4c55-9e0a-7d2b8c4f1a60';

const connectionYaml = (extra = '') => `
connections:
  - name: ${CONNECTION}
    source:
      type: hibob
      baseUrl: http://127.0.0.1:9/v1
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_SERVICE_USER_TOKEN }
    destination:
      type: 360learning
      baseUrl: http://127.0.0.1:9
      clientId: acme
      clientSecret: { env: LEARNING360_CLIENT_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
${extra}`;
const SILENT_CONFIG = parseConfig(connectionYaml(), 'test config');
const CONFIG = parseConfig(
  connectionYaml(`    notifications:
      to: [hr@acme.example, it@acme.example]
      from: bobsync@acme.example
    safety:
      approvalReminderHours: 6
    fullSync:
      runTimeoutHours: 4
`),
  'test config',
);

const FAILED: RunFailureNotice = {
  workflowId: WORKFLOW_ID,
  runId: RUN_ID,
  phase: 'plan',
  kind: 'failed',
  error: 'activity planFullSync failed: the HiBob report "Everyone" has no column "Work email"',
  startedAt: '2026-03-02T02:00:00.000Z',
  dryRun: false,
};

const activityEnv = (activityType: string, namespace = 'default') =>
  new MockActivityEnvironment({ activityType, namespace }, { logger: new DefaultLogger('ERROR') });

describe('run notices', () => {
  let smtp: SmtpSink;

  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp?.close();
  });
  beforeEach(() => {
    smtp.messages.length = 0;
  });

  const activities = ({ config = CONFIG, env }: { config?: typeof CONFIG; env?: NodeJS.ProcessEnv } = {}) => {
    const processEnv = env ?? { BOBSYNC_SMTP_URL: smtp.url, TEMPORAL_UI_URL: 'https://temporal.acme.example/' };
    return runNoticeActivities(new ConnectionRegistry({ config, env: processEnv }), processEnv);
  };

  it('mails a failed run to the recipients: the phase, the error, the workflow and run ids, the Temporal UI link and the history command', async () => {
    const { sendRunFailureEmail } = activities();
    const messageId = runNoticeMessageId(WORKFLOW_ID, RUN_ID, 'failed');

    await expect(activityEnv('sendRunFailureEmail').run(sendRunFailureEmail, CONNECTION, FAILED)).resolves.toEqual({
      status: 'sent',
      messageId,
    });

    const [mail] = await smtp.waitFor(1);
    expect(mail!.messageId).toBe(messageId);
    expect(mail!.from).toMatchObject({ text: 'bobsync@acme.example' });
    expect(mail!.to).toMatchObject({ text: 'hr@acme.example, it@acme.example' });
    expect(mail!.subject).toBe('[bobsync] acme-360 full sync failed while planning');
    const text = mail!.text ?? '';
    expect(text).toContain(FAILED.error);
    expect(text).toContain(WORKFLOW_ID);
    expect(text).toContain(RUN_ID);
    expect(text).toContain(`temporal workflow show -w ${WORKFLOW_ID}`);
    expect(text).toContain(
      `https://temporal.acme.example/namespaces/default/workflows/${encodeURIComponent(WORKFLOW_ID)}/${RUN_ID}/history`,
    );
    expect(text).toContain('2026-03-02 02:00 UTC');
    expect(mail!.html).toContain('the HiBob report &#34;Everyone&#34; has no column &#34;Work email&#34;');
  });

  it('a notice sent again (a retried activity) carries the same Message-ID; another kind or run gets another', async () => {
    const { sendRunFailureEmail } = activities();
    await activityEnv('sendRunFailureEmail').run(sendRunFailureEmail, CONNECTION, FAILED);
    await activityEnv('sendRunFailureEmail').run(sendRunFailureEmail, CONNECTION, FAILED);

    const mails = await smtp.waitFor(2);
    expect(mails[0]!.messageId).toBe(mails[1]!.messageId);
    expect(runNoticeMessageId(WORKFLOW_ID, RUN_ID, 'cancelled')).not.toBe(mails[0]!.messageId);
    expect(runNoticeMessageId(WORKFLOW_ID, 'another-run', 'failed')).not.toBe(mails[0]!.messageId);
    expect(mails[0]!.messageId).toMatch(/^<[^<>@\s]+@[^<>@\s]+>$/);
  });

  it('says when a run was stopped at its time limit, and names the namespace in the command outside the default one', async () => {
    const { sendRunFailureEmail } = activities({ env: { BOBSYNC_SMTP_URL: smtp.url } });
    const notice: RunFailureNotice = {
      ...FAILED,
      phase: 'apply',
      kind: 'timedOut',
      error: 'the full sync did not finish within 4 hours',
    };

    await activityEnv('sendRunFailureEmail', 'hr-prod').run(sendRunFailureEmail, CONNECTION, notice);

    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('[bobsync] acme-360 full sync was stopped at its time limit while applying changes');
    expect(mail!.text).toContain('Reason: the full sync did not finish within 4 hours');
    expect(mail!.text).toContain('fullSync.runTimeoutHours');
    expect(mail!.text).toContain(`temporal workflow show -w ${WORKFLOW_ID} --namespace hr-prod`);
    // No TEMPORAL_UI_URL: no link to guess.
    expect(mail!.text).not.toContain('Temporal UI');
  });

  it('reminds of a pending approval: what waits, since when, when it lapses, and the approve and reject commands', async () => {
    const { sendApprovalReminder } = activities();
    const since = new Date(Date.now() - 24 * 3_600_000);
    const reminder: ApprovalReminderNotice = {
      workflowId: WORKFLOW_ID,
      runId: RUN_ID,
      scope: 'held',
      reason: '42 deactivations, above the limit of 10% (25)',
      waiting: 42,
      since: since.toISOString(),
      expiresAt: new Date(since.getTime() + 72 * 3_600_000).toISOString(),
      reminder: 1,
    };
    const messageId = runNoticeMessageId(WORKFLOW_ID, RUN_ID, 'reminder-1');

    await expect(activityEnv('sendApprovalReminder').run(sendApprovalReminder, CONNECTION, reminder)).resolves.toEqual({
      status: 'sent',
      messageId,
    });

    const [mail] = await smtp.waitFor(1);
    expect(mail!.messageId).toBe(messageId);
    expect(mail!.subject).toBe(
      '[bobsync] Reminder: acme-360 full sync still waits for approval of 42 deactivations a safeguard holds',
    );
    const text = mail!.text ?? '';
    expect(text).toContain('has waited 24 hours for approval');
    expect(text).toContain(reminder.reason);
    expect(text).toContain(`Waiting since ${since.toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    expect(text).toContain(`lapses at ${reminder.expiresAt.slice(0, 16).replace('T', ' ')} UTC`);
    expect(text).toContain('the held deactivations are left undone');
    expect(text).toContain(`bobsync approve ${WORKFLOW_ID}`);
    expect(text).toContain(`bobsync reject ${WORKFLOW_ID}`);
    expect(text).toContain(`temporal workflow show -w ${WORKFLOW_ID}`);
  });

  it.each([
    ['no SMTP server', {}, CONFIG],
    ['no recipients', undefined, SILENT_CONFIG],
  ])('sends nothing with %s', async (_what, env, config) => {
    const { sendRunFailureEmail, sendApprovalReminder } = activities({ config, env });
    const reminder: ApprovalReminderNotice = {
      workflowId: WORKFLOW_ID,
      runId: RUN_ID,
      scope: 'plan',
      reason: 'approval mode always',
      waiting: 3,
      since: FAILED.startedAt!,
      expiresAt: FAILED.startedAt!,
      reminder: 1,
    };

    await expect(activityEnv('sendRunFailureEmail').run(sendRunFailureEmail, CONNECTION, FAILED)).resolves.toEqual({
      status: 'notConfigured',
    });
    await expect(activityEnv('sendApprovalReminder').run(sendApprovalReminder, CONNECTION, reminder)).resolves.toEqual({
      status: 'notConfigured',
    });
    // Let a message arrive, were one on its way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.messages).toEqual([]);
  });

  it('reads the run limit and the reminder interval from the connection, with their defaults', async () => {
    await expect(activities().runNoticeSettings(CONNECTION)).resolves.toEqual({
      runTimeoutHours: 4,
      approvalReminderHours: 6,
    });
    await expect(activities({ config: SILENT_CONFIG }).runNoticeSettings(CONNECTION)).resolves.toEqual({
      runTimeoutHours: 12,
      approvalReminderHours: 24,
    });
  });
});
