/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
/**
 * HiBob emulator contract: webhook v2 sender and lifecycle clock (contracts/hibob.md §8, §10),
 * against a small local receiver.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import express from 'express';
import { listen, type RunningServer } from '../../packages/local/emulators/common/server';
import {
  DEFAULT_HR_ADMIN_ID,
  FIELD_UPDATES_VARIANTS,
  HibobEmulator,
  generateDemoEmployees,
  zonedMidnight,
  type HibobEmulatorOptions,
  type HibobEmployeeRecord,
} from '../../packages/local/emulators/hibob';

const SECRET = 'whsec-Ünïcode-🔑';
const TODAY = '2025-03-05';

interface Received {
  text: string;
  raw: Buffer;
  headers: IncomingHttpHeaders;
  json: any;
  receivedAt: number;
  answeredAt?: number;
}

class Receiver {
  readonly received: Received[] = [];
  /** Status (and optional delay) per request; default 200 at once. */
  respond: (r: Received, index: number) => number | { status: number; delayMs: number } = () => 200;
  private server: RunningServer | undefined;

  get url(): string {
    return `${this.server!.url}/hook`;
  }

  async start(): Promise<void> {
    const app = express();
    app.post('/hook', express.raw({ type: () => true }), (req, res) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const text = raw.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const r: Received = { text, raw, headers: req.headers, json, receivedAt: Date.now() };
      this.received.push(r);
      const answer = this.respond(r, this.received.length - 1);
      const { status, delayMs } = typeof answer === 'number' ? { status: answer, delayMs: 0 } : answer;
      const send = () => {
        r.answeredAt = Date.now();
        res.status(status).end();
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
    this.server = await listen(app);
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }

  events(): any[] {
    return this.received.filter((r) => r.json && r.json.type).map((r) => r.json);
  }
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function verify(secret: string, raw: Buffer, header: string | string[] | undefined): boolean {
  const expected = createHmac('sha512', secret).update(raw).digest();
  const given = Buffer.from(typeof header === 'string' ? header : '', 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let emu: HibobEmulator;
let api: RunningServer;
let receiver: Receiver;
let people: HibobEmployeeRecord[];

async function setUp(options: HibobEmulatorOptions = {}): Promise<void> {
  emu = new HibobEmulator({ lifecycleTickMs: 0, webhookRetryScheduleMs: [40, 40], webhookPollMs: 10, ...options });
  emu.kit.clock.set(new Date(`${TODAY}T12:00:00Z`));
  people = generateDemoEmployees({ count: 12, seed: 3, today: TODAY });
  emu.seed(people);
  api = await emu.start(0);
  receiver = new Receiver();
  await receiver.start();
}

afterEach(async () => {
  await api?.close();
  await receiver?.stop();
});

async function restart(options: HibobEmulatorOptions): Promise<void> {
  await api.close();
  await receiver.stop();
  await setUp(options);
}

const hasReports = (id: string) => people.some((q) => q.reportsTo === id);

describe('ping test', () => {
  beforeEach(() => setUp());

  it('posts the plain string "Ping test" first', async () => {
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET });
    await waitFor(() => emu.getWebhook(sub.id).ping.state !== 'pending');
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.text).toBe('Ping test');
    expect(receiver.received[0]!.headers['bob-signature']).toBeUndefined();
    expect(emu.getWebhook(sub.id).ping).toEqual({ state: 'accepted', acceptedAs: 'string' });
  });

  it('falls back to {"text":"Ping test"} when the string is not accepted, signed when configured', async () => {
    receiver.respond = (r) => (r.json ? 200 : 400);
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET, signPings: true });
    await waitFor(() => emu.getWebhook(sub.id).ping.state !== 'pending');
    expect(receiver.received.map((r) => r.text)).toEqual(['Ping test', '{"text":"Ping test"}']);
    expect(receiver.received[1]!.headers['content-type']).toMatch(/application\/json/);
    expect(verify(SECRET, receiver.received[1]!.raw, receiver.received[1]!.headers['bob-signature'])).toBe(true);
    expect(emu.getWebhook(sub.id).ping).toEqual({ state: 'accepted', acceptedAs: 'json' });
  });
});

