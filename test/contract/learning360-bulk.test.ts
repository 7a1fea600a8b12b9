/**
 * Bulk memberships (optional in the contract): 202 + Location, pending → queued → running →
 * completed on the emulator clock, per-item results, the 3-operation concurrency limit, the
 * 20,000-item cap and a Bulk API that can be switched off.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is asserted with expect(), not typed */
import { Learning360Emulator } from '../../packages/local/emulators/learning360';
import type { RunningServer } from '../../packages/local/emulators/common/server';

const COMPANY = '6a0000000000000000000001';
const PARENT = '6a0000000000000000000101';
const CHILD = '6a0000000000000000000102';
const ALICE = '6a00000000000000000000c1';
const BOB = '6a00000000000000000000c2';
const GONE = '6a00000000000000000000c3';
const MISSING = '0123456789abcdef01234567';
// Long steps, so real time passing during the test never moves an operation on by itself.
const STEP = 60_000;

let emulator: Learning360Emulator;
let server: RunningServer;
let token: string;

async function call(method: string, path: string, body?: unknown, bearer = token) {
  const url = path.startsWith('http') ? path : `${server.url}${path}`;
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      '360-api-version': 'v2.0',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

async function submit(method: 'POST' | 'DELETE', input: unknown[]): Promise<string> {
  const answer = await call(method, '/api/v2/bulk/groups/memberships', { input });
  expect(answer.status).toBe(202);
  const location = answer.headers.get('location')!;
  expect(location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v2\/bulk\/operations\/[a-f0-9]{24}$/);
  return location;
}

beforeAll(async () => {
  emulator = new Learning360Emulator({
    bulkStepMs: STEP,
    getPerSecond: 100_000,
    writesPerSecond: 100_000,
    companies: [
      {
        id: COMPANY,
        clients: [
          { clientId: 'bulk', clientSecret: 'secret' },
          { clientId: 'no-bulk', clientSecret: 'secret', scopes: ['groups:read', 'groups:write'] },
        ],
        groups: [
          { id: PARENT, name: 'Parent' },
          { id: CHILD, name: 'Child', parentId: PARENT },
        ],
        users: [
          { id: ALICE, mail: 'alice@example.com' },
          { id: BOB, mail: 'bob@example.com' },
          { id: GONE, mail: 'gone@example.com', status: 'deleted' },
        ],
      },
    ],
  });
  server = await emulator.start(0);
  const answer = await fetch(`${server.url}/api/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'bulk', client_secret: 'secret' }),
  });
  token = ((await answer.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await server?.close();
});

it('adds memberships through pending, queued, running and completed, with per-item results', async () => {
  const location = await submit('POST', [
    { userId: ALICE, groupId: PARENT, role: 'learner' },
    { userId: ALICE, groupId: CHILD, role: 'learner' },
    { userId: BOB, groupId: PARENT, role: 'userAdmin' },
    { userId: GONE, groupId: PARENT, role: 'learner' },
    { userId: MISSING, groupId: PARENT, role: 'learner' },
  ]);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    const op = await call('GET', location);
    expect(op.status).toBe(200);
    seen.push(op.body.status);
    if (op.body.status !== 'completed') {
      const early = await call('GET', `${location}/results`);
      expect(early).toMatchObject({ status: 400, body: { error: { code: 'bulkOperationNotRun' } } });
    } else {
      expect(op.body).toMatchObject({ type: 'addUsersToGroups', progress: { index: 5 }, endedAt: expect.any(String) });
    }
    emulator.kit.clock.advance(STEP);
  }
  expect(seen).toEqual(['pending', 'queued', 'running', 'completed']);
  const results = await call('GET', `${location}/results`);
  expect(results.status).toBe(200);
  expect(results.body.map((r: any) => [r.status, r.errorMessage ?? r.resourceId])).toEqual([
    ['success', ALICE],
    ['success', ALICE],
    ['success', BOB],
    ['error', 'userDeleted'],
    ['error', 'userNotFound'],
  ]);
  expect((await call('GET', `/api/v2/groups/${PARENT}/roles`)).body).toEqual(
    expect.arrayContaining([
      { userId: ALICE, role: 'learner' },
      { userId: BOB, role: 'userAdmin' },
    ]),
  );
});

it('removes memberships with the learner cascade to public subgroups', async () => {
  const location = await submit('DELETE', [
    { userId: ALICE, groupId: PARENT, role: 'learner' },
    { userId: BOB, groupId: CHILD, role: 'coach' },
  ]);
  emulator.kit.clock.advance(3 * STEP);
  const results = await call('GET', `${location}/results`);
  expect(results.body.map((r: any) => r.errorMessage ?? r.status)).toEqual(['success', 'userNotFoundInGroup']);
  const roles = (await call('GET', `/api/v2/users/${ALICE}/roles`)).body;
  expect(roles.filter((r: any) => r.groupId === PARENT || r.groupId === CHILD)).toEqual([]);
  const listed = await call('GET', '/api/v2/bulk/operations?type[eq]=removeUsersFromGroups&status[eq]=completed');
  expect(listed.body.map((op: any) => op._id)).toEqual([location.split('/').pop()]);
});

it('allows three unfinished operations at once', async () => {
  const input = [{ userId: BOB, groupId: CHILD, role: 'learner' }];
  for (let i = 0; i < 3; i++) await submit('POST', input);
  const fourth = await call('POST', '/api/v2/bulk/groups/memberships', { input });
  expect(fourth).toMatchObject({ status: 429, body: { error: { code: 'bulkOperationsConcurrencyLimitReached' } } });
  emulator.kit.clock.advance(3 * STEP);
  await submit('POST', input);
  emulator.kit.clock.advance(3 * STEP);
});

it('names input errors invalidInput and inputTooLong, and needs the groups:bulk scope', async () => {
  const bad = await call('POST', '/api/v2/bulk/groups/memberships', {
    input: [{ userId: ALICE, groupId: PARENT, role: 'user-admin' }],
  });
  expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalidInput' } } });
  const empty = await call('POST', '/api/v2/bulk/groups/memberships', { input: [] });
  expect(empty).toMatchObject({ status: 400, body: { error: { code: 'invalidInput' } } });
  const huge = Array.from({ length: 20_001 }, () => ({ userId: ALICE, groupId: PARENT, role: 'learner' }));
  const tooLong = await call('POST', '/api/v2/bulk/groups/memberships', { input: huge });
  expect(tooLong).toMatchObject({ status: 400, body: { error: { code: 'inputTooLong' } } });
  expect((await call('GET', `/api/v2/bulk/operations/${MISSING}`)).body.error.code).toBe('bulkOperationNotFound');

  const answer = await fetch(`${server.url}/api/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'no-bulk', client_secret: 'secret' }),
  });
  const limited = ((await answer.json()) as { access_token: string }).access_token;
  const refused = await call(
    'POST',
    '/api/v2/bulk/groups/memberships',
    { input: [{ userId: ALICE, groupId: PARENT, role: 'learner' }] },
    limited,
  );
  expect(refused).toMatchObject({ status: 403, body: { error: { code: 'invalid_scope' } } });
});

it('answers 503 bulkAPIDisabled when the Bulk API is switched off', async () => {
  const off = await fetch(`${server.url}/__admin/bulk`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ enabled: false }),
  });
  expect(((await off.json()) as { enabled: boolean }).enabled).toBe(false);
  const answer = await call('POST', '/api/v2/bulk/groups/memberships', {
    input: [{ userId: ALICE, groupId: PARENT, role: 'learner' }],
  });
  expect(answer).toMatchObject({ status: 503, body: { error: { code: 'bulkAPIDisabled' } } });
  emulator.company().bulkApiEnabled = true;
});

it('recorded no drift', () => {
  expect(emulator.drift).toEqual([]);
  expect(emulator.internalErrors).toEqual([]);
});
