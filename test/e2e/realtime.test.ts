/**
 * Real-time sync end to end: HiBob emulator edits → signed webhooks → the API → one workflow per
 * employee on the real Temporal dev server → 360Learning emulator. Assertions read the
 * emulators' state and request logs, never bobsync's own word.
 */
import { createHmac } from 'node:crypto';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createWebhookRouter } from '../../src/api/webhooks';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import type { UserDump } from '../../packages/local/emulators/learning360/company';
import { employeeWorkflowId, notifierWorkflowId } from '../../src/workflows/ids';
import { recordHistoryIfAsked } from '../support/histories';
import { stateQuery, syncNowUpdate } from '../../src/workflows/employee-sync-api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(180_000);

describe('real-time sync: HiBob webhooks → employee workflows → 360Learning', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const lms = () => stack.emulators.learning360!.emulator;
  const users = (): UserDump[] => lms().dump().users;
  const learnersOf = (employeeId: string) => users().filter((u) => u.externalIds.some((x) => x.value === employeeId));
  const learnerOf = (employeeId: string) => {
    const found = learnersOf(employeeId);
    if (found.length > 1) throw new Error(`employee ${employeeId} has ${found.length} learners`);
    return found[0];
  };
  const until = <T>(what: string, probe: () => T | undefined | false) =>
    eventually(() => probe() || undefined, 60_000, what);
  const hire = (firstName: string, surname: string, email: string | null, extra: Record<string, unknown> = {}) =>
    hibob().createEmployee({
      firstName,
      surname,
      email,
      startDate: '2024-02-01',
      site: 'London',
      department: 'Engineering',
      title: 'Software Engineer',
      ...extra,
    });

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'realtime',
      api: true,
      smtp: true,
      employees: 0,
      only: ['hibob', '360learning'],
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('creates an active learner for a new hire, linked by the HiBob id, with mapped fields', async () => {
    const ada = hire('Ada', 'Lovelace', 'ada.lovelace@northwind.example');
    const learner = await until('Ada active', () => learnerOf(ada.id)?.status === 'active' && learnerOf(ada.id));
    expect(learner).toMatchObject({
      mail: 'ada.lovelace@northwind.example',
      firstName: 'Ada',
      lastName: 'Lovelace',
      organization: 'Engineering',
    });
    expect(learner.roles).toContainEqual({ groupId: lms().dump().rootGroupId, role: 'learner' });
    // Created without an invitation email (sendInvitationEmail=false).
    expect(lms().invitations()).toHaveLength(0);
  });

  it('updates, changes the email of, terminates and rehires the same learner, never a second one', async () => {
    const grace = hire('Grace', 'Hopper', 'grace.hopper@northwind.example');
    const first = await until('Grace active', () => learnerOf(grace.id)?.status === 'active' && learnerOf(grace.id));

    hibob().updateEmployee(grace.id, { surname: 'Hopper-Murray' });
    await until('surname updated', () => learnerOf(grace.id)?.lastName === 'Hopper-Murray');

    hibob().changeEmail(grace.id, 'grace.murray@northwind.example');
    await until('mail updated', () => learnerOf(grace.id)?.mail === 'grace.murray@northwind.example');

    hibob().terminate(grace.id, { terminationDate: '2025-06-30' });
    await until('deactivated', () => learnerOf(grace.id)?.status === 'deleted');

    hibob().rehire(grace.id, { startDate: '2025-09-01' });
    const back = await until('reactivated', () => learnerOf(grace.id)?.status === 'active' && learnerOf(grace.id));

    await recordHistoryIfAsked(
      stack.client.workflow.getHandle(employeeWorkflowId('demo-360', grace.id)),
      'employee-sync-lifecycle',
    );
    expect(back._id).toBe(first._id);
    expect(back.deletedAt).toHaveLength(1);
    expect(
      users().filter((u) => u.mail === 'grace.murray@northwind.example' || u.mail === 'grace.hopper@northwind.example'),
    ).toHaveLength(1);
  });

  it('waits for a future-dated termination with a durable timer, and a rescinded one cancels it', async () => {
    const alan = hire('Alan', 'Turing', 'alan.turing@northwind.example', { site: 'New York' });
    await until('Alan active', () => learnerOf(alan.id)?.status === 'active');
    const handle = stack.client.workflow.getHandle(employeeWorkflowId('demo-360', alan.id));

    hibob().terminate(alan.id, { terminationDate: '2099-03-31' });
    const state = await until('timer pending', async () => {
      const s = await handle.query(stateQuery);
      return s.pendingTimer ? s : undefined;
    });
    // End of the last day, local time in New York (EDT, UTC−4), not UTC midnight.
    expect(state?.pendingTimer).toBe('2099-04-01T04:00:00.000Z');
    expect(learnerOf(alan.id)?.status).toBe('active');

    hibob().updateEmployee(alan.id, { terminationDate: null, lastDayOfWork: null });
    await until('timer cancelled', async () =>
      (await handle.query(stateQuery)).pendingTimer === undefined ? true : undefined,
    );
    expect(learnerOf(alan.id)?.status).toBe('active');
  });

  it('deactivates the linked learner when the employee is deleted in HiBob', async () => {
    const tim = hire('Tim', 'Berners-Lee', 'tim.bl@northwind.example');
    await until('Tim active', () => learnerOf(tim.id)?.status === 'active');
    hibob().deleteEmployee(tim.id);
    await until('Tim deactivated', () => learnerOf(tim.id)?.status === 'deleted');
  });

  it('applies the last of 20 rapid updates and a later edit, and syncs the hires sent in the same burst', async () => {
    const linus = hire('Linus', 'Torvalds', 'linus@northwind.example');
    await until('Linus active', () => learnerOf(linus.id)?.status === 'active');
    const others = [
      hire('Barbara', 'Liskov', 'barbara@northwind.example'),
      hire('Donald', 'Knuth', 'don@northwind.example'),
    ];
    for (let i = 1; i <= 20; i++)
      hibob().updateEmployee(linus.id, {
        title: i % 2 ? 'Software Engineer' : 'Engineering Manager',
        displayName: `Linus ${i}`,
      });
    // The 20th update's title (the 19th set back the hire's), before any later edit reads it too.
    await until('20th update applied', () => learnerOf(linus.id)?.job === 'Engineering Manager');
    hibob().updateEmployee(linus.id, { surname: 'Torvalds-20' });
    for (const other of others) await until('other employee active', () => learnerOf(other.id)?.status === 'active');
    await until('last update applied', () => learnerOf(linus.id)?.lastName === 'Torvalds-20');
    expect(learnerOf(linus.id)).toMatchObject({ lastName: 'Torvalds-20', job: 'Engineering Manager' });
    expect(learnersOf(linus.id)).toHaveLength(1);
  });

  it('starts the workflow again when it ended since the last event, without a retry from HiBob', async () => {
    const frances = hire('Frances', 'Allen', 'frances.allen@northwind.example');
    await until('Frances active', () => learnerOf(frances.id)?.status === 'active');
    const handle = stack.client.workflow.getHandle(employeeWorkflowId('demo-360', frances.id));
    const firstRun = (await handle.describe()).runId;
    // The API delivered to this workflow a moment ago, so it will try a plain signal first.
    await handle.terminate('ended between two events');

    hibob().updateEmployee(frances.id, { surname: 'Allen-Spencer' });
    await until('update applied', () => learnerOf(frances.id)?.lastName === 'Allen-Spencer');
    expect((await handle.describe()).runId).not.toBe(firstRun);
    expect(learnersOf(frances.id)).toHaveLength(1);
    const attempts = hibob()
      .webhookDeliveries()
      .filter((d) => (d.payload as { data?: { employeeId?: string } }).data?.employeeId === frances.id)
      .flatMap((d) => d.attempts);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((a) => a.status === 202)).toBe(true);
  });

  it('has one effect for duplicated deliveries', async () => {
    const ken = hire('Ken', 'Thompson', 'ken@northwind.example');
    const learner = await until('Ken active', () => learnerOf(ken.id)?.status === 'active' && learnerOf(ken.id));
    const handle = stack.client.workflow.getHandle(employeeWorkflowId('demo-360', ken.id));
    const sub = hibob().listWebhooks()[0]!;
    const kenEvents = () =>
      hibob()
        .webhookDeliveries(sub.id)
        .filter(
          (d) => d.kind === 'event' && (d.payload as { data?: { employeeId?: string } }).data?.employeeId === ken.id,
        );
    const before = Math.max(
      0,
      ...hibob()
        .webhookDeliveries(sub.id)
        .map((d) => d.id),
    );
    hibob().updateWebhook(sub.id, { faults: { duplicateNext: 3 } });
    try {
      lms().kit.requests.clear();
      hibob().updateEmployee(ken.id, { surname: 'Thompson II' });
      // The edit's events and their copies are all queued by now: wait until HiBob has its answers.
      const sent = await until('edit delivered', () => {
        const since = kenEvents().filter((d) => d.id > before);
        return since.every((d) => d.state !== 'pending' && d.state !== 'in-flight') && since;
      });
      const copies = sent.filter((d) => d.duplicateOf !== undefined);
      expect(copies.length).toBeGreaterThanOrEqual(1);
      for (const copy of copies) {
        const original = sent.find((d) => d.id === copy.duplicateOf);
        expect(original?.body).toBe(copy.body);
      }
      // Each copy, like its original, reached the API and was accepted.
      expect(sent.map((d) => [d.state, d.attempts.map((a) => a.status)])).toEqual(sent.map(() => ['delivered', [202]]));

      // An on-demand sync queues behind whatever those deliveries started: once it answers, nothing
      // they caused is still to come. It finds nothing to do.
      const barrier = await handle.executeUpdate(syncNowUpdate, { args: [{ reason: 'after the duplicates' }] });
      expect(barrier.operations).toEqual([]);
      // Every distinct event about Ken (hire and edit) was processed once; the copies were dropped.
      const all = kenEvents();
      expect(all.every((d) => d.state === 'delivered')).toBe(true);
      const state = await handle.query(stateQuery);
      expect(state).toMatchObject({
        pendingEvents: 0,
        processed: all.filter((d) => d.duplicateOf === undefined).length,
      });
      expect(learnerOf(ken.id)?.lastName).toBe('Thompson II');
      const writes = lms().kit.requests.entries.filter((e) => e.method !== 'GET' && e.path.includes(learner._id));
      expect(writes.map((e) => `${e.method} ${e.path}`)).toEqual([`PATCH /api/v2/users/${learner._id}`]);
    } finally {
      hibob().updateWebhook(sub.id, { faults: {} });
    }
  });

  it('starts nothing for a forged signature (401) and rejects malformed bodies (400)', async () => {
    const body = JSON.stringify({
      companyId: 636192,
      type: 'employee.updated',
      triggeredAt: '2026-01-01T00:00:00.000000',
      data: { employeeId: '4444444444444444444' },
    });
    const forged = await fetch(`${stack.apiUrl}/webhooks/hibob/demo-360`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'bob-signature': createHmac('sha512', 'not-the-secret').update(body).digest('base64'),
      },
      body,
    });
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`${stack.apiUrl}/webhooks/hibob/demo-360`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    await expect(
      stack.client.workflow.getHandle(employeeWorkflowId('demo-360', '4444444444444444444')).describe(),
    ).rejects.toThrow(/not found/i);

    const malformed = '{"companyId":"not a number"}';
    const bad = await fetch(`${stack.apiUrl}/webhooks/hibob/demo-360`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'bob-signature': createHmac('sha512', DEMO_CREDENTIALS.hibobWebhookSecret).update(malformed).digest('base64'),
      },
      body: malformed,
    });
    expect(bad.status).toBe(400);
    expect((await fetch(`${stack.apiUrl}/webhooks/hibob/nope`, { method: 'POST', body })).status).toBe(404);
    const huge = await fetch(`${stack.apiUrl}/webhooks/hibob/demo-360`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(200_000),
    });
    expect(huge.status).toBe(413);
  });

  it('answers 503 while Temporal is unreachable, and applies the event when HiBob retries', async () => {
    // A second API instance whose Temporal client points at a closed port stands in for an outage.
    const deadClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
    const down = createWebhookRouter({
      config: stack.config,
      env: stack.env,
      temporal: deadClient,
      log: pino({ level: 'silent' }),
      taskQueue: stack.taskQueue,
      temporalTimeoutMs: 1_000,
    });
    let outage = true;
    const statuses: number[] = [];
    const app = express();
    app.use((req, res, next) => {
      res.on('finish', () => statuses.push(res.statusCode));
      next();
    });
    app.use('/webhooks', (req, res, next) => (outage ? down(req, res, next) : next()));
    app.use('/webhooks', async (req, res) => {
      // Outage over: forward to the real API.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await fetch(`${stack.apiUrl}/webhooks${req.url}`, {
        method: 'POST',
        headers: { 'bob-signature': String(req.headers['bob-signature']), 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      });
      res.status(answer.status).send(await answer.text());
    });
    const proxy = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const sub = hibob().listWebhooks()[0]!;
    hibob().updateWebhook(sub.id, { url: `${proxyUrl}/webhooks/hibob/demo-360` });
    try {
      const margaret = hire('Margaret', 'Hamilton', 'margaret@northwind.example');
      await until('a 503 answered', () => statuses.includes(503));
      expect(learnerOf(margaret.id)).toBeUndefined();
      outage = false;
      await until('applied after the retry', () => learnerOf(margaret.id)?.status === 'active');
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
    } finally {
      hibob().updateWebhook(sub.id, { url: `${stack.apiUrl}/webhooks/hibob/demo-360` });
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await deadClient.connection.close();
    }
  });

  it('converges through a 429 storm and 5xx faults with no duplicates and writes never above 10/s', async () => {
    lms().kit.requests.clear();
    lms().kit.faults.add({
      method: 'POST',
      path: '^/api/v2/users$',
      status: 429,
      body: { error: 'tooManyRequests' },
      times: 4,
    });
    lms().kit.faults.add({ method: 'PUT', path: '/activate$', status: 503, times: 3 });
    lms().kit.faults.add({ method: 'POST', path: '^/api/v2/external-ids$', status: 500, times: 2 });
    const people = Array.from({ length: 8 }, (_, i) => hire(`Storm${i}`, 'Tester', `storm${i}@northwind.example`));
    for (const p of people) await until(`${p.firstName} active`, () => learnerOf(p.id)?.status === 'active');
    lms().kit.faults.clear();
    for (const p of people)
      expect(users().filter((u) => u.mail === `storm${p.firstName.slice(5)}@northwind.example`)).toHaveLength(1);
    const writes = (e: { method: string; path: string }) => e.method !== 'GET' && !e.path.includes('oauth2');
    expect(lms().kit.requests.entries.filter((e) => e.status === 429 || e.status >= 500).length).toBeGreaterThanOrEqual(
      9,
    );
    // The LMS never had to throttle bobsync itself, and no second (as 360Learning counts them)
    // held more than 10 writes. A sliding window measured at the server also counts network
    // jitter, so it is not what the vendor enforces.
    const seconds = Object.values(lms().requestCounts()).flat();
    expect(seconds.reduce((n, s) => n + s.throttled, 0)).toBe(0);
    expect(Math.max(...seconds.map((s) => s.writes))).toBeLessThanOrEqual(10);
    expect(lms().kit.requests.entries.filter(writes).length).toBeGreaterThan(8 * 5);
  });

  it('parks an employee with an invalid email, mails a notification, and others are unaffected', async () => {
    const before = stack.smtp!.messages.length;
    const broken = hire('Bad', 'Address', 'bad address@northwind.example');
    const fine = hire('Good', 'Address', 'good.address@northwind.example');
    await until('good one active', () => learnerOf(fine.id)?.status === 'active');
    const mails = await stack.smtp!.waitFor(before + 1, 120_000);
    const digest = mails.slice(before).find((m) => m.text?.includes(broken.id));
    expect(digest?.subject).toMatch(/demo-360: 1 employee could not be synced/);
    expect(digest?.text).toContain('invalidEmail');
    expect(digest?.to).toMatchObject({ text: 'hr-systems@example.com' });
    expect(users().some((u) => u.lastName === 'Address' && u.firstName === 'Bad')).toBe(false);
    await recordHistoryIfAsked(stack.client.workflow.getHandle(notifierWorkflowId('demo-360')), 'failure-notifier');
    const state = await stack.client.workflow.getHandle(employeeWorkflowId('demo-360', broken.id)).query(stateQuery);
    expect(state.lastOutcome).toMatchObject({ result: 'parked' });
  });

  it.each([5, 20])('applies an edit while HiBob serves the old record for %i s after it', async (lagSeconds) => {
    const katherine = hire('Katherine', `Johnson${lagSeconds}`, `katherine.${lagSeconds}@northwind.example`);
    const first = await until(
      'Katherine active',
      () => learnerOf(katherine.id)?.status === 'active' && learnerOf(katherine.id),
    );
    const handle = stack.client.workflow.getHandle(employeeWorkflowId('demo-360', katherine.id));
    hibob().setReadLag(lagSeconds);
    try {
      const edited = Date.now();
      hibob().updateEmployee(katherine.id, { surname: `Goble${lagSeconds}` });
      // Within the lag HiBob still answers with the old surname: the first re-read changes nothing.
      const learner = await eventually(
        () => (learnerOf(katherine.id)?.lastName === `Goble${lagSeconds}` ? learnerOf(katherine.id) : undefined),
        60_000,
        'edit applied',
      );
      expect(Date.now() - edited).toBeGreaterThanOrEqual(lagSeconds * 1000 - 500);
      // The old record served meanwhile neither replaced nor deactivated the learner.
      expect(learner).toMatchObject({ _id: first._id, status: 'active', deletedAt: [] });
      const { lastOutcome } = await handle.query(stateQuery);
      expect(lastOutcome?.rereads).toBeGreaterThanOrEqual(1);
      expect(lastOutcome?.detail).toMatch(/read-after-write lag/);
    } finally {
      hibob().setReadLag(0);
    }
  });

  it('provisions one employee on demand through the syncNow update', async () => {
    const hedy = hire('Hedy', 'Lamarr', 'hedy@northwind.example');
    await until('Hedy active', () => learnerOf(hedy.id)?.status === 'active');
    // A hand edit in 360Learning is drift; an on-demand sync puts HiBob's value back.
    lms().company().updateUser(learnerOf(hedy.id)!._id, { lastName: 'Edited by hand' });
    const outcome = await stack.client.workflow
      .getHandle(employeeWorkflowId('demo-360', hedy.id))
      .executeUpdate(syncNowUpdate, { args: [{ reason: 'test' }] });
    expect(outcome.result).toMatch(/applied|unchanged/);
    expect(learnerOf(hedy.id)?.lastName).toBe('Lamarr');
  });
});
