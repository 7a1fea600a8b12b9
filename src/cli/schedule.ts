/**
 * `bobsync schedule …`: the Temporal Schedule that runs a connection's full sync. The schedule id,
 * workflow type, task queue and input are plain and documented, so a schedule made here and one
 * made with `temporal schedule create` are the same thing and either tool manages both.
 */
import {
  DAYS_OF_WEEK,
  MONTHS,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type CalendarSpecDescription,
  type Client,
  type Range,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
} from '@temporalio/client';
import type { fullSync } from '../workflows/full-sync';
import type { FullSyncInput } from '../workflows/full-sync-api';
import { cronProblem } from '../config/cron';
import { fullSyncScheduleId, fullSyncWorkflowId } from '../workflows/ids';
import { operatorName, println, resolveConnection, withClient, type CommandIo } from './io';

export interface ScheduleOptions {
  connection?: string;
  /** Cron (UTC); default connection.fullSync.schedule. */
  cron?: string;
  /** `create` on an existing schedule replaces its spec and action instead of refusing. */
  update?: boolean;
}

/** What the schedule starts: the same input `bobsync sync` sends, marked as scheduled. */
function scheduledAction(connection: string, taskQueue: string): ScheduleOptionsStartWorkflowAction<typeof fullSync> {
  const input: FullSyncInput = { connection, taskQueue, trigger: 'schedule' };
  return {
    type: 'startWorkflow',
    workflowType: 'fullSync',
    taskQueue,
    // Temporal appends the scheduled time to this prefix for each run.
    workflowId: fullSyncWorkflowId(connection, 'scheduled'),
    args: [input],
  };
}

function scheduleSpec(cron: string): ScheduleSpec {
  return { cronExpressions: [cron], timezone: 'UTC' };
}

const POLICIES = { overlap: 'SKIP', catchupWindow: '1 hour', pauseOnFailure: false } as const;

function target(io: CommandIo, opts: ScheduleOptions) {
  const connection = resolveConnection(io, opts.connection);
  const problem = opts.cron === undefined ? undefined : cronProblem(opts.cron);
  if (problem) throw new Error(`--cron: ${problem}`);
  return {
    connection,
    scheduleId: fullSyncScheduleId(connection.name),
    cron: opts.cron ?? connection.fullSync.schedule,
  };
}

export type ScheduleCreated = 'created' | 'exists' | 'updated';

