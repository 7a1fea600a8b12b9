/**
 * Which effective-date timers a full sync still has to hand to the employees' workflows.
 *
 * An employee workflow holds one timer, the earliest it was given, and publishes its instant as
 * the BobsyncPendingTimer search attribute. Visibility, not a record of our own, tells what is
 * held: a blob of what earlier runs armed cannot see a timer the workflow has since dropped (a
 * sync that re-planned, a run an operator terminated), while the attribute is the workflow's own
 * state, published each time the timer moves.
 *
 * Visibility lags the workflows by a moment, so a row can be stale. A timer wrongly thought
 * missing costs one signal the workflow ignores; a timer wrongly thought held is lost, so a row
 * is only trusted to mean "already held" when that cannot miss a wake-up:
 * - its instant is ahead (a due timer is firing or has fired, and its sync re-plans);
 * - it is no later than the one wanted (the workflow keeps the earliest, and the sync at the
 *   earlier instant re-plans from HiBob, which finds the later one again);
 * - its workflow appears once (two running rows for one id: one of them is stale).
 * The one stale row this cannot rule out is that of a workflow whose sync read HiBob before the
 * run's snapshot and drops the timer just after the listing; HiBob's webhook for that change
 * brings a fresh sync, and the next run lists the workflow without its timer and arms it.
 *
 * When the listing fails (a namespace without bobsync's search attributes, visibility down),
 * every timer is armed, as though none were held.
 */
import type { Client } from '@temporalio/client';
import type { PendingTimer } from '../domain/full-plan';
import { employeeSync } from '../workflows/employee-sync';
import { employeeWorkflowId } from '../workflows/ids';
import { connectionAttribute, pendingTimerAttribute } from '../workflows/search-attributes';

/** Visibility rows fetched per call. */
const LIST_PAGE_SIZE = 1_000;

/** Employee workflow id → the instant (epoch ms) visibility shows it holding, for rows that can be trusted. */
export type HeldTimers = Map<string, number>;

/** The visibility query: the connection's running employee workflows holding a timer still ahead of `now`. */
export function heldTimersQuery(connection: string, now: Date): string {
  const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return [
    `WorkflowType = ${quoted(employeeSync.name)}`,
    `ExecutionStatus = 'Running'`,
    `${connectionAttribute.name} = ${quoted(connection)}`,
    `${pendingTimerAttribute.name} > ${quoted(now.toISOString())}`,
  ].join(' AND ');
}

/**
 * Lists what the connection's running employee workflows hold, calling `progress` with the rows
 * read so far after each one (for heartbeats). Throws when visibility cannot answer.
 */
export async function listHeldTimers(
  client: Client,
  connection: string,
  now: Date,
  progress: (rows: number) => void = () => undefined,
): Promise<{ held: HeldTimers; rows: number; untrusted: number }> {
  const held: HeldTimers = new Map();
  const seenTwice = new Set<string>();
  let rows = 0;
  let untrusted = 0;
  for await (const info of client.workflow.list({
    query: heldTimersQuery(connection, now),
    pageSize: LIST_PAGE_SIZE,
  })) {
    rows += 1;
    progress(rows);
    const at = info.typedSearchAttributes.get(pendingTimerAttribute);
    const instant = at instanceof Date ? at.getTime() : Number.NaN;
    // The server filtered on these; a row that does not bear them out is not trusted.
    if (
      Number.isNaN(instant) ||
      instant <= now.getTime() ||
      info.typedSearchAttributes.get(connectionAttribute) !== connection
    ) {
      untrusted += 1;
      continue;
    }
    if (seenTwice.has(info.workflowId)) {
      untrusted += 1;
      continue;
    }
    if (held.delete(info.workflowId)) {
      // The row kept for it is no more trusted than this one.
      seenTwice.add(info.workflowId);
      untrusted += 2;
      continue;
    }
    held.set(info.workflowId, instant);
  }
  return { held, rows, untrusted };
}

/**
 * Whether the employee's workflow must be signalled for `timer`: it holds none, or holds a later
 * one (its scheduleRecheck handler keeps the earliest instant, so an earlier held timer already
 * wakes it in time, and a signal would change nothing).
 */
export function needsArming(held: HeldTimers | undefined, connection: string, timer: PendingTimer): boolean {
  const holds = held?.get(employeeWorkflowId(connection, timer.employeeId));
  const wanted = Date.parse(timer.at);
  if (holds === undefined || Number.isNaN(wanted)) return true;
  return wanted < holds;
}

/**
 * How far an attempt got, kept in its heartbeat: timers gone through (`done`) and of them those
 * signalled (`armed`). A plain count means every one gone through was signalled, the form
 * attempts took before some could be found already held.
 */
export interface ArmingProgress {
  done: number;
  armed: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

export function armingProgressOf(details: unknown): ArmingProgress {
  if (isCount(details)) return { done: details, armed: details };
  if (details && typeof details === 'object') {
    const { done, armed } = details as Partial<ArmingProgress>;
    if (isCount(done) && isCount(armed) && armed <= done) return { done, armed };
  }
  return { done: 0, armed: 0 };
}

export function armingHeartbeat(progress: ArmingProgress): number | ArmingProgress {
  return progress.armed === progress.done ? progress.done : { ...progress };
}
