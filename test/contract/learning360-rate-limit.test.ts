/**
 * 360Learning limits every company to 50 GET and 10 write requests per second, counted apart and
 * shared by all its credentials; the token call is not counted. A 429 body is
 * {"error":"tooManyRequests"} with no Retry-After.
 */
import { Learning360Emulator } from '../../packages/local/emulators/learning360';
import type { RunningServer } from '../../packages/local/emulators/common/server';

const COMPANY = '670000000000000000000001';
const OTHER = '670000000000000000000002';
const USER = '6700000000000000000000c1';

let emulator: Learning360Emulator;
let server: RunningServer;

async function call(method: string, path: string, token?: string, body?: unknown) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      '360-api-version': 'v2.0',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function tokenFor(clientId: string): Promise<string> {
  const answer = await call('POST', '/api/v2/oauth2/token', undefined, {
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: 'secret',
  });
  expect(answer.status).toBe(200);
  return answer.body.access_token as string;
}

let bursts = 0;
const firstBurst = Math.floor(Date.now() / 1000) * 1000 + 60_000;

/** Puts the emulator clock just past the start of a second no earlier burst used, so a burst lands in one fixed window. */
function startOfSecond(): number {
  const second = firstBurst + 10_000 * bursts++;
  emulator.kit.clock.set(new Date(second + 1));
  return second;
}

beforeAll(async () => {
  emulator = new Learning360Emulator({
    companies: [
      {
        id: COMPANY,
        clients: [
          { clientId: 'a', clientSecret: 'secret' },
          { clientId: 'b', clientSecret: 'secret' },
        ],
        users: [{ id: USER, mail: 'limited@example.com', status: 'invited' }],
      },
      { id: OTHER, clients: [{ clientId: 'c', clientSecret: 'secret' }] },
    ],
  });
  server = await emulator.start(0);
  // Warm up: the first call of each operation compiles its validators, which must not eat into a timed second.
  const c = await tokenFor('c');
  const root = emulator.company(OTHER).rootGroupId;
  await call('POST', '/api/v2/users?sendInvitationEmail=false', c, {
    mail: 'warm@example.com',
    membership: { groupId: root, role: 'learner' },
  });
  const warm = (await call('GET', '/api/v2/users?mail[eq]=warm%40example.com', c)).body[0]._id as string;
  for (const [method, path] of [
    ['PUT', `/api/v2/users/${warm}/activate`],
    ['GET', `/api/v2/users/${warm}`],
    ['GET', '/api/v2/groups'],
    ['DELETE', `/api/v2/users/${warm}`],
  ] as const) {
    await call(method, path, c);
  }
});

afterAll(async () => {
  await server?.close();
});

it('answers the 11th write within one second with 429 tooManyRequests, without Retry-After', async () => {
  const a = await tokenFor('a');
  const second = startOfSecond();
  const answers = [];
  for (let i = 0; i < 11; i++) answers.push(await call('PUT', `/api/v2/users/${USER}/activate`, a));
  expect(answers.slice(0, 10).map((r) => r.status)).toEqual(Array(10).fill(200));
  const last = answers[10]!;
  expect(last.status).toBe(429);
  expect(last.body).toEqual({ error: 'tooManyRequests' });
  expect(last.headers.get('retry-after')).toBeNull();

  // Every credential of the company shares the budget; GETs have their own; tokens are free.
  const b = await tokenFor('b');
  expect((await call('DELETE', `/api/v2/users/${USER}`, b)).status).toBe(429);
  expect((await call('GET', `/api/v2/users/${USER}`, b)).status).toBe(200);
  // Another company is not affected.
  const c = await tokenFor('c');
  const root = emulator.company(OTHER).rootGroupId;
  expect(
    (
      await call('POST', '/api/v2/users?sendInvitationEmail=false', c, {
        mail: 'x@example.com',
        membership: { groupId: root, role: 'learner' },
      })
    ).status,
  ).toBe(201);

  const counts = emulator.requestCounts(COMPANY)[COMPANY]!.find((entry) => entry.second === second);
  expect(counts).toEqual({ second, gets: 1, writes: 10, throttled: 2 });

  emulator.kit.clock.advance(1_000);
  expect((await call('PUT', `/api/v2/users/${USER}/activate`, a)).status).toBe(200);
});

it('answers the 51st GET within one second with 429', async () => {
  const a = await tokenFor('a');
  startOfSecond();
  const statuses = await Promise.all(
    Array.from({ length: 51 }, () => call('GET', '/api/v2/groups', a).then((r) => r.status)),
  );
  expect(statuses.filter((s) => s === 200)).toHaveLength(50);
  expect(statuses.filter((s) => s === 429)).toHaveLength(1);
  const throttled = await call('GET', `/api/v2/users/${USER}`, a);
  expect(throttled).toMatchObject({ status: 429, body: { error: 'tooManyRequests' } });
  // Writes are counted separately and still have budget.
  expect((await call('PUT', `/api/v2/users/${USER}/activate`, a)).status).toBe(200);
});

it('recorded no drift', () => {
  expect(emulator.drift).toEqual([]);
  expect(emulator.internalErrors).toEqual([]);
});
