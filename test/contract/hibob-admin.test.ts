/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
/** HiBob emulator admin HTTP API (/__admin): the controls other test suites and benchmarks drive. */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import {
  DEFAULT_SERVICE_USER,
  HibobEmulator,
  generateDemoEmployees,
  type HibobEmployeeRecord,
} from '../../packages/local/emulators/hibob';

const basic = (id: string, token: string) => `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`;

let emu: HibobEmulator;
let server: RunningServer;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  emu = new HibobEmulator({ lifecycleTickMs: 0 });
  server = await emu.start(0);
  await admin('POST', '/clock/set', { at: '2025-09-01T10:00:00Z' });
});

afterAll(async () => {
  await server.close();
});

describe('/__admin', () => {
  it('seeds demo data from {count, seed, today} or from records', async () => {
    const generated = await admin('POST', '/seed', { count: 25, seed: 9, today: '2025-09-01' });
    expect(generated).toEqual({ status: 200, body: { count: 25 } });
    const records = generateDemoEmployees({ count: 8, seed: 2, today: '2025-09-01' });
    expect((await admin('POST', '/seed', { employees: records })).body).toEqual({ count: 8 });
    const listed = await admin('GET', '/employees');
    expect(listed.body.employees.map((e: HibobEmployeeRecord) => e.id)).toEqual(records.map((r) => r.id));
  });

  it('creates, reads, edits, terminates, rehires and deletes employees', async () => {
    const created = await admin('POST', '/employees', {
      firstName: 'Renée',
      surname: 'Lefèvre',
      email: 'renee@northwind.example',
      site: 'Paris',
      department: 'Finance',
      title: 'Accountant',
      startDate: '2025-09-15',
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(id).toMatch(/^\d{19}$/);
    expect(created.body).toMatchObject({
      status: 'Inactive',
      lifecycleStatus: 'hired',
      siteId: 2154021,
      employeeIdInCompany: expect.any(Number),
    });

    expect((await admin('GET', `/employees/${encodeURIComponent('RENEE@northwind.example')}`)).body.id).toBe(id);
    const patched = await admin('PATCH', `/employees/${id}`, {
      fields: { 'work.title': 'People Partner' },
      city: 'Paris',
    });
    expect(patched.body).toMatchObject({ city: 'Paris', title: '314420016' });
    expect((await admin('PATCH', `/employees/${id}`, { nonsense: 1 })).status).toBe(400);
    expect((await admin('PATCH', `/employees/${id}`, { department: 'No such department' })).status).toBe(400);
    expect(
      (await admin('PUT', `/employees/${id}/email`, { email: 'renee.lefevre@northwind.example' })).body.email,
    ).toBe('renee.lefevre@northwind.example');

    const ticked = await admin('POST', '/lifecycle/advance', { ms: 15 * 86_400_000 });
    expect(ticked.body.applied).toContainEqual(
      expect.objectContaining({ employeeId: id, to: { lifecycleStatus: 'employed', status: 'Active' } }),
    );

    const terminated = await admin('POST', `/employees/${id}/terminate`, {
      terminationDate: '2025-09-10',
      reason: 'Resignation',
    });
    expect(terminated.body).toMatchObject({
      lifecycleStatus: 'terminated',
      status: 'Inactive',
      terminationReason: '589001',
    });
    expect((await admin('POST', `/employees/${id}/terminate`, { terminationDate: '2025-09-10' })).status).toBe(409);
    const rehired = await admin('POST', `/employees/${id}/rehire`, { startDate: '2025-10-01' });
    expect(rehired.body).toMatchObject({ id, lifecycleStatus: 'hired', status: 'Inactive', terminationDate: null });
    const leave = await admin('POST', `/employees/${id}/leave`, { type: 'nonsense', startDate: '2025-10-02' });
    expect(leave.status).toBe(400);

    expect((await admin('DELETE', `/employees/${id}`)).status).toBe(204);
    expect((await admin('GET', `/employees/${id}`)).status).toBe(404);
    expect((await admin('DELETE', `/employees/${id}`)).body).toEqual({ key: 'not_found', error: expect.any(String) });
  });

  it('manages service users and settings', async () => {
    expect((await admin('PUT', '/service-users/SERVICE-NEW', { token: 'fresh', categories: ['root'] })).status).toBe(
      200,
    );
    const res = await fetch(`${server.url}/v1/people/search`, {
      method: 'POST',
      headers: { authorization: basic('SERVICE-NEW', 'fresh'), 'content-type': 'application/json' },
      body: JSON.stringify({ fields: ['root.id', 'work.title'], showInactive: true }),
    });
    const employees = ((await res.json()) as { employees: Array<Record<string, unknown>> }).employees;
    expect(employees.length).toBeGreaterThan(0);
    expect(employees.every((e) => e.work === undefined)).toBe(true);

    const settings = await admin('PATCH', '/settings', { readAfterWriteLagMs: 1000, rateLimits: { search: 5 } });
    expect(settings.body).toMatchObject({
      readAfterWriteLagMs: 1000,
      rateLimits: expect.objectContaining({ search: 5 }),
    });
    expect((await admin('PATCH', '/settings', { rateLimits: { nope: 1 } })).status).toBe(400);
    expect((await admin('GET', '/sites')).body.sites).toContainEqual(
      expect.objectContaining({ name: 'Sydney', timeZone: 'Australia/Sydney' }),
    );
  });

  it('raises arbitrary events for table changes the emulator does not model', async () => {
    expect(
      (
        await admin('POST', '/events', {
          type: 'table.entry.updated',
          data: { employeeId: '1', tableId: 'custom_table', id: 5 },
        })
      ).status,
    ).toBe(202);
    expect((await admin('POST', '/events', { type: 'nope' })).status).toBe(400);
  });

  it('keeps the shared request log and resets everything', async () => {
    const log = await admin('GET', '/requests');
    expect(
      log.body.requests.some(
        (r: { path: string; caller?: string }) => r.path === '/v1/people/search' && r.caller === 'SERVICE-NEW',
      ),
    ).toBe(true);
    expect((await admin('POST', '/reset')).status).toBe(204);
    expect((await admin('GET', '/employees')).body.employees).toEqual([]);
    expect((await admin('GET', '/service-users')).body.serviceUsers).toEqual([DEFAULT_SERVICE_USER]);
  });
});
