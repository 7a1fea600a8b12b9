/**
 * Contract of the Skillcast REST login model: Basic login → bearer token bound to the caller's
 * IP with an idle timeout, and read-only employee endpoints (contracts/skillcast.md §3).
 */
import { request } from 'node:http';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { SkillcastEmulator } from '../../packages/local/emulators/skillcast';

type Json = ReturnType<typeof JSON.parse>;

const IDLE_MS = 10 * 60_000;
const emulator = new SkillcastEmulator({
  domains: ['Employees', 'Always active'],
  restUsers: [{ userId: 'reporting', password: 's3cret', domains: ['Employees'] }],
  tokenIdleTimeoutMs: IDLE_MS,
});
let server: RunningServer;

beforeAll(async () => {
  server = await emulator.start(0);
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  emulator.reset();
  emulator.seedUsers(
    [
      {
        userName: 'jane@example.com',
        name: { givenName: 'Jane', familyName: 'Doe' },
        emails: [{ value: 'jane@example.com', primary: true }],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '10' },
        assignments: [
          { courseId: 'gdpr', courseName: 'GDPR essentials', status: 'In progress', deadline: '2025-03-01' },
        ],
      },
    ],
    'Employees',
  );
  emulator.seedUsers([{ userName: 'admin@example.com' }], 'Always active');
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A request from a chosen local address, so tests can play a second client machine. */
function call(
  method: string,
  path: string,
  authorization?: string,
  localAddress = '127.0.0.1',
): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress,
        headers: authorization ? { authorization } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function login(localAddress?: string): Promise<string> {
  const res = await call('POST', '/skillcastapi/integration/login', basic('reporting', 's3cret'), localAddress);
  expect(res.status).toBe(200);
  return res.body.token as string;
}

async function advance(ms: number) {
  await fetch(`${server.url}/__admin/clock/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
}

describe('login', () => {
  it('answers POST and GET with a token for valid Basic credentials', async () => {
    const post = await call('POST', '/skillcastapi/integration/login', basic('reporting', 's3cret'));
    expect(post.status).toBe(200);
    expect(post.body).toEqual({ message: 'Authenticated successfully', token: expect.any(String) });
    const get = await call('GET', '/skillcastapi/integration/login', basic('reporting', 's3cret'));
    expect(get.body.token).not.toBe(post.body.token);
  });

  it('refuses wrong or missing credentials with 401', async () => {
    expect((await call('POST', '/skillcastapi/integration/login', basic('reporting', 'wrong'))).status).toBe(401);
    expect((await call('POST', '/skillcastapi/integration/login')).status).toBe(401);
  });
});

describe('employees', () => {
  it("lists the employees of the REST user's domains with a bearer token", async () => {
    const token = await login();
    const res = await call('GET', '/skillcastapi/employees', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      {
        userId: expect.any(String),
        firstName: 'Jane',
        lastName: 'Doe',
        email: 'jane@example.com',
        employeeId: '10',
        domain: 'Employees',
        archived: false,
      },
    ]);
    const assignments = await call(
      'GET',
      `/skillcastapi/employees/${res.body[0].userId}/assignments`,
      `Bearer ${token}`,
    );
    expect(assignments.body).toEqual([
      { courseId: 'gdpr', courseName: 'GDPR essentials', status: 'In progress', deadline: '2025-03-01' },
    ]);
  });

  it('accepts Basic on every call and refuses anonymous calls', async () => {
    expect((await call('GET', '/skillcastapi/employees', basic('reporting', 's3cret'))).status).toBe(200);
    const anonymous = await call('GET', '/skillcastapi/employees');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toEqual(expect.any(String));
  });

  it('answers unknown services with 404', async () => {
    expect((await call('GET', '/skillcastapi/courses', basic('reporting', 's3cret'))).status).toBe(404);
    expect((await call('GET', '/skillcastapi/employees/nobody/assignments', basic('reporting', 's3cret'))).status).toBe(
      404,
    );
  });
});

describe('token rules', () => {
  // 127.0.0.2 is another loopback address on Linux; elsewhere it may not be bindable.
  const linuxOnly = process.platform === 'linux' ? it : it.skip;

  linuxOnly('binds the token to the IP that logged in', async () => {
    const token = await login('127.0.0.2');
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`, '127.0.0.1')).status).toBe(401);
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`, '127.0.0.2')).status).toBe(200);
  });

  it('expires a token after the idle timeout; use keeps it alive', async () => {
    const token = await login();
    await advance(IDLE_MS - 1000);
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`)).status).toBe(200);
    await advance(IDLE_MS - 1000);
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`)).status).toBe(200);
    await advance(IDLE_MS + 1);
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`)).status).toBe(401);
    // Logging in again is the way back.
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${await login()}`)).status).toBe(200);
  });

  it('ends a session through the admin token endpoint', async () => {
    const token = await login();
    const res = await fetch(`${server.url}/__admin/tokens/expire`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(204);
    expect((await call('GET', '/skillcastapi/employees', `Bearer ${token}`)).status).toBe(401);
  });
});
