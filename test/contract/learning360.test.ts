/**
 * Contract tests of the 360Learning emulator over real HTTP: what shared/contracts/360learning.md
 * promises, checked from the outside. Every response is also validated against core-api.json by
 * the emulator itself; the suite ends by asserting no drift was recorded.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
import { DEMO_COMPANY, Learning360Emulator } from '../../packages/local/emulators/learning360';
import type { RunningServer } from '../../packages/local/emulators/common/server';

const ROOT = '6600000000000000000000a0';
const OWNER = '6600000000000000000000f0';
const ENGINEERING = '6600000000000000000000a1';
const SALES = '6600000000000000000000a2';
const MISSING = '0123456789abcdef01234567';

interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

let emulator: Learning360Emulator;
let server: RunningServer;

async function http<T = any>(
  method: string,
  path: string,
  options: {
    body?: unknown;
    rawBody?: string;
    token?: string;
    version?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] ??= 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.version !== null) headers['360-api-version'] = options.version ?? 'v2.0';
  const url = path.startsWith('http') ? path : `${server.url}${path}`;
  const response = await fetch(url, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function tokenFor(clientId = 'main', clientSecret = 'main-secret'): Promise<string> {
  const answer = await http('POST', '/api/v2/oauth2/token', {
    body: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
    version: null,
  });
  expect(answer.status).toBe(200);
  return answer.body.access_token as string;
}

let token: string;
let counter = 0;
const uniqueMail = (prefix = 'user') => `${prefix}.${++counter}@example.com`;

async function createUser(extra: Record<string, unknown> = {}, groupId = ENGINEERING): Promise<any> {
  const answer = await http('POST', '/api/v2/users?sendInvitationEmail=false', {
    token,
    body: {
      mail: uniqueMail(),
      firstName: 'Test',
      lastName: 'User',
      membership: { groupId, role: 'learner' },
      ...extra,
    },
  });
  expect(answer.status).toBe(201);
  return answer.body;
}

function linkNext(headers: Headers): string | undefined {
  const link = headers.get('link');
  return link ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
}

async function collect(path: string): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let next: string | undefined = path;
  let pages = 0;
  while (next) {
    const answer = await http('GET', next, { token });
    expect(answer.status).toBe(200);
    items.push(...answer.body);
    pages += 1;
    next = linkNext(answer.headers);
  }
  return { items, pages };
}

beforeAll(async () => {
  emulator = new Learning360Emulator({
    companies: [
      {
        id: '660000000000000000000001',
        name: 'Contract Co',
        rootGroupId: ROOT,
        clients: [
          { clientId: 'main', clientSecret: 'main-secret' },
          { clientId: 'reader', clientSecret: 'reader-secret', scopes: ['users:read'] },
        ],
        owner: { id: OWNER, mail: 'owner@example.com', firstName: 'Olivia', lastName: 'Owner' },
        groups: [
          { id: ENGINEERING, name: 'Engineering' },
          { id: SALES, name: 'Sales' },
        ],
      },
      {
        id: '660000000000000000000002',
        name: 'No Analysts Co',
        clients: [{ clientId: 'other', clientSecret: 'other-secret' }],
        analystAvailable: false,
        usernameAllowed: true,
      },
    ],
    // Functional tests here; the limits have their own suite.
    getPerSecond: 100_000,
    writesPerSecond: 100_000,
    pageSizes: { users: 2, externalIds: 2, roles: 2, managers: 2, groups: 2, customFields: 2 },
  });
  server = await emulator.start(0);
  token = await tokenFor();
});

afterAll(async () => {
  await server?.close();
});

describe('defaults', () => {
  it('a bare emulator has the demo company, its client and groups, and no users', () => {
    const demo = new Learning360Emulator();
    const state = demo.dump();
    expect(state.id).toBe(DEMO_COMPANY.id);
    expect(state.users).toEqual([]);
    expect(state.groups.map((g) => g.name).sort()).toEqual([
      'All staff',
      'Demo Company',
      'Engineering',
      'London',
      'Sales',
    ]);
    expect(state.groups.find((g) => g._id === DEMO_COMPANY.rootGroupId)?.parentId).toBeUndefined();
    expect(demo.company().clients).toEqual([
      expect.objectContaining({ clientId: 'bobsync-demo', clientSecret: 'demo-secret' }),
    ]);
  });
});

describe('POST /oauth2/token', () => {
  const url = '/api/v2/oauth2/token';

  it('issues a bearer token with a numeric expires_in of one hour', async () => {
    const answer = await http('POST', url, {
      body: { grant_type: 'client_credentials', client_id: 'main', client_secret: 'main-secret' },
      version: null,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ token_type: 'Bearer', access_token: expect.any(String), expires_in: 3600 });
  });

  it.each([
    [
      'a grant other than client_credentials',
      { grant_type: 'password', client_id: 'main', client_secret: 'main-secret' },
      400,
      'unsupported_grant_type',
    ],
    ['a missing secret', { grant_type: 'client_credentials', client_id: 'main' }, 400, 'invalid_request'],
    [
      'an extra property',
      { grant_type: 'client_credentials', client_id: 'main', client_secret: 'main-secret', scope: 'users:read' },
      400,
      'invalid_request',
    ],
    [
      'a wrong secret',
      { grant_type: 'client_credentials', client_id: 'main', client_secret: 'nope' },
      401,
      'invalid_client',
    ],
    [
      'an unknown client',
      { grant_type: 'client_credentials', client_id: 'ghost', client_secret: 'main-secret' },
      401,
      'invalid_client',
    ],
    [
      'a user_id of nobody',
      { grant_type: 'client_credentials', client_id: 'main', client_secret: 'main-secret', user_id: MISSING },
      400,
      'non_existing_user',
    ],
  ])('refuses %s', async (_label, body, status, error) => {
    const answer = await http('POST', url, { body, version: null });
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error });
  });

  it('refuses malformed JSON and form bodies as invalid_request', async () => {
    const broken = await http('POST', url, { rawBody: '{"grant_type":', version: null });
    expect(broken).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    const form = await http('POST', url, {
      rawBody: 'grant_type=client_credentials&client_id=main&client_secret=main-secret',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      version: null,
    });
    expect(form).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('tokens expire after the TTL on the emulator clock, and can be revoked', async () => {
    const fresh = await tokenFor();
    expect((await http('GET', '/api/v2/groups', { token: fresh })).status).toBe(200);
    emulator.kit.clock.advance(3599_000);
    expect((await http('GET', '/api/v2/groups', { token: fresh })).status).toBe(200);
    emulator.kit.clock.advance(1_000);
    const expired = await http('GET', '/api/v2/groups', { token: fresh });
    expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    token = await tokenFor(); // the shared token expired too

    const revocable = await tokenFor('reader', 'reader-secret');
    const revoked = await http('POST', '/__admin/tokens/revoke', { body: { clientId: 'reader' }, version: null });
    expect(revoked.body.revoked).toBeGreaterThanOrEqual(1);
    expect(await http('GET', '/api/v2/users', { token: revocable })).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
    expect((await http('GET', '/api/v2/users', { token })).status).toBe(200);
  });
});

describe('headers and scopes', () => {
  it('answers 401 invalid_token without a bearer token or with an unknown one', async () => {
    expect(await http('GET', '/api/v2/users')).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    expect(await http('GET', '/api/v2/users', { token: 'not-a-token' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
    expect(await http('GET', '/api/v2/users', { headers: { authorization: `Basic ${token}` } })).toMatchObject({
      status: 401,
    });
  });

  it('requires 360-api-version: v2.0', async () => {
    const missing = await http('GET', '/api/v2/users', { token, version: null });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('badRequest');
    expect(missing.body.error.message).toContain('360-api-version');
    const wrong = await http('GET', '/api/v2/users', { token, version: 'v1.0' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('badRequest');
  });

  it('answers 403 invalid_scope when the client lacks the operation scope', async () => {
    const reader = await tokenFor('reader', 'reader-secret');
    expect((await http('GET', '/api/v2/users', { token: reader })).status).toBe(200);
    const write = await http('POST', '/api/v2/users', {
      token: reader,
      body: { mail: uniqueMail(), membership: { groupId: ENGINEERING, role: 'learner' } },
    });
    expect(write.status).toBe(403);
    expect(write.body).toEqual({ error: { code: 'invalid_scope', message: expect.stringContaining('users:write') } });
    const ids = await http('GET', '/api/v2/external-ids', { token: reader });
    expect(ids.status).toBe(403);
    expect(ids.body.error.code).toBe('invalid_scope');
  });
});

describe('users', () => {
  it('creates invited users (201) and logs the invitation mail unless sendInvitationEmail=false', async () => {
    const quiet = await createUser();
    expect(quiet).toMatchObject({ status: 'invited', lang: 'en', firstName: 'Test', primaryGroupId: ENGINEERING });
    expect(quiet._id).toMatch(/^[a-f0-9]{24}$/);
    const mail = uniqueMail('invited');
    const loud = await http('POST', '/api/v2/users', {
      token,
      body: { mail, membership: { groupId: SALES, role: 'learner' } },
    });
    expect(loud.status).toBe(201);
    const invitations = (await http('GET', '/__admin/invitations', { version: null })).body.invitations as any[];
    expect(invitations.map((i) => i.mail)).toContain(mail);
    expect(invitations.map((i) => i.userId)).not.toContain(quiet._id);
  });

  it.each([
    ['mailAndUsernameUndefined', 400, { firstName: 'Nobody', membership: { groupId: ENGINEERING, role: 'learner' } }],
    ['mailInvalid', 400, { mail: 'not-an-email', membership: { groupId: ENGINEERING, role: 'learner' } }],
    [
      'usernameNotAllowed',
      400,
      { mail: 'u.name@example.com', username: 'uname', membership: { groupId: ENGINEERING, role: 'learner' } },
    ],
    ['groupNotFound', 404, { mail: 'no.group@example.com', membership: { groupId: MISSING, role: 'learner' } }],
    [
      'notMemberOfPrimaryGroup',
      400,
      { mail: 'primary@example.com', primaryGroupId: SALES, membership: { groupId: ENGINEERING, role: 'learner' } },
    ],
    [
      'deactivationDateInvalid',
      400,
      {
        mail: 'past@example.com',
        toBeDeactivatedAt: '2001-01-01T00:00:00.000Z',
        membership: { groupId: ENGINEERING, role: 'learner' },
      },
    ],
  ])('refuses creation with %s', async (code, status, body) => {
    const answer = await http('POST', '/api/v2/users?sendInvitationEmail=false', { token, body });
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
  });

  it('refuses a mail already used (any case) and requires the membership', async () => {
    const user = await createUser();
    const dup = await http('POST', '/api/v2/users', {
      token,
      body: { mail: user.mail.toUpperCase(), membership: { groupId: ENGINEERING, role: 'learner' } },
    });
    expect(dup).toMatchObject({ status: 400, body: { error: { code: 'mailAlreadyUsed' } } });
    const noMembership = await http('POST', '/api/v2/users', { token, body: { mail: uniqueMail() } });
    expect(noMembership.status).toBe(400);
    expect(noMembership.body.error.code).toBe('badRequest');
    expect(noMembership.body.error.message).toContain('membership');
  });

  it('refuses analyst where the company has none, and username logins where enabled work', async () => {
    const other = await tokenFor('other', 'other-secret');
    const root = emulator.company('660000000000000000000002').rootGroupId;
    const analyst = await http('POST', '/api/v2/users', {
      token: other,
      body: { mail: uniqueMail(), membership: { groupId: root, role: 'analyst' } },
    });
    expect(analyst).toMatchObject({ status: 400, body: { error: { code: 'analystUnavailable' } } });
    const byName = await http('POST', '/api/v2/users?sendInvitationEmail=false', {
      token: other,
      body: { username: 'jdoe', membership: { groupId: root, role: 'learner' } },
    });
    expect(byName.status).toBe(201);
    expect(byName.body.username).toBe('jdoe');
    const dup = await http('POST', '/api/v2/users', {
      token: other,
      body: { username: 'jdoe', membership: { groupId: root, role: 'learner' } },
    });
    expect(dup).toMatchObject({ status: 400, body: { error: { code: 'usernameAlreadyUsed' } } });
  });

  it('restores a deleted user with the same mail: 200, same _id, invited, roles not restored', async () => {
    const user = await createUser();
    expect((await http('POST', `/api/v2/groups/${SALES}/admin/${user._id}`, { token })).status).toBe(204);
    expect((await http('DELETE', `/api/v2/users/${user._id}`, { token })).status).toBe(204);
    const restored = await http('POST', '/api/v2/users?sendInvitationEmail=false', {
      token,
      body: { mail: user.mail, firstName: 'Back', membership: { groupId: SALES, role: 'learner' } },
    });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ _id: user._id, status: 'invited', firstName: 'Back', lastName: 'User' });
    expect(restored.body.deletedAt).toHaveLength(1);
    expect(restored.body.reactivatedAt).toHaveLength(1);
    const roles = await http('GET', `/api/v2/users/${user._id}/roles`, { token });
    expect(roles.body).toEqual([{ groupId: SALES, role: 'learner' }]);
  });

  it('filters by mail[eq] (case-insensitively), status and both array encodings', async () => {
    const a = await createUser();
    const b = await createUser();
    const eq = await http('GET', `/api/v2/users?mail[eq]=${encodeURIComponent(a.mail.toUpperCase())}`, { token });
    expect(eq.status).toBe(200);
    expect(eq.body.map((u: any) => u._id)).toEqual([a._id]);
    const repeated = await http(
      'GET',
      `/api/v2/users?mail[in]=${encodeURIComponent(a.mail)}&mail[in]=${encodeURIComponent(b.mail)}`,
      { token },
    );
    const brackets = await http(
      'GET',
      `/api/v2/users?mail[in][]=${encodeURIComponent(a.mail)}&mail[in][]=${encodeURIComponent(b.mail)}`,
      { token },
    );
    expect(repeated.body.map((u: any) => u._id)).toEqual([a._id, b._id]);
    expect(brackets.body.map((u: any) => u._id)).toEqual([a._id, b._id]);
    const many = [a.mail, b.mail, ...Array.from({ length: 40 }, (_, i) => `absent.${i}@example.com`)].map(
      encodeURIComponent,
    );
    for (const form of ['mail[in]', 'mail[in][]']) {
      const long = await http('GET', `/api/v2/users?${many.map((m) => `${form}=${m}`).join('&')}`, { token });
      expect(long.body.map((u: any) => u._id)).toEqual([a._id, b._id]);
    }
    const nin = await http(
      'GET',
      `/api/v2/users?mail[nin]=${encodeURIComponent(a.mail)}&mail[in]=${encodeURIComponent(a.mail)}&mail[in]=${encodeURIComponent(b.mail)}`,
      { token },
    );
    expect(nin.body.map((u: any) => u._id)).toEqual([b._id]);
    const single = await http('GET', `/api/v2/users?mail[in]=${encodeURIComponent(a.mail)}`, { token });
    expect(single.body.map((u: any) => u._id)).toEqual([a._id]);
    const owner = await http('GET', '/api/v2/users?status[eq]=active&mail[eq]=owner%40example.com', { token });
    expect(owner.body.map((u: any) => u._id)).toEqual([OWNER]);
    const badStatus = await http('GET', '/api/v2/users?status[eq]=gone', { token });
    expect(badStatus.status).toBe(400);
  });

  it('pages with Link rel="next" carrying the filters, until the header is absent', async () => {
    const other = await tokenFor('other', 'other-secret');
    const root = emulator.company('660000000000000000000002').rootGroupId;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await http('POST', '/api/v2/users?sendInvitationEmail=false', {
        token: other,
        body: { mail: uniqueMail('page'), membership: { groupId: root, role: 'learner' } },
      });
      made.push(created.body._id);
    }
    // One active user must not leak into a status[eq]=invited listing on later pages.
    await http('PUT', `/api/v2/users/${made[2]}/activate`, { token: other });
    const pages: any[][] = [];
    let next: string | undefined = '/api/v2/users?status[eq]=invited&mail[ne]=nobody%40example.com';
    while (next) {
      const answer: Answer = await http('GET', next, { token: other });
      expect(answer.status).toBe(200);
      pages.push(answer.body);
      const link = answer.headers.get('link');
      if (link) expect(link).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/api\/v2\/users\?next=[A-Za-z0-9_-]+>; rel="next"$/);
      next = linkNext(answer.headers);
    }
    const ids = pages.flat().map((u) => u._id);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]); // jdoe (invited, from an earlier test) + 4 of the 5
    expect(ids).toEqual(expect.arrayContaining(made.filter((_, i) => i !== 2)));
    expect(ids).not.toContain(made[2]);
    expect(pages.flat().every((u) => u.status === 'invited')).toBe(true);

    const foreign = await http(
      'GET',
      `/api/v2/external-ids?next=${Buffer.from('{"p":"/api/v2/users","f":{},"a":"0"}').toString('base64url')}`,
      { token: other },
    );
    expect(foreign.status).toBe(400);
  });

  it('walks status transitions: activate, delete (soft, idempotent), refused updates on deleted users', async () => {
    const user = await createUser();
    const path = `/api/v2/users/${user._id}`;
    const steps: Array<[string, string, number, string | undefined]> = [
      ['PUT', `${path}/activate`, 200, 'active'],
      ['PUT', `${path}/activate`, 200, 'active'],
      ['DELETE', path, 204, undefined],
      ['DELETE', path, 204, undefined],
      ['PUT', `${path}/activate`, 400, 'userDeleted'],
      ['PATCH', path, 400, 'invalidUpdateOnDeletedUser'],
    ];
    for (const [method, url, status, expected] of steps) {
      const answer = await http(method, url, { token, body: method === 'PATCH' ? { firstName: 'X' } : undefined });
      expect({ method, url, status: answer.status }).toEqual({ method, url, status });
      if (status === 200) expect(answer.body.status).toBe(expected);
      if (status === 400) expect(answer.body.error.code).toBe(expected);
    }
    const read = await http('GET', path, { token });
    expect(read.body).toMatchObject({ _id: user._id, status: 'deleted' });
    expect(read.body.deletedAt).toHaveLength(1);
    const listed = await http('GET', `/api/v2/users?status[eq]=deleted&mail[eq]=${encodeURIComponent(user.mail)}`, {
      token,
    });
    expect(listed.body.map((u: any) => u._id)).toEqual([user._id]);
  });

  it('PATCH updates only the given fields, removes fields set to null and checks identifiers', async () => {
    const user = await createUser({ job: 'Engineer', phone: '+441234' });
    const patched = await http('PATCH', `/api/v2/users/${user._id}`, {
      token,
      body: { lastName: 'Renamed', job: null, lang: 'fr' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ firstName: 'Test', lastName: 'Renamed', phone: '+441234', lang: 'fr' });
    expect(patched.body.job).toBeUndefined();

    const other = await createUser();
    const cases: Array<[unknown, number, string]> = [
      [{ mail: other.mail }, 400, 'mailAlreadyUsed'],
      [{ mail: 'broken' }, 400, 'mailInvalid'],
      [{ mail: null }, 400, 'userShouldHaveAtLeastOneValidIdentifier'],
      [{ username: 'someone' }, 400, 'usernameNotAllowed'],
      [{ primaryGroupId: SALES }, 400, 'notMemberOfPrimaryGroup'],
      [{ toBeDeactivatedAt: '2001-01-01T00:00:00.000Z' }, 400, 'deactivationDateInvalid'],
      [{ profileImageId: MISSING }, 400, 'mediaNotFound'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await http('PATCH', `/api/v2/users/${user._id}`, { token, body });
      expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({ body, status, code });
    }
    const renamed = await http('PATCH', `/api/v2/users/${user._id}`, { token, body: { mail: uniqueMail('renamed') } });
    expect(renamed.status).toBe(200);
    expect((await http('PATCH', `/api/v2/users/${MISSING}`, { token, body: {} })).body.error.code).toBe('userNotFound');
    expect((await http('PATCH', `/api/v2/users/${user._id}`, { token, body: { firstName: '' } })).body.error.code).toBe(
      'badRequest',
    );
  });

  it('deactivates on toBeDeactivatedAt once the emulator clock reaches it', async () => {
    const user = await createUser();
    const at = new Date(emulator.kit.clock.nowMs() + 60_000).toISOString();
    const scheduled = await http('PATCH', `/api/v2/users/${user._id}`, { token, body: { toBeDeactivatedAt: at } });
    expect(scheduled.body.toBeDeactivatedAt).toBe(at);
    emulator.kit.clock.advance(61_000);
    token = await tokenFor();
    const read = await http('GET', `/api/v2/users/${user._id}`, { token });
    expect(read.body.status).toBe('deleted');
    expect(read.body.deletedAt).toEqual([at]);
  });

  it('protects the owner and answers userNotFound for unknown ids', async () => {
    expect(await http('DELETE', `/api/v2/users/${OWNER}`, { token })).toMatchObject({
      status: 400,
      body: { error: { code: 'userIsCompanyOwner' } },
    });
    const future = new Date(emulator.kit.clock.nowMs() + 86_400_000).toISOString();
    expect(await http('PATCH', `/api/v2/users/${OWNER}`, { token, body: { toBeDeactivatedAt: future } })).toMatchObject(
      {
        status: 400,
        body: { error: { code: 'ownerDeactivationNotAllowed' } },
      },
    );
    expect(await http('GET', `/api/v2/users/${MISSING}`, { token })).toMatchObject({
      status: 404,
      body: { error: { code: 'userNotFound' } },
    });
    expect(await http('DELETE', `/api/v2/users/${MISSING}`, { token })).toMatchObject({
      status: 404,
      body: { error: { code: 'userNotFound' } },
    });
    expect(await http('GET', '/api/v2/users/not-an-id', { token })).toMatchObject({
      status: 400,
      body: { error: { code: 'badRequest' } },
    });
  });
});

describe('external ids', () => {
  it('maps a HiBob id to a user, finds it by platform and value, and enforces both uniqueness rules', async () => {
    const user = await createUser();
    const second = await createUser();
    const created = await http('POST', '/api/v2/external-ids', {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: user._id, value: 'emp-1' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      _id: expect.stringMatching(/^[a-f0-9]{24}$/),
      platform: 'hibob',
      targetType: 'user',
      targetId: user._id,
      value: 'emp-1',
    });

    const found = await http('GET', '/api/v2/external-ids?platform[eq]=hibob&value[eq]=emp-1', { token });
    expect(found.body).toEqual([created.body]);
    const byType = await http('GET', `/api/v2/external-ids?type[eq]=user&targetId[eq]=${user._id}`, { token });
    expect(byType.body).toEqual([created.body]);

    const refusals: Array<[unknown, number, string]> = [
      [{ platform: 'hibob', targetType: 'user', targetId: user._id, value: 'emp-2' }, 400, 'mappingAlreadyExists'],
      [{ platform: 'hibob', targetType: 'user', targetId: second._id, value: 'emp-1' }, 400, 'valueAlreadyUsed'],
      [{ platform: '360Learning', targetType: 'user', targetId: second._id, value: 'x' }, 400, 'reservedPlatformName'],
      [{ platform: 'hibob', targetType: 'user', targetId: MISSING, value: 'emp-9' }, 404, 'resourceNotFound'],
    ];
    for (const [body, status, code] of refusals) {
      const answer = await http('POST', '/api/v2/external-ids', { token, body });
      expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({ body, status, code });
    }
    // Same value on another platform is fine.
    expect(
      (
        await http('POST', '/api/v2/external-ids', {
          token,
          body: { platform: 'workday', targetType: 'user', targetId: second._id, value: 'emp-1' },
        })
      ).status,
    ).toBe(201);

    const secondMapping = await http('POST', '/api/v2/external-ids', {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: second._id, value: 'emp-2' },
    });
    const clash = await http('PUT', `/api/v2/external-ids/${secondMapping.body._id}`, {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: user._id, value: 'emp-3' },
    });
    expect(clash).toMatchObject({ status: 400, body: { error: { code: 'targetAlreadyMapped' } } });
    const valueClash = await http('PUT', `/api/v2/external-ids/${secondMapping.body._id}`, {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: second._id, value: 'emp-1' },
    });
    expect(valueClash).toMatchObject({ status: 400, body: { error: { code: 'valueAlreadyUsed' } } });
    const moved = await http('PUT', `/api/v2/external-ids/${secondMapping.body._id}`, {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: second._id, value: 'emp-22' },
    });
    expect(moved).toMatchObject({ status: 200, body: { _id: secondMapping.body._id, value: 'emp-22' } });
    expect(
      (
        await http('PUT', `/api/v2/external-ids/${MISSING}`, {
          token,
          body: { platform: 'hibob', targetType: 'user', targetId: second._id, value: 'z' },
        })
      ).body.error.code,
    ).toBe('mappingIdNotFound');

    // Mappings survive a soft delete, so a rehire is found again by HiBob id.
    await http('DELETE', `/api/v2/users/${user._id}`, { token });
    expect((await http('GET', '/api/v2/external-ids?platform[eq]=hibob&value[eq]=emp-1', { token })).body).toHaveLength(
      1,
    );

    expect((await http('DELETE', `/api/v2/external-ids/${secondMapping.body._id}`, { token })).status).toBe(204);
    expect((await http('DELETE', `/api/v2/external-ids/${secondMapping.body._id}`, { token })).body.error.code).toBe(
      'mappingIdNotFound',
    );
  });

  it('pages external ids with the type filter kept', async () => {
    for (let i = 0; i < 3; i++) {
      const user = await createUser();
      await http('POST', '/api/v2/external-ids', {
        token,
        body: { platform: 'paging', targetType: 'user', targetId: user._id, value: `p-${i}` },
      });
    }
    await http('POST', '/api/v2/external-ids', {
      token,
      body: { platform: 'paging', targetType: 'group', targetId: SALES, value: 'g-1' },
    });
    const { items, pages } = await collect('/api/v2/external-ids?platform[eq]=paging&type[eq]=user');
    expect(items.map((m) => m.value)).toEqual(['p-0', 'p-1', 'p-2']);
    expect(pages).toBe(2);
  });
});

describe('custom fields', () => {
  let department: any;
  let startDate: any;
  let notes: any;

  beforeAll(async () => {
    department = (
      await http('POST', '/api/v2/custom-fields', {
        token,
        body: { name: 'Department', targetType: 'users', type: 'string' },
      })
    ).body;
    startDate = (
      await http('POST', '/api/v2/custom-fields', {
        token,
        body: { name: 'Start date', targetType: 'users', type: 'date' },
      })
    ).body;
    notes = (
      await http('POST', '/api/v2/custom-fields', {
        token,
        body: { name: 'Notes', targetType: 'users', type: 'string' },
      })
    ).body;
  });

  it('defines fields, refuses duplicate names and lists with filters', async () => {
    expect(department).toEqual({ _id: expect.any(String), name: 'Department', targetType: 'users', type: 'string' });
    const dup = await http('POST', '/api/v2/custom-fields', {
      token,
      body: { name: 'department', targetType: 'users', type: 'string' },
    });
    expect(dup).toMatchObject({ status: 400, body: { error: { code: 'nameAlreadyTaken' } } });
    const { items } = await collect('/api/v2/custom-fields?targetType[eq]=users&type[eq]=string');
    expect(items.map((f) => f.name)).toEqual(['Department', 'Notes']);
    const renamed = await http('PATCH', `/api/v2/custom-fields/${notes._id}`, { token, body: { name: 'Remarks' } });
    expect(renamed.body.name).toBe('Remarks');
  });

  it('replaces authorized values, refusing to drop values in use', async () => {
    const put = await http('PUT', `/api/v2/custom-fields/${department._id}/authorized-values`, {
      token,
      body: { authorizedValues: ['Engineering', 'Sales'] },
    });
    expect(put).toMatchObject({ status: 200, body: ['Engineering', 'Sales'] });
    const user = await createUser();
    await http('PUT', `/api/v2/users/${user._id}/custom-fields/values`, {
      token,
      body: { customValues: [{ customFieldId: department._id, type: 'string', value: 'Sales' }] },
    });
    const shrink = await http('PUT', `/api/v2/custom-fields/${department._id}/authorized-values`, {
      token,
      body: { authorizedValues: ['Engineering'] },
    });
    expect(shrink).toMatchObject({ status: 400, body: { error: { code: 'customFieldValuesConflict' } } });
    const grow = await http('PUT', `/api/v2/custom-fields/${department._id}/authorized-values`, {
      token,
      body: { authorizedValues: ['Engineering', 'Sales', 'Support'] },
    });
    expect(grow.body).toEqual(['Engineering', 'Sales', 'Support']);
    expect((await http('GET', `/api/v2/custom-fields/${department._id}/authorized-values`, { token })).body).toEqual([
      'Engineering',
      'Sales',
      'Support',
    ]);
    const dates = await http('PUT', `/api/v2/custom-fields/${startDate._id}/authorized-values`, {
      token,
      body: { authorizedValues: ['not a date'] },
    });
    expect(dates).toMatchObject({ status: 400, body: { error: { code: 'authorizedValuesTypeMismatch' } } });
    const tooMany = await http('PUT', `/api/v2/custom-fields/${department._id}/authorized-values`, {
      token,
      body: { authorizedValues: Array.from({ length: 301 }, (_, i) => `v${i}`) },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.code).toBe('badRequest');
  });

  it('per-user values replace everything, with type and authorized-value checks', async () => {
    const user = await createUser();
    const url = `/api/v2/users/${user._id}/custom-fields/values`;
    const both = await http('PUT', url, {
      token,
      body: {
        customValues: [
          { customFieldId: department._id, type: 'string', value: 'Engineering' },
          { customFieldId: startDate._id, type: 'date', value: '2021-05-04' },
        ],
      },
    });
    expect(both.status).toBe(200);
    expect(both.body).toHaveLength(2);
    const onlyOne = await http('PUT', url, {
      token,
      body: { customValues: [{ customFieldId: startDate._id, type: 'date', value: '2022-01-31' }] },
    });
    expect(onlyOne.body).toEqual([{ customFieldId: startDate._id, type: 'date', value: '2022-01-31' }]);
    expect((await http('GET', url, { token })).body).toEqual(onlyOne.body);

    const refusals: Array<[unknown[], number, string]> = [
      [[{ customFieldId: department._id, type: 'string', value: 'Marketing' }], 400, 'unauthorizedValue'],
      [[{ customFieldId: department._id, type: 'date', value: '2021-01-01' }], 400, 'wrongTypeValue'],
      [[{ customFieldId: startDate._id, type: 'date', value: 'tomorrow' }], 400, 'wrongTypeValue'],
      [
        [
          { customFieldId: notes._id, type: 'string', value: 'a' },
          { customFieldId: notes._id, type: 'string', value: 'b' },
        ],
        400,
        'multipleValuesForSingleCustomField',
      ],
      [[{ customFieldId: MISSING, type: 'string', value: 'x' }], 404, 'customFieldNotFound'],
    ];
    for (const [customValues, status, code] of refusals) {
      const answer = await http('PUT', url, { token, body: { customValues } });
      expect({ customValues, status: answer.status, code: answer.body.error?.code }).toEqual({
        customValues,
        status,
        code,
      });
    }
    expect((await http('GET', url, { token })).body).toEqual(onlyOne.body); // refusals change nothing
    expect(
      (await http('PUT', `/api/v2/users/${MISSING}/custom-fields/values`, { token, body: { customValues: [] } })).body
        .error.code,
    ).toBe('userNotFound');
    const tooMany = await http('PUT', url, {
      token,
      body: {
        customValues: Array.from({ length: 301 }, () => ({ customFieldId: notes._id, type: 'string', value: 'x' })),
      },
    });
    expect(tooMany.body.error.code).toBe('badRequest');
  });
});

describe('groups and roles', () => {
  it('lists groups (the root has no parent) and reads one', async () => {
    const { items } = await collect('/api/v2/groups');
    const root = items.find((g) => g._id === ROOT);
    expect(root).toMatchObject({ name: 'Contract Co', public: false });
    expect(root.parentId).toBeUndefined();
    expect(items.find((g) => g._id === ENGINEERING)).toMatchObject({ parentId: ROOT, public: true });
    expect((await http('GET', `/api/v2/groups/${SALES}`, { token })).body.name).toBe('Sales');
    expect((await http('GET', `/api/v2/groups/${MISSING}`, { token })).body.error.code).toBe('groupNotFound');
  });

  it('uses user-admin in paths and userAdmin in listings, and lists the owner', async () => {
    const user = await createUser();
    expect((await http('POST', `/api/v2/groups/${SALES}/user-admin/${user._id}`, { token })).status).toBe(204);
    expect((await http('POST', `/api/v2/groups/${SALES}/user-admin/${user._id}`, { token })).status).toBe(204); // idempotent
    const { items } = await collect(`/api/v2/groups/${SALES}/roles`);
    expect(items).toContainEqual({ userId: user._id, role: 'userAdmin' });
    const mine = await http('GET', `/api/v2/users/${user._id}/roles`, { token });
    expect(mine.body).toEqual(
      expect.arrayContaining([
        { groupId: SALES, role: 'userAdmin' },
        { groupId: ENGINEERING, role: 'learner' },
      ]),
    );
    expect((await http('POST', `/api/v2/groups/${SALES}/userAdmin/${user._id}`, { token })).body.error.code).toBe(
      'badRequest',
    );
    expect((await http('DELETE', `/api/v2/groups/${SALES}/user-admin/${user._id}`, { token })).status).toBe(204);
    expect(await http('DELETE', `/api/v2/groups/${SALES}/user-admin/${user._id}`, { token })).toMatchObject({
      status: 404,
      body: { error: { code: 'userNotFoundInGroup' } },
    });
    const root = await collect(`/api/v2/groups/${ROOT}/roles`);
    expect(root.items).toContainEqual({ userId: OWNER, role: 'owner' });
    expect((await http('GET', `/api/v2/users/${OWNER}/roles`, { token })).body).toContainEqual({
      groupId: ROOT,
      role: 'owner',
    });
  });

  it('refuses roles for deleted or unknown users and unknown groups', async () => {
    const user = await createUser();
    await http('DELETE', `/api/v2/users/${user._id}`, { token });
    expect((await http('POST', `/api/v2/groups/${SALES}/learner/${user._id}`, { token })).body.error.code).toBe(
      'userDeleted',
    );
    expect((await http('POST', `/api/v2/groups/${SALES}/learner/${MISSING}`, { token })).body.error.code).toBe(
      'userNotFound',
    );
    expect((await http('POST', `/api/v2/groups/${MISSING}/learner/${user._id}`, { token })).body.error.code).toBe(
      'groupNotFound',
    );
    const other = await tokenFor('other', 'other-secret');
    const root = emulator.company('660000000000000000000002').rootGroupId;
    expect((await http('POST', `/api/v2/groups/${root}/analyst/${MISSING}`, { token: other })).body.error.code).toBe(
      'analystUnavailable',
    );
  });

  it('removing learner cascades to public subgroups until the first private one', async () => {
    const seeded = await http('POST', '/__admin/seed', {
      version: null,
      body: {
        companyId: '660000000000000000000001',
        groups: [
          { name: 'Region', public: true },
          { name: 'Region / Team', parentName: 'Region', public: true },
          { name: 'Region / Team / Secret', parentName: 'Region / Team', public: false },
          { name: 'Region / Team / Secret / Inner', parentName: 'Region / Team / Secret', public: true },
          { name: 'Region / Other', parentName: 'Region', public: true },
        ],
      },
    });
    expect(seeded.status).toBe(201);
    const ids = Object.fromEntries((seeded.body.groups as any[]).map((g) => [g.name, g._id])) as Record<string, string>;
    const user = await createUser({}, ids.Region);
    for (const name of Object.keys(ids))
      await http('POST', `/api/v2/groups/${ids[name]}/learner/${user._id}`, { token });
    await http('POST', `/api/v2/groups/${ids['Region / Team']}/coach/${user._id}`, { token });

    expect((await http('DELETE', `/api/v2/groups/${ids.Region}/learner/${user._id}`, { token })).status).toBe(204);
    const roles = (await collect(`/api/v2/users/${user._id}/roles`)).items;
    const learnerIn = roles.filter((r) => r.role === 'learner').map((r) => r.groupId);
    // Region, Region / Team and Region / Other lose it; the private group and everything below it keep it.
    expect(learnerIn.sort()).toEqual([ids['Region / Team / Secret'], ids['Region / Team / Secret / Inner']].sort());
    expect(roles).toContainEqual({ groupId: ids['Region / Team'], role: 'coach' });
  });
});

describe('managers', () => {
  it('adds several managers, lists managers and subordinates, removes one', async () => {
    const user = await createUser();
    const m1 = await createUser();
    const m2 = await createUser();
    const m3 = await createUser();
    for (const m of [m1, m2, m3])
      expect((await http('POST', `/api/v2/users/${user._id}/managers/${m._id}`, { token })).status).toBe(204);
    expect((await http('POST', `/api/v2/users/${user._id}/managers/${m1._id}`, { token })).status).toBe(204);
    const { items, pages } = await collect(`/api/v2/users/${user._id}/managers`);
    expect(items).toEqual([m1._id, m2._id, m3._id]);
    expect(pages).toBe(2);
    expect((await http('GET', `/api/v2/users/${m2._id}/subordinates`, { token })).body).toEqual([user._id]);
    expect((await http('DELETE', `/api/v2/users/${user._id}/managers/${m1._id}`, { token })).status).toBe(204);
    expect(await http('DELETE', `/api/v2/users/${user._id}/managers/${m1._id}`, { token })).toMatchObject({
      status: 400,
      body: { error: { code: 'managerNotAssignedToUser' } },
    });
    expect((await collect(`/api/v2/users/${user._id}/managers`)).items).toEqual([m2._id, m3._id]);
  });

  it('answers the documented errors', async () => {
    const user = await createUser();
    const gone = await createUser();
    await http('DELETE', `/api/v2/users/${gone._id}`, { token });
    expect((await http('POST', `/api/v2/users/${user._id}/managers/${MISSING}`, { token })).body.error.code).toBe(
      'managerNotFound',
    );
    expect((await http('POST', `/api/v2/users/${MISSING}/managers/${user._id}`, { token })).body.error.code).toBe(
      'userNotFound',
    );
    expect((await http('POST', `/api/v2/users/${user._id}/managers/${gone._id}`, { token })).body.error.code).toBe(
      'managerDeleted',
    );
    expect((await http('POST', `/api/v2/users/${gone._id}/managers/${user._id}`, { token })).body.error.code).toBe(
      'userDeleted',
    );
    expect((await http('GET', `/api/v2/users/${MISSING}/subordinates`, { token })).status).toBe(404);
  });
});

describe('admin', () => {
  it('dumps company state with roles, managers, external ids and custom values', async () => {
    const user = await createUser();
    const manager = await createUser();
    await http('POST', `/api/v2/users/${user._id}/managers/${manager._id}`, { token });
    await http('POST', '/api/v2/external-ids', {
      token,
      body: { platform: 'hibob', targetType: 'user', targetId: user._id, value: 'dump-1' },
    });
    const state = await http('GET', '/__admin/state?companyId=660000000000000000000001', { version: null });
    const dumped = (state.body.users as any[]).find((u) => u._id === user._id);
    expect(dumped).toMatchObject({
      roles: [{ groupId: ENGINEERING, role: 'learner' }],
      managers: [manager._id],
      externalIds: [expect.objectContaining({ value: 'dump-1' })],
      customValues: [],
    });
    const companies = await http('GET', '/__admin/companies', { version: null });
    expect(companies.body.companies.map((c: any) => c.id)).toEqual([
      '660000000000000000000001',
      '660000000000000000000002',
    ]);
    const counts = await http('GET', '/__admin/request-counts?companyId=660000000000000000000001', { version: null });
    const perSecond = counts.body.counts['660000000000000000000001'] as any[];
    expect(perSecond.reduce((n, c) => n + c.writes, 0)).toBeGreaterThan(10);
    expect(perSecond.reduce((n, c) => n + c.gets, 0)).toBeGreaterThan(10);
    const spec = await http('GET', '/__admin/spec', { version: null });
    expect(spec.body.file).toMatch(/shared\/vendor-specs\/360learning\/core-api\.json$/);
  });

  it('leaves the Core API routes it does not emulate answering 501 after auth and validation', async () => {
    const answer = await http('GET', `/api/v2/users/${OWNER}/certificates`, { token });
    expect(answer.status).toBe(501);
  });

  it('recorded no response that breaks core-api.json and no handler error', async () => {
    const drift = await http('GET', '/__admin/drift', { version: null });
    expect(drift.body).toEqual({ drift: [], internalErrors: [] });
    expect(emulator.drift).toEqual([]);
  });
});
