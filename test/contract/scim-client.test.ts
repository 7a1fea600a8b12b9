/**
 * The SCIM client against the Skillcast emulator over real HTTP: the core checks every SCIM
 * server must pass, then what is particular to Skillcast (portal attribute names with spaces,
 * email rules, domains) and to failures the emulator can inject (429, 5xx, dropped connections,
 * its optional rate limit).
 */
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEFAULT_EXTENSION_URN, SCIM_BASE_PATH, SkillcastEmulator } from '../../packages/local/emulators/skillcast';
import { ScimApiError, ScimClient, type ScimClientOptions } from '../../src/clients/scim';
import { describeScimClientChecks, fetchWithCapabilities } from '../support/scim-server';

const TOKEN = 'employees-token';
const MAX_RESULTS = 5;

const emulator = new SkillcastEmulator({
  tenant: 'acme',
  maxResults: MAX_RESULTS,
  domains: ['Employees', 'Contractors', 'Always active'],
  attributes: ['Site', 'Start Date', 'Department'],
  apiUsers: [
    { name: 'SCIM API', token: TOKEN, domains: ['Employees'], defaultDomain: 'Employees' },
    { name: 'Contractors API', token: 'contractors-token', domains: ['Contractors'], defaultDomain: 'Contractors' },
  ],
});
let server: RunningServer;
let baseUrl: string;
let counter = 0;

beforeAll(async () => {
  server = await emulator.start(0);
  baseUrl = `${server.url}${SCIM_BASE_PATH}`;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => emulator.reset());

function client(overrides: Partial<ScimClientOptions> = {}): ScimClient {
  return new ScimClient({
    baseUrl,
    token: TOKEN,
    extensionUrn: DEFAULT_EXTENSION_URN,
    customAttributes: ['Site', 'Start Date'],
    requestsPerSecond: 1000,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<ScimApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ScimApiError) return err;
    throw err;
  }
  throw new Error('expected a ScimApiError');
}

const jane = (overrides: Record<string, unknown> = {}) => ({
  userName: 'jane.doe@example.com',
  externalId: '3332883894235038486',
  name: { givenName: 'Jane', familyName: 'Doe' },
  emails: [{ value: 'jane.doe@example.com', type: 'work', primary: true }],
  active: true,
  enterprise: { employeeNumber: '10', department: 'Engineering' },
  custom: { Site: 'London', 'Start Date': '2021-05-04' },
  ...overrides,
});

describeScimClientChecks('Skillcast emulator', () => ({
  client,
  extensionUrn: DEFAULT_EXTENSION_URN,
  // "Start Date" is no valid SCIM attribute name: it exercises the URN-valued PATCH form.
  customAttributes: ['Site', 'Start Date'],
  maxResults: MAX_RESULTS,
  unique: () => `${Date.now().toString(36)}${(counter++).toString(36)}`,
}));

describe('Skillcast specifics', () => {
  it('sends portal attributes with spaces through the extension URN, and other ones by URN path', async () => {
    const c = client();
    const { user } = await c.createUser(jane());
    emulator.kit.requests.clear();
    await c.updateUser(user.id, { custom: { Site: 'Paris', 'Start Date': '2022-02-01' } });
    expect((await c.getUser(user.id))?.[DEFAULT_EXTENSION_URN]).toEqual({ Site: 'Paris', 'Start Date': '2022-02-01' });
    await c.updateUser(user.id, { custom: { 'Start Date': null } });
    expect((await c.getUser(user.id))?.[DEFAULT_EXTENSION_URN]).toEqual({ Site: 'Paris' });
    expect(emulator.kit.requests.entries.filter((e) => e.method === 'PATCH')).toHaveLength(2);
  });

  it('names the near miss when a mapped attribute differs from the portal only in case or spaces', async () => {
    const err = await rejection(client({ customAttributes: ['start date'] }).discover());
    expect(err.code).toBe('attributeNotDeclared');
    expect(err.message).toContain('the server has "Start Date"');
  });

  it('reports a refused email as a non-retryable invalidValue', async () => {
    const c = client();
    const err = await rejection(
      c.createUser(jane({ userName: "e.o'connor@example.com", emails: [{ value: "e.o'connor@example.com" }] })),
    );
    expect(err).toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      kind: 'invalid',
      retryable: false,
      service: 'skillcast',
    });
    expect(err.detail).toMatch(/apostrophe/);
  });

  it("does not link to a user outside the token's domains: the 409 stands", async () => {
    emulator.seedUsers([{ userName: 'jane.doe@example.com', active: true }], 'Contractors');
    const err = await rejection(client().createUser(jane()));
    expect(err).toMatchObject({ status: 409, scimType: 'uniqueness', kind: 'conflict', retryable: false });
  });

  it('links on an externalId conflict when the userName is new', async () => {
    const c = client();
    const first = await c.createUser(jane());
    const again = await c.createUser(jane({ userName: 'jane.smith@example.com', emails: undefined }));
    expect(again).toMatchObject({ linked: true, matchedBy: 'externalId', user: { id: first.user.id } });
  });

  it('writes a mutability violation as a configuration error', async () => {
    const c = client();
    const { user } = await c.createUser(jane());
    const err = await rejection(c.patchUser(user.id, [{ op: 'replace', path: 'meta', value: {} }]));
    expect(err).toMatchObject({ status: 400, scimType: 'mutability', kind: 'configuration', retryable: false });
  });

  it('scans every page when the server says it cannot filter', async () => {
    const c = client({ fetch: fetchWithCapabilities({ filter: false }) });
    for (let i = 0; i < 7; i++)
      await c.createUser(jane({ userName: `u${i}@example.com`, externalId: `e${i}`, emails: undefined }));
    emulator.kit.requests.clear();
    expect((await c.findUserByExternalId('e6'))?.userName).toBe('u6@example.com');
    const lookups = emulator.kit.requests.entries.filter((e) => e.method === 'GET' && e.path.endsWith('/Users'));
    expect(lookups.length).toBe(2);
    expect(lookups.every((e) => !e.query.includes('filter'))).toBe(true);
    await expect(c.listUsers({ filter: 'userName eq "u1@example.com"' })).rejects.toMatchObject({
      code: 'filterNotSupported',
    });
  });

  it('sends filters as %20-encoded RFC 7644 expressions', async () => {
    const c = client();
    await c.findUserByUserName('jane.doe@example.com');
    const last = emulator.kit.requests.entries.at(-1)!;
    expect(last.query).toBe('filter=userName%20eq%20%22jane.doe%40example.com%22&startIndex=1&count=5');
  });
});

