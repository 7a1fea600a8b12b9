/**
 * A full sync that fails tells the connection's recipients once, over real SMTP: HiBob refuses
 * the service user's token (401), the run fails while reading HiBob, and one e-mail names the
 * run, the phase and the error.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { fullSync } from '../../src/workflows';
import { fastFullSync, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(180_000);

describe('full-sync run notices', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'notices',
      smtp: true,
      employees: 4,
      seed: 47,
      only: ['hibob', '360learning'],
      ...fastFullSync({ batchSize: 5, parallelism: 1, concurrencyPerBatch: 2 }),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a run that fails because HiBob answers 401 sends exactly one e-mail to the recipients', async () => {
    const hibob = stack.emulators.hibob!.emulator;
    hibob.kit.faults.add({
      path: '^/v1/people/search',
      status: 401,
      body: { error: 'Unauthorized', message: 'the service user token is not valid' },
    });
    const before = stack.smtp!.messages.length;
    const handle = await stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/notices-${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

    const mails = (await stack.smtp!.waitFor(before + 1)).slice(before);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.subject).toMatch(/^\[bobsync\] demo-360 full sync failed while /);
    expect(JSON.stringify(mail!.to)).toContain('hr-systems@example.com');
    expect(mail!.text).toContain(handle.workflowId);
    expect(mail!.text).toMatch(/401/);

    // Nothing else follows: no second notice, no report of a run that did not finish.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(stack.smtp!.messages.length).toBe(before + 1);
  });
});
