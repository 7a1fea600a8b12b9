/**
 * The Skillcast emulator's defaults and admin API: seeding and dumping users per domain,
 * reset, and the native HiBob feed preview/apply over HTTP.
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import {
  DEFAULT_EXTENSION_URN,
  ENTERPRISE_USER_URN,
  SkillcastEmulator,
} from '../../packages/local/emulators/skillcast';

type Json = ReturnType<typeof JSON.parse>;

const json = async (res: Response): Promise<Json> => JSON.parse(await res.text());

const emulator = new SkillcastEmulator();
let server: RunningServer;

beforeAll(async () => {
  server = await emulator.start(0);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => emulator.reset());

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const person = (email: string, employeeId: string, extra: Record<string, unknown> = {}) => ({
  userName: email,
  name: { givenName: email.split('@')[0], familyName: 'Test' },
  emails: [{ value: email, type: 'work', primary: true }],
  [ENTERPRISE_USER_URN]: { employeeNumber: employeeId },
  ...extra,
});

describe('defaults', () => {
  it('serves a demo tenant: token demo-scim-token on Employees, portal attributes Site/Start Date/Department', async () => {
    const headers = { authorization: 'Bearer demo-scim-token' };
    const schema = await json(
      await fetch(`${server.url}/skillcastApi/scim/Schemas/${DEFAULT_EXTENSION_URN}`, { headers }),
    );
    expect(schema.attributes.map((a: Json) => a.name)).toEqual(['Site', 'Start Date', 'Department']);
    const created = await fetch(`${server.url}/skillcastApi/scim/Users`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'demo@example.com' }),
    });
    expect(created.status).toBe(201);
    expect((await admin('GET', '/domains')).body).toEqual({
      domains: [
        { name: 'Employees', users: 1, active: 1 },
        { name: 'Always active', users: 0, active: 0 },
      ],
    });
    const login = await fetch(`${server.url}/skillcastapi/integration/login`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('demo-api:demo-password').toString('base64')}` },
    });
    expect(login.status).toBe(200);
  });
});

describe('seed, dump and reset', () => {
  it('seeds users into a domain and dumps them per domain', async () => {
    const seeded = await admin('POST', '/users', {
      domain: 'Always active',
      users: [person('auditor@example.com', '99')],
    });
    expect(seeded.status).toBe(201);
    expect(seeded.body.users[0]).toMatchObject({
      userName: 'auditor@example.com',
      domain: 'Always active',
      active: true,
    });
    await admin('POST', '/users', {
      users: [person('jane@example.com', '10', { domain: 'Employees', active: false })],
    });

    const all = (await admin('GET', '/users')).body.domains;
    expect(Object.keys(all)).toEqual(['Employees', 'Always active']);
    expect(all.Employees[0]).toMatchObject({
      userName: 'jane@example.com',
      active: false,
      archivedAt: expect.any(String),
    });
    const one = (await admin('GET', '/users?domain=Always%20active')).body.domains;
    expect(Object.keys(one)).toEqual(['Always active']);
    expect((await admin('GET', `/users/${all.Employees[0].id}`)).body.domain).toBe('Employees');
  });

  it('refuses seeds that break the rules, all-or-nothing', async () => {
    expect((await admin('POST', '/users', { domain: 'Nowhere', users: [person('a@example.com', '1')] })).status).toBe(
      400,
    );
    const clash = await admin('POST', '/users', {
      users: [person('a@example.com', '1'), person('A@example.com', '2')],
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect((await admin('GET', '/users')).body.domains.Employees).toEqual([]);
  });

  it('moves a user between domains and sets training history', async () => {
    const id = (await admin('POST', '/users', { users: [person('a@example.com', '1')] })).body.users[0].id as string;
    const moved = await admin('PATCH', `/users/${id}`, {
      domain: 'Always active',
      assignments: [{ courseId: 'c', courseName: 'Course', status: 'Completed' }],
    });
    expect(moved.body).toMatchObject({ domain: 'Always active', assignments: [{ courseId: 'c' }] });
    const res = await fetch(`${server.url}/skillcastApi/scim/Users/${id}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer demo-scim-token', 'content-type': 'application/scim+json' },
      body: JSON.stringify({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: false }],
      }),
    });
    expect(res.status).toBe(403);
  });

  it('resets users, tokens, sessions and faults', async () => {
    await admin('POST', '/users', { users: [person('a@example.com', '1')] });
    await admin('POST', '/tokens/revoke', { token: 'demo-scim-token' });
    await admin('POST', '/faults', { status: 500 });
    expect((await admin('POST', '/reset')).status).toBe(204);
    expect((await admin('GET', '/users')).body.domains.Employees).toEqual([]);
    expect((await admin('GET', '/tokens')).body.apiUsers[0]).toMatchObject({
      token: 'demo-scim-token',
      status: 'active',
    });
    expect((await admin('GET', '/faults')).body.faults).toEqual([]);
  });
});

describe('feed preview and apply', () => {
  let ids: Record<string, string>;
  beforeEach(async () => {
    const employees = (
      await admin('POST', '/users', {
        domain: 'Employees',
        users: [
          person('alice@example.com', '1', { [DEFAULT_EXTENSION_URN]: { Site: 'London' } }),
          person('bob@example.com', '2', { active: false }),
          person('carol@example.com', '3'),
          person('dave@example.com', '4'),
        ],
      })
    ).body.users as Json[];
    const kept = (
      await admin('POST', '/users', { domain: 'Always active', users: [person('auditor@example.com', '99')] })
    ).body.users as Json[];
    ids = Object.fromEntries([...employees, ...kept].map((u) => [u.userName.split('@')[0], u.id]));
  });

  const row = (email: string, id: string, site?: string) => ({
    Email: email,
    'Employee ID': id,
    'First name': email.split('@')[0] ?? '',
    'Last name': 'Test',
    ...(site ? { Site: site } : {}),
  });
  const feed = {
    domain: 'Employees',
    identifier: 'email',
    rows: [
      row('alice@example.com', '1', 'Leeds'),
      row('bob@example.com', '2'),
      row('dave.new@example.com', '4'),
      row('erin@example.com', '5'),
      row('auditor@example.com', '99'),
    ],
  };

  it('previews the four categories, the identifier change and leaves other domains out', async () => {
    const res = await admin('POST', '/feed-preview', feed);
    expect(res.status).toBe(200);
    const preview = res.body;
    expect(preview.toAdd.map((a: Json) => a.identifier)).toEqual(['dave.new@example.com', 'erin@example.com']);
    expect(preview.toReactivate.map((c: Json) => c.userId)).toEqual([ids.bob]);
    expect(preview.toUpdate).toEqual([
      expect.objectContaining({
        userId: ids.alice,
        changes: [{ field: 'attributes.Site', from: 'London', to: 'Leeds' }],
      }),
    ]);
    expect(preview.toArchive.map((a: Json) => [a.userId, a.reason])).toEqual([
      [ids.carol, 'missing'],
      [ids.dave, 'identifierChanged'],
    ]);
    expect(preview.identifierChanges).toEqual([
      { userId: ids.dave, from: 'dave@example.com', to: 'dave.new@example.com', row: 3, matchedOn: 'employeeId' },
    ]);
    expect(preview.otherDomain).toEqual([
      { row: 5, identifier: 'auditor@example.com', userId: ids.auditor, domain: 'Always active' },
    ]);
  });

  it('applies the feed to the domain only', async () => {
    const res = await admin('POST', '/feed-apply', feed);
    expect(res.status).toBe(200);
    expect(res.body.failed).toEqual([]);
    const domains = (await admin('GET', '/users')).body.domains;
    const state = Object.fromEntries((domains.Employees as Json[]).map((u) => [u.userName, u.active]));
    expect(state).toEqual({
      'alice@example.com': true,
      'bob@example.com': true,
      'carol@example.com': false,
      'dave@example.com': false,
      'dave.new@example.com': true,
      'erin@example.com': true,
    });
    const alice = (domains.Employees as Json[]).find((u) => u.userName === 'alice@example.com');
    expect(alice[DEFAULT_EXTENSION_URN]).toEqual({ Site: 'Leeds' });
    expect(domains['Always active'][0]).toMatchObject({
      userName: 'auditor@example.com',
      active: true,
      meta: { version: 'W/"1"' },
    });
    // A second run has nothing left to do.
    const again = (await admin('POST', '/feed-preview', feed)).body;
    expect([again.toAdd, again.toReactivate, again.toUpdate, again.toArchive].map((l: Json[]) => l.length)).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it('refuses a malformed request', async () => {
    expect((await admin('POST', '/feed-preview', { identifier: 'name', rows: [] })).status).toBe(400);
    expect((await admin('POST', '/feed-preview', { domain: 'Nowhere', rows: [] })).status).toBe(400);
  });
});
