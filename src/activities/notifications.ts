import { getClient, log } from '@temporalio/activity';
import { renderFailureDigest } from '../notifications/digest';
import { createMailer, type Mailer } from '../notifications/mailer';
import {
  failureNotifierWorkflowType,
  failureSignal,
  type FailureNotifierInput,
} from '../workflows/failure-notifier-api';
import { notifierWorkflowId } from '../workflows/ids';
import type { ConnectionRegistry } from './deps';
import type { EmployeeFailure } from './employee-types';

export function notificationActivities(registry: ConnectionRegistry, env: NodeJS.ProcessEnv, taskQueue: string) {
  let mailer: Mailer | undefined;
  const smtpUrl = env.BOBSYNC_SMTP_URL;

  return {
    /** Hands a failure to the connection's notifier workflow, starting it when none runs. */
    async reportFailure(connection: string, failure: EmployeeFailure): Promise<void> {
      const { notifications } = registry.connection(connection);
      const input: FailureNotifierInput = {
        connection,
        digestWindowSeconds: notifications.digestWindowSeconds,
        minIntervalSeconds: notifications.minIntervalSeconds,
      };
      await getClient().workflow.signalWithStart(failureNotifierWorkflowType, {
        workflowId: notifierWorkflowId(connection),
        taskQueue,
        args: [input],
        signal: failureSignal,
        signalArgs: [failure],
      });
    },

    async sendFailureDigest(connection: string, failures: EmployeeFailure[]): Promise<void> {
      const { notifications } = registry.connection(connection);
      if (!smtpUrl || notifications.to.length === 0) {
        log.warn('failure digest not mailed: set BOBSYNC_SMTP_URL and notifications.to', {
          connection,
          failures: failures.length,
        });
        return;
      }
      mailer ??= createMailer(smtpUrl);
      await mailer.send({
        ...renderFailureDigest(connection, failures),
        from: notifications.from,
        to: notifications.to,
      });
    },
  };
}
export type NotificationActivities = ReturnType<typeof notificationActivities>;