describe('deliveries', () => {
  beforeEach(() => setUp());

  it('sends the v2 envelope signed with Base64(HMAC-SHA512(secret, raw body))', async () => {
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false });
    const created = emu.createEmployee({
      firstName: 'Siobhán',
      surname: 'Ní Bhriain',
      email: 'siobhan@northwind.example',
      site: 'Paris',
      department: 'Data',
    });
    expect(await emu.webhooksIdle()).toBe(true);
    const r = receiver.received[0]!;
    expect(verify(SECRET, r.raw, r.headers['bob-signature'])).toBe(true);
    expect(verify('other-secret', r.raw, r.headers['bob-signature'])).toBe(false);
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.json).toEqual({
      companyId: 636192,
      type: 'employee.created',
      triggeredBy: expect.stringMatching(/^\d{19}$/),
      triggeredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      version: 'v2',
      data: { employeeId: created.id },
    });
    expect(typeof r.json.companyId).toBe('number');
    expect(created.id).toMatch(/^\d{19}$/);
  });

  it('emits the events matching each admin mutation', async () => {
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false });
    const p = people.find((x) => x.lifecycleStatus === 'employed' && x.reportsTo !== null && !hasReports(x.id))!;

    emu.updateEmployee(p.id, { surname: 'Müller-Łazarz' }, '3332883800000000042');
    emu.changeEmail(p.id, 'new.address@northwind.example');
    emu.updateEmployee(p.id, { department: 'Marketing' });
    emu.terminate(p.id, { terminationDate: '2025-03-01', reason: 'Resignation' });
    emu.rehire(p.id, { startDate: TODAY });
    emu.deleteEmployee(p.id);
    expect(await emu.webhooksIdle()).toBe(true);

    const events = receiver.events();
    expect(events.map((e) => e.type)).toEqual([
      'employee.updated', // surname
      'employee.updated', // email
      'table.entry.created', // work table
      'employee.updated', // department
      'table.entry.created', // lifecycle row
      'employee.updated', // termination date entered
      'employee.left',
      'employee.inactivated',
      'employee.updated', // status and lifecycle
      'table.entry.created',
      'employee.updated', // rehire data
      'employee.joined',
      'employee.activated',
      'employee.updated',
      'employee.deleted',
    ]);
    expect(events.every((e) => e.data.employeeId === p.id)).toBe(true);
    expect(events[0].triggeredBy).toBe('3332883800000000042');
    expect(events[0].data.fieldUpdates).toEqual(expect.arrayContaining([{ fieldId: 'root.surname' }]));
    expect(events[1].data.fieldUpdates).toEqual([{ fieldId: 'root.email' }]);
    expect(events[2].data).toEqual({ employeeId: p.id, tableId: 'work', effectiveDate: TODAY });
    expect(events[4].data).toEqual({ employeeId: p.id, tableId: 'lifecycle', effectiveDate: '2025-03-01' });
    expect(events[8].data.fieldUpdates).toEqual(
      expect.arrayContaining([{ fieldId: 'internal.status' }, { fieldId: 'internal.lifecycleStatus' }]),
    );
    expect(events[14].data).toEqual({ employeeId: p.id, email: 'new.address@northwind.example' });
  });

  it('applies the subscription event filter', async () => {
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, events: ['employee.deleted'] });
    emu.updateEmployee(people[5]!.id, { city: 'Reykjavík' });
    emu.deleteEmployee(people[6]!.id);
    expect(await emu.webhooksIdle()).toBe(true);
    expect(receiver.events().map((e) => e.type)).toEqual(['employee.deleted']);
  });

  it('delivers strictly in order: the next event waits for the previous answer', async () => {
    receiver.respond = (_r, i) => ({ status: 200, delayMs: i === 0 ? 300 : 0 });
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, events: ['employee.updated'] });
    const id = people[4]!.id;
    for (const city of ['One', 'Two', 'Three']) emu.updateEmployee(id, { city });
    expect(await emu.webhooksIdle()).toBe(true);
    const got = receiver.received;
    expect(got).toHaveLength(3);
    expect(got.map((r) => r.json.data.fieldUpdates)).toEqual([
      [{ fieldId: 'address.city' }],
      [{ fieldId: 'address.city' }],
      [{ fieldId: 'address.city' }],
    ]);
    expect(got[1]!.receivedAt).toBeGreaterThanOrEqual(got[0]!.answeredAt!);
    expect(got[2]!.receivedAt).toBeGreaterThanOrEqual(got[1]!.answeredAt!);
    const stamps = got.map((r) => r.json.triggeredAt as string);
    expect([...stamps].sort()).toEqual(stamps);
  });

  it('retries failed deliveries on the schedule and holds later events back meanwhile', async () => {
    receiver.respond = (_r, i) => (i < 2 ? 500 : 200);
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, events: ['employee.updated'] });
    emu.updateEmployee(people[3]!.id, { city: 'First' });
    emu.updateEmployee(people[3]!.id, { city: 'Second' });
    expect(await emu.webhooksIdle()).toBe(true);
    const bodies = receiver.received.map((r) => r.text);
    expect(bodies).toHaveLength(4);
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[1]).toBe(bodies[2]);
    expect(bodies[3]).not.toBe(bodies[0]);
    const log = emu.webhookDeliveries(sub.id);
    expect(log[0]!.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
    expect(log[0]!.state).toBe('delivered');
    expect(receiver.received[1]!.receivedAt - receiver.received[0]!.receivedAt).toBeGreaterThanOrEqual(35);
    expect(emu.getWebhook(sub.id).status).toBe('active');
  });

  it('treats a slow answer as a timeout and retries', async () => {
    await restart({ webhookTimeoutMs: 100 });
    receiver.respond = (_r, i) => ({ status: 200, delayMs: i === 0 ? 400 : 0 });
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false });
    emu.updateEmployee(people[3]!.id, { city: 'Slow' });
    expect(await emu.webhooksIdle()).toBe(true);
    const attempts = emu.webhookDeliveries(sub.id)[0]!.attempts;
    expect(attempts[0]).toMatchObject({ status: null, error: 'timeout' });
    expect(attempts[attempts.length - 1]!.status).toBe(200);
  });

  it('gives up after the schedule, marks the subscription failed and resumes when reactivated', async () => {
    let healthy = false;
    receiver.respond = () => (healthy ? 200 : 503);
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, events: ['employee.updated'] });
    emu.updateEmployee(people[3]!.id, { city: 'Lost' });
    emu.updateEmployee(people[3]!.id, { city: 'Queued' });
    await waitFor(() => emu.getWebhook(sub.id).status === 'failed');
    expect(receiver.received).toHaveLength(3);
    const [lost, queued] = emu.webhookDeliveries(sub.id);
    expect(lost!.state).toBe('failed');
    expect(queued!.state).toBe('pending');
    emu.updateEmployee(people[3]!.id, { city: 'Ignored while failed' });
    healthy = true;
    emu.updateWebhook(sub.id, { status: 'active' });
    expect(await emu.webhooksIdle()).toBe(true);
    expect(receiver.received).toHaveLength(4);
    expect(receiver.received[3]!.text).toBe(queued!.body);
  });
});

