/**
 * The emulator validates requests and responses against 360Learning's own core-api.json.
 * Requests that break it get 400 badRequest; responses that break it become a 500 and are recorded
 * as drift (the other suites assert the drift list stays empty).
 */
import { ApiError, Learning360Emulator, type UserDTO } from '../../packages/local/emulators/learning360';
import type { RunningServer } from '../../packages/local/emulators/common/server';

const GROUP = '680000000000000000000101';
const USER = '6800000000000000000000c1';

async function start(
  validateResponses: boolean,
): Promise<{ emulator: Learning360Emulator; server: RunningServer; token: string }> {
  const emulator = new Learning360Emulator({
    validateResponses,
    // Bursts of calls here are about validation, not limits.
    getPerSecond: 100_000,
    writesPerSecond: 100_000,
    companies: [
      {
        clients: [{ clientId: 'v', clientSecret: 'secret' }],
        groups: [{ id: GROUP, name: 'Team' }],
        users: [{ id: USER, mail: 'valid@example.com' }],
      },
    ],
  });
  const server = await emulator.start(0);
  const response = await fetch(`${server.url}/api/v2/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'v', client_secret: 'secret' }),
  });
  const { access_token } = (await response.json()) as { access_token: string };
  return { emulator, server, token: access_token };
}

let ctx: Awaited<ReturnType<typeof start>>;

async function call(method: string, path: string, body?: unknown, target = ctx) {
  const response = await fetch(`${target.server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${target.token}`,
      '360-api-version': 'v2.0',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  ctx = await start(true);
});

afterAll(async () => {
  await ctx?.server.close();
});

describe('requests are checked against core-api.json', () => {
  it.each([
    ['a missing required property', 'POST', '/api/v2/users', { mail: 'a@example.com' }, 'membership'],
    [
      'an empty string (minLength 1)',
      'POST',
      '/api/v2/users',
      { mail: 'a@example.com', firstName: '', membership: { groupId: GROUP, role: 'learner' } },
      'firstName',
    ],
    [
      'a role outside the enum',
      'POST',
      '/api/v2/users',
      { mail: 'a@example.com', membership: { groupId: GROUP, role: 'owner' } },
      'role',
    ],
    [
      'a malformed ObjectId in the body',
      'POST',
      '/api/v2/users',
      { mail: 'a@example.com', membership: { groupId: 'nope', role: 'learner' } },
      'groupId',
    ],
    ['a wrong type', 'PATCH', `/api/v2/users/${USER}`, { firstName: 42 }, 'firstName'],
    ['a language outside the enum', 'PATCH', `/api/v2/users/${USER}`, { lang: 'klingon' }, 'lang'],
    ['a malformed ObjectId in the path', 'GET', '/api/v2/users/123', undefined, 'userId'],
    ['an unknown query parameter', 'GET', '/api/v2/users?email=a@example.com', undefined, 'email'],
    ['a filter value outside the enum', 'GET', '/api/v2/external-ids?type[eq]=person', undefined, 'type'],
    [
      'a sendInvitationEmail that is not "true"/"false"',
      'POST',
      '/api/v2/users?sendInvitationEmail=no',
      { mail: 'a@example.com', membership: { groupId: GROUP, role: 'learner' } },
      'sendInvitationEmail',
    ],
    [
      'a value missing from a custom-field entry',
      'PUT',
      `/api/v2/users/${USER}/custom-fields/values`,
      { customValues: [{ customFieldId: GROUP, type: 'string' }] },
      'value',
    ],
  ])('refuses %s with 400 badRequest', async (_label, method, path, body, mentions) => {
    const answer = await call(method, path, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('badRequest');
    expect(answer.body.error.message).toContain(mentions);
  });

  it('accepts what the spec allows, including null to clear a nullable field', async () => {
    expect((await call('PATCH', `/api/v2/users/${USER}`, { job: 'Tester' })).status).toBe(200);
    const cleared = await call('PATCH', `/api/v2/users/${USER}`, { job: null, profileImageId: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.job).toBeUndefined();
  });

  it('recorded no drift for well-formed traffic', () => {
    expect(ctx.emulator.drift).toEqual([]);
  });
});

describe('responses are checked against core-api.json', () => {
  afterEach(() => ctx.emulator.clearDrift());

  it('turns a response body the spec forbids into a 500 and records it', async () => {
    const company = ctx.emulator.company();
    const original = company.getUser.bind(company);
    company.getUser = (id: string) => ({ ...original(id), status: 'suspended' }) as unknown as UserDTO;
    try {
      const answer = await call('GET', `/api/v2/users/${USER}`);
      expect(answer.status).toBe(500);
      expect(answer.body.error.code).toBe('responseNotInSpec');
      expect(answer.body.error.message).toContain('status');
      expect(ctx.emulator.drift).toEqual([
        expect.objectContaining({ method: 'GET', path: `/api/v2/users/${USER}`, status: 200 }),
      ]);
      const listed = (await fetch(`${ctx.server.url}/__admin/drift`).then((r) => r.json())) as { drift: unknown[] };
      expect(listed.drift).toHaveLength(1);
    } finally {
      company.getUser = original;
    }
  });

  it('treats an error code the operation does not declare as drift', async () => {
    const company = ctx.emulator.company();
    const original = company.deleteUser.bind(company);
    company.deleteUser = () => {
      throw new ApiError(400, 'mailAlreadyUsed', 'not an error DELETE /users/{id} can answer');
    };
    try {
      const answer = await call('DELETE', `/api/v2/users/${USER}`);
      expect(answer.status).toBe(500);
      expect(ctx.emulator.drift[0]?.message).toContain('userIsCompanyOwner');
    } finally {
      company.deleteUser = original;
    }
  });

  it('lets the same body through when response validation is off', async () => {
    const loose = await start(false);
    try {
      const company = loose.emulator.company();
      const original = company.getUser.bind(company);
      company.getUser = (id: string) => ({ ...original(id), status: 'suspended' }) as unknown as UserDTO;
      const answer = await call('GET', `/api/v2/users/${USER}`, undefined, loose);
      expect(answer).toMatchObject({ status: 200, body: { status: 'suspended' } });
      expect(loose.emulator.drift).toEqual([]);
    } finally {
      await loose.server.close();
    }
  });
});
