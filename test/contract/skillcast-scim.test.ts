/**
 * Contract of the Skillcast SCIM 2.0 emulator over real HTTP (loopback): what a provisioning
 * client can rely on, per contracts/skillcast.md §6 and RFC 7643/7644.
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import {
  CORE_USER_URN,
  DEFAULT_EXTENSION_URN,
  ENTERPRISE_USER_URN,
  SkillcastEmulator,
} from '../../packages/local/emulators/skillcast';

type Json = ReturnType<typeof JSON.parse>;

const json = async (res: Response): Promise<Json> => JSON.parse(await res.text());

const EXT = DEFAULT_EXTENSION_URN;
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const EMPLOYEES_TOKEN = 'employees-token';
const CONTRACTORS_TOKEN = 'contractors-token';

const emulator = new SkillcastEmulator({
  tenant: 'acme',
  maxResults: 3,
  domains: ['Employees', 'Contractors', 'Always active'],
  apiUsers: [
    { name: 'SCIM API', token: EMPLOYEES_TOKEN, domains: ['Employees'], defaultDomain: 'Employees' },
    { name: 'Contractors API', token: CONTRACTORS_TOKEN, domains: ['Contractors'], defaultDomain: 'Contractors' },
  ],
});
let server: RunningServer;
let base: string;

beforeAll(async () => {
  server = await emulator.start(0);
  base = `${server.url}/skillcastApi/scim`;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => emulator.reset());

interface Reply {
  status: number;
  headers: Headers;
  body: Json;
}

async function scim(
  method: string,
  path: string,
  body?: unknown,
  options: { token?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? EMPLOYEES_TOKEN : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] ??= 'application/scim+json';
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const patchOf = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });

function jane(overrides: Record<string, unknown> = {}) {
  return {
    schemas: [CORE_USER_URN, ENTERPRISE_USER_URN, EXT],
    userName: 'jane.doe@example.com',
    externalId: '3332883894235038486',
    name: { givenName: 'Jane', familyName: 'Doe' },
    displayName: 'Jane Doe',
    title: 'Engineer',
    emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
    active: true,
    [ENTERPRISE_USER_URN]: { employeeNumber: '10', department: 'Engineering' },
    [EXT]: { Site: 'London', 'Start Date': '2021-05-04' },
    ...overrides,
  };
}

async function createJane(overrides: Record<string, unknown> = {}): Promise<Json> {
  const res = await scim('POST', '/Users', jane(overrides));
  expect(res.status).toBe(201);
  return res.body;
}

function expectScimError(res: Reply, status: number, scimType?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
  expect(res.body.schemas).toEqual([ERROR]);
  expect(res.body.status).toBe(String(status));
  expect(typeof res.body.detail).toBe('string');
  if (scimType) expect(res.body.scimType).toBe(scimType);
}

describe('authentication', () => {
  it('refuses a missing or unknown bearer token with a SCIM 401', async () => {
    const missing = await scim('GET', '/Users', undefined, { token: null });
    expectScimError(missing, 401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectScimError(await scim('GET', '/Users', undefined, { token: 'nope' }), 401);
    expectScimError(await scim('GET', '/ServiceProviderConfig', undefined, { token: null }), 401);
  });

  it('stops accepting an expired or revoked token and accepts a regenerated one', async () => {
    let res = await fetch(`${server.url}/__admin/tokens/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: EMPLOYEES_TOKEN }),
    });
    expect(res.status).toBe(204);
    const expired = await scim('GET', '/Users');
    expectScimError(expired, 401);
    expect(expired.body.detail).toMatch(/expired/);

    expect(emulator.restoreToken(EMPLOYEES_TOKEN)).toBe(true);
    expect((await scim('GET', '/Users')).status).toBe(200);

    res = await fetch(`${server.url}/__admin/api-users/SCIM%20API/regenerate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'fresh-token' }),
    });
    expect(await json(res)).toEqual({ name: 'SCIM API', token: 'fresh-token' });
    expectScimError(await scim('GET', '/Users'), 401);
    expect((await scim('GET', '/Users', undefined, { token: 'fresh-token' })).status).toBe(200);

    expect(emulator.revokeToken('fresh-token')).toBe(true);
    expect((await scim('GET', '/Users', undefined, { token: 'fresh-token' })).body.detail).toMatch(/revoked/);
  });
});

describe('discovery', () => {
  it('serves ServiceProviderConfig with patch, filter maxResults and etag', async () => {
    const res = await scim('GET', '/ServiceProviderConfig');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 3 },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
  });

  it('lists the User resource type with the enterprise and Skillcast extensions', async () => {
    const res = await scim('GET', '/ResourceTypes');
    expect(res.body).toMatchObject({
      totalResults: 1,
      Resources: [{ id: 'User', endpoint: '/Users', schema: CORE_USER_URN }],
    });
    expect(res.body.Resources[0].schemaExtensions.map((e: Json) => e.schema)).toEqual([ENTERPRISE_USER_URN, EXT]);
    expect((await scim('GET', '/ResourceTypes/User')).body.id).toBe('User');
    expectScimError(await scim('GET', '/ResourceTypes/Group'), 404);
  });

  it('publishes the extension schema with the portal attributes by exact name', async () => {
    const res = await scim('GET', '/Schemas');
    expect(res.status).toBe(200);
    expect(res.body.Resources.map((s: Json) => s.id)).toEqual([CORE_USER_URN, ENTERPRISE_USER_URN, EXT]);
    const ext = await scim('GET', `/Schemas/${EXT}`);
    expect(ext.body.attributes.map((a: Json) => a.name)).toEqual(['Site', 'Start Date', 'Department']);
    const core = res.body.Resources[0];
    expect(core.attributes.find((a: Json) => a.name === 'userName')).toMatchObject({
      required: true,
      uniqueness: 'server',
      caseExact: false,
    });
  });

  it('answers under /skillcastApi/scim/v2 as well', async () => {
    const res = await fetch(`${server.url}/skillcastApi/scim/v2/ServiceProviderConfig`, {
      headers: { authorization: `Bearer ${EMPLOYEES_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const created = await fetch(`${server.url}/skillcastApi/scim/v2/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EMPLOYEES_TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(jane()),
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toContain('/skillcastApi/scim/v2/Users/');
  });
});

describe('create', () => {
  it('answers 201 with the full resource, meta, ETag and a Location that resolves', async () => {
    const res = await scim('POST', '/Users', jane());
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    const user = res.body;
    expect(user).toMatchObject({
      schemas: [CORE_USER_URN, ENTERPRISE_USER_URN, EXT],
      userName: 'jane.doe@example.com',
      externalId: '3332883894235038486',
      name: { givenName: 'Jane', familyName: 'Doe' },
      active: true,
      [ENTERPRISE_USER_URN]: { employeeNumber: '10', department: 'Engineering' },
      [EXT]: { Site: 'London', 'Start Date': '2021-05-04' },
      meta: { resourceType: 'User', version: 'W/"1"' },
    });
    expect(typeof user.id).toBe('string');
    expect(res.headers.get('location')).toBe(`${base}/Users/${user.id}`);
    expect(user.meta.location).toBe(res.headers.get('location'));
    expect(res.headers.get('etag')).toBe('W/"1"');
    const read = await fetch(res.headers.get('location') ?? '', {
      headers: { authorization: `Bearer ${EMPLOYEES_TOKEN}` },
    });
    expect((await json(read)).id).toBe(user.id);
  });

  it('accepts application/json bodies and defaults active to true', async () => {
    const res = await scim(
      'POST',
      '/Users',
      { userName: 'plain@example.com' },
      { headers: { 'content-type': 'application/json' } },
    );
    expect(res.status).toBe(201);
    expect(res.body.active).toBe(true);
  });

  it('answers 409 uniqueness for a userName in another case and for a taken externalId', async () => {
    await createJane();
    const sameName = await scim('POST', '/Users', jane({ userName: 'JANE.DOE@EXAMPLE.COM', externalId: 'other' }));
    expectScimError(sameName, 409, 'uniqueness');
    expect(sameName.body.detail).toMatch(/userName/);
    const sameExternal = await scim('POST', '/Users', jane({ userName: 'someone@example.com' }));
    expectScimError(sameExternal, 409, 'uniqueness');
    expect(sameExternal.body.detail).toMatch(/externalId/);
  });

  it('refuses malformed JSON, a missing userName and unknown core attributes', async () => {
    expectScimError(await scim('POST', '/Users', undefined, { raw: '{"userName":' }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', { name: { givenName: 'X' } }), 400, 'invalidValue');
    expectScimError(await scim('POST', '/Users', { userName: 'x@example.com', nickname2: 'y' }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', { userName: 'x@example.com', active: 'maybe' }), 400, 'invalidValue');
  });
});

describe('filter', () => {
  beforeEach(async () => {
    await createJane();
    await createJane({
      userName: 'john@example.com',
      externalId: '42',
      emails: [{ value: 'John.Work@Example.com', type: 'work', primary: true }],
    });
  });

  const find = (filter: string) => scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);

  it('finds by userName case-insensitively', async () => {
    const res = await find('userName eq "JANE.DOE@example.com"');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      startIndex: 1,
      itemsPerPage: 1,
    });
    expect(res.body.Resources[0].userName).toBe('jane.doe@example.com');
  });

  it('finds by externalId exactly and by emails.value', async () => {
    expect((await find('externalId eq "42"')).body.Resources[0].userName).toBe('john@example.com');
    expect((await find('emails.value eq "john.work@example.com"')).body.totalResults).toBe(1);
    expect((await find('EXTERNALID EQ "42"')).body.totalResults).toBe(1);
  });

  it('answers an empty ListResponse, not 404, when nothing matches', async () => {
    const res = await find('userName eq "nobody@example.com"');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalResults: 0, itemsPerPage: 0, Resources: [] });
  });

  it('refuses any other filter with 400 invalidFilter', async () => {
    for (const filter of [
      'userName sw "jane"',
      'displayName eq "Jane Doe"',
      'active eq true',
      'userName eq "a@example.com" and externalId eq "1"',
      'emails[value eq "jane.doe@example.com"]',
      'userName eq jane',
    ]) {
      expectScimError(await find(filter), 400, 'invalidFilter');
    }
  });
});

describe('paging', () => {
  beforeEach(() => {
    emulator.seedUsers(
      Array.from({ length: 7 }, (_, i) => ({ userName: `user${i + 1}@example.com` })),
      'Employees',
    );
  });

  it('caps a page at maxResults and reports the total', async () => {
    const res = await scim('GET', '/Users?count=50');
    expect(res.body).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 3 });
    const byDefault = await scim('GET', '/Users');
    expect(byDefault.body.itemsPerPage).toBe(3);
  });

  it('pages 1-based with startIndex and count', async () => {
    const res = await scim('GET', '/Users?startIndex=4&count=2');
    expect(res.body).toMatchObject({ totalResults: 7, startIndex: 4, itemsPerPage: 2 });
    expect(res.body.Resources.map((u: Json) => u.userName)).toEqual(['user4@example.com', 'user5@example.com']);
  });

  it('lets a client walk every page until totalResults', async () => {
    const seen: string[] = [];
    let startIndex = 1;
    for (;;) {
      const page = (await scim('GET', `/Users?startIndex=${startIndex}&count=3`)).body;
      seen.push(...page.Resources.map((u: Json) => u.userName as string));
      if (startIndex - 1 + page.itemsPerPage >= page.totalResults) break;
      startIndex += page.itemsPerPage;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('reads startIndex < 1 as 1, count 0 as totals only, and refuses non-numbers', async () => {
    expect((await scim('GET', '/Users?startIndex=0&count=1')).body.Resources[0].userName).toBe('user1@example.com');
    expect((await scim('GET', '/Users?count=0')).body).toMatchObject({
      totalResults: 7,
      itemsPerPage: 0,
      Resources: [],
    });
    expect((await scim('GET', '/Users?startIndex=99')).body).toMatchObject({ totalResults: 7, itemsPerPage: 0 });
    expectScimError(await scim('GET', '/Users?count=ten'), 400, 'invalidValue');
  });
});

describe('replace (PUT)', () => {
  it('replaces the whole resource: attributes left out are cleared', async () => {
    const created = await createJane();
    const res = await scim('PUT', `/Users/${created.id}`, {
      schemas: [CORE_USER_URN, EXT],
      userName: 'jane.doe@example.com',
      externalId: '3332883894235038486',
      name: { givenName: 'Janet', familyName: 'Doe' },
      emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
      [EXT]: { Site: 'Paris' },
    });
    expect(res.status).toBe(200);
    expect(res.body.name).toEqual({ givenName: 'Janet', familyName: 'Doe' });
    expect(res.body.title).toBeUndefined();
    expect(res.body.displayName).toBeUndefined();
    expect(res.body[ENTERPRISE_USER_URN]).toBeUndefined();
    expect(res.body[EXT]).toEqual({ Site: 'Paris' });
    expect(res.body.meta.version).toBe('W/"2"');
    expect(res.body.meta.created).toBe(created.meta.created);
  });

  it('keeps an archived user archived when active is left out, and 404s an unknown id', async () => {
    const created = await createJane({ active: false });
    const res = await scim('PUT', `/Users/${created.id}`, jane({ active: undefined }));
    expect(res.body.active).toBe(false);
    expectScimError(await scim('PUT', '/Users/does-not-exist', jane()), 404);
  });

  it('honours If-Match with 412 on a stale version', async () => {
    const created = await createJane();
    expect((await scim('PUT', `/Users/${created.id}`, jane(), { headers: { 'if-match': 'W/"1"' } })).status).toBe(200);
    expectScimError(await scim('PUT', `/Users/${created.id}`, jane(), { headers: { 'if-match': 'W/"1"' } }), 412);
  });
});

describe('patch', () => {
  let id: string;
  beforeEach(async () => {
    id = (await createJane()).id as string;
  });
  const patch = (...ops: unknown[]) => scim('PATCH', `/Users/${id}`, patchOf(...ops));

  it('archives with the canonical replace of active', async () => {
    const res = await patch({ op: 'replace', path: 'active', value: false });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
  });

  it('accepts "Replace" and the string boolean "False", and path-less values', async () => {
    expect((await patch({ op: 'Replace', path: 'active', value: 'False' })).body.active).toBe(false);
    expect((await patch({ op: 'REPLACE', value: { active: 'True' } })).body.active).toBe(true);
    expect((await patch({ op: 'replace', value: { active: false } })).body.active).toBe(false);
  });

  it('adds, replaces and removes simple, complex and multi-valued attributes', async () => {
    const res = await patch(
      { op: 'replace', path: 'name.givenName', value: 'Janet' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'janet.doe@example.com' },
      { op: 'add', path: 'emails', value: [{ value: 'jd@home.example', type: 'home' }] },
      { op: 'remove', path: 'title' },
      { op: 'Add', value: { displayName: 'Janet Doe', 'name.familyName': 'Doe-Smith' } },
    );
    expect(res.status).toBe(200);
    expect(res.body.name).toEqual({ givenName: 'Janet', familyName: 'Doe-Smith' });
    expect(res.body.displayName).toBe('Janet Doe');
    expect(res.body.title).toBeUndefined();
    expect(res.body.emails).toEqual([
      { value: 'janet.doe@example.com', type: 'work', primary: true },
      { value: 'jd@home.example', type: 'home' },
    ]);
    const removed = await patch({ op: 'remove', path: 'emails[type eq "home"]' });
    expect(removed.body.emails).toHaveLength(1);
  });

  it('creates the work email when a filtered path has no match', async () => {
    await patch({ op: 'remove', path: 'emails' });
    const res = await patch({ op: 'add', path: 'emails[type eq "work"].value', value: 'jane.new@example.com' });
    expect(res.body.emails).toEqual([{ type: 'work', value: 'jane.new@example.com' }]);
  });

  it('writes enterprise and Skillcast attributes by URN-qualified path, spaces included', async () => {
    const res = await patch(
      { op: 'replace', path: `${ENTERPRISE_USER_URN}:department`, value: 'Sales' },
      { op: 'replace', path: `${EXT}:Start Date`, value: '2022-01-10' },
      { op: 'replace', value: { [`${EXT}:Department`]: 'Sales', [`${ENTERPRISE_USER_URN}:costCenter`]: 'CC-1' } },
      { op: 'remove', path: `${EXT}:Site` },
    );
    expect(res.body[ENTERPRISE_USER_URN]).toEqual({ employeeNumber: '10', department: 'Sales', costCenter: 'CC-1' });
    expect(res.body[EXT]).toEqual({ 'Start Date': '2022-01-10', Department: 'Sales' });
    const merged = await patch({ op: 'add', path: EXT, value: { Site: 'Leeds' } });
    expect(merged.body[EXT]).toEqual({ 'Start Date': '2022-01-10', Department: 'Sales', Site: 'Leeds' });
  });

  it("sets the manager from a bare id and shows the manager's display name", async () => {
    const boss = await createJane({
      userName: 'boss@example.com',
      externalId: '1',
      displayName: 'The Boss',
      emails: [],
    });
    const res = await patch({ op: 'replace', path: `${ENTERPRISE_USER_URN}:manager`, value: boss.id });
    expect(res.body[ENTERPRISE_USER_URN].manager).toEqual({
      value: boss.id,
      $ref: `${base}/Users/${boss.id}`,
      displayName: 'The Boss',
    });
    expectScimError(
      await patch({ op: 'replace', path: `${ENTERPRISE_USER_URN}:manager.value`, value: 'ghost' }),
      400,
      'invalidValue',
    );
  });

  it('refuses malformed operations with the matching scimType', async () => {
    expectScimError(await patch({ op: 'replace', path: 'nickname2', value: 'x' }), 400, 'invalidPath');
    expectScimError(await patch({ op: 'remove' }), 400, 'noTarget');
    expectScimError(await patch({ op: 'move', path: 'title', value: 'x' }), 400, 'invalidSyntax');
    expectScimError(await patch({ op: 'replace', path: 'id', value: 'x' }), 400, 'mutability');
    expectScimError(
      await patch({ op: 'replace', path: 'emails[value eq "nobody@example.com"].primary', value: true }),
      400,
      'noTarget',
    );
    expectScimError(
      await scim('PATCH', `/Users/${id}`, { Operations: [{ op: 'replace', path: 'title', value: 'x' }] }),
      400,
      'invalidSyntax',
    );
    // Nothing of a failed request is kept.
    expect((await scim('GET', `/Users/${id}`)).body.meta.version).toBe('W/"1"');
  });

  it("answers 409 when a patch takes another user's userName", async () => {
    await createJane({ userName: 'john@example.com', externalId: '42' });
    expectScimError(await patch({ op: 'replace', path: 'userName', value: 'John@Example.com' }), 409, 'uniqueness');
  });
});

describe('archive and reactivation', () => {
  it('keeps an archived user (same id, history) and reactivates it with active=true', async () => {
    const created = await createJane();
    emulator.tenant.setAssignments(created.id, [{ courseId: 'c1', courseName: 'Anti-bribery', status: 'Completed' }]);
    await scim('PATCH', `/Users/${created.id}`, patchOf({ op: 'replace', path: 'active', value: false }));

    const archived = await scim('GET', `/Users/${created.id}`);
    expect(archived.body.active).toBe(false);
    expect(
      (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "jane.doe@example.com"')}`)).body
        .totalResults,
    ).toBe(1);
    const view = emulator.users('Employees').Employees?.[0];
    expect(view?.archivedAt).toBeDefined();
    // A new POST for the same person is a conflict: reactivate instead.
    expectScimError(await scim('POST', '/Users', jane()), 409, 'uniqueness');

    const back = await scim('PATCH', `/Users/${created.id}`, patchOf({ op: 'replace', path: 'active', value: true }));
    expect(back.body).toMatchObject({ id: created.id, active: true });
    const after = emulator.users('Employees').Employees?.[0];
    expect(after?.archivedAt).toBeUndefined();
    expect(after?.assignments).toEqual([{ courseId: 'c1', courseName: 'Anti-bribery', status: 'Completed' }]);
  });

  it('archives on DELETE by default', async () => {
    const created = await createJane();
    const res = await scim('DELETE', `/Users/${created.id}`);
    expect(res.status).toBe(204);
    expect((await scim('GET', `/Users/${created.id}`)).body.active).toBe(false);
  });

  it('removes on DELETE when configured so', async () => {
    const removing = new SkillcastEmulator({ deleteArchives: false });
    const running = await removing.start(0);
    try {
      const headers = { authorization: 'Bearer demo-scim-token', 'content-type': 'application/scim+json' };
      const created = await json(
        await fetch(`${running.url}/skillcastApi/scim/Users`, {
          method: 'POST',
          headers,
          body: JSON.stringify(jane()),
        }),
      );
      expect(
        (await fetch(`${running.url}/skillcastApi/scim/Users/${created.id}`, { method: 'DELETE', headers })).status,
      ).toBe(204);
      expect((await fetch(`${running.url}/skillcastApi/scim/Users/${created.id}`, { headers })).status).toBe(404);
    } finally {
      await running.close();
    }
  });
});

describe('portal attributes and email rules', () => {
  it('refuses an unknown or misspelt attribute with 400 invalidValue', async () => {
    const res = await scim('POST', '/Users', jane({ [EXT]: { site: 'London' } }));
    expectScimError(res, 400, 'invalidValue');
    expect(res.body.detail).toContain('"Site"');
    expectScimError(await scim('POST', '/Users', jane({ [EXT]: { StartDate: '2021-01-01' } })), 400, 'invalidValue');
    const created = await createJane();
    expectScimError(
      await scim('PATCH', `/Users/${created.id}`, patchOf({ op: 'add', path: `${EXT}:Cost Centre`, value: 'x' })),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('PATCH', `/Users/${created.id}`, patchOf({ op: 'add', value: { [EXT]: { Region: 'x' } } })),
      400,
      'invalidValue',
    );
  });

  it('refuses emails with apostrophes or spaces with 400 invalidValue', async () => {
    const apostrophe = "e.o'connor@example.com";
    expectScimError(
      await scim('POST', '/Users', jane({ userName: apostrophe, emails: [{ value: apostrophe }] })),
      400,
      'invalidValue',
    );
    expectScimError(
      await scim('POST', '/Users', jane({ emails: [{ value: 'jane doe@example.com' }] })),
      400,
      'invalidValue',
    );
    expectScimError(await scim('POST', '/Users', jane({ userName: ' jane.doe@example.com' })), 400, 'invalidValue');
    const created = await createJane();
    expectScimError(
      await scim(
        'PATCH',
        `/Users/${created.id}`,
        patchOf({ op: 'replace', path: 'emails[type eq "work"].value', value: 'o’brien@example.com' }),
      ),
      400,
      'invalidValue',
    );
    expect((await scim('GET', `/Users/${created.id}`)).body.emails[0].value).toBe('jane.doe@example.com');
  });
});

describe('user domains', () => {
  let contractorId: string;
  beforeEach(() => {
    contractorId = emulator.seedUsers([{ userName: 'carla@example.com', externalId: 'c-1' }], 'Contractors')[0]
      ?.id as string;
  });

  it("only shows users of the API user's own domains", async () => {
    await createJane();
    const list = await scim('GET', '/Users');
    expect(list.body.Resources.map((u: Json) => u.userName)).toEqual(['jane.doe@example.com']);
    expect(
      (await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "carla@example.com"')}`)).body.totalResults,
    ).toBe(0);
    expectScimError(await scim('GET', `/Users/${contractorId}`), 404);
    expect((await scim('GET', `/Users/${contractorId}`, undefined, { token: CONTRACTORS_TOKEN })).status).toBe(200);
  });

  it("refuses writes to users outside the API user's domains with 403", async () => {
    expectScimError(
      await scim('PATCH', `/Users/${contractorId}`, patchOf({ op: 'replace', path: 'active', value: false })),
      403,
    );
    expectScimError(await scim('PUT', `/Users/${contractorId}`, { userName: 'carla@example.com' }), 403);
    expectScimError(await scim('DELETE', `/Users/${contractorId}`), 403);
    expect(emulator.users('Contractors').Contractors?.[0]).toMatchObject({ active: true, meta: { version: 'W/"1"' } });
  });

  it("puts new users in the API user's default domain; userName stays unique across the tenant", async () => {
    const created = (await scim('POST', '/Users', { userName: 'dan@example.com' }, { token: CONTRACTORS_TOKEN })).body;
    expect(emulator.users().Contractors?.map((u) => u.id)).toContain(created.id);
    expect(emulator.users().Employees).toEqual([]);
    expectScimError(await scim('POST', '/Users', { userName: 'Carla@example.com' }), 409, 'uniqueness');
  });
});

describe('errors', () => {
  it('answers unknown ids and endpoints with SCIM 404 bodies', async () => {
    const res = await scim('GET', '/Users/unknown');
    expectScimError(res, 404);
    expect(Object.keys(res.body).sort()).toEqual(['detail', 'schemas', 'status']);
    expectScimError(await scim('GET', '/Groups'), 404);
  });
});

describe('fault injection and request log', () => {
  it('injects SCIM-shaped 503 and 429 failures for a number of requests', async () => {
    emulator.injectFault({ path: '/Users$', method: 'GET', status: 503, times: 1 });
    const failed = await scim('GET', '/Users');
    expectScimError(failed, 503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect((await scim('GET', '/Users')).status).toBe(200);

    const added = await fetch(`${server.url}/__admin/faults/scim`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/Users', status: 429, times: 2 }),
    });
    expect(added.status).toBe(201);
    expectScimError(await scim('POST', '/Users', jane()), 429);
    expectScimError(await scim('POST', '/Users', jane()), 429);
    expect((await scim('POST', '/Users', jane())).status).toBe(201);
  });

  it('injects 500s and latency through the shared admin routes', async () => {
    await fetch(`${server.url}/__admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/ServiceProviderConfig', status: 500, times: 1 }),
    });
    expect((await scim('GET', '/ServiceProviderConfig')).status).toBe(500);
    emulator.injectFault({ path: '/Schemas', delayMs: 250, times: 1 });
    const started = Date.now();
    expect((await scim('GET', '/Schemas')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('logs each request with the calling API user', async () => {
    await scim('GET', '/Users');
    await scim('GET', '/Users', undefined, { token: null });
    const log = (await json(await fetch(`${server.url}/__admin/requests`))).requests as Json[];
    expect(log.map((e) => [e.method, e.status, e.caller])).toEqual([
      ['GET', 200, 'SCIM API'],
      ['GET', 401, undefined],
    ]);
    for (const entry of log) expect(entry.path).toMatch(/\/Users$/);
  });
});