describe('sender faults', () => {
  beforeEach(() => setUp());

  it('duplicates deliveries byte for byte', async () => {
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, faults: { duplicateNext: 1 } });
    emu.updateEmployee(people[2]!.id, { city: 'Twice' });
    emu.updateEmployee(people[2]!.id, { city: 'Once' });
    expect(await emu.webhooksIdle()).toBe(true);
    const bodies = receiver.events().filter((e) => e.type === 'employee.updated');
    expect(bodies).toHaveLength(3);
    expect(receiver.received[0]!.text).toBe(receiver.received[1]!.text);
    expect(receiver.received[0]!.headers['bob-signature']).toBe(receiver.received[1]!.headers['bob-signature']);
  });

  it('reorders deliveries', async () => {
    emu.subscribeWebhook({
      url: receiver.url,
      secret: SECRET,
      ping: false,
      events: ['employee.updated'],
      faults: { reorderNext: 1 },
    });
    emu.updateEmployee(people[2]!.id, { city: 'First' });
    emu.updateEmployee(people[2]!.id, { city: 'Second' });
    expect(await emu.webhooksIdle()).toBe(true);
    const stamps = receiver.events().map((e) => e.triggeredAt as string);
    expect(stamps).toHaveLength(2);
    expect(stamps[0]! > stamps[1]!).toBe(true);
  });

  it('drops deliveries', async () => {
    const sub = emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, faults: { dropNext: 1 } });
    emu.updateEmployee(people[2]!.id, { city: 'Lost' });
    emu.updateEmployee(people[2]!.id, { city: 'Kept' });
    expect(await emu.webhooksIdle()).toBe(true);
    expect(receiver.events()).toHaveLength(1);
    expect(emu.webhookDeliveries(sub.id).map((d) => d.state)).toEqual(['dropped', 'delivered']);
  });

  it.each(FIELD_UPDATES_VARIANTS)('can shape fieldUpdates as %s', async (variant) => {
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, faults: { fieldUpdatesVariant: variant } });
    emu.changeEmail(people[2]!.id, 'variant@northwind.example');
    expect(await emu.webhooksIdle()).toBe(true);
    const data = receiver.events()[0].data;
    const expected: Record<string, unknown> = {
      fieldId: { fieldUpdates: [{ fieldId: 'root.email' }] },
      id: { fieldUpdates: [{ id: 'root.email' }] },
      strings: { fieldUpdates: ['root.email'] },
      fieldUpdatesIds: { fieldUpdatesIds: [{ id: 'root.email' }] },
      withValues: {
        fieldUpdates: [{ fieldId: 'root.email', oldValue: people[2]!.email, newValue: 'variant@northwind.example' }],
      },
      missing: {},
      empty: { fieldUpdates: [] },
      unparseable: { fieldUpdates: 'root.email' },
    };
    expect(data).toEqual({ employeeId: people[2]!.id, ...(expected[variant] as object) });
  });

  it('runs through the admin HTTP API too', async () => {
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${api.url}/__admin${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const created = await post('/webhooks', {
      url: receiver.url,
      secret: SECRET,
      ping: false,
      events: ['employee.updated'],
    });
    expect(created.status).toBe(201);
    const sub = (await created.json()) as { id: string };
    expect((await post(`/webhooks/${sub.id}/faults`, { fieldUpdatesVariant: 'strings' }, 'PUT')).status).toBe(200);
    expect(
      (await post(`/employees/${people[1]!.id}?triggeredBy=3332883800000000077`, { title: 'Accountant' }, 'PATCH'))
        .status,
    ).toBe(200);
    const idle = await post('/webhooks/idle', { timeoutMs: 5000 });
    expect(await idle.json()).toEqual({ idle: true });
    expect(receiver.events()[0]).toMatchObject({
      triggeredBy: '3332883800000000077',
      data: { fieldUpdates: ['work.title'] },
    });
    const log = (await (await fetch(`${api.url}/__admin/webhooks/${sub.id}/deliveries`)).json()) as {
      deliveries: Array<{ state: string }>;
    };
    expect(log.deliveries.map((d) => d.state)).toEqual(['delivered']);
    expect((await post('/webhooks/999', {}, 'PATCH')).status).toBe(404);
    expect((await post('/webhooks', { url: 'not a url', secret: 'x' })).status).toBe(400);
  });
});

