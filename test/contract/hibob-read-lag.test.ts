/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
/**
 * HiBob emulator contract: read-after-write lag (contracts/hibob.md §4.10). A change goes out as a
 * webhook at once but reads as old (or, for a new employee, as absent) until the lag has passed.
 * Time moves on the emulator clock, so nothing here waits for the lag in real time.
 */
import express from 'express';
import { listen, type RunningServer } from '../../packages/local/emulators/common/server';
import {
  DEFAULT_SERVICE_USER,
  HibobEmulator,
  generateDemoEmployees,
  type HibobEmployeeRecord,
} from '../../packages/local/emulators/hibob';

const TODAY = '2025-06-16';
const AUTH = `Basic ${Buffer.from(`${DEFAULT_SERVICE_USER.id}:${DEFAULT_SERVICE_USER.token}`).toString('base64')}`;
const FIELDS = ['root.id', 'root.firstName', 'root.email', 'internal.lifecycleStatus'];

let emu: HibobEmulator;
let server: RunningServer;
let receiver: RunningServer;
let people: HibobEmployeeRecord[];
const events: any[] = [];

async function call(
  method: string,
  path: string,
  body?: unknown,
  auth?: string,
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const admin = (method: string, path: string, body?: unknown) => call(method, `/__admin${path}`, body);
const read = (idOrEmail: string) =>
  call('POST', `/v1/people/${encodeURIComponent(idOrEmail)}`, { fields: FIELDS }, AUTH);

async function searchById(id: string): Promise<any[]> {
  const res = await call(
    'POST',
    '/v1/people/search',
    { fields: FIELDS, showInactive: true, filters: [{ fieldPath: 'root.id', operator: 'equals', values: [id] }] },
    AUTH,
  );
  expect(res.status).toBe(200);
  return res.body.employees;
}

/** Resolves once the receiver got an event of `type` for `employeeId`. */
async function webhookReceived(type: string, employeeId: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!events.some((e) => e.type === type && e.data?.employeeId === employeeId)) {
    if (Date.now() > deadline) throw new Error(`no ${type} webhook for ${employeeId}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function employed(index: number): HibobEmployeeRecord {
  const found = people.filter((p) => p.lifecycleStatus === 'employed')[index];
  if (!found) throw new Error('demo data has too few employed people');
  return found;
}

beforeAll(async () => {
  const app = express();
  app.post('/hook', express.json({ type: () => true }), (req, res) => {
    if (req.body?.type) events.push(req.body);
    res.status(200).end();
  });
  receiver = await listen(app);
  emu = new HibobEmulator({ lifecycleTickMs: 0 });
  emu.kit.clock.set(new Date(`${TODAY}T12:00:00Z`));
  people = generateDemoEmployees({ count: 30, seed: 5, today: TODAY });
  emu.seed(people);
  server = await emu.start(0);
  emu.subscribeWebhook({ url: `${receiver.url}/hook`, secret: 'whsec', ping: false });
});

afterAll(async () => {
  await server.close();
  await receiver.close();
});

describe('/__admin/read-lag', () => {
  afterEach(() => {
    emu.setReadLag(0);
  });

  it('is 0 s by default and takes 0–20 s', async () => {
    expect(await admin('GET', '/read-lag')).toEqual({ status: 200, body: { seconds: 0 } });
    expect(await admin('PUT', '/read-lag', { seconds: 2 })).toEqual({ status: 200, body: { seconds: 2 } });
    expect((await admin('GET', '/read-lag')).body).toEqual({ seconds: 2 });
    expect(emu.getReadLag()).toBe(2);
    expect(emu.getSettings().readAfterWriteLagMs).toBe(2_000);
    expect((await admin('PUT', '/read-lag', { seconds: 20 })).body).toEqual({ seconds: 20 });
    expect((await admin('PUT', '/read-lag', { seconds: 0.5 })).body).toEqual({ seconds: 0.5 });
  });

  it.each([[21], [-1], ['5'], [null]])('rejects %p with 400 {key, error} and keeps the lag', async (seconds) => {
    emu.setReadLag(3);
    const res = await admin('PUT', '/read-lag', { seconds });
    expect(res).toEqual({
      status: 400,
      body: { key: 'invalid_request', error: 'seconds must be a number from 0 to 20' },
    });
    expect(emu.getReadLag()).toBe(3);
  });

  it('rejects a missing body, and out-of-range lags set in code or through the settings', async () => {
    expect((await admin('PUT', '/read-lag')).status).toBe(400);
    expect(() => emu.setReadLag(21)).toThrow(/seconds must be a number from 0 to 20/);
    expect(() => emu.setReadLag(-1)).toThrow(/seconds/);
    const settings = await admin('PATCH', '/settings', { readAfterWriteLagMs: 20_001, csvBom: false });
    expect(settings).toEqual({
      status: 400,
      body: { key: 'invalid_request', error: 'readAfterWriteLagMs must be a number from 0 to 20000' },
    });
    expect(emu.getSettings()).toMatchObject({ readAfterWriteLagMs: 0, csvBom: true });
  });

  it('goes back to 0 on reset', () => {
    const fresh = new HibobEmulator({ lifecycleTickMs: 0 });
    fresh.setReadLag(5);
    fresh.reset();
    expect(fresh.getReadLag()).toBe(0);
  });
});

describe('with a 2 s lag', () => {
  beforeEach(async () => {
    expect((await admin('PUT', '/read-lag', { seconds: 2 })).status).toBe(200);
  });

  afterEach(() => {
    emu.setReadLag(0);
  });

  it('an edit reads old until 2 s after it, while its webhook goes out at once', async () => {
    const p = employed(0);
    expect((await admin('PATCH', `/employees/${p.id}`, { firstName: 'Łucja' })).status).toBe(200);
    await webhookReceived('employee.updated', p.id);

    expect((await read(p.id)).body.firstName).toBe(p.firstName);
    expect((await searchById(p.id))[0].firstName).toBe(p.firstName);
    expect((await admin('GET', `/employees/${p.id}`)).body.firstName).toBe('Łucja');

    // The emulator clock also runs in real time, so the first step leaves room for this test's own time.
    emu.advanceClock(1_500);
    expect((await read(p.id)).body.firstName).toBe(p.firstName);
    emu.advanceClock(500);
    expect((await read(p.id)).body.firstName).toBe('Łucja');
    expect((await searchById(p.id))[0].firstName).toBe('Łucja');
  });

  it('an email change: the new address is unknown and the old one still answers until the lag has passed', async () => {
    const p = employed(1);
    emu.changeEmail(p.id, 'moved@northwind.example');
    await webhookReceived('employee.updated', p.id);
    expect((await read('moved@northwind.example')).status).toBe(404);
    expect((await read(p.email!)).body).toMatchObject({ id: p.id, email: p.email });
    emu.advanceClock(2_000);
    expect((await read('moved@northwind.example')).body).toMatchObject({ id: p.id, email: 'moved@northwind.example' });
    expect((await read(p.email!)).status).toBe(404);
  });

  it('termination and rehire each read as before the change, lifecycle history too', async () => {
    const p = employed(2);
    emu.terminate(p.id, { terminationDate: TODAY });
    await webhookReceived('employee.left', p.id);
    expect((await read(p.id)).body.internal.lifecycleStatus).toBe('employed');
    const rows = (await call('GET', `/v1/people/${p.id}/lifecycle`, undefined, AUTH)).body.values;
    expect(rows[rows.length - 1].status).not.toBe('terminated');
    emu.advanceClock(2_000);
    expect((await read(p.id)).body.internal.lifecycleStatus).toBe('terminated');

    emu.rehire(p.id, { startDate: '2025-07-01' });
    expect((await read(p.id)).body.internal.lifecycleStatus).toBe('terminated');
    emu.advanceClock(2_000);
    expect((await read(p.id)).body.internal.lifecycleStatus).toBe('hired');
  });

  it('a new employee is absent until the lag has passed', async () => {
    const hired = emu.createEmployee({
      firstName: 'Ada',
      surname: 'Nowak',
      email: 'ada.nowak@northwind.example',
      startDate: TODAY,
    });
    await webhookReceived('employee.created', hired.id);
    expect((await read(hired.id)).status).toBe(404);
    expect(await searchById(hired.id)).toEqual([]);
    emu.advanceClock(2_000);
    expect((await read(hired.id)).body).toMatchObject({ id: hired.id, firstName: 'Ada' });
    expect(await searchById(hired.id)).toHaveLength(1);
  });

  it('a deletion and seeded data show at once', async () => {
    const p = employed(3);
    emu.deleteEmployee(p.id);
    expect((await read(p.id)).status).toBe(404);
    const fresh = new HibobEmulator({ lifecycleTickMs: 0, readAfterWriteLagMs: 2_000 });
    fresh.seed(people.slice(0, 2));
    expect(fresh.ctx.store.visibleAll().map((r) => r.id)).toEqual(people.slice(0, 2).map((r) => r.id));
  });
});

describe('with lag 0', () => {
  it('an edit and a new employee read new at once', async () => {
    expect((await admin('PUT', '/read-lag', { seconds: 0 })).body).toEqual({ seconds: 0 });
    const p = employed(4);
    emu.updateEmployee(p.id, { firstName: 'Zoë' });
    expect((await read(p.id)).body.firstName).toBe('Zoë');
    expect((await searchById(p.id))[0].firstName).toBe('Zoë');
    const hired = emu.createEmployee({ firstName: 'Bo', surname: 'Lind' });
    expect((await read(hired.id)).body).toMatchObject({ id: hired.id, firstName: 'Bo' });
  });
});
