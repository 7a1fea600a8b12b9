/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
/**
 * HiBob emulator contract: authentication, people search and read (contracts/hibob.md §2, §4, §5, §8, §12).
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import {
  CUSTOM_FIELD_IDS,
  DEFAULT_SERVICE_USER,
  HibobEmulator,
  generateDemoEmployees,
  type HibobEmployeeRecord,
} from '../../packages/local/emulators/hibob';

const TODAY = '2025-06-16';
const basic = (id: string, token: string) => `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`;
const AUTH = basic(DEFAULT_SERVICE_USER.id, DEFAULT_SERVICE_USER.token);
const LIMITED = {
  id: 'SERVICE-LIMITED',
  token: 'limited-token',
  categories: ['root', 'work'],
  lifecycleStatuses: ['employed', 'garden leave'],
};

type Json = Record<string, any>;

let emu: HibobEmulator;
let server: RunningServer;
let people: HibobEmployeeRecord[];

async function call(
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = AUTH,
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (auth) headers.authorization = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const search = (body: unknown, auth?: string) => call('POST', '/v1/people/search', body, auth);

function find(predicate: (p: HibobEmployeeRecord) => boolean, what: string): HibobEmployeeRecord {
  const p = people.find(predicate);
  if (!p) throw new Error(`demo data has no ${what}`);
  return p;
}

beforeAll(async () => {
  emu = new HibobEmulator({
    serviceUsers: [DEFAULT_SERVICE_USER, LIMITED, { id: 'SERVICE-US', token: 'us-token', dateFormat: 'MM/DD/YYYY' }],
    lifecycleTickMs: 0,
  });
  emu.kit.clock.set(new Date(`${TODAY}T12:00:00Z`));
  people = generateDemoEmployees({ count: 60, seed: 42, today: TODAY });
  emu.seed(people);
  server = await emu.start(0);
});

afterAll(async () => {
  await server.close();
});

describe('authentication', () => {
  it('rejects a missing Authorization header with 401 {key, error}', async () => {
    const res = await search({}, null as unknown as string);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ key: expect.any(String), error: expect.any(String) });
  });

  it('rejects a wrong token', async () => {
    const res = await search({}, basic(DEFAULT_SERVICE_USER.id, 'nope'));
    expect(res.status).toBe(401);
    expect(typeof res.body.key).toBe('string');
  });

  it('rejects the legacy raw-token header', async () => {
    const res = await search({}, DEFAULT_SERVICE_USER.token);
    expect(res.status).toBe(401);
  });

  it('rejects an unknown service user', async () => {
    expect((await search({}, basic('SERVICE-0000', DEFAULT_SERVICE_USER.token))).status).toBe(401);
  });

  it('accepts Basic base64(id:token)', async () => {
    expect((await search({ fields: ['root.id'] })).status).toBe(200);
  });
});

describe('POST /people/search validation', () => {
  const filter = (f: unknown) => ({ filters: [f] });
  it.each([
    ['filters: []', { filters: [] }],
    [
      'two filters',
      {
        filters: [
          { fieldPath: 'root.id', operator: 'equals', values: ['1'] },
          { fieldPath: 'root.id', operator: 'equals', values: ['2'] },
        ],
      },
    ],
    [
      'a path other than root.id/root.email',
      filter({ fieldPath: 'work.department', operator: 'equals', values: ['1'] }),
    ],
    ['an operator other than equals', filter({ fieldPath: 'root.id', operator: 'contains', values: ['1'] })],
    ['empty values', filter({ fieldPath: 'root.id', operator: 'equals', values: [] })],
    ['values not an array', filter({ fieldPath: 'root.id', operator: 'equals', values: '1' })],
    ['non-string values', filter({ fieldPath: 'root.id', operator: 'equals', values: [1] })],
    ['extra filter keys', filter({ fieldPath: 'root.id', operator: 'equals', values: ['1'], negate: true })],
    ['filters not an array', { filters: { fieldPath: 'root.id', operator: 'equals', values: ['1'] } }],
    ['401 field ids', { fields: Array.from({ length: 401 }, (_, i) => `custom.field_${i}`) }],
    ['fields not strings', { fields: [1, 2] }],
    ['showInactive as a string', { showInactive: 'true' }],
    ['an unknown humanReadable', { humanReadable: 'BOTH' }],
    ['pagination properties', { fields: ['root.id'], pageSize: 100 }],
    ['a non-object body', [1, 2]],
  ])('answers 400 {key, error} for %s', async (_name, body) => {
    const res = await search(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ key: expect.any(String), error: expect.any(String) });
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await search('{"fields": [');
    expect(res.status).toBe(400);
    expect(res.body.key).toEqual(expect.any(String));
  });

  it('accepts exactly 400 field ids and ignores unknown ones', async () => {
    const fields = ['root.id', ...Array.from({ length: 399 }, (_, i) => `unknown.field_${i}`)];
    const res = await search({ fields, showInactive: true });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.employees[0]).sort()).toEqual(['/root/id', 'id']);
  });

  it('returns every match in one call: no pagination', async () => {
    const res = await search({ fields: ['root.id'], showInactive: true });
    expect(res.body.employees).toHaveLength(people.length);
    expect(Object.keys(res.body)).toEqual(['employees']);
  });
});

describe('a search over a large company', () => {
  let large: HibobEmulator;
  let largeServer: RunningServer;
  let company: HibobEmployeeRecord[];

  beforeAll(async () => {
    large = new HibobEmulator({ lifecycleTickMs: 0 });
    large.kit.clock.set(new Date(`${TODAY}T12:00:00Z`));
    // More than one slice of the answer, and not a whole number of them.
    company = generateDemoEmployees({ count: 1_234, seed: 7, today: TODAY });
    large.seed(company);
    largeServer = await large.start(0);
  });

  afterAll(async () => {
    await largeServer.close();
  });

  it('answers every employee, in order, as one compact JSON document', async () => {
    const res = await fetch(`${largeServer.url}/v1/people/search`, {
      method: 'POST',
      headers: { authorization: AUTH, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ fields: ['root.id', 'root.email', 'work.title'], showInactive: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await res.text();
    const body = JSON.parse(text) as { employees: { id: string }[] };
    expect(text).toBe(JSON.stringify(body));
    expect(body.employees.map((e) => e.id)).toEqual(company.map((p) => p.id));
  });
});

describe('showInactive and filters', () => {
  it('returns only internal.status Active by default', async () => {
    const res = await search({ fields: ['root.id', 'internal.status'] });
    const active = people.filter((p) => p.status === 'Active');
    expect(res.body.employees).toHaveLength(active.length);
    expect(res.body.employees.every((e: Json) => e.internal.status === 'Active')).toBe(true);
  });

  it('includes future hires and leavers with showInactive: true', async () => {
    const hire = find((p) => p.lifecycleStatus === 'hired', 'future hire');
    const leaver = find((p) => p.lifecycleStatus === 'terminated', 'leaver');
    const res = await search({ fields: ['root.id', 'internal.lifecycleStatus'], showInactive: true });
    const ids = res.body.employees.map((e: Json) => e.id);
    expect(ids).toEqual(expect.arrayContaining([hire.id, leaver.id]));
    const withoutInactive = (await search({ fields: ['root.id'] })).body.employees.map((e: Json) => e.id);
    expect(withoutInactive).not.toContain(hire.id);
    expect(withoutInactive).not.toContain(leaver.id);
  });

  it('filters by root.id with several values (OR)', async () => {
    const ids = [people[0]!.id, people[5]!.id, '1111111111111111111'];
    const res = await search({
      fields: ['root.id'],
      showInactive: true,
      filters: [{ fieldPath: 'root.id', operator: 'equals', values: ids }],
    });
    expect(res.body.employees.map((e: Json) => e.id).sort()).toEqual([people[0]!.id, people[5]!.id].sort());
  });

  it('filters by root.email and returns both holders of a shared email', async () => {
    const emails = people.map((p) => p.email).filter((e): e is string => e !== null);
    const shared = emails.find((e, i) => emails.indexOf(e) !== i)!;
    const res = await search({
      fields: ['root.id', 'root.email'],
      showInactive: true,
      filters: [{ fieldPath: 'root.email', operator: 'equals', values: [shared.toUpperCase()] }],
    });
    expect(res.body.employees).toHaveLength(2);
  });
});

describe('response shape', () => {
  it('carries slash keys for non-null values and nested objects by jsonPath, root fields at the top level', async () => {
    const ceo = people[0]!;
    const report = find((p) => p.reportsTo === ceo.id && p.status === 'Active', 'report of the CEO');
    const res = await search({
      fields: [
        'root.id',
        'root.email',
        'root.firstName',
        'work.department',
        'work.reportsTo',
        'work.startDate',
        'work.siteId',
        'work.employeeIdInCompany',
        'internal.status',
        'internal.terminationDate',
      ],
      filters: [{ fieldPath: 'root.id', operator: 'equals', values: [report.id] }],
    });
    const e = res.body.employees[0];
    expect(e['/root/id']).toEqual({ value: report.id });
    expect(e['/work/department']).toEqual({ value: report.department });
    expect(e.id).toBe(report.id);
    expect(typeof e.id).toBe('string');
    expect(e.id).toMatch(/^\d{19}$/);
    expect(e.firstName).toBe(report.firstName);
    expect(e.root).toBeUndefined();
    expect(e.work.department).toBe(report.department);
    expect(e.work.reportsTo).toEqual({
      id: ceo.id,
      firstName: ceo.firstName,
      surname: ceo.surname,
      displayName: `${ceo.firstName} ${ceo.surname}`,
      email: ceo.email,
    });
    expect(typeof e.work.siteId).toBe('number');
    expect(typeof e.work.employeeIdInCompany).toBe('number');
    // Empty: nested null, no slash key.
    expect(e.internal.terminationDate).toBeNull();
    expect('/internal/terminationDate' in e).toBe(false);
    expect(e.humanReadable).toBeUndefined();
  });

  it('tells empty (null) from not requested (absent), and uses [] for empty multi-lists', async () => {
    const noEmail = find((p) => p.email === null, 'person without email');
    const res = await call('POST', `/v1/people/${noEmail.id}`, { fields: ['root.email', CUSTOM_FIELD_IDS.lmsGroups] });
    expect(res.status).toBe(200);
    expect(res.body.email).toBeNull();
    expect('/root/email' in res.body).toBe(false);
    expect(res.body.work).toBeUndefined();
    emu.updateEmployee(noEmail.id, { custom: { [CUSTOM_FIELD_IDS.lmsGroups]: [] } });
    const again = await call('POST', `/v1/people/${noEmail.id}`, { fields: [CUSTOM_FIELD_IDS.lmsGroups] });
    expect(again.body.custom.category_1701776301234.field_1701776318762).toEqual([]);
    expect('/custom/field_1701776318762' in again.body).toBe(false);
  });

  it('yields an employee category object for employee.* fields', async () => {
    const garden = find((p) => p.lifecycleStatus === 'garden leave', 'garden leave');
    const res = await call('POST', `/v1/people/${garden.id}`, {
      fields: ['employee.lastDayOfWork', 'internal.lifecycleStatus', 'internal.status'],
    });
    expect(res.body.employee).toEqual({ lastDayOfWork: garden.lastDayOfWork });
    expect(res.body.internal).toEqual({ lifecycleStatus: 'garden leave', status: 'Active' });
  });

  it('uses the default field set (root, about, employment, work) when fields is omitted', async () => {
    const res = await call('POST', `/v1/people/${people[1]!.id}`, {});
    const categories = Object.keys(res.body).filter((k) => !k.startsWith('/'));
    expect(categories).toEqual(expect.arrayContaining(['id', 'email', 'about', 'employment', 'work']));
    expect(res.body.internal).toBeUndefined();
    expect(res.body.custom).toBeUndefined();
  });
});

describe('humanReadable', () => {
  const fields = ['root.id', 'work.department', 'work.startDate', 'internal.lifecycleStatus', 'work.reportsTo'];
  let person: HibobEmployeeRecord;
  beforeAll(() => {
    person = find(
      (p) => p.lifecycleStatus === 'employed' && p.reportsTo !== null && p.title !== null,
      'employed with manager',
    );
  });
  const one = (humanReadable: unknown, auth?: string) =>
    search(
      { fields, humanReadable, filters: [{ fieldPath: 'root.id', operator: 'equals', values: [person.id] }] },
      auth,
    ).then((r) => r.body.employees[0] as Json);

  it.each([undefined, ''])('machine values only for %p', async (mode) => {
    const e = await one(mode);
    expect(e.work.department).toBe(person.department);
    expect(e.work.startDate).toBe(person.startDate);
    expect(e.humanReadable).toBeUndefined();
  });

  it.each(['APPEND', 'append', 'Append'])('adds a humanReadable mirror for %s', async (mode) => {
    const e = await one(mode);
    expect(e.work.department).toBe(person.department);
    expect(e.humanReadable.id).toBe(person.id);
    expect(e.humanReadable.work.department).toEqual(expect.any(String));
    expect(e.humanReadable.work.department).not.toBe(person.department);
    const [y, m, d] = person.startDate!.split('-');
    expect(e.humanReadable.work.startDate).toBe(`${d}/${m}/${y}`);
    expect(e.humanReadable.internal.lifecycleStatus).toBe('Employed');
    expect(typeof e.humanReadable.work.reportsTo).toBe('string');
  });

  it.each(['REPLACE', 'replace'])('replaces machine values (slash keys too) for %s', async (mode) => {
    const e = await one(mode);
    expect(e.humanReadable).toBeUndefined();
    expect(e.internal.lifecycleStatus).toBe('Employed');
    expect(e['/internal/lifecycleStatus']).toEqual({ value: 'Employed' });
    expect(e.work.department).not.toBe(person.department);
  });

  it("formats dates in the calling user's format", async () => {
    const e = await one('APPEND', basic('SERVICE-US', 'us-token'));
    const [y, m, d] = person.startDate!.split('-');
    expect(e.humanReadable.work.startDate).toBe(`${m}/${d}/${y}`);
  });
});

describe('permissions', () => {
  const limited = basic(LIMITED.id, LIMITED.token);

  it('silently drops fields from categories the service user may not read', async () => {
    const res = await search({ fields: ['root.id', 'work.department', 'internal.status', 'address.country'] }, limited);
    expect(res.status).toBe(200);
    const e = res.body.employees[0];
    expect(e.work).toBeDefined();
    expect(e.internal).toBeUndefined();
    expect('/internal/status' in e).toBe(false);
    expect(e.address).toBeUndefined();
  });

  it('drops people outside the population scope', async () => {
    const res = await search({ fields: ['root.id'], showInactive: true }, limited);
    const expected = people.filter((p) => ['employed', 'garden leave'].includes(p.lifecycleStatus));
    expect(res.body.employees).toHaveLength(expected.length);
    const hire = find((p) => p.lifecycleStatus === 'hired', 'future hire');
    expect((await call('POST', `/v1/people/${hire.id}`, {}, limited)).status).toBe(403);
  });
});

describe('POST /people/{identifier}', () => {
  it('reads by backend id, unwrapped', async () => {
    const p = people[2]!;
    const res = await call('POST', `/v1/people/${p.id}`, { fields: ['root.id', 'root.surname'] });
    expect(res.status).toBe(200);
    expect(res.body.employees).toBeUndefined();
    expect(res.body).toEqual({
      '/root/id': { value: p.id },
      '/root/surname': { value: p.surname },
      id: p.id,
      surname: p.surname,
    });
  });

  it('reads by URL-encoded email, case-insensitively', async () => {
    const p = people[3]!;
    const res = await call('POST', `/v1/people/${encodeURIComponent(p.email!.toUpperCase())}`, { fields: ['root.id'] });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(p.id);
  });

  it('returns inactive employees', async () => {
    const leaver = find((p) => p.lifecycleStatus === 'terminated', 'leaver');
    const res = await call('POST', `/v1/people/${leaver.id}`, {
      fields: ['internal.status', 'internal.terminationDate'],
    });
    expect(res.body.internal).toEqual({ status: 'Inactive', terminationDate: leaver.terminationDate });
  });

  it('answers 404 {key, error} for an unknown identifier', async () => {
    for (const id of ['1234567890123456789', 'nobody@example.com']) {
      const res = await call('POST', `/v1/people/${encodeURIComponent(id)}`, {});
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ key: expect.any(String), error: expect.any(String) });
    }
  });

  it.each([{ filters: [{ fieldPath: 'root.id', operator: 'equals', values: ['1'] }] }, { showInactive: true }])(
    'rejects search-only properties %p',
    async (body) => {
      expect((await call('POST', `/v1/people/${people[0]!.id}`, body)).status).toBe(400);
    },
  );

  it('accepts humanReadable on a single read', async () => {
    const res = await call('POST', `/v1/people/${people[0]!.id}`, { fields: ['work.siteId'], humanReadable: 'append' });
    expect(res.body.humanReadable.work.siteId).toBe('London');
  });
});

describe('GET /people/{id}/lifecycle', () => {
  it('lists lifecycle rows as {values: […]}', async () => {
    const leaver = find((p) => p.lifecycleStatus === 'terminated', 'leaver');
    const res = await call('GET', `/v1/people/${leaver.id}/lifecycle`);
    expect(res.status).toBe(200);
    const statuses = res.body.values.map((v: Json) => v.status);
    expect(statuses[statuses.length - 1]).toBe('terminated');
    expect(res.body.values[0]).toEqual({
      id: expect.any(Number),
      effectiveDate: expect.any(String),
      status: expect.any(String),
      reason: null,
      reasonType: null,
    });
  });

  it('answers 404 for unknown ids', async () => {
    expect((await call('GET', '/v1/people/1234567890123456789/lifecycle')).status).toBe(404);
  });
});

describe('HR edit controls and read-after-write lag', () => {
  it('PUT /people/{id} edits fields given nested by jsonPath', async () => {
    const p = people[10]!;
    const res = await call('PUT', `/v1/people/${p.id}`, { work: { title: 'Accountant' }, surname: 'Ferreira-Ní' });
    expect(res.status).toBe(200);
    const read = await call('POST', `/v1/people/${p.id}`, {
      fields: ['work.title', 'root.surname'],
      humanReadable: 'APPEND',
    });
    expect(read.body.humanReadable.work.title).toBe('Accountant');
    expect(read.body.surname).toBe('Ferreira-Ní');
  });

  it('PUT /people/{id}/email changes the email; the id stays', async () => {
    const p = people[11]!;
    expect((await call('PUT', `/v1/people/${p.id}/email`, { email: 'renamed@northwind.example' })).status).toBe(200);
    const read = await call('POST', '/v1/people/renamed%40northwind.example', { fields: ['root.id', 'root.email'] });
    expect(read.body).toMatchObject({ id: p.id, email: 'renamed@northwind.example' });
  });

  it('serves stale values until the lag has passed', async () => {
    const p = people[12]!;
    emu.updateSettings({ readAfterWriteLagMs: 5_000 });
    try {
      emu.updateEmployee(p.id, { firstName: 'Łucja' });
      const stale = await call('POST', `/v1/people/${p.id}`, { fields: ['root.firstName'] });
      expect(stale.body.firstName).toBe(p.firstName);
      expect(emu.getEmployee(p.id)!.firstName).toBe('Łucja');
      emu.kit.clock.advance(5_001);
      const fresh = await call('POST', `/v1/people/${p.id}`, { fields: ['root.firstName'] });
      expect(fresh.body.firstName).toBe('Łucja');
    } finally {
      emu.updateSettings({ readAfterWriteLagMs: 0 });
    }
  });
});

describe('errors and quirks', () => {
  it('answers 404 {key, error} for unknown paths by default', async () => {
    const res = await call('GET', '/v1/nothing/here');
    expect(res.status).toBe(404);
    expect(res.body.key).toEqual(expect.any(String));
  });

  it('can mimic the 200 text/html login page and the GET-with-JSON 400 page', async () => {
    emu.updateSettings({ htmlQuirks: true });
    try {
      const unknown = await fetch(`${server.url}/v1/nothing/here`, { headers: { authorization: AUTH } });
      expect(unknown.status).toBe(200);
      expect(unknown.headers.get('content-type')).toMatch(/text\/html/);
      await unknown.text();
      const get = await fetch(`${server.url}/v1/company/people/fields`, {
        headers: { authorization: AUTH, 'content-type': 'application/json' },
      });
      expect(get.status).toBe(400);
      expect(get.headers.get('content-type')).toMatch(/text\/html/);
      await get.text();
    } finally {
      emu.updateSettings({ htmlQuirks: false });
    }
  });

  it('can block a caller after repeated failed logins', async () => {
    emu.updateSettings({ wafBlockAfterFailures: 3 });
    try {
      for (let i = 0; i < 3; i++) expect((await search({}, basic('x', 'y'))).status).toBe(401);
      const blocked = await search({ fields: ['root.id'] });
      expect(blocked.status).toBe(403);
    } finally {
      emu.updateSettings({ wafBlockAfterFailures: null });
      emu.ctx.waf.reset();
    }
  });
});
