import { WorkflowFailedError } from '@temporalio/client';
import { healthCheck } from '../../src/workflows';
import { recordHistoryIfAsked } from '../support/histories';
import { startTestStack, type TestStack } from '../support/stack';

describe('health-check workflow on the real Temporal dev server', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ name: 'health', only: ['hibob'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('reads one employee from the HiBob emulator through the rate-limited HiBob queue', async () => {
    const hibob = stack.emulators.hibob!;
    hibob.emulator.kit.requests.clear();
    const handle = await stack.client.workflow.start(healthCheck, {
      taskQueue: stack.taskQueue,
      workflowId: `test/health/${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue }],
    });
    const result = await handle.result();

    const search = await fetch(`${hibob.server.url}/v1/people/search`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('bobsync-demo:demo-hibob-token').toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ fields: ['root.id'], showInactive: true }),
    });
    const firstId = ((await search.json()) as { employees: { id: string }[] }).employees[0]!.id;
    expect(result).toEqual({ connection: 'demo-360', hibob: 'ok', sampleEmployeeId: firstId });

    const calls = hibob.emulator.kit.requests.entries.map((e) => `${e.method} ${e.path} ${e.status}`);
    expect(calls).toEqual([
      'POST /v1/people/search 200',
      `POST /v1/people/${firstId} 200`,
      'POST /v1/people/search 200',
    ]);

    await recordHistoryIfAsked(handle, 'health-check');
  });

  it('fails fast, without retrying for days, when HiBob rejects the credentials', async () => {
    const hibob = stack.emulators.hibob!;
    hibob.emulator.kit.requests.clear();
    const original = stack.env.HIBOB_SERVICE_USER_TOKEN;
    // A second connection with a wrong token shares the worker's config object.
    stack.config.connections.push({
      ...stack.config.connections[0]!,
      name: 'wrong-token',
      source: { ...stack.config.connections[0]!.source, serviceUserToken: { env: 'WRONG_TOKEN' } },
    });
    stack.env.WRONG_TOKEN = 'not-the-token';
    const run = stack.client.workflow.execute(healthCheck, {
      taskQueue: stack.taskQueue,
      workflowId: `test/health-bad/${Date.now()}`,
      args: [{ connection: 'wrong-token', taskQueue: stack.taskQueue }],
    });
    await expect(run).rejects.toBeInstanceOf(WorkflowFailedError);
    await run.catch((err: WorkflowFailedError) => {
      expect(String((err.cause?.cause as Error | undefined)?.message)).toContain('hibob answered 401');
    });
    // Non-retryable: exactly one attempt reached HiBob.
    expect(hibob.emulator.kit.requests.entries.filter((e) => e.status === 401)).toHaveLength(1);
    expect(stack.env.HIBOB_SERVICE_USER_TOKEN).toBe(original);
  });
});
