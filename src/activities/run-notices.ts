/**
 * Notices about a full sync that needs someone: its own limits (read from the config when it
 * starts), the e-mail when it did not finish, and reminders while an approval is pending. Each
 * e-mail has a Message-ID derived from the run and what it says, so the copy a retried activity
 * sends is the same message to the receiving side, not a second one.
 */
import { createHash } from 'node:crypto';
import { Context, log } from '@temporalio/activity';
import type { RenderedEmail } from '../notifications/digest';
import { createMailer } from '../notifications/mailer';
import { renderApprovalReminderEmail, renderRunFailureEmail, type RunLocation } from '../reports/run-notices';
import type { ApprovalReminderNotice, RunFailureNotice, RunNoticeSettings } from '../workflows/full-sync-api';
import type { ConnectionRegistry } from './deps';

/** What became of a notice: sent, or not (no SMTP server or no recipients configured). */
export interface NoticeMailing {
  status: 'sent' | 'notConfigured';
  messageId?: string;
}

/** One Message-ID per run and notice (`failed`, `reminder-2`…). */
export function runNoticeMessageId(workflowId: string, runId: string, notice: string): string {
  const digest = createHash('sha256').update(`${workflowId}\n${runId}\n${notice}`).digest('hex').slice(0, 32);
  return `<full-sync-${notice}.${digest}@bobsync>`;
}

export function runNoticeActivities(registry: ConnectionRegistry, env: NodeJS.ProcessEnv) {
  /** The Temporal namespace of the run: the activity's own, or the deployment's outside one. */
  function location(): RunLocation {
    let namespace = env.TEMPORAL_NAMESPACE ?? 'default';
    try {
      namespace = Context.current().info.namespace;
    } catch {
      /* called outside an activity */
    }
    return { namespace, uiUrl: env.TEMPORAL_UI_URL || undefined };
  }

  async function mail(connection: string, rendered: RenderedEmail, messageId: string): Promise<NoticeMailing> {
    const { notifications } = registry.connection(connection);
    if (!env.BOBSYNC_SMTP_URL || notifications.to.length === 0) {
      log.warn('full-sync notice not mailed: set BOBSYNC_SMTP_URL and notifications.to', {
        connection,
        subject: rendered.subject,
      });
      return { status: 'notConfigured' };
    }
    const mailer = createMailer(env.BOBSYNC_SMTP_URL);
    try {
      await mailer.send({ ...rendered, messageId, from: notifications.from, to: notifications.to });
    } finally {
      mailer.close();
    }
    return { status: 'sent', messageId };
  }

  return {
    /** The run's time limit and approval reminders, as the connection's config has them now. */
    runNoticeSettings: async (connection: string): Promise<RunNoticeSettings> => {
      const { fullSync, safety } = registry.connection(connection);
      return { runTimeoutHours: fullSync.runTimeoutHours, approvalReminderHours: safety.approvalReminderHours };
    },

    /** Tells the connection's recipients that a full sync failed, was cancelled or was stopped at its time limit. */
    sendRunFailureEmail: async (connection: string, notice: RunFailureNotice): Promise<NoticeMailing> => {
      const messageId = runNoticeMessageId(notice.workflowId, notice.runId, notice.kind);
      return mail(connection, renderRunFailureEmail(connection, notice, location()), messageId);
    },

    /** Reminds the connection's recipients that a full sync still waits for approval. */
    sendApprovalReminder: async (connection: string, reminder: ApprovalReminderNotice): Promise<NoticeMailing> => {
      const messageId = runNoticeMessageId(reminder.workflowId, reminder.runId, `reminder-${reminder.reminder}`);
      return mail(
        connection,
        renderApprovalReminderEmail(connection, reminder, location(), new Date().toISOString()),
        messageId,
      );
    },
  };
}
export type RunNoticeActivities = ReturnType<typeof runNoticeActivities>;
