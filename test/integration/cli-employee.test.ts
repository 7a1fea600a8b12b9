/**
 * `bobsync employee <id> [--sync]` on the real dev server: the employee workflow's state, and
 * provision-on-demand through update-with-start.
 */
import type { CommandContext } from '../../src/cli/context';
import { showEmployee } from '../../src/cli/employee';
import type { CommandIo } from '../../src/cli/io';
import { runtimeSettings } from '../../src/config/runtime';
import { startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(120_000);

function cliIo(stack: TestStack): CommandIo & { text(): string } {
  const chunks: string[] = [];
  const ctx: CommandContext = {
    config: stack.config,
    configPath: 'test config',
    runtime: runtimeSettings(stack.env),
    address: stack.config.temporal.address,
    namespace: stack.config.temporal.namespace,
  };
  return {
    ctx,
    env: stack.env,
    out: { write: (t: string) => chunks.push(t), isTTY: false },
    text: () => chunks.join(''),
  };
}

describe('bobsync employee', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const lms = () => stack.emulators.learning360!.emulator;
  const learnerOf = (employeeId: string) =>
    lms()
      .dump()
      .users.find((u) => u.externalIds.some((x) => x.value === employeeId));

  beforeAll(async () => {
    stack = await startTestStack({ name: 'cli-employee', employees: 3, seed: 13, only: ['hibob', '360learning'] });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('says when no workflow runs, provisions with --sync, then shows the running workflow’s state', async () => {
    // Someone without a manager, so one pass creates everything.
    const employee = hibob()
      .listEmployees()
      .find((e) => e.status === 'Active' && e.email && !e.reportsTo)!;

    const io = cliIo(stack);
    const none = await showEmployee(io, employee.id);
    expect(none).toEqual({ workflowId: `bobsync/demo-360/employee/${employee.id}`, running: false });
    expect(io.text()).toContain(`No workflow runs for employee ${employee.id} on demo-360`);
    expect(learnerOf(employee.id)).toBeUndefined();

    const synced = await showEmployee(io, employee.id, { sync: true });
    const learner = learnerOf(employee.id)!;
    expect(learner.mail).toBe(employee.email!.trim().toLowerCase());
    expect(synced.outcome).toMatchObject({ result: 'applied', trigger: 'on demand: bobsync employee --sync' });
    expect(synced.outcome!.operations).toContain('create');
    expect(synced.state!.learnerId).toBe(learner._id);
    const text = io.text();
    expect(text).toContain(`Synced employee ${employee.id} on demo-360`);
    expect(text).toMatch(/result +applied at /);
    expect(text).toMatch(/\n {4}create +\S/);
    expect(text).toContain(`learner      ${learner._id}`);

    const shown = await showEmployee(io, employee.id, { connection: 'demo-360' });
    expect(shown.running).toBe(true);
    expect(shown.state).toMatchObject({ employeeId: employee.id, learnerId: learner._id });
    expect(io.text()).toContain(`workflow bobsync/demo-360/employee/${employee.id} is running`);

    // A second on-demand sync reuses the running workflow and finds nothing to do.
    const again = await showEmployee(io, employee.id, { sync: true });
    expect(again.outcome).toMatchObject({ result: 'unchanged', operations: [] });
    expect(
      lms()
        .dump()
        .users.filter((u) => u.mail === learner.mail),
    ).toHaveLength(1);
    expect(io.text()).toMatch(/plan +nothing to do/);

    // A workflow that ended is reported as such, not as running.
    await stack.client.workflow.getHandle(shown.workflowId).terminate('test');
    const ended = await showEmployee(io, employee.id);
    expect(ended).toMatchObject({ running: false, last: { status: 'TERMINATED' } });
    expect(io.text()).toMatch(/the last one is terminated since \d{4}-/);
  });

  it('names the known connections when asked for an unknown one', async () => {
    await expect(showEmployee(cliIo(stack), '123', { connection: 'nope' })).rejects.toThrow(
      'no connection "nope" in test config (known: demo-360)',
    );
  });

  it('refuses an email for the employee id, and starts nothing', async () => {
    const person = hibob().listEmployees()[0]!;
    await expect(showEmployee(cliIo(stack), person.email!, { sync: true })).rejects.toThrow(
      `"${person.email}" is not a HiBob employee id: give the id (root.id`,
    );
    const started = stack.client.workflow.list({ query: `WorkflowId = 'bobsync/demo-360/employee/${person.email}'` });
    for await (const run of started) throw new Error(`a workflow was started: ${run.workflowId}`);
    expect(learnerOf(person.email!)).toBeUndefined();
  });
});