export async function createSchedule(io: CommandIo, opts: ScheduleOptions = {}): Promise<ScheduleCreated> {
  const { connection, scheduleId, cron } = target(io, opts);
  const taskQueue = io.ctx.config.temporal.taskQueue;
  const action = scheduledAction(connection.name, taskQueue);
  const note = `Full sync of ${connection.name} at "${cron}" (UTC), set by ${operatorName(io.env)} with bobsync schedule`;
  return withClient(io, async (client) => {
    try {
      await client.schedule.create({
        scheduleId,
        spec: scheduleSpec(cron),
        action,
        policies: POLICIES,
        state: { note },
        memo: { bobsync: { connection: connection.name, cron } },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      if (!opts.update) {
        println(
          io.out,
          `Schedule ${scheduleId} already exists. \`bobsync schedule describe\` shows it; \`bobsync schedule create --update\` replaces its cron and action.`,
        );
        return 'exists';
      }
      await client.schedule.getHandle(scheduleId).update((previous) => ({
        spec: scheduleSpec(cron),
        action,
        policies: POLICIES,
        // Paused stays paused: an update changes what runs, not whether it runs.
        state: {
          paused: previous.state.paused,
          note: previous.state.paused ? previous.state.note : note,
          remainingActions: previous.state.remainingActions,
        },
      }));
      println(io.out, `Updated schedule ${scheduleId}: full sync of ${connection.name} at "${cron}" (UTC).`);
      await printNextRuns(io, client, scheduleId);
      return 'updated';
    }
    println(
      io.out,
      `Created schedule ${scheduleId}: full sync of ${connection.name} at "${cron}" (UTC), on task queue ${taskQueue}.`,
    );
    await printNextRuns(io, client, scheduleId);
    return 'created';
  });
}

async function printNextRuns(io: CommandIo, client: Client, scheduleId: string): Promise<void> {
  const d = await client.schedule.getHandle(scheduleId).describe();
  if (d.info.nextActionTimes.length)
    println(
      io.out,
      `  next runs  ${d.info.nextActionTimes
        .slice(0, 3)
        .map((t) => t.toISOString())
        .join(', ')}`,
    );
}

export interface ScheduleView {
  scheduleId: string;
  paused: boolean;
  note?: string;
  cron: string[];
  timezone: string;
  workflowType: string;
  taskQueue: string;
  workflowIdPrefix?: string;
  input: unknown[];
  overlap: string;
  catchupWindowMs: number;
  nextRuns: Date[];
  recent: { scheduledAt: Date; takenAt: Date; workflowId: string; runId: string; status?: string }[];
  running: string[];
  actionsTaken: number;
  skippedOverlap: number;
  /** Differences from what this deployment would start (another task queue, connection or workflow). */
  warnings: string[];
}

export async function describeSchedule(io: CommandIo, opts: ScheduleOptions = {}): Promise<ScheduleView> {
  const { connection, scheduleId } = target(io, opts);
  return withClient(io, async (client) => {
    const d = await describeOrExplain(client, scheduleId, connection.name);
    const view = await toView(client, io, d, connection.name);
    const out = io.out;
    println(out, `Schedule ${scheduleId}`);
    println(out, `  state        ${view.paused ? 'PAUSED' : 'active'}${view.note ? ` (${view.note})` : ''}`);
    println(
      out,
      `  when         ${view.cron.length ? view.cron.map((c) => `"${c}"`).join(', ') : '(no calendar)'} ${view.timezone}`,
    );
    println(
      out,
      `  starts       ${view.workflowType} on task queue ${view.taskQueue}${view.workflowIdPrefix ? `, ids ${view.workflowIdPrefix}-<time>` : ''}`,
    );
    println(out, `  input        ${view.input.map((a) => JSON.stringify(a)).join(' ')}`);
    println(
      out,
      `  policies     overlap ${view.overlap}, catch-up window ${Math.round(view.catchupWindowMs / 60_000)} min`,
    );
    println(
      out,
      `  next runs    ${view.paused ? '(paused) ' : ''}${
        view.nextRuns
          .slice(0, 5)
          .map((t) => t.toISOString())
          .join(', ') || 'none'
      }`,
    );
    println(
      out,
      `  actions      ${view.actionsTaken} taken, ${view.skippedOverlap} skipped because a run was still going`,
    );
    if (view.running.length) println(out, `  running      ${view.running.join(', ')}`);
    if (view.recent.length) {
      println(out, '  recent runs');
      for (const r of view.recent.slice(-5))
        println(out, `    ${r.takenAt.toISOString()}  ${r.workflowId}  ${r.status ?? ''}`.trimEnd());
    }
    for (const w of view.warnings) println(out, `  warning: ${w}`);
    return view;
  });
}

async function describeOrExplain(client: Client, scheduleId: string, connection: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new Error(
        `no schedule ${scheduleId}: create it with \`bobsync schedule create --connection ${connection}\``,
      );
    throw err;
  }
}

async function toView(
  client: Client,
  io: CommandIo,
  d: ScheduleDescription,
  connection: string,
): Promise<ScheduleView> {
  const action = d.action;
  const taskQueue = io.ctx.config.temporal.taskQueue;
  const warnings: string[] = [];
  if (action.workflowType !== 'fullSync') warnings.push(`it starts ${action.workflowType}, not fullSync`);
  if (action.taskQueue !== taskQueue)
    warnings.push(`it runs on task queue ${action.taskQueue}, but this deployment's is ${taskQueue}`);
  const input = (action.args ?? []) as unknown[];
  const first = input[0] as Partial<FullSyncInput> | undefined;
  if (first?.connection !== connection)
    warnings.push(`its input names connection ${JSON.stringify(first?.connection)}, not ${connection}`);
  if (first?.taskQueue !== action.taskQueue)
    warnings.push(`its input's taskQueue ${JSON.stringify(first?.taskQueue)} is not the task queue it runs on`);
  if (first?.dryRun) warnings.push('its input asks for a dry run: scheduled runs write nothing');
  const recent = await Promise.all(
    d.info.recentActions.map(async (a) => {
      const wf = a.action.workflow;
      const status = await client.workflow
        .getHandle(wf.workflowId, wf.firstExecutionRunId)
        .describe()
        .then((x) => x.status.name.toLowerCase())
        .catch(() => undefined);
      return {
        scheduledAt: a.scheduledAt,
        takenAt: a.takenAt,
        workflowId: wf.workflowId,
        runId: wf.firstExecutionRunId,
        status,
      };
    }),
  );
  return {
    scheduleId: d.scheduleId,
    paused: d.state.paused,
    note: d.state.note || undefined,
    cron: (d.spec.calendars ?? []).map(calendarToCron),
    timezone: d.spec.timezone || 'UTC',
    workflowType: action.workflowType,
    taskQueue: action.taskQueue,
    workflowIdPrefix: action.workflowId,
    input,
    overlap: d.policies.overlap ?? 'SKIP',
    catchupWindowMs: d.policies.catchupWindow,
    nextRuns: d.info.nextActionTimes,
    recent,
    running: d.info.runningActions.map((a) => a.workflow.workflowId),
    actionsTaken: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    warnings,
  };
}

/**
 * Temporal keeps a cron string as a calendar (whichever tool created it); this writes it back
 * as cron, with seconds and years only when they are not the cron defaults.
 */
export function calendarToCron(c: CalendarSpecDescription): string {
  const field = <U>(ranges: Range<U>[], toNumber: (u: U) => number, min: number, max: number): string => {
    const numeric = ranges.map((r) => ({ start: toNumber(r.start), end: toNumber(r.end), step: r.step || 1 }));
    if (numeric.length === 1 && numeric[0]!.start <= min && numeric[0]!.end >= max)
      return numeric[0]!.step > 1 ? `*/${numeric[0]!.step}` : '*';
    return numeric
      .map((r) => (r.end > r.start ? `${r.start}-${r.end}${r.step > 1 ? `/${r.step}` : ''}` : `${r.start}`))
      .join(',');
  };
  const same = (n: number) => n;
  const cron = [
    field(c.minute, same, 0, 59),
    field(c.hour, same, 0, 23),
    field(c.dayOfMonth, same, 1, 31),
    field(c.month, (m) => MONTHS.indexOf(m) + 1, 1, 12),
    field(c.dayOfWeek, (d) => DAYS_OF_WEEK.indexOf(d), 0, 6),
  ].join(' ');
  const second = field(c.second, same, 0, 0);
  const extra = [
    second !== '*' && second !== '0' ? `second ${second}` : '',
    c.year.length ? `year ${field(c.year, same, 0, 0)}` : '',
  ].filter(Boolean);
  return extra.length ? `${cron} (${extra.join(', ')})` : cron;
}

export async function pauseSchedule(io: CommandIo, opts: ScheduleOptions = {}): Promise<void> {
  const { connection, scheduleId } = target(io, opts);
  await withClient(io, async (client) => {
    await describeOrExplain(client, scheduleId, connection.name);
    await client.schedule.getHandle(scheduleId).pause(`Paused by ${operatorName(io.env)} with bobsync schedule pause`);
  });
  println(
    io.out,
    `Paused schedule ${scheduleId}: no full sync of ${connection.name} starts until \`bobsync schedule unpause\`. A run already going continues.`,
  );
}

export async function unpauseSchedule(io: CommandIo, opts: ScheduleOptions = {}): Promise<void> {
  const { connection, scheduleId } = target(io, opts);
  await withClient(io, async (client) => {
    await describeOrExplain(client, scheduleId, connection.name);
    await client.schedule
      .getHandle(scheduleId)
      .unpause(`Unpaused by ${operatorName(io.env)} with bobsync schedule unpause`);
    println(io.out, `Unpaused schedule ${scheduleId}.`);
    await printNextRuns(io, client, scheduleId);
  });
}

/**
 * Starts a run now, outside the calendar. With the schedule's own overlap policy (skip): when a
 * run is still going, Temporal starts nothing. Returns the id of the run it started, if any.
 */
export async function triggerSchedule(
  io: CommandIo,
  opts: ScheduleOptions & { waitMs?: number } = {},
): Promise<string | undefined> {
  const { connection, scheduleId } = target(io, opts);
  return withClient(io, async (client) => {
    const handle = client.schedule.getHandle(scheduleId);
    const before = await describeOrExplain(client, scheduleId, connection.name);
    const known = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
    await handle.trigger('SKIP');
    // The schedule takes the action asynchronously; look for it for a few seconds.
    const deadline = Date.now() + (opts.waitMs ?? 5_000);
    for (;;) {
      const d = await handle.describe();
      const started = d.info.recentActions.find((a) => !known.has(a.action.workflow.workflowId));
      if (started) {
        const id = started.action.workflow.workflowId;
        println(io.out, `Triggered schedule ${scheduleId}: started ${id}`);
        return id;
      }
      if (Date.now() > deadline) {
        const running = d.info.runningActions.map((a) => a.workflow.workflowId);
        println(
          io.out,
          `Triggered schedule ${scheduleId}, but no run has started${running.length ? `: ${running.join(', ')} is still running, and the schedule skips overlapping runs` : ' yet'}.`,
        );
        return undefined;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  });
}

export async function deleteSchedule(io: CommandIo, opts: ScheduleOptions = {}): Promise<void> {
  const { connection, scheduleId } = target(io, opts);
  await withClient(io, async (client) => {
    await describeOrExplain(client, scheduleId, connection.name);
    await client.schedule.getHandle(scheduleId).delete();
  });
  println(
    io.out,
    `Deleted schedule ${scheduleId}. Runs it already started continue; \`bobsync sync\` still runs one by hand.`,
  );
}
