/**
 * `bobsync employee <id>`: what the employee's own workflow knows, and with --sync a
 * provision-on-demand through that workflow (started if none runs), the single writer.
 */
import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { HIBOB_EMPLOYEE_ID, employeeWorkflowId } from '../workflows/ids';
import {
  stateQuery,
  syncNowUpdate,
  type EmployeeSyncInput,
  type EmployeeSyncState,
  type SyncOutcome,
} from '../workflows/employee-sync-api';
import { employeeSync } from '../workflows/employee-sync';
import { println, resolveConnection, withClient, type CommandIo, type Output } from './io';

export interface EmployeeOptions {
  connection?: string;
  /** Re-read and re-plan now, starting the workflow if none runs. */
  sync?: boolean;
}

export interface EmployeeView {
  workflowId: string;
  /** Whether the employee's workflow runs now (it ends itself when idle, and restarts on the next event). */
  running: boolean;
  state?: EmployeeSyncState;
  /** The outcome of --sync. */
  outcome?: SyncOutcome;
  /** When none runs: how the last one ended and what it last did. */
  last?: { status: string; closedAt?: Date; outcome?: SyncOutcome };
}

export async function showEmployee(
  io: CommandIo,
  employeeId: string,
  opts: EmployeeOptions = {},
): Promise<EmployeeView> {
  const connection = resolveConnection(io, opts.connection).name;
  // HiBob would read an email too, but the workflow id, its search attributes and the learner's
  // link all carry the HiBob id; an email there would make a second workflow for the person.
  if (!HIBOB_EMPLOYEE_ID.test(employeeId))
    throw new Error(
      `"${employeeId}" is not a HiBob employee id: give the id (root.id, the number in the employee's HiBob URL), not an email or a name`,
    );
  const workflowId = employeeWorkflowId(connection, employeeId);
  const out = io.out;
  return withClient(io, async (client) => {
    if (opts.sync) {
      const outcome = await syncNow(client, io.ctx.config.temporal.taskQueue, connection, employeeId);
      const state = await client.workflow.getHandle(workflowId).query(stateQuery);
      println(out, `Synced employee ${employeeId} on ${connection} (${workflowId})`);
      printOutcome(out, outcome);
      println(out, `  learner      ${state.learnerId ?? 'none'}`);
      return { workflowId, running: true, state, outcome };
    }

    const handle = client.workflow.getHandle<typeof employeeSync>(workflowId);
    let status: string;
    let closedAt: Date | undefined;
    try {
      const d = await handle.describe();
      status = d.status.name;
      closedAt = d.closeTime;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      println(
        out,
        `No workflow runs for employee ${employeeId} on ${connection}: no webhook or full sync has touched them here yet.`,
      );
      println(out, `  \`bobsync employee ${employeeId} --connection ${connection} --sync\` provisions them now.`);
      return { workflowId, running: false };
    }

    if (status !== 'RUNNING') {
      // An idle employee workflow completes with its last outcome; the next event starts a new one.
      const outcome = status === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
      println(
        out,
        `No workflow runs for employee ${employeeId} on ${connection} now; the last one is ${status.toLowerCase()}${closedAt ? ` since ${closedAt.toISOString()}` : ''}.`,
      );
      if (outcome) printOutcome(out, outcome, 'last outcome');
      println(out, `  The next HiBob event starts it again; --sync does so now.`);
      return { workflowId, running: false, last: { status, closedAt, outcome: outcome ?? undefined } };
    }

    const state = await queryWithPatience(() => handle.query(stateQuery));
    println(out, `Employee ${employeeId} on ${connection}: workflow ${workflowId} is running`);
    println(out, `  learner      ${state.learnerId ?? 'none yet'}`);
    println(
      out,
      `  pending      ${state.pendingEvents} event(s)${state.pendingTimer ? `, re-evaluates at ${state.pendingTimer}` : ''}`,
    );
    println(out, `  processed    ${state.processed} event(s) in this run`);
    if (state.lastOutcome) printOutcome(out, state.lastOutcome, 'last outcome');
    return { workflowId, running: true, state };
  });
}

/** The same update-with-start the full sync uses, so a running workflow is reused, never doubled. */
async function syncNow(
  client: Client,
  taskQueue: string,
  connection: string,
  employeeId: string,
): Promise<SyncOutcome> {
  const input: EmployeeSyncInput = { connection, employeeId, taskQueue };
  return client.workflow.executeUpdateWithStart(syncNowUpdate, {
    args: [{ reason: 'bobsync employee --sync' }],
    startWorkflowOperation: new WithStartWorkflowOperation(employeeSync, {
      workflowId: employeeWorkflowId(connection, employeeId),
      taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

function printOutcome(out: Output, o: SyncOutcome, title = 'result'): void {
  println(out, `  ${title.padEnd(12)} ${o.result} at ${o.at} (${o.trigger})`);
  println(out, `  operations   ${o.operations.length ? o.operations.join(', ') : 'none'}`);
  if (o.detail) println(out, `  detail       ${o.detail}`);
  if (o.deferredManager) println(out, `  manager      waits for the manager's learner to exist; retried automatically`);
  const plan = o.plan;
  if (!plan) return;
  if (plan.kind === 'apply') {
    println(out, '  plan');
    for (const op of plan.operations) println(out, `    ${op.op.padEnd(16)} ${op.reason}`);
  } else if (plan.kind === 'park')
    println(out, `  plan         parked (${plan.code})${plan.reason === o.detail ? '' : `: ${plan.reason}`}`);
  else println(out, `  plan         nothing to do${plan.reason === o.detail ? '' : `: ${plan.reason}`}`);
}

/**
 * A query right after the workflow finished a task can reach the server before it has seen the
 * worker poll again ("no poller seen recently"); asking again a moment later answers it.
 */
async function queryWithPatience<T>(query: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await query();
    } catch (err) {
      const text = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause)}` : String(err);
      if (attempt >= attempts || !/no poller seen/i.test(text)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
}