describe('lifecycle clock', () => {
  beforeEach(() => setUp());

  it('applies changes at midnight of the effective date in each site time zone', async () => {
    const lifecycleEvents = [
      'employee.joined',
      'employee.left',
      'employee.activated',
      'employee.inactivated',
      'employee.temporaryLeave',
    ] as const;
    emu.subscribeWebhook({ url: receiver.url, secret: SECRET, ping: false, events: [...lifecycleEvents] });
    const start = '2025-03-10';
    const sydney = emu.createEmployee({ firstName: 'Mia', surname: 'Nguyen', site: 'Sydney', startDate: start });
    const newYork = emu.createEmployee({ firstName: 'Ethan', surname: 'Kim', site: 'New York', startDate: start });
    const londoner = emu.createEmployee({
      firstName: 'Oliver',
      surname: "O'Brien",
      site: 'London',
      startDate: '2020-01-06',
    });
    emu.terminate(londoner.id, { terminationDate: start });
    expect(emu.getEmployee(sydney.id)).toMatchObject({ lifecycleStatus: 'hired', status: 'Inactive' });
    expect(emu.getEmployee(londoner.id)).toMatchObject({ lifecycleStatus: 'employed', status: 'Active' });

    const sydneyMidnight = zonedMidnight(start, 'Australia/Sydney');
    expect(sydneyMidnight.toISOString()).toBe('2025-03-09T13:00:00.000Z');
    emu.setClock(new Date(sydneyMidnight.getTime() - 1_000));
    expect(emu.tickLifecycle()).toEqual([]);
    emu.setClock(new Date(sydneyMidnight.getTime() + 1_000));
    expect(emu.getEmployee(sydney.id)).toMatchObject({ lifecycleStatus: 'employed', status: 'Active' });
    expect(emu.getEmployee(newYork.id)).toMatchObject({ lifecycleStatus: 'hired' });
    expect(emu.getEmployee(londoner.id)).toMatchObject({ lifecycleStatus: 'employed' });

    emu.setClock(new Date('2025-03-10T00:00:01Z')); // London midnight (GMT)
    expect(emu.getEmployee(londoner.id)).toMatchObject({ lifecycleStatus: 'terminated', status: 'Inactive' });
    expect(emu.getEmployee(newYork.id)).toMatchObject({ lifecycleStatus: 'hired' });

    const applied = emu.advanceClock(4 * 3600_000); // 04:00:01Z = midnight in New York (EDT)
    expect(applied.map((a) => a.employeeId)).toEqual([newYork.id]);
    expect(applied[0]!.events).toEqual(['employee.joined', 'employee.activated']);

    expect(await emu.webhooksIdle()).toBe(true);
    const events = receiver.events().map((e) => [e.type, e.data.employeeId, e.triggeredBy]);
    expect(events).toEqual([
      ['employee.joined', londoner.id, DEFAULT_HR_ADMIN_ID], // created with a past start date
      ['employee.joined', sydney.id, 'system'],
      ['employee.activated', sydney.id, 'system'],
      ['employee.left', londoner.id, 'system'],
      ['employee.inactivated', londoner.id, 'system'],
      ['employee.joined', newYork.id, 'system'],
      ['employee.activated', newYork.id, 'system'],
    ]);
  });

  it('keeps garden leave Active until the last day of work, emitting left first', async () => {
    emu.subscribeWebhook({
      url: receiver.url,
      secret: SECRET,
      ping: false,
      events: ['employee.left', 'employee.inactivated'],
    });
    const p = people.find((x) => x.lifecycleStatus === 'employed' && x.siteId === 2154020)!;
    emu.terminate(p.id, { terminationDate: '2025-03-06', lastDayOfWork: '2025-03-20' });
    emu.setClock(new Date('2025-03-06T00:00:01Z'));
    expect(emu.getEmployee(p.id)).toMatchObject({ lifecycleStatus: 'garden leave', status: 'Active' });
    emu.setClock(new Date('2025-03-20T23:59:00Z'));
    expect(emu.getEmployee(p.id)).toMatchObject({ lifecycleStatus: 'garden leave' });
    emu.setClock(new Date('2025-03-21T00:00:01Z'));
    expect(emu.getEmployee(p.id)).toMatchObject({ lifecycleStatus: 'terminated', status: 'Inactive' });
    expect(await emu.webhooksIdle()).toBe(true);
    expect(receiver.events().map((e) => e.type)).toEqual(['employee.left', 'employee.inactivated']);
  });

  it('puts people on leave and back, with temporaryLeave', async () => {
    emu.subscribeWebhook({
      url: receiver.url,
      secret: SECRET,
      ping: false,
      events: ['employee.temporaryLeave', 'employee.inactivated', 'employee.activated'],
    });
    const p = people.find((x) => x.lifecycleStatus === 'employed' && x.siteId === 2154020)!;
    emu.startLeave(p.id, { type: 'Sabbatical', startDate: '2025-03-07', endDate: '2025-03-09', inactive: true });
    emu.setClock(new Date('2025-03-07T00:00:01Z'));
    expect(emu.getEmployee(p.id)).toMatchObject({ lifecycleStatus: 'sabbatical', status: 'Inactive' });
    emu.setClock(new Date('2025-03-10T00:00:01Z'));
    expect(emu.getEmployee(p.id)).toMatchObject({ lifecycleStatus: 'employed', status: 'Active', leave: null });
    expect(await emu.webhooksIdle()).toBe(true);
    expect(receiver.events().map((e) => e.type)).toEqual([
      'employee.temporaryLeave',
      'employee.inactivated',
      'employee.activated',
    ]);
  });

  it('applies due changes on its own timer once the clock has moved', async () => {
    await restart({ lifecycleTickMs: 20 });
    const hire = people.find((p) => p.lifecycleStatus === 'hired')!;
    // 23:00 UTC on the start date is past local midnight in every site zone.
    emu.kit.clock.set(new Date(`${hire.startDate!}T23:00:00Z`));
    await waitFor(() => emu.getEmployee(hire.id)!.lifecycleStatus === 'employed');
  });

  it('ticks when the admin clock routes move time', async () => {
    const hire = people.find((p) => p.lifecycleStatus === 'hired')!;
    const res = await fetch(`${api.url}/__admin/clock/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ at: `${hire.startDate!}T23:00:00Z` }),
    });
    const body = (await res.json()) as { now: string; applied: Array<{ employeeId: string; events: string[] }> };
    expect(body.now.startsWith(`${hire.startDate!}T23:00:00`)).toBe(true);
    expect(body.applied).toContainEqual(
      expect.objectContaining({ employeeId: hire.id, events: ['employee.joined', 'employee.activated'] }),
    );
  });
});
