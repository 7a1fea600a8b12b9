/**
 * An independent SCIM 2.0 service provider for client tests: `scim2-server`, the in-memory
 * server of the python-scim project's scim2 tools (PyPI). It is installed once, pinned, into a
 * virtualenv in the per-user cache (like the Temporal CLI, see src/dev/temporal-cli.ts), and
 * started per test file on a free loopback port with discovery documents generated in a temp dir.
 *
 * Also holds the checks every SCIM server must pass with our client, so the Skillcast emulator
 * and the independent server are held to the same core behaviour.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/ports';
import { ensurePythonTool, type PythonToolInstall } from './python-tool';
import {
  ScimApiError,
  ScimClient,
  ScimConfigurationError,
  enterpriseOf,
  type ScimClientOptions,
  type ScimUser,
} from '../../src/clients/scim';

export const SCIM2_SERVER_VERSION = '0.8.3';

/** The server and everything it pulls in, pinned, so every machine tests against the same code. */
const PINNED_REQUIREMENTS = [
  `scim2-server==${SCIM2_SERVER_VERSION}`,
  'scim2-models==0.12.3',
  'pydantic==2.14.4',
  'pydantic-core==2.50.5',
  'annotated-types==0.8.0',
  'typing-extensions==4.16.0',
  'typing-inspection==0.4.5',
  'lark==1.3.1',
  'email-validator==2.4.0',
  'dnspython==2.9.2',
  'idna==3.20',
];

export type Scim2ServerInstall = PythonToolInstall;

/** The virtualenv's python with scim2-server importable, installing it once when missing (about 20 s). */
export function ensureScim2Server(env: NodeJS.ProcessEnv = process.env): Scim2ServerInstall {
  return ensurePythonTool(
    { cacheName: `scim2-server-${SCIM2_SERVER_VERSION}`, requirements: PINNED_REQUIREMENTS },
    env,
  );
}

export interface Scim2ServerOptions {
  token: string;
  /** filter.maxResults announced and enforced by the server. */
  maxResults: number;
  /** A custom User extension to declare beside the enterprise one. */
  extension: { urn: string; name: string; attributes: string[] };
}

export interface RunningScim2Server {
  /** SCIM base URL (the server serves under /v2). */
  baseUrl: string;
  port: number;
  startMs: number;
  /** What the server printed, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const DEFAULTS_SCRIPT = [
  'import json',
  'from importlib.resources import files',
  "r = files('scim2_server').joinpath('resources')",
  "names = {'schemas': 'default-schemas.json', 'resourceTypes': 'default-resource-types.json', 'config': 'default-service-provider-config.json'}",
  'print(json.dumps({k: json.loads(r.joinpath(v).read_text()) for k, v in names.items()}))',
].join('\n');

/** Starts scim2-server with RFC 7643's schemas plus `extension`, bearer auth and a small maxResults. */
export async function startScim2Server(python: string, options: Scim2ServerOptions): Promise<RunningScim2Server> {
  const started = Date.now();
  const defaults = spawnSync(python, ['-c', DEFAULTS_SCRIPT], { encoding: 'utf8' });
  if (defaults.status !== 0) throw new Error(`reading scim2-server's default documents failed: ${defaults.stderr}`);
  const docs = JSON.parse(defaults.stdout) as {
    schemas: Record<string, unknown>[];
    resourceTypes: { id: string; schemaExtensions?: { schema: string; required: boolean }[] }[];
    config: { filter?: Record<string, unknown> };
  };
  const attribute = (name: string) => ({
    name,
    type: 'string',
    multiValued: false,
    description: `Custom attribute ${name}`,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
  });
  docs.schemas.push({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id: options.extension.urn,
    name: options.extension.name,
    description: 'Custom attributes of the tenant',
    attributes: options.extension.attributes.map(attribute),
  });
  const userType = docs.resourceTypes.find((r) => r.id === 'User');
  if (!userType) throw new Error('scim2-server has no User resource type');
  userType.schemaExtensions = [
    ...(userType.schemaExtensions ?? []),
    { schema: options.extension.urn, required: false },
  ];
  docs.config.filter = { ...docs.config.filter, supported: true, maxResults: options.maxResults };

  const dir = mkdtempSync(join(tmpdir(), 'bobsync-scim2-'));
  const file = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(content, null, 2));
    return path;
  };
  const port = await freePort();
  const args = [
    '-m',
    'scim2_server.testserver.cli',
    '--schema',
    file('schemas.json', docs.schemas),
    '--resource-type',
    file('resource-types.json', docs.resourceTypes),
    '--service-provider-config',
    file('service-provider-config.json', docs.config),
    '--bearer-token',
    options.token,
    '--hostname',
    '127.0.0.1',
    '--port',
    String(port),
  ];
  const child: ChildProcess = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}/v2`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`scim2-server exited while starting:\n${output}`);
    }
    try {
      const res = await fetch(`${baseUrl}/ServiceProviderConfig`, {
        headers: { authorization: `Bearer ${options.token}` },
      });
      await res.text();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`scim2-server did not answer within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { baseUrl, port, startMs: Date.now() - started, output: () => output, stop };
}

