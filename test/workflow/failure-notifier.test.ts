import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EmployeeFailure } from '../../src/activities/employee-types';
import type { NotificationActivities } from '../../src/activities/notifications';
import { failureNotifier, failureSignal, type FailureNotifierInput } from '../../src/workflows/failure-notifier';
import { ActivityLog, runWorkers, timeSkippingEnvironment, uniqueTaskQueue, waitFor } from '../support/time-skipping';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const failure = (n: number): EmployeeFailure => ({
  employeeId: `emp-${n}`,
  code: 'learning360:invalid_email',
  reason: `360Learning refused the e-mail address of employee ${n}`,
  at: new Date(Date.UTC(2025, 0, 1, 9, 0, n)).toISOString(),
});

describe('failureNotifier on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await timeSkippingEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function notifier(log: ActivityLog, send: NotificationActivities['sendFailureDigest'] = async () => undefined) {
    const taskQueue = uniqueTaskQueue('notifier');
    const input: FailureNotifierInput = {
      connection: 'acme-360',
      digestWindowSeconds: 5 * 60,
      minIntervalSeconds: 60 * 60,
    };
    const activities = {
      workflows: log.stub({
        sendFailureDigest: send,
      } satisfies Pick<NotificationActivities, 'sendFailureDigest'>),
    };
    return { taskQueue, input, activities };
  }

  it('mails a storm of failures inside the digest window as one digest', async () => {
    const log = new ActivityLog();
    const { taskQueue, input, activities } = notifier(log);
    const storm = Array.from({ length: 50 }, (_, i) => failure(i));

    const { sent, started, closed } = await runWorkers(env, { taskQueue, activities }, async () => {
      // As reportFailure does: the first failure starts the notifier, the rest signal it.
      const handle = await env.client.workflow.signalWithStart(failureNotifier, {
        taskQueue,
        workflowId: `test/notifier/storm/${taskQueue}`,
        args: [input],
        signal: failureSignal,
        signalArgs: [storm[0]!],
      });
      for (const f of storm.slice(1)) await handle.signal(failureSignal, f);
      const sent = await handle.result();
      const { startTime, closeTime } = await handle.describe();
      return { sent, started: startTime.getTime(), closed: closeTime!.getTime() };
    });

    expect(sent).toBe(1);
    expect(log.calls.map((c) => c.name)).toEqual(['sendFailureDigest']);
    const [digest] = log.of('sendFailureDigest');
    expect(digest!.args).toEqual(['acme-360', storm]);
    expect(digest!.taskQueue).toBe(taskQueue);
    // Sent when the window closed, five minutes after the first failure (plus the real seconds the signals took).
    expect(digest!.scheduledAt - started).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(digest!.scheduledAt - started).toBeLessThan(6 * MINUTE);
    // Then the minimum interval and an idle hour passed before the notifier completed.
    expect(closed - digest!.scheduledAt).toBeGreaterThanOrEqual(2 * HOUR);
  });

  it('holds failures that arrive within the minimum interval for the next digest', async () => {
    const log = new ActivityLog();
    const { taskQueue, input, activities } = notifier(log);
    const first = Array.from({ length: 10 }, (_, i) => failure(i));
    const second = Array.from({ length: 20 }, (_, i) => failure(100 + i));

    const sent = await runWorkers(env, { taskQueue, activities }, async () => {
      const handle = await env.client.workflow.start(failureNotifier, {
        taskQueue,
        workflowId: `test/notifier/spaced/${taskQueue}`,
        args: [input],
      });
      for (const f of first) await handle.signal(failureSignal, f);
      await env.sleep('10 minutes');
      await waitFor(async () => (log.of('sendFailureDigest').length === 1 ? true : undefined), 'the first digest');
      // The notifier now waits out its minimum interval; these wait with it.
      for (const f of second) await handle.signal(failureSignal, f);
      return handle.result();
    });

    expect(sent).toBe(2);
    const digests = log.of('sendFailureDigest');
    expect(digests.map((d) => d.args)).toEqual([
      ['acme-360', first],
      ['acme-360', second],
    ]);
    // The second went out after the hour's interval and a new five-minute window.
    expect(digests[1]!.scheduledAt - digests[0]!.scheduledAt).toBeGreaterThanOrEqual(HOUR + 5 * MINUTE);
  });

  it('keeps digests the mail server refused, and sends their failures, once each, with the next one', async () => {
    const log = new ActivityLog();
    let attempts = 0;
    const { taskQueue, input, activities } = notifier(log, async () => {
      attempts += 1;
      if (attempts <= 2) throw ApplicationFailure.nonRetryable('535 authentication failed', 'SmtpError');
    });
    const first = Array.from({ length: 3 }, (_, i) => failure(i));
    // The same employee failing the same way again while digests wait counts once, as its latest.
    const again = { ...failure(0), at: new Date(Date.UTC(2025, 0, 1, 10)).toISOString() };
    const later = [failure(200), again];

    const sent = await runWorkers(env, { taskQueue, activities }, async () => {
      const handle = await env.client.workflow.start(failureNotifier, {
        taskQueue,
        workflowId: `test/notifier/refused/${taskQueue}`,
        args: [input],
      });
      for (const f of first) await handle.signal(failureSignal, f);
      await env.sleep('10 minutes');
      await waitFor(async () => (log.of('sendFailureDigest').length === 1 ? true : undefined), 'the refused digest');
      for (const f of later) await handle.signal(failureSignal, f);
      return handle.result();
    });

    // The notifier did not fail: the refused failures went out with the later ones, twice refused.
    expect(sent).toBe(1);
    expect(log.of('sendFailureDigest').map((d) => d.args)).toEqual([
      ['acme-360', first],
      ['acme-360', [...first, ...later]],
      ['acme-360', [first[1], first[2], failure(200), again]],
    ]);
  });
});
