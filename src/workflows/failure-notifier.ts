/**
 * One notifier per connection gathers employee failures and mails them as digests: the first
 * failure waits a short window for company, and digests are spaced out, so a storm of a
 * thousand failures becomes a handful of emails, not a thousand.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { EmployeeFailure } from '../activities/employee-types';
import type { NotificationActivities } from '../activities/notifications';
import { failureSignal, type FailureNotifierInput } from './failure-notifier-api';

export { failureSignal, type FailureNotifierInput } from './failure-notifier-api';

const IDLE_BEFORE_COMPLETING_MS = 60 * 60_000;
/** Notifiers begun before a digest that could not be sent was kept failed with it, and replay so. */
const UNSENT_DIGEST_KEPT_PATCH = 'unsent-digest-kept';
/** Failures kept while digests cannot be sent; an employee still failing is reported again by their next sync. */
const UNSENT_KEPT = 1_000;

/** The latest failure of each employee and kind, the newest UNSENT_KEPT of them, oldest first. */
function unsentKept(failures: EmployeeFailure[]): EmployeeFailure[] {
  const latest = new Map<string, EmployeeFailure>();
  for (const failure of failures) {
    const key = `${failure.employeeId}\n${failure.code}`;
    latest.delete(key);
    latest.set(key, failure);
  }
  return [...latest.values()].slice(-UNSENT_KEPT);
}

export async function failureNotifier(input: FailureNotifierInput): Promise<number> {
  const { sendFailureDigest } = proxyActivities<NotificationActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 20 },
  });
  let pending: EmployeeFailure[] = [...(input.carried ?? [])];
  let sent = 0;
  setHandler(failureSignal, (failure) => {
    pending.push(failure);
  });

  for (;;) {
    if (!(await condition(() => pending.length > 0, IDLE_BEFORE_COMPLETING_MS))) {
      await condition(allHandlersFinished);
      if (pending.length === 0) return sent;
      continue;
    }
    await sleep(input.digestWindowSeconds * 1000);
    const batch = pending.splice(0, pending.length);
    try {
      await sendFailureDigest(input.connection, batch);
      sent += 1;
    } catch (err) {
      if (!(err instanceof ActivityFailure) || isCancellation(err) || !patched(UNSENT_DIGEST_KEPT_PATCH)) throw err;
      // Mail down for longer than the activity's retries: the failures wait for the next digest,
      // at most the newest UNSENT_KEPT of them, one per employee and kind, so a mail server that
      // never comes back cannot grow the notifier's state without end.
      const kept = unsentKept(batch.concat(pending));
      log.warn('Failure digest not sent; its failures wait for the next one', {
        connection: input.connection,
        failures: batch.length,
        dropped: batch.length + pending.length - kept.length,
        error: err.cause?.message ?? err.message,
      });
      pending = kept;
    }
    await sleep(input.minIntervalSeconds * 1000);
    if (workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof failureNotifier>({ ...input, carried: pending });
    }
  }
}
