/**
 * Searchable runs on the real dev server: the workflows set bobsync's search attributes, and
 * the filters an operator types into `temporal workflow list --query` (or the UI) find exactly
 * the runs they name. Visibility is eventually consistent, so every query is polled.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTemporalCli } from '../../src/dev/temporal-cli';
import { fullSync } from '../../src/workflows';
import { stateQuery } from '../../src/workflows/employee-sync-api';
import { progressQuery, rejectUpdate } from '../../src/workflows/full-sync-api';
import { employeeWorkflowId } from '../../src/workflows/ids';
import {
  connectionAttribute,
  employeeIdAttribute,
  outcomeAttribute,
  pendingTimerAttribute,
  phaseAttribute,
  triggerAttribute,
} from '../../src/workflows/search-attributes';
import { recordHistoryIfAsked } from '../support/histories';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(240_000);

const run = promisify(execFile);
const DAY = 86_400_000;

describe('searchable runs: search attributes and the queries operators use', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const address = () => process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS!;
  const cli = () => {
    const path = process.env.BOBSYNC_TEST_TEMPORAL_CLI ?? findTemporalCli()?.path;
    if (!path) throw new Error('no temporal CLI: run `bobsync temporal ensure`');
    return path;
  };

  /** Workflow ids `temporal workflow list --query` answers in this stack's namespace. */
  const list = async (query: string): Promise<string[]> => {
    const { stdout } = await run(cli(), [
      'workflow',
      'list',
      '--address',
      address(),
      '--namespace',
      stack.config.temporal.namespace,
      '--query',
      query,
      '--output',
      'json',
      '--limit',
      '200',
    ]);
    const rows = JSON.parse(stdout) as { execution: { workflowId: string } }[];
    return [...new Set(rows.map((r) => r.execution.workflowId))].sort();
  };
  /** Polls a query until it answers exactly `expected`; visibility lags the workflows. */
  const listed = async (query: string, expected: string[]) => {
    const want = [...expected].sort();
    let last: string[] = [];
    await eventually(
      async () => {
        last = await list(query);
        return JSON.stringify(last) === JSON.stringify(want) ? true : undefined;
      },
      60_000,
      query,
    ).catch(() => undefined);
    // On a time-out, the difference says more than the time-out.
    expect({ query, found: last }).toEqual({ query, found: want });
  };

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'search-attributes',
      api: true,
      employees: 6,
      seed: 53,
      only: ['hibob', '360learning'],
      // Every full sync waits for approval of its whole plan, so one can be found waiting.
      configure: (config) => {
        config.connections[0]!.safety.approval = 'always';
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const hire = (firstName: string, email: string | null, startDate = '2024-03-01') =>
    hibob().createEmployee({
      firstName,
      surname: 'Searchable',
      email,
      startDate,
      site: 'London',
      department: 'Engineering',
      title: 'Software Engineer',
    });
  const outcomeOf = async (employeeId: string) => {
    const state = await stack.client.workflow.getHandle(employeeWorkflowId('demo-360', employeeId)).query(stateQuery);
    return state.lastOutcome?.result;
  };

  it('finds exactly the parked employees of a connection, and a pending activation before a date', async () => {
    const fine = hire('Fine', 'fine.searchable@northwind.example');
    const noEmail = [hire('Nomail', null), hire('Nomail2', null)];
    const badEmail = hire('Bad', 'bad searchable@northwind.example');
    const parked = [...noEmail, badEmail];
    const startDate = new Date(Date.now() + 90 * DAY).toISOString().slice(0, 10);
    const future = hire('Future', 'future.searchable@northwind.example', startDate);

    await eventually(async () => ((await outcomeOf(fine.id)) === 'applied' ? true : undefined), 90_000, 'Fine applied');
    for (const p of parked)
      await eventually(async () => ((await outcomeOf(p.id)) === 'parked' ? true : undefined), 90_000, `${p.id} parked`);
    const pending = await eventually(
      async () =>
        (await stack.client.workflow.getHandle(employeeWorkflowId('demo-360', future.id)).query(stateQuery))
          .pendingTimer,
      90_000,
      'the activation timer',
    );

    const ids = (people: { id: string }[]) => people.map((p) => employeeWorkflowId('demo-360', p.id));
    await listed('BobsyncConnection="demo-360" AND BobsyncOutcome="parked"', ids(parked));
    // HiBob's later "joined" event may leave Fine unchanged rather than applied: both are fine here.
    await listed(`BobsyncEmployeeId="${fine.id}" AND BobsyncOutcome IN ("applied", "unchanged")`, ids([fine]));

    // The activation instant the future hire's workflow sleeps until: found by a bound on either side.
    const after = new Date(Date.parse(pending) + DAY).toISOString();
    await listed(`BobsyncConnection="demo-360" AND BobsyncPendingTimer < "${after}"`, ids([future]));
    const before = new Date(Date.parse(pending) - DAY).toISOString();
    expect(await list(`BobsyncConnection="demo-360" AND BobsyncPendingTimer < "${before}"`)).toEqual([]);

    // What the UI shows for one employee: opaque id, connection, what happened and why it ran.
    const described = await stack.client.workflow.getHandle(employeeWorkflowId('demo-360', noEmail[0]!.id)).describe();
    const attributes = described.typedSearchAttributes;
    expect(attributes.get(connectionAttribute)).toBe('demo-360');
    expect(attributes.get(employeeIdAttribute)).toBe(noEmail[0]!.id);
    expect(attributes.get(outcomeAttribute)).toBe('parked');
    expect(attributes.get(triggerAttribute)).toBe('webhook');
    expect(attributes.get(pendingTimerAttribute)).toBeUndefined();
    const timer = (await stack.client.workflow.getHandle(employeeWorkflowId('demo-360', future.id)).describe())
      .typedSearchAttributes;
    expect(timer.get(pendingTimerAttribute)?.toISOString()).toBe(pending);
    // No name or address is searchable.
    for (const pair of attributes.getAll()) expect(String(pair.value)).not.toMatch(/Nomail|Searchable|northwind/i);
  });

  it('finds a full sync awaiting approval by its phase, and then how it ended', async () => {
    const workflowId = `bobsync/demo-360/full-sync/search-${Date.now()}`;
    const handle = await stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'schedule' }],
    });
    await eventually(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      120_000,
      'approval wait',
    );
    await listed('BobsyncPhase="awaitingApproval"', [workflowId]);
    await listed('BobsyncConnection="demo-360" AND WorkflowType="fullSync" AND BobsyncTrigger="schedule"', [
      workflowId,
    ]);

    await handle.executeUpdate(rejectUpdate, { args: [{ by: 'hr-lead' }] });
    await handle.result();
    await listed('BobsyncPhase="done" AND BobsyncOutcome="notApproved"', [workflowId]);
    expect(await list('BobsyncPhase="awaitingApproval"')).toEqual([]);
    expect((await handle.describe()).typedSearchAttributes.get(phaseAttribute)).toBe('done');
    await recordHistoryIfAsked(handle, 'full-sync-search-attributes');
  });
});