describe('failures and limits', () => {
  it("classifies an injected 429 as retryable with the server's Retry-After", async () => {
    const c = client();
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'GET', status: 429, times: 1 });
    const err = await rejection(c.findUserByUserName('jane.doe@example.com'));
    expect(err).toMatchObject({ status: 429, kind: 'transient', retryable: true, retryAfterSeconds: 1 });
    // The next call of the same instance waits the second out before it is sent.
    const started = Date.now();
    expect(await c.findUserByUserName('jane.doe@example.com')).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('retries a 429 by itself after the Retry-After pause when allowed to', async () => {
    const c = client({ maxAttempts: 3 });
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'GET', status: 429, times: 1 });
    const started = Date.now();
    expect(await c.findUserByUserName('jane.doe@example.com')).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(c.calls.byMethod.GET).toBe(3 + 2);
  });

  it.each([500, 502, 503])('classifies an injected %i as retryable', async (status) => {
    const c = client();
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'POST', status, times: 1 });
    const err = await rejection(c.createUser(jane()));
    expect(err).toMatchObject({ status, kind: 'transient', retryable: true });
    expect(err.detail).toContain(`Injected failure ${status}`);
  });

  it('retries a 503 by itself when allowed to', async () => {
    const c = client({ maxAttempts: 2 });
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'POST', status: 503, headers: { 'Retry-After': '0' }, times: 1 });
    const result = await c.createUser(jane());
    expect(result.linked).toBe(false);
    expect(c.calls.byMethod.POST).toBe(2);
  });

  it('treats a dropped connection as a retryable network failure', async () => {
    const c = client();
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'GET', dropConnection: true, times: 1 });
    const err = await rejection(c.listUsers());
    expect(err).toMatchObject({ status: 0, code: 'network', kind: 'transient', retryable: true });
  });

  it('reads a non-JSON error body leniently', async () => {
    const c = client();
    await c.discover();
    emulator.injectFault({
      path: '/Users$',
      method: 'GET',
      status: 502,
      body: '<html><body>Bad gateway</body></html>',
      times: 1,
    });
    const err = await rejection(c.listUsers());
    expect(err).toMatchObject({ status: 502, code: 'http502', retryable: true });
    expect(err.detail).toContain('Bad gateway');
  });

  it('times out a slow answer as retryable', async () => {
    const c = client({ timeoutMs: 100 });
    await c.discover();
    emulator.injectFault({ path: '/Users$', method: 'GET', delayMs: 400, times: 1 });
    const err = await rejection(c.listUsers());
    expect(err).toMatchObject({ status: 0, code: 'timeout', retryable: true });
  });

  it('keeps to requestsPerSecond: no second holds more calls than the limit, and a strict server never answers 429', async () => {
    const limited = new SkillcastEmulator({ rateLimit: { limit: 5, windowMs: 1000 }, maxResults: 2 });
    const running = await limited.start(0);
    try {
      const c = new ScimClient({
        baseUrl: `${running.url}${SCIM_BASE_PATH}`,
        token: 'demo-scim-token',
        requestsPerSecond: 5,
      });
      const started = Date.now();
      // 3 discovery reads, then 12 lookups from parallel callers sharing the instance.
      await Promise.all(Array.from({ length: 12 }, (_, i) => c.findUserByUserName(`user${i}@example.com`)));
      const elapsed = Date.now() - started;
      expect(c.calls.read).toBe(15);
      expect(limited.kit.requests.entries.every((e) => e.status !== 429)).toBe(true);
      expect(limited.kit.requests.peakPerWindow(() => true, 1000)).toBeLessThanOrEqual(5);
      // 15 calls at under 5/s take at least 14 intervals.
      expect(elapsed).toBeGreaterThanOrEqual(14 * 200 - 50);
    } finally {
      await running.close();
    }
  });
});
