/**
 * `bobsync schedule …` on the real dev server, and interop with the `temporal schedule` CLI:
 * a schedule made by either is managed by the other, its input sealed by bobsync's codec.
 */
import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import express from 'express';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { createCodecRouter } from '../../src/codec/codec-server';
import type { CommandContext } from '../../src/cli/context';
import type { CommandIo } from '../../src/cli/io';
import {
  calendarToCron,
  createSchedule,
  deleteSchedule,
  describeSchedule,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
} from '../../src/cli/schedule';
import { runtimeSettings } from '../../src/config/runtime';
import type { FullSyncResult } from '../../src/workflows/full-sync-api';
import { startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(120_000);

const run = promisify(execFile);
const SCHEDULE_ID = 'bobsync/demo-360/full-sync';

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
    env: { ...stack.env, USER: 'ops-test' },
    out: { write: (t: string) => chunks.push(t), isTTY: false },
    text: () => chunks.join(''),
  };
}

describe('bobsync schedule', () => {
  let stack: TestStack;
  let codecServer: Server;
  let codecUrl: string;
  const temporalCli = (...args: string[]) =>
    run(
      process.env.BOBSYNC_TEST_TEMPORAL_CLI ?? 'temporal',
      [...args, '--address', stack.config.temporal.address, '--namespace', stack.config.temporal.namespace],
      { timeout: 30_000 },
    );
  const scheduleJson = async (...extra: string[]) =>
    JSON.parse(
      (await temporalCli('schedule', 'describe', '--schedule-id', SCHEDULE_ID, '--output', 'json', ...extra)).stdout,
    ) as {
      schedule: {
        state: { paused?: boolean };
        action: { startWorkflow: { input: { payloads: { metadata: Record<string, string>; data: string }[] } } };
      };
    };
  const encoding = (p: { metadata: Record<string, string> }) => Buffer.from(p.metadata.encoding!, 'base64').toString();
  const finished = (workflowId: string) =>
    stack.client.workflow.getHandle(workflowId).result() as Promise<FullSyncResult>;

  beforeAll(async () => {
    stack = await startTestStack({ name: 'cli-schedule', employees: 4, seed: 3, only: ['hibob', '360learning'] });
    // bobsync's codec endpoint, as `bobsync api` serves it, for the Temporal CLI.
    const app = express();
    app.use('/codec', createCodecRouter({ codec: codecFromEnv(stack.env) }));
    codecServer = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    codecUrl = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}/codec`;
  });
  afterAll(async () => {
    await stack?.client.schedule
      .getHandle(SCHEDULE_ID)
      .delete()
      .catch(() => undefined);
    codecServer?.closeAllConnections();
    await new Promise((resolve) => codecServer?.close(resolve));
    await stack?.close();
  });

  it('creates, describes, refuses to create twice, updates, pauses, unpauses, triggers and deletes', async () => {
    const io = cliIo(stack);
    expect(await createSchedule(io)).toBe('created');
    expect(io.text()).toContain(`Created schedule ${SCHEDULE_ID}`);

    let view = await describeSchedule(io);
    expect(view).toMatchObject({
      scheduleId: SCHEDULE_ID,
      paused: false,
      cron: ['0 2 * * *'],
      timezone: 'UTC',
      workflowType: 'fullSync',
      taskQueue: stack.taskQueue,
      workflowIdPrefix: 'bobsync/demo-360/full-sync/scheduled',
      input: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'schedule' }],
      overlap: 'SKIP',
      catchupWindowMs: 3_600_000,
      warnings: [],
    });
    expect(view.nextRuns[0]!.getUTCHours()).toBe(2);

    expect(await createSchedule(io)).toBe('exists');
    expect(io.text()).toContain('already exists');
    // A typo in --cron is named before Temporal is asked, and leaves the schedule as it was.
    await expect(createSchedule(io, { cron: 'every monday', update: true })).rejects.toThrow(
      /^--cron: "every monday" is not a cron expression: write 5 fields/,
    );
    expect((await describeSchedule(io)).cron).toEqual(['0 2 * * *']);
    expect(await createSchedule(io, { cron: '30 3 * * 1', update: true })).toBe('updated');
    view = await describeSchedule(io);
    expect(view.cron).toEqual(['30 3 * * 1']);
    expect(view.nextRuns[0]!.getUTCDay()).toBe(1);

    await pauseSchedule(io);
    view = await describeSchedule(io);
    expect(view.paused).toBe(true);
    expect(view.note).toContain('ops-test');
    expect(io.text()).toContain('state        PAUSED');
    await unpauseSchedule(io);
    expect((await describeSchedule(io)).paused).toBe(false);

    const started = await triggerSchedule(io);
    expect(started).toMatch(/^bobsync\/demo-360\/full-sync\/scheduled-/);
    const result = await finished(started!);
    expect(result.byAction.create).toBeGreaterThan(0);
    view = await describeSchedule(io);
    expect(view.recent.map((r) => r.workflowId)).toContain(started);
    expect(view.recent.find((r) => r.workflowId === started)?.status).toBe('completed');

    await deleteSchedule(io);
    await expect(describeSchedule(io)).rejects.toThrow(
      `no schedule ${SCHEDULE_ID}: create it with \`bobsync schedule create --connection demo-360\``,
    );
  });

  it('manages a schedule made with `temporal schedule create --codec-endpoint`, whose input is sealed', async () => {
    const input = JSON.stringify({ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'schedule' });
    await temporalCli(
      'schedule',
      'create',
      '--schedule-id',
      SCHEDULE_ID,
      '--cron',
      '0 2 * * *',
      '--type',
      'fullSync',
      '--task-queue',
      stack.taskQueue,
      '--workflow-id',
      'bobsync/demo-360/full-sync/scheduled',
      '--input',
      input,
      '--overlap-policy',
      'Skip',
      '--catchup-window',
      '1h',
      '--notes',
      'created with the temporal CLI',
      '--codec-endpoint',
      codecUrl,
    );
    // Temporal holds ciphertext only; through the codec endpoint the CLI reads it back.
    expect(encoding((await scheduleJson()).schedule.action.startWorkflow.input.payloads[0]!)).toBe('binary/encrypted');
    expect(
      encoding((await scheduleJson('--codec-endpoint', codecUrl)).schedule.action.startWorkflow.input.payloads[0]!),
    ).toBe('json/plain');

    const io = cliIo(stack);
    expect(await createSchedule(io)).toBe('exists');
    const view = await describeSchedule(io);
    expect(view).toMatchObject({
      cron: ['0 2 * * *'],
      workflowType: 'fullSync',
      input: [JSON.parse(input)],
      overlap: 'SKIP',
      catchupWindowMs: 3_600_000,
      note: 'created with the temporal CLI',
      warnings: [],
    });

    // The worker decodes the sealed input of a run this schedule starts.
    const started = await triggerSchedule(io);
    expect((await finished(started!)).connection).toBe('demo-360');
    await deleteSchedule(io);
    await expect(temporalCli('schedule', 'describe', '--schedule-id', SCHEDULE_ID)).rejects.toThrow();
  });

  it('a schedule made by bobsync is read, paused and deleted with the temporal CLI', async () => {
    const io = cliIo(stack);
    await createSchedule(io, { cron: '15 4 * * *' });
    const raw = await scheduleJson();
    expect(encoding(raw.schedule.action.startWorkflow.input.payloads[0]!)).toBe('binary/encrypted');
    const decoded = (await scheduleJson('--codec-endpoint', codecUrl)).schedule.action.startWorkflow.input.payloads[0]!;
    expect(JSON.parse(Buffer.from(decoded.data, 'base64').toString())).toEqual({
      connection: 'demo-360',
      taskQueue: stack.taskQueue,
      trigger: 'schedule',
    });

    await temporalCli('schedule', 'toggle', '--schedule-id', SCHEDULE_ID, '--pause', '--reason', 'maintenance window');
    expect(await describeSchedule(io)).toMatchObject({
      paused: true,
      note: 'maintenance window',
      cron: ['15 4 * * *'],
    });
    await temporalCli('schedule', 'delete', '--schedule-id', SCHEDULE_ID);
    await expect(describeSchedule(io)).rejects.toThrow('no schedule');
  });

  it('writes calendars back as cron', () => {
    const all = <T>(start: T, end: T) => [{ start, end, step: 1 }];
    expect(
      calendarToCron({
        second: all(0, 0),
        minute: [{ start: 0, end: 59, step: 15 }],
        hour: all(8, 18),
        dayOfMonth: all(1, 31),
        month: all('JANUARY' as const, 'DECEMBER' as const),
        year: [],
        dayOfWeek: all('MONDAY' as const, 'FRIDAY' as const),
      }),
    ).toBe('*/15 8-18 * * 1-5');
  });
});
