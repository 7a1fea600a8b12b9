/**
 * Temporal itself killed with SIGKILL in the middle of a full sync's apply phase and of a burst of
 * HiBob webhooks, then started again on the same database file. The run completes, every event
 * the API acknowledged is applied, no learner is made twice, and while Temporal was down the API
 * answered 503 (so HiBob kept the events and sent them again), never 2xx.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/ports';
import { startDevServer, type RunningDevServer } from '../../src/dev/temporal-dev-server';
import type { UserDump } from '../../packages/local/emulators/learning360/company';
import { fullSync } from '../../src/workflows';
import { progressQuery } from '../../src/workflows/full-sync-api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(420_000);

describe('Temporal killed and restarted during a full sync and a webhook burst', () => {
  let server: RunningDevServer | undefined;
  let stack: TestStack;
  let port: number;
  let dbFile: string;
  const hibob = () => stack.emulators.hibob!.emulator;
  const users = (): UserDump[] => stack.emulators.learning360!.emulator.dump().users;
  const learnersOf = (employeeId: string) => users().filter((u) => u.externalIds.some((x) => x.value === employeeId));
  const startTemporal = () => startDevServer({ port, headless: true, dbFile, startTimeoutMs: 90_000 });
  const hire = (i: number) =>
    hibob().createEmployee({
      firstName: `Burst${i}`,
      surname: 'Restart',
      email: `burst${i}@northwind.example`,
      startDate: '2024-02-01',
      site: 'London',
      department: 'Engineering',
      title: 'Software Engineer',
    });

  beforeAll(async () => {
    port = await freePort();
    dbFile = join(mkdtempSync(join(tmpdir(), 'bobsync-temporal-')), 'temporal.db');
    server = await startTemporal();
    stack = await startTestStack({
      name: 'temporal-restart',
      temporalAddress: server.address,
      api: true,
      employees: 40,
      seed: 61,
      only: ['hibob', '360learning'],
      configure: (config) => {
        const c = config.connections[0]!;
        c.fullSync = { ...c.fullSync, batchSize: 5, parallelism: 2, concurrencyPerBatch: 3 };
      },
    });
    // Retries that outlast the outage, as HiBob's own (minutes apart) do.
    hibob().updateSettings({ webhookRetryScheduleMs: [250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000] });
  });
  afterAll(async () => {
    await stack?.close();
    await server?.stop();
  });

  it('completes the run and applies every acknowledged event, with 503s while Temporal was down', async () => {
    const handle = await stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/restart-${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
    await eventually(
      async () => {
        const progress = await handle.query(progressQuery);
        return progress.phase === 'apply' && users().length >= 8 ? true : undefined;
      },
      120_000,
      'apply under way',
    );

    const before = Array.from({ length: 5 }, (_, i) => hire(i));
    const dying = server!;
    const exited = new Promise<void>((resolve) => dying.process.once('exit', () => resolve()));
    dying.process.kill('SIGKILL');
    await exited;
    const downSince = Date.now();
    server = undefined;

    const during = Array.from({ length: 5 }, (_, i) => hire(5 + i));
    for (const person of before.slice(0, 3)) hibob().updateEmployee(person.id, { surname: 'Restarted' });
    await eventually(
      () => (answersBetween(downSince, Date.now()).includes(503) ? true : undefined),
      30_000,
      'a 503 while Temporal is down',
    );
    const downUntil = Date.now();
    server = await startTemporal();

    const report = await handle.result();
    expect(report.dryRun).toBe(false);

    const hired = [...before, ...during];
    for (const person of hired) {
      await eventually(
        () => (learnersOf(person.id)[0]?.status === 'active' ? true : undefined),
        180_000,
        `${person.firstName} active`,
      );
    }
    for (const person of before.slice(0, 3))
      await eventually(
        () => (learnersOf(person.id)[0]?.lastName === 'Restarted' ? true : undefined),
        120_000,
        `${person.firstName}'s new surname`,
      );

    // Every event HiBob sent was acknowledged in the end, and none acknowledged while Temporal was down.
    const deliveries = hibob()
      .webhookDeliveries()
      .filter((d) => d.kind === 'event');
    expect(deliveries.length).toBeGreaterThanOrEqual(13);
    expect(deliveries.filter((d) => d.state !== 'delivered')).toEqual([]);
    const whileDown = answersBetween(downSince, downUntil);
    expect(whileDown).toContain(503);
    expect(whileDown.filter((status) => status !== null && status < 300)).toEqual([]);

    // One learner per person: the run's employees and the hires alike.
    for (const person of hibob().listEmployees()) expect(learnersOf(person.id).length).toBeLessThanOrEqual(1);
    const mails = users().map((u) => u.mail);
    expect(new Set(mails).size).toBe(mails.length);
    for (const person of hired) expect(learnersOf(person.id)).toHaveLength(1);
  });

  /** The API's answers to delivery attempts that started within [from, to]. */
  function answersBetween(from: number, to: number): (number | null)[] {
    return hibob()
      .webhookDeliveries()
      .flatMap((d) => d.attempts)
      .filter((a) => Date.parse(a.at) >= from && Date.parse(a.at) <= to)
      .map((a) => a.status);
  }
});
