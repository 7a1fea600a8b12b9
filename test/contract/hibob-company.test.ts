/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
/**
 * HiBob emulator contract: field metadata, named lists, reports and rate limits
 * (contracts/hibob.md §6, §9, §11).
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import {
  CUSTOM_FIELD_IDS,
  DEFAULT_SERVICE_USER,
  HibobEmulator,
  generateDemoEmployees,
} from '../../packages/local/emulators/hibob';

const basic = (id: string, token: string) => `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`;
const AUTH = basic(DEFAULT_SERVICE_USER.id, DEFAULT_SERVICE_USER.token);
const NO_REPORTS = { id: 'SERVICE-NOREPORTS', token: 't1', reports: false as const };

let emu: HibobEmulator;
let server: RunningServer;

async function get(path: string, auth = AUTH): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { authorization: auth, accept: 'application/json' } });
}

beforeAll(async () => {
  emu = new HibobEmulator({
    serviceUsers: [DEFAULT_SERVICE_USER, NO_REPORTS],
    lifecycleTickMs: 0,
    customFields: undefined,
  });
  emu.kit.clock.set(new Date('2025-06-16T09:00:00Z'));
  emu.seed(generateDemoEmployees({ count: 30, seed: 7, today: '2025-06-16' }));
  server = await emu.start(0);
});

afterAll(async () => {
  await server.close();
});

describe('GET /company/people/fields', () => {
  it('returns metadata items with ids, categories, jsonPath, type and list ids', async () => {
    const res = await get('/v1/company/people/fields');
    expect(res.status).toBe(200);
    const fields = (await res.json()) as Array<Record<string, unknown>>;
    const dept = fields.find((f) => f.id === 'work.department');
    expect(dept).toEqual({
      id: 'work.department',
      category: 'work',
      categoryId: 'work',
      categoryDisplayName: 'Work',
      name: 'Department',
      description: '',
      jsonPath: 'work.department',
      type: 'list',
      typeData: { listId: 'department' },
      historical: true,
    });
    expect(fields.find((f) => f.id === 'root.id')).toMatchObject({ jsonPath: 'id', type: 'employee-reference' });
    expect(fields.find((f) => f.id === 'work.siteId')).toMatchObject({ type: 'list_id' });
    expect(fields.find((f) => f.id === 'employee.lastDayOfWork')).toMatchObject({
      type: 'date',
      jsonPath: 'employee.lastDayOfWork',
    });
    const custom = fields.find((f) => f.id === CUSTOM_FIELD_IDS.lmsGroups);
    expect(custom).toMatchObject({ type: 'multi-list', typeData: { listId: 'lmsGroups' } });
    expect(fields.every((f) => !('calculated' in f))).toBe(true);
  });

  it('includes configured custom fields with opaque ids', async () => {
    const custom = new HibobEmulator({
      customFields: [
        {
          id: 'category_99.field_1700000000001',
          name: 'Shoe size',
          categoryId: 'category_99',
          categoryDisplayName: 'Fun',
          type: 'number',
        },
      ],
    });
    const srv = await custom.start(0);
    try {
      const res = await fetch(`${srv.url}/v1/company/people/fields`, { headers: { authorization: AUTH } });
      const fields = (await res.json()) as Array<{ id: string }>;
      expect(fields.map((f) => f.id)).toContain('category_99.field_1700000000001');
      expect(fields.map((f) => f.id)).not.toContain(CUSTOM_FIELD_IDS.lmsGroups);
    } finally {
      await srv.close();
    }
  });
});

describe('GET /company/named-lists/{listName}', () => {
  it('returns items with nested children and archived items', async () => {
    const res = await get('/v1/company/named-lists/department');
    expect(res.status).toBe(200);
    const list = (await res.json()) as {
      name: string;
      items: Array<{ id: string; name: string; value: string; archived: boolean; children: unknown[] }>;
    };
    expect(list.name).toBe('department');
    const engineering = list.items.find((i) => i.name === 'Engineering')!;
    expect(engineering).toMatchObject({ id: expect.stringMatching(/^\d+$/), value: 'Engineering', archived: false });
    expect(engineering.children.length).toBeGreaterThan(0);
    expect(list.items.some((i) => i.archived)).toBe(true);
  });

  it('is case-sensitive', async () => {
    expect((await get('/v1/company/named-lists/terminationreason')).status).toBe(200);
    const wrongCase = await get('/v1/company/named-lists/terminationReason');
    expect(wrongCase.status).toBe(404);
    expect(await wrongCase.json()).toEqual({ key: expect.any(String), error: expect.any(String) });
  });

  it('can hide archived items', async () => {
    const list = (await (await get('/v1/company/named-lists/title?includeArchived=false')).json()) as {
      items: Array<{ archived: boolean }>;
    };
    expect(list.items.every((i) => !i.archived)).toBe(true);
  });
});

describe('reports', () => {
  it('lists the reports the caller may see', async () => {
    const res = await get('/v1/company/reports');
    expect(await res.json()).toEqual({ views: expect.arrayContaining([{ id: 1234, name: 'LMS feed' }]) });
    expect((await get('/v1/company/reports', basic(NO_REPORTS.id, NO_REPORTS.token))).status).toBe(403);
  });

  it('downloads JSON in the dual shape limited to the report columns', async () => {
    const res = await get('/v1/company/reports/1234/download?format=json&humanReadable=APPEND');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { employees: Array<Record<string, any>> };
    expect(body.employees).toHaveLength(30);
    const e = body.employees[0]!;
    expect(e['/root/id']).toEqual({ value: e.id });
    expect(e.humanReadable.work.department).toEqual(expect.any(String));
    expect(e.about).toBeUndefined();
  });

  it('downloads CSV with column display names as the header and an optional BOM', async () => {
    const res = await get('/v1/company/reports/1234/download?format=csv');
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    const text = Buffer.from(await res.arrayBuffer()).toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const lines = text.slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'Bob ID,Email,Employee ID,First name,Last name,Department,Job title,Site,Manager,Start date,Lifecycle status,Status,Termination date,Last day of work',
    );
    expect(lines).toHaveLength(31);
    expect(lines[1]).toContain('Zoë');
    emu.updateSettings({ csvBom: false });
    try {
      const plain = await (await get('/v1/company/reports/1235/download?format=csv')).text();
      expect(plain.startsWith('Display name,Site,Department,Status')).toBe(true);
    } finally {
      emu.updateSettings({ csvBom: true });
    }
  });

  it('rejects a missing format and unknown reports', async () => {
    expect((await get('/v1/company/reports/1234/download')).status).toBe(400);
    expect((await get('/v1/company/reports/999/download?format=json')).status).toBe(404);
  });

  it('serves async downloads: 202 + Location, then 204 until ready, then 200', async () => {
    const start = await get('/v1/company/reports/1234/download-async?format=csv');
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${server.url}/v1/company/reports/download/`));
    const early = await get(location.slice(server.url.length));
    expect(early.status).toBe(204);
    emu.kit.clock.advance(2_000);
    const ready = await get(location.slice(server.url.length));
    expect(ready.status).toBe(200);
    const bytes = Buffer.from(await ready.arrayBuffer()).toString('utf8');
    expect(bytes.startsWith('\uFEFFBob ID,Email')).toBe(true);
  });
});

describe('rate limits', () => {
  it('allows 50 searches per minute per service user, then 429 {key, error} with X-RateLimit headers', async () => {
    const limiter = new HibobEmulator({ lifecycleTickMs: 0 });
    limiter.kit.clock.set(new Date('2025-06-16T10:00:00.000Z'));
    const srv = await limiter.start(0);
    try {
      const search = () =>
        fetch(`${srv.url}/v1/people/search`, {
          method: 'POST',
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          body: JSON.stringify({ fields: ['root.id'] }),
        });
      for (let i = 1; i <= 50; i++) {
        const res = await search();
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBe('50');
        expect(res.headers.get('x-ratelimit-remaining')).toBe(String(50 - i));
        await res.arrayBuffer();
      }
      const limited = await search();
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({ key: expect.any(String), error: expect.any(String) });
      expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(Number(limited.headers.get('x-ratelimit-reset'))).toBe(Date.parse('2025-06-16T10:01:00Z') / 1000);
      expect(limited.headers.get('retry-after')).toBeNull();
      // Other endpoints have their own budgets.
      expect((await fetch(`${srv.url}/v1/company/people/fields`, { headers: { authorization: AUTH } })).status).toBe(
        200,
      );
      limiter.kit.clock.advance(60_000);
      expect((await search()).status).toBe(200);
    } finally {
      await srv.close();
    }
  });

  it('limits report downloads to 20 per minute and can send Retry-After', async () => {
    const limiter = new HibobEmulator({ lifecycleTickMs: 0, retryAfterHeader: true });
    limiter.kit.clock.set(new Date('2025-06-16T10:00:00.000Z'));
    const srv = await limiter.start(0);
    try {
      const download = () =>
        fetch(`${srv.url}/v1/company/reports/1234/download?format=json`, { headers: { authorization: AUTH } });
      for (let i = 0; i < 20; i++) expect((await download()).status).toBe(200);
      const limited = await download();
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });

  it('honours a configured search limit', async () => {
    const limiter = new HibobEmulator({ lifecycleTickMs: 0, searchLimitPerMinute: 2 });
    limiter.kit.clock.set(new Date('2025-06-16T10:00:00.000Z'));
    const srv = await limiter.start(0);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${srv.url}/v1/people/search`, {
          method: 'POST',
          headers: { authorization: AUTH, 'content-type': 'application/json' },
          body: '{}',
        });
        statuses.push(res.status);
        await res.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await srv.close();
    }
  });
});