// ---- checks shared by every SCIM server ----------------------------------------------------------

/** A SCIM server under test, as the shared checks need it. */
export interface ScimTarget {
  /** A client for the server, with the target's extension and custom attributes configured. */
  client(overrides?: Partial<ScimClientOptions>): ScimClient;
  extensionUrn: string;
  /** Two custom attribute names the server declares under the extension. */
  customAttributes: [string, string];
  maxResults: number;
  /** A value no earlier check used, to keep userNames apart on servers that cannot be reset. */
  unique(): string;
}

/**
 * A fetch that edits the ServiceProviderConfig on its way in, to see the client follow what a
 * server says it cannot do (no PATCH, no filter) against a server that actually can.
 */
export function fetchWithCapabilities(overrides: { patch?: boolean; filter?: boolean }): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!/\/ServiceProviderConfig$/u.test(new URL(url).pathname) || !response.ok) return response;
    const config = (await response.json()) as Record<string, Record<string, unknown>>;
    if (overrides.patch !== undefined) config.patch = { ...config.patch, supported: overrides.patch };
    if (overrides.filter !== undefined) config.filter = { ...config.filter, supported: overrides.filter };
    return new Response(JSON.stringify(config), {
      status: response.status,
      headers: { 'content-type': 'application/scim+json' },
    });
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Defines the core checks (discovery, create, conflict → linked, lookups, updates, archive, paging, errors). */
export function describeScimClientChecks(name: string, target: () => ScimTarget): void {
  describe(`${name}: SCIM client core checks`, () => {
    const person = (t: ScimTarget, overrides: Partial<Parameters<ScimClient['createUser']>[0]> = {}) => {
      const id = t.unique();
      const [first, second] = t.customAttributes;
      return {
        userName: `jane.doe.${id}@example.com`,
        externalId: `hibob-${id}`,
        name: { givenName: 'Jane', familyName: 'Doe' },
        displayName: 'Jane Doe',
        title: 'Engineer',
        emails: [{ value: `jane.doe.${id}@example.com`, type: 'work', primary: true }],
        active: true,
        enterprise: { employeeNumber: id, department: 'Engineering' },
        custom: { [first]: 'London', [second]: '2021-05-04' },
        ...overrides,
      };
    };

    it('discovers the capabilities once and caches them on the instance', async () => {
      const t = target();
      const client = t.client();
      const capabilities = await client.discover();
      expect(capabilities).toMatchObject({
        patch: true,
        filter: true,
        maxResults: t.maxResults,
        usersEndpoint: '/Users',
      });
      expect(capabilities.extension).toEqual({
        urn: t.extensionUrn,
        declared: true,
        attributes: expect.arrayContaining(t.customAttributes),
      });
      expect(capabilities.schemas?.map((s) => s.id)).toEqual(
        expect.arrayContaining([
          'urn:ietf:params:scim:schemas:core:2.0:User',
          'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
          t.extensionUrn,
        ]),
      );
      expect(client.calls.read).toBe(3);
      expect(await client.discover()).toBe(capabilities);
      await client.getUser('no-such-user');
      expect(client.calls.read).toBe(4);
    });

    it('fails discovery when a mapped custom attribute or the extension is not declared', async () => {
      const t = target();
      const typo = await rejection(
        t.client({ customAttributes: [t.customAttributes[0], 'NoSuchAttribute'] }).discover(),
      );
      expect(typo).toBeInstanceOf(ScimConfigurationError);
      expect(typo).toMatchObject({ code: 'attributeNotDeclared', retryable: false, kind: 'configuration' });
      expect((typo as Error).message).toContain('"NoSuchAttribute"');

      const missing = await rejection(
        t
          .client({
            extensionUrn: 'urn:example:params:scim:schemas:extension:missing:2.0:User',
            customAttributes: ['x'],
          })
          .discover(),
      );
      expect(missing).toMatchObject({ code: 'extensionNotDeclared', retryable: false });

      // Nothing is sent for a write that uses an undeclared attribute.
      const client = t.client();
      const writes = client.calls.write;
      const write = await rejection(client.createUser({ ...person(t), custom: { NoSuchAttribute: 'x' } }));
      expect(write).toMatchObject({ code: 'attributeNotDeclared' });
      expect(client.calls.write).toBe(writes);
    });

    it('creates a user with core, enterprise and custom attributes', async () => {
      const t = target();
      const client = t.client();
      const input = person(t);
      const { user, linked } = await client.createUser(input);
      expect(linked).toBe(false);
      expect(user.id).toEqual(expect.any(String));
      expect(user).toMatchObject({
        userName: input.userName,
        externalId: input.externalId,
        name: { givenName: 'Jane', familyName: 'Doe' },
        active: true,
        emails: [expect.objectContaining({ value: input.emails[0]!.value, primary: true })],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
          employeeNumber: input.enterprise.employeeNumber,
          department: 'Engineering',
        },
        [t.extensionUrn]: input.custom,
      });
      expect(await client.getUser(user.id)).toMatchObject({ id: user.id, userName: input.userName });
    });

    it('links to the existing user on 409 uniqueness instead of creating a duplicate', async () => {
      const t = target();
      const client = t.client();
      const input = person(t);
      const first = await client.createUser(input);
      const again = await client.createUser({
        ...input,
        userName: input.userName.toUpperCase(),
        externalId: undefined,
      });
      expect(again).toMatchObject({ linked: true, matchedBy: 'userName' });
      expect(again.user.id).toBe(first.user.id);
      const sameName = await client.listUsers({ filter: `userName eq "${input.userName}"` });
      expect(sameName.map((u) => u.id)).toEqual([first.user.id]);
    });

    it('finds users by userName (any case) and by externalId, with quotes and backslashes escaped', async () => {
      const t = target();
      const client = t.client();
      const tricky = `ext"quoted\\back-${t.unique()}`;
      const { user } = await client.createUser(person(t, { externalId: tricky }));
      expect((await client.findUserByUserName(user.userName.toUpperCase()))?.id).toBe(user.id);
      expect((await client.findUserByExternalId(tricky))?.id).toBe(user.id);
      expect(await client.findUserByExternalId(`${tricky}x`)).toBeUndefined();
      expect(await client.findUserByUserName(`nobody.${t.unique()}@example.com`)).toBeUndefined();
      expect(await client.findUser({ id: 'unknown-id', externalId: tricky })).toMatchObject({
        matchedBy: 'externalId',
        user: { id: user.id },
      });
      expect(await client.findUser({ userName: user.userName })).toMatchObject({ matchedBy: 'userName' });
    });

    it('updates attribute by attribute with PATCH, including extension attributes by URN path', async () => {
      const t = target();
      const client = t.client();
      const [first, second] = t.customAttributes;
      const input = person(t);
      const { user } = await client.createUser(input);
      const updated = await client.updateUser(user.id, {
        title: null,
        name: { givenName: 'Janet' },
        enterprise: { department: 'Operations' },
        custom: { [first]: 'Paris', [second]: null },
      });
      expect(client.calls.byMethod.PATCH).toBe(1);
      expect(client.calls.byMethod.PUT).toBe(0);
      const read = await client.getUser(user.id);
      for (const u of [updated, read!]) {
        expect(u.title).toBeUndefined();
        expect(u.name).toEqual({ givenName: 'Janet', familyName: 'Doe' });
        expect(enterpriseOf(u)).toEqual({ employeeNumber: input.enterprise.employeeNumber, department: 'Operations' });
        expect(u[t.extensionUrn]).toEqual({ [first]: 'Paris' });
        expect(u.externalId).toBe(user.externalId);
      }
      // Knowing the current state, nothing is sent when nothing differs.
      const writes = client.calls.write;
      await client.updateUser(
        user.id,
        { name: { givenName: 'Janet' }, custom: { [first]: 'Paris' } },
        { current: read! },
      );
      expect(client.calls.write).toBe(writes);
    });

    it('falls back to GET + PUT of the full resource when the server has no PATCH', async () => {
      const t = target();
      const client = t.client({ fetch: fetchWithCapabilities({ patch: false }) });
      const [first, second] = t.customAttributes;
      expect((await client.discover()).patch).toBe(false);
      const input = person(t);
      const { user } = await client.createUser(input);
      const updated = await client.updateUser(user.id, { title: 'Lead', custom: { [first]: 'Rome' } });
      expect(client.calls.byMethod).toMatchObject({ PUT: 1, PATCH: 0 });
      const read = (await client.getUser(user.id))!;
      for (const u of [updated, read]) {
        expect(u).toMatchObject({
          title: 'Lead',
          userName: input.userName,
          externalId: input.externalId,
          emails: [expect.objectContaining({ value: input.emails[0]!.value })],
        });
        // What the change did not name is sent back, so a PUT keeps it.
        expect(u[t.extensionUrn]).toEqual({ [first]: 'Rome', [second]: '2021-05-04' });
      }
      const archived = await client.archiveUser(user.id);
      expect(archived).toMatchObject({ id: user.id, active: false, title: 'Lead' });
    });

    it('archives and reactivates the same user', async () => {
      const t = target();
      const client = t.client();
      const { user } = await client.createUser(person(t));
      const archived = await client.archiveUser(user.id);
      expect(archived).toMatchObject({ id: user.id, active: false });
      expect(await client.findUserByUserName(user.userName)).toMatchObject({ id: user.id, active: false });
      const back = await client.reactivateUser(user.id);
      expect(back).toMatchObject({ id: user.id, active: true, userName: user.userName, externalId: user.externalId });
      expect(client.calls.byMethod.POST).toBe(1);
    });

    it('pages through more users than maxResults with startIndex/count', async () => {
      const t = target();
      const client = t.client();
      const created: ScimUser[] = [];
      for (let i = 0; i < t.maxResults * 2 + 2; i++) created.push((await client.createUser(person(t))).user);
      const reads = client.calls.read;
      const pages = [];
      for await (const page of client.userPages({ pageSize: 1000 })) pages.push(page);
      const total = pages[0]!.totalResults;
      expect(total).toBeGreaterThanOrEqual(created.length);
      expect(pages.length).toBe(Math.ceil(total / t.maxResults));
      expect(client.calls.read - reads).toBe(pages.length);
      for (const page of pages) expect(page.users.length).toBeLessThanOrEqual(t.maxResults);
      expect(pages.map((p) => p.startIndex)).toEqual(pages.map((_, i) => 1 + i * t.maxResults));
      const ids = pages.flatMap((p) => p.users.map((u) => u.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual(expect.arrayContaining(created.map((u) => u.id)));
    });

    it('classifies errors: unknown id, bad filter, bad token', async () => {
      const t = target();
      const client = t.client();
      expect(await client.getUser('no-such-user')).toBeUndefined();
      const notFound = await rejection(client.updateUser('no-such-user', { title: 'x' }));
      expect(notFound).toBeInstanceOf(ScimApiError);
      expect(notFound).toMatchObject({ status: 404, kind: 'notFound', retryable: false });

      const badFilter = await rejection(client.listUsers({ filter: 'userName eq "unterminated' }));
      expect(badFilter).toMatchObject({
        status: 400,
        scimType: 'invalidFilter',
        kind: 'invalid',
        retryable: false,
        code: 'invalidFilter',
      });

      const secret = `wrong-token-${t.unique()}`;
      const unauthorized = await rejection(t.client({ token: secret }).discover());
      expect(unauthorized).toMatchObject({ status: 401, kind: 'unauthorized', retryable: false });
      expect(String((unauthorized as Error).message)).not.toContain(secret);
      expect(JSON.stringify(unauthorized)).not.toContain(secret);
    });
  });
}
