/**
 * One HiBob company, two LMSs: the demo config's demo-360 and demo-skillcast side by side, as
 * `npm start` runs them. Each has its own full sync and its own rate-limited LMS queues, and one
 * HiBob webhook reaches both.
 */
import { temporal } from '@temporalio/proto';
import type { AdminUserView } from '../../packages/local/emulators/skillcast';
import { fullSync } from '../../src/workflows';
import { lmsQueue } from '../../src/workflows/task-queues';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

describe('HiBob → 360Learning and HiBob → Skillcast side by side', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const learnerOf = (employeeId: string) => {
    const lms = stack.emulators.learning360!.emulator;
    const link = lms.dump().externalIds.find((x) => x.value === employeeId);
    return link ? lms.dump().users.find((u) => u._id === link.targetId) : undefined;
  };
  const scimUserOf = (employeeId: string): AdminUserView | undefined =>
    stack.emulators.skillcast!.emulator.users('Employees').Employees?.find((u) => u.externalId === employeeId);

  beforeAll(async () => {
    // A seed no other stack uses: employee workflow ids name the HiBob id, and stacks share one server.
    stack = await startTestStack({ name: 'two-connections', api: true, employees: 12, seed: 17 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the demo config has both connections, each with LMS queues of its own', async () => {
    expect(stack.config.connections.map((c) => [c.name, c.destination.type])).toEqual([
      ['demo-360', '360learning'],
      ['demo-skillcast', 'skillcast'],
    ]);
    for (const connection of ['demo-360', 'demo-skillcast']) {
      for (const kind of ['reads', 'writes'] as const) {
        const name = lmsQueue(stack.taskQueue, kind, connection);
        const pollers = await eventually(
          async () => {
            const answer = await stack.client.workflowService.describeTaskQueue({
              namespace: stack.config.temporal.namespace,
              taskQueue: { name },
              taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            });
            return answer.pollers.length > 0 ? answer.pollers : undefined;
          },
          30_000,
          `a poller on ${name}`,
        );
        expect(pollers.length).toBeGreaterThan(0);
      }
    }
  });

  it('both first full syncs finish as separate runs, and one webhook edit reaches both platforms', async () => {
    const runs = await Promise.all(
      ['demo-360', 'demo-skillcast'].map((connection) =>
        stack.client.workflow.execute(fullSync, {
          taskQueue: stack.taskQueue,
          workflowId: `bobsync/${connection}/full-sync/test-${Date.now()}`,
          args: [{ connection, taskQueue: stack.taskQueue, trigger: 'test' }],
        }),
      ),
    );
    expect(runs.map((r) => r.connection)).toEqual(['demo-360', 'demo-skillcast']);
    for (const r of runs) expect(r.byAction.create).toBeGreaterThan(5);

    const someone = hibob()
      .listEmployees()
      .find((e) => e.status === 'Active' && e.lifecycleStatus === 'employed' && learnerOf(e.id) && scimUserOf(e.id))!;
    hibob().updateEmployee(someone.id, { surname: 'Both-Platforms' });
    await eventually(
      () => (learnerOf(someone.id)?.lastName === 'Both-Platforms' ? true : undefined),
      60_000,
      '360Learning updated',
    );
    await eventually(
      () =>
        (scimUserOf(someone.id)?.name as { familyName?: string } | undefined)?.familyName === 'Both-Platforms'
          ? true
          : undefined,
      60_000,
      'Skillcast updated',
    );
  });
});
