import { inspect } from 'node:util';
import { ScimApiError, ScimClient, type ScimClientOptions } from '../../src/clients/scim';

const TOKEN = 'secret-token-123';
const USER_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
  body?: unknown;
}

type Handler = (req: Seen) => Response | Promise<Response>;

const scim = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/scim+json', ...headers },
  });

const discovery = (
  overrides: { spc?: unknown; resourceTypes?: unknown; schemas?: unknown } = {},
): Record<string, () => Response> => ({
  '/ServiceProviderConfig': () =>
    scim(
      overrides.spc ?? {
        patch: { supported: true },
        filter: { supported: true, maxResults: 2 },
        etag: { supported: true },
      },
    ),
  '/ResourceTypes': () =>
    scim(
      overrides.resourceTypes ?? {
        totalResults: 1,
        Resources: [{ name: 'User', endpoint: '/Users', schema: USER_URN, schemaExtensions: [] }],
      },
    ),
  '/Schemas': () =>
    scim(overrides.schemas ?? { totalResults: 1, Resources: [{ id: USER_URN, attributes: [{ name: 'userName' }] }] }),
});

function fakeServer(routes: Record<string, () => Response>, fallback?: Handler) {
  const seen: Seen[] = [];
  const fetchFn: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const req: Seen = {
      method: init?.method ?? 'GET',
      url,
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    const path = url.pathname.replace(/^\/scim/, '');
    const route = routes[path];
    if (route && req.method === 'GET') return route();
    if (fallback) return fallback(req);
    return scim({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', detail: 'no route' }, 404);
  };
  return { seen, fetchFn };
}

const client = (fetchFn: typeof fetch, overrides: Partial<ScimClientOptions> = {}) =>
  new ScimClient({
    baseUrl: 'http://scim.test/scim/',
    token: TOKEN,
    fetch: fetchFn,
    requestsPerSecond: 1000,
    ...overrides,
  });

const user = (id: string, extra: Record<string, unknown> = {}) => ({
  schemas: [USER_URN],
  id,
  userName: `${id}@example.com`,
  ...extra,
});

describe('SCIM client (scripted server)', () => {
  it('sends the bearer token and SCIM media types, and never shows the token', async () => {
    const { seen, fetchFn } = fakeServer(discovery(), () => scim({ error: 'denied' }, 401));
    const c = client(fetchFn);
    await c.discover();
    expect(seen[0]!.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(seen[0]!.headers.get('accept')).toContain('application/scim+json');
    const err = await c.createUser({ userName: 'a@b.c' }).catch((e: unknown) => e as ScimApiError);
    expect(err).toBeInstanceOf(ScimApiError);
    expect(seen.at(-1)!.headers.get('content-type')).toBe('application/scim+json');
    expect(err).toMatchObject({ status: 401, kind: 'unauthorized' });
    for (const text of [
      inspect(c, { depth: 5, showHidden: true }),
      JSON.stringify(c),
      (err as ScimApiError).message,
      JSON.stringify(err),
      inspect(err),
    ])
      expect(text).not.toContain(TOKEN);
  });

  it('reads discovery leniently: bare arrays, string flags and numbers, a custom users endpoint', async () => {
    const { fetchFn } = fakeServer(
      discovery({
        spc: { patch: { supported: 'False' }, filter: { supported: 'true', maxResults: '50' } },
        resourceTypes: [
          {
            name: 'User',
            endpoint: 'Accounts',
            schema: USER_URN,
            schemaExtensions: [{ schema: 'urn:x:ext:2.0:User', required: 'false' }],
          },
        ],
        schemas: [{ id: 'urn:x:ext:2.0:User', attributes: [{ name: 'Site' }] }],
      }),
    );
    const caps = await client(fetchFn, { extensionUrn: 'urn:X:EXT:2.0:User', customAttributes: ['Site'] }).discover();
    expect(caps).toMatchObject({ patch: false, filter: true, maxResults: 50, etag: false, usersEndpoint: '/Accounts' });
    expect(caps.extension).toEqual({ urn: 'urn:X:EXT:2.0:User', declared: true, attributes: ['Site'] });
  });

  it('treats a server without /Schemas and /ResourceTypes as declaring nothing beyond the core', async () => {
    const routes = discovery();
    delete routes['/Schemas'];
    delete routes['/ResourceTypes'];
    const { fetchFn } = fakeServer(routes);
    const caps = await client(fetchFn).discover();
    expect(caps).toMatchObject({ usersEndpoint: '/Users', userSchemaExtensions: [] });
    expect(caps.schemas).toBeUndefined();
    await expect(
      client(fakeServer(routes).fetchFn, { extensionUrn: 'urn:x:ext:2.0:User', customAttributes: ['Site'] }).discover(),
    ).rejects.toMatchObject({
      code: 'extensionNotDeclared',
    });
  });

  it('asks again after a failed discovery instead of caching the failure', async () => {
    let fail = true;
    const routes = discovery();
    const { fetchFn } = fakeServer({
      ...routes,
      '/ServiceProviderConfig': () => (fail ? scim(undefined, 503) : routes['/ServiceProviderConfig']!()),
    });
    const c = client(fetchFn);
    await expect(c.discover()).rejects.toMatchObject({ status: 503, retryable: true });
    fail = false;
    await expect(c.discover()).resolves.toMatchObject({ patch: true });
  });

  it('stops paging at totalResults and refuses a server that ignores startIndex', async () => {
    const all = [user('a'), user('b'), user('c')];
    const { seen, fetchFn } = fakeServer(discovery(), (req) => {
      const start = Number(req.url.searchParams.get('startIndex'));
      const count = Number(req.url.searchParams.get('count'));
      return scim({
        totalResults: 3,
        startIndex: start,
        itemsPerPage: 2,
        Resources: all.slice(start - 1, start - 1 + count),
      });
    });
    const c = client(fetchFn, { pageSize: 100 });
    expect((await c.listUsers()).map((u) => u.id)).toEqual(['a', 'b', 'c']);
    const lists = seen.filter((r) => r.url.pathname === '/scim/Users');
    expect(lists.map((r) => r.url.search)).toEqual(['?startIndex=1&count=2', '?startIndex=3&count=2']);

    const stuck = fakeServer(discovery(), () => scim({ totalResults: 3, startIndex: 1, Resources: all.slice(0, 2) }));
    await expect(client(stuck.fetchFn).listUsers()).rejects.toMatchObject({
      code: 'unexpectedResponse',
      retryable: false,
    });
  });

  it('treats an empty Resources list as not found, and a missing one too', async () => {
    const { fetchFn } = fakeServer(discovery(), () => scim({ totalResults: 0 }));
    await expect(client(fetchFn).findUserByUserName('x@example.com')).resolves.toBeUndefined();
  });

  it('sends If-Match with the version it read when it falls back to PUT', async () => {
    const current = user('u1', { title: 'Engineer', meta: { version: 'W/"7"' }, active: true });
    const { seen, fetchFn } = fakeServer(
      discovery({ spc: { patch: { supported: false }, filter: { supported: true }, etag: { supported: true } } }),
      (req) =>
        req.method === 'GET'
          ? scim(current)
          : scim({ ...current, ...(req.body as object), meta: { version: 'W/"8"' } }),
    );
    const result = await client(fetchFn).archiveUser('u1');
    const put = seen.find((r) => r.method === 'PUT')!;
    expect(put.headers.get('if-match')).toBe('W/"7"');
    expect(put.body).toEqual({
      schemas: [USER_URN],
      id: 'u1',
      userName: 'u1@example.com',
      title: 'Engineer',
      active: false,
    });
    expect(result.active).toBe(false);
  });

  it('reads the user again and reapplies the change when the PUT finds it changed (412)', async () => {
    let version = 7;
    let title = 'Engineer';
    let reads = 0;
    const { seen, fetchFn } = fakeServer(
      discovery({ spc: { patch: { supported: false }, filter: { supported: true }, etag: { supported: true } } }),
      (req) => {
        if (req.method === 'GET') {
          const answer = scim(user('u1', { title, meta: { version: `W/"${version}"` }, active: true }));
          // Someone else changes the title between bobsync's first read and its PUT.
          if (++reads === 1) [title, version] = ['Lead Engineer', version + 1];
          return answer;
        }
        if (req.headers.get('if-match') !== `W/"${version}"`)
          return scim(
            { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412', detail: 'stale' },
            412,
          );
        version += 1;
        return scim({ ...(req.body as object), meta: { version: `W/"${version}"` } });
      },
    );
    const result = await client(fetchFn).archiveUser('u1');
    const puts = seen.filter((r) => r.method === 'PUT');
    expect(puts.map((p) => p.headers.get('if-match'))).toEqual(['W/"7"', 'W/"8"']);
    // The second PUT carries the other writer's title: nothing of theirs is overwritten.
    expect(puts[1]!.body).toMatchObject({ title: 'Lead Engineer', active: false });
    expect(result.active).toBe(false);
  });

  it('gives up on an update after three PUTs that each found the user changed', async () => {
    const current = user('u1', { meta: { version: 'W/"7"' }, active: true });
    const { seen, fetchFn } = fakeServer(
      discovery({ spc: { patch: { supported: false }, filter: { supported: true }, etag: { supported: true } } }),
      (req) =>
        req.method === 'GET'
          ? scim(current)
          : scim({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '412', detail: 'stale' }, 412),
    );
    await expect(client(fetchFn).archiveUser('u1')).rejects.toMatchObject({ status: 412, retryable: false });
    expect(seen.filter((r) => r.method === 'PUT')).toHaveLength(3);
  });

  it('reads "True"/"False" strings as booleans in user resources', async () => {
    const { fetchFn } = fakeServer(discovery(), () => scim(user('u1', { active: 'False' })));
    expect((await client(fetchFn).getUser('u1'))?.active).toBe(false);
  });

  it('refuses a 2xx answer that is not JSON, and a SCIM error inside a 200', async () => {
    const html = fakeServer(
      discovery(),
      () => new Response('<html>login</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    await expect(client(html.fetchFn).getUser('u1')).rejects.toMatchObject({ code: 'notJson', retryable: false });
    const wrapped = fakeServer(discovery(), () =>
      scim({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: 'busy' }),
    );
    await expect(client(wrapped.fetchFn).getUser('u1')).rejects.toMatchObject({
      status: 503,
      retryable: true,
      detail: 'busy',
    });
  });

  it('leaves a Retry-After longer than maxRetryDelayMs to the caller', async () => {
    const { seen, fetchFn } = fakeServer(discovery(), () => scim(undefined, 429, { 'retry-after': '120' }));
    const c = client(fetchFn, { maxAttempts: 5, maxRetryDelayMs: 1000 });
    await c.discover();
    await expect(c.getUser('u1')).rejects.toMatchObject({ status: 429, retryAfterSeconds: 120 });
    expect(seen.filter((r) => r.url.pathname === '/scim/Users/u1')).toHaveLength(1);
  });

  it('counts reads and writes by method', async () => {
    const { fetchFn } = fakeServer(discovery(), (req) =>
      req.method === 'POST' ? scim(user('n'), 201) : scim(user('n')),
    );
    const c = client(fetchFn);
    await c.createUser({ userName: 'n@example.com' });
    await c.updateUser('n', { title: 'x' });
    await c.getUser('n');
    expect(c.calls).toEqual({ read: 4, write: 2, byMethod: { GET: 4, POST: 1, PUT: 0, PATCH: 1 } });
  });

  it('encodes ids in paths', async () => {
    const { seen, fetchFn } = fakeServer(discovery(), () => scim(user('a/b c')));
    await client(fetchFn).getUser('a/b c');
    expect(seen.at(-1)!.url.pathname).toBe('/scim/Users/a%2Fb%20c');
  });
});
