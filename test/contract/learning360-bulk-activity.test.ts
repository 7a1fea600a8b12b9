/**
 * The addGroupRolesInBulk activity against the 360Learning emulator over HTTP, in Temporal's mock
 * activity context: a batch's roles go in one bulk operation with per-item results; without the
 * Bulk API (switched off, or credentials lacking groups:bulk) they go one call each; a retry
 * resumes the operation its heartbeat names instead of submitting again; and the three-operations
 * limit is a retryable error.
 */
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  bulkMembershipActivities,
  type BulkRolesResult,
  type BulkTiming,
  type PendingGroupRole,
} from '../../src/activities/bulk-memberships';
import { ConnectionRegistry } from '../../src/activities/deps';
import { withFailureClassification } from '../../src/activities/failures';
import { ApiError } from '../../src/clients/http/errors';
import type { Learning360Client, Role360 } from '../../src/clients/learning360/client';
import { parseConfig } from '../../src/config/loader';
import { demoGroups, embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import type { LoggedRequest } from '../../packages/local/emulators/common/request-log';
import { ALL_SCOPES, DEMO_COMPANY, Learning360Emulator } from '../../packages/local/emulators/learning360';

const CONNECTION = 'demo-360';
/** Each of pending, queued and running lasts this long, so an operation ends 90 ms after it is submitted. */
const STEP = 30;
const POLL = { first: 20, max: 50 };
/** A client of the demo company without the groups:bulk scope. */
const NO_BULK = { clientId: 'bobsync-no-bulk', clientSecret: 'no-bulk-secret' };
/** One that may submit bulk operations but not read them back (no bulkOperations:read). */
const NO_BULK_READ = { clientId: 'bobsync-no-bulk-read', clientSecret: 'no-bulk-read-secret' };
const { engineering, sales, london, allStaff } = DEMO_COMPANY.groups;
const ROOT = DEMO_COMPANY.rootGroupId;
const MISSING = '0123456789abcdef01234567';
const BULK_POST = '/api/v2/bulk/groups/memberships';
const ROLE_CALL = /^\/api\/v2\/groups\/[a-f0-9]{24}\/[a-z-]+\/[a-f0-9]{24}$/;

let emulator: Learning360Emulator;
let server: RunningServer;
let learnerCount = 0;

beforeAll(async () => {
  // The demo company with a second, limited client; limits far above 360Learning's (values, not rates, are tested).
  emulator = new Learning360Emulator({
    bulkStepMs: STEP,
    writesPerSecond: 1000,
    getPerSecond: 1000,
    companies: [
      {
        id: DEMO_COMPANY.id,
        name: DEMO_COMPANY.name,
        clients: [
          { clientId: DEMO_COMPANY.clientId, clientSecret: DEMO_COMPANY.clientSecret },
          { ...NO_BULK, scopes: ALL_SCOPES.filter((scope) => scope !== 'groups:bulk') },
          { ...NO_BULK_READ, scopes: ALL_SCOPES.filter((scope) => scope !== 'bulkOperations:read') },
        ],
        rootGroupId: ROOT,
        rootGroupName: DEMO_COMPANY.name,
        groups: [
          { id: engineering, name: 'Engineering' },
          { id: sales, name: 'Sales' },
          { id: london, name: 'London', public: false },
          { id: allStaff, name: 'All staff' },
        ],
      },
    ],
  });
  server = await emulator.start(0);
});
afterAll(async () => {
  await server?.close();
});

/** A registry for the embedded demo config against `url`, with the demo client or other credentials. */
async function registryFor(url: string, credentials?: typeof NO_BULK): Promise<ConnectionRegistry> {
  const config = parseConfig(embeddedConfigYaml('http://127.0.0.1:9', url, await demoGroups(url)));
  const destination = config.connections[0]!.destination;
  if (destination.type !== '360learning') throw new Error('the demo connection should write to 360Learning');
  const env: NodeJS.ProcessEnv = { LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret };
  if (credentials) {
    destination.clientId = credentials.clientId;
    destination.clientSecret = { env: 'LEARNING360_NO_BULK_SECRET' };
    env.LEARNING360_NO_BULK_SECRET = credentials.clientSecret;
  }
  return new ConnectionRegistry({ config, env });
}

/** Active learners, created through the API as learners of the root group, as bobsync creates them. */
async function createLearners(client: Learning360Client, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const mail = `bulk-activity-${++learnerCount}@northwind.example`;
    const { user } = await client.createUser({ mail, membership: { groupId: ROOT, role: 'learner' } });
    ids.push(user._id);
  }
  return ids;
}

const pending = (learnerId: string, groupId: string, role: Role360): PendingGroupRole => ({
  employeeId: `emp-${learnerId}`,
  learnerId,
  groupId,
  role,
});

/** Runs the activity in a mock context (a retry when `info` carries heartbeat details); records its heartbeats. */
async function runActivity(
  registry: ConnectionRegistry,
  roles: PendingGroupRole[],
  info: Partial<Info> = {},
  timing: BulkTiming = POLL,
): Promise<{ result: BulkRolesResult; heartbeats: unknown[] }> {
  const env = new MockActivityEnvironment(
    { activityType: 'addGroupRolesInBulk', ...info },
    { logger: new DefaultLogger('ERROR') },
  );
  const heartbeats: unknown[] = [];
  // The activity heartbeats one object it keeps adding to: copy each as it was sent.
  env.on('heartbeat', (details: unknown) => heartbeats.push(structuredClone(details)));
  const { addGroupRolesInBulk } = bulkMembershipActivities(registry, timing);
  const result: BulkRolesResult = await env.run(addGroupRolesInBulk, CONNECTION, roles);
  return { result, heartbeats };
}

async function admin(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${url}/__admin${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.ok).toBe(true);
  return response.status === 204 ? undefined : await response.json();
}

/** The emulator's request log since the last clear, over its admin API. */
async function requests(url = server.url): Promise<LoggedRequest[]> {
  return ((await admin(url, 'GET', '/requests')) as { requests: LoggedRequest[] }).requests;
}
const clearRequests = (url = server.url) => admin(url, 'DELETE', '/requests');

const bulkPosts = (log: LoggedRequest[]) => log.filter((r) => r.method === 'POST' && r.path === BULK_POST);
const roleCalls = (log: LoggedRequest[]) =>
  log.filter((r) => r.method === 'POST' && ROLE_CALL.test(r.path)).map((r) => `${r.path} ${r.status}`);
const rolePath = (r: PendingGroupRole) =>
  `/api/v2/groups/${r.groupId}/${r.role === 'userAdmin' ? 'user-admin' : r.role}/${r.learnerId}`;

/** A learner's roles, sorted, as 360Learning lists them. */
async function rolesOf(client: Learning360Client, learnerId: string): Promise<string[]> {
  return (await client.getUserRoles(learnerId)).map((r) => `${r.groupId} ${r.role}`).sort();
}
const held = (...roles: [string, Role360][]) => roles.map(([groupId, role]) => `${groupId} ${role}`).sort();

describe('addGroupRolesInBulk', () => {
  it('gives the roles of several learners in one bulk operation and returns each item’s result', async () => {
    const registry = await registryFor(server.url);
    const client = registry.learning360(CONNECTION);
    const [ada, bea, cal] = await createLearners(client, 3);
    const roles = [
      pending(ada!, engineering, 'learner'),
      pending(ada!, allStaff, 'editor'),
      pending(bea!, sales, 'coach'),
      pending(cal!, london, 'userAdmin'),
    ];
    await clearRequests();

    const { result, heartbeats } = await runActivity(registry, roles);

    expect(result.bulkOperationIds).toHaveLength(1);
    const [id] = result.bulkOperationIds;
    expect(id).toMatch(/^[a-f0-9]{24}$/);
    expect(result.writes).toBe(1);
    expect(result.fallback).toBeUndefined();
    // Strict: a given role comes back without an `error` key at all.
    expect(result.results).toStrictEqual(roles);

    const log = await requests();
    expect(bulkPosts(log).map((r) => r.status)).toEqual([202]);
    expect(roleCalls(log)).toEqual([]);
    expect(log.filter((r) => r.path === `/api/v2/bulk/operations/${id}/results`).map((r) => r.status)).toEqual([200]);
    // Heartbeats carry the submitted operation, after the submission and on every poll.
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
    expect(heartbeats).toEqual(heartbeats.map(() => ({ submitted: [id] })));
    expect(await client.getBulkOperation(id!)).toMatchObject({
      _id: id,
      type: 'addUsersToGroups',
      status: 'completed',
    });

    expect(await rolesOf(client, ada!)).toEqual(
      held([ROOT, 'learner'], [engineering, 'learner'], [allStaff, 'editor']),
    );
    expect(await rolesOf(client, bea!)).toEqual(held([ROOT, 'learner'], [sales, 'coach']));
    expect(await rolesOf(client, cal!)).toEqual(held([ROOT, 'learner'], [london, 'userAdmin']));
  });

  it('returns a per-item failure on that item only', async () => {
    const registry = await registryFor(server.url);
    const client = registry.learning360(CONNECTION);
    const [ada, gone, cal] = await createLearners(client, 3);
    await client.deleteUser(gone!);
    expect((await client.getUser(gone!))?.status).toBe('deleted');
    const roles = [
      pending(ada!, sales, 'learner'),
      pending(gone!, sales, 'learner'),
      pending(MISSING, sales, 'learner'),
      pending(cal!, sales, 'coach'),
    ];
    await clearRequests();

    const { result } = await runActivity(registry, roles);

    expect(result.bulkOperationIds).toHaveLength(1);
    expect(result.writes).toBe(1);
    expect(result.fallback).toBeUndefined();
    expect(result.results).toStrictEqual([
      roles[0],
      { ...roles[1], error: 'userDeleted' },
      { ...roles[2], error: 'userNotFound' },
      roles[3],
    ]);
    const log = await requests();
    expect(bulkPosts(log)).toHaveLength(1);
    expect(roleCalls(log)).toEqual([]);
    expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [sales, 'learner']));
    expect(await rolesOf(client, cal!)).toEqual(held([ROOT, 'learner'], [sales, 'coach']));
    // 360Learning still lists a deleted user's roles: Sales is not among them.
    expect(await rolesOf(client, gone!)).toEqual(held([ROOT, 'learner']));
  });

  describe('with the Bulk API switched off', () => {
    beforeEach(async () => {
      expect(await admin(server.url, 'POST', '/bulk', { companyId: DEMO_COMPANY.id, enabled: false })).toEqual({
        companyId: DEMO_COMPANY.id,
        enabled: false,
      });
    });
    afterEach(async () => {
      await admin(server.url, 'POST', '/bulk', { companyId: DEMO_COMPANY.id, enabled: true });
    });

    it('gives the roles one call each and says why', async () => {
      const registry = await registryFor(server.url);
      const client = registry.learning360(CONNECTION);
      const [ada, bea] = await createLearners(client, 2);
      const roles = [
        pending(ada!, engineering, 'learner'),
        pending(ada!, london, 'coach'),
        pending(bea!, allStaff, 'userAdmin'),
      ];
      await clearRequests();

      const { result } = await runActivity(registry, roles);

      expect(result.fallback).toBe(
        'bulk memberships unavailable (360learning answered 503 bulkAPIDisabled: submit bulk memberships: ' +
          'The Bulk API is disabled on this platform.); roles given one call each',
      );
      expect(result.bulkOperationIds).toEqual([]);
      expect(result.writes).toBe(3);
      expect(result.results).toStrictEqual(roles);
      const log = await requests();
      expect(bulkPosts(log).map((r) => r.status)).toEqual([503]);
      expect(roleCalls(log)).toEqual(roles.map((r) => `${rolePath(r)} 204`));
      expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [engineering, 'learner'], [london, 'coach']));
      expect(await rolesOf(client, bea!)).toEqual(held([ROOT, 'learner'], [allStaff, 'userAdmin']));
    });

    it('returns a role refused one by one as that item’s error', async () => {
      const registry = await registryFor(server.url);
      const client = registry.learning360(CONNECTION);
      const [ada, gone] = await createLearners(client, 2);
      await client.deleteUser(gone!);
      const roles = [pending(gone!, engineering, 'learner'), pending(ada!, engineering, 'coach')];

      const { result } = await runActivity(registry, roles);

      expect(result.fallback).toContain('503 bulkAPIDisabled');
      expect(result.writes).toBe(2);
      expect(result.results).toStrictEqual([
        { ...roles[0], error: '360learning answered 400 userDeleted: add group role: The user is deleted.' },
        roles[1],
      ]);
      expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [engineering, 'coach']));
    });
  });

  it('falls back to one call each with credentials lacking the groups:bulk scope', async () => {
    const registry = await registryFor(server.url, NO_BULK);
    const client = registry.learning360(CONNECTION);
    const [ada, bea] = await createLearners(client, 2);
    const roles = [pending(ada!, sales, 'editor'), pending(bea!, sales, 'learner')];
    await clearRequests();

    const { result } = await runActivity(registry, roles);

    expect(result.fallback).toBe(
      'bulk memberships unavailable (360learning answered 403 invalid_scope: submit bulk memberships: ' +
        'This operation needs the groups:bulk scope.); roles given one call each',
    );
    expect(result.bulkOperationIds).toEqual([]);
    expect(result.writes).toBe(2);
    expect(result.results).toStrictEqual(roles);
    const log = await requests();
    expect(bulkPosts(log).map((r) => `${r.status} ${r.caller}`)).toEqual([
      `403 ${DEMO_COMPANY.id}/${NO_BULK.clientId}`,
    ]);
    expect(roleCalls(log)).toEqual(roles.map((r) => `${rolePath(r)} 204`));
    expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [sales, 'editor']));
    expect(await rolesOf(client, bea!)).toEqual(held([ROOT, 'learner'], [sales, 'learner']));
  });

  it('falls back to one call each when the operation cannot be read back (no bulkOperations:read)', async () => {
    const registry = await registryFor(server.url, NO_BULK_READ);
    const client = registry.learning360(CONNECTION);
    const [ada, bea] = await createLearners(client, 2);
    const roles = [pending(ada!, engineering, 'editor'), pending(bea!, engineering, 'learner')];
    await clearRequests();

    const { result } = await runActivity(registry, roles);

    expect(result.fallback).toContain('403 invalid_scope: get bulk operation');
    expect(result.bulkOperationIds).toEqual([]);
    // The submission, then one call per role (adding a role the submission gave changes nothing).
    expect(result.writes).toBe(3);
    expect(result.results).toStrictEqual(roles);
    const log = await requests();
    expect(bulkPosts(log).map((r) => r.status)).toEqual([202]);
    expect(roleCalls(log)).toEqual(roles.map((r) => `${rolePath(r)} 204`));
    expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [engineering, 'editor']));
    expect(await rolesOf(client, bea!)).toEqual(held([ROOT, 'learner'], [engineering, 'learner']));
  });

  it('on a retry whose heartbeat names an operation 360Learning does not know, submits again', async () => {
    const registry = await registryFor(server.url);
    const client = registry.learning360(CONNECTION);
    const [ada] = await createLearners(client, 1);
    const roles = [pending(ada!, sales, 'editor')];
    await clearRequests();

    const { result } = await runActivity(registry, roles, { attempt: 2, heartbeatDetails: { submitted: [MISSING] } });

    expect(result.bulkOperationIds).toHaveLength(1);
    expect(result.bulkOperationIds[0]).not.toBe(MISSING);
    expect(result.results).toStrictEqual(roles);
    const log = await requests();
    expect(log.filter((r) => r.path === `/api/v2/bulk/operations/${MISSING}`).map((r) => r.status)).toEqual([404]);
    expect(bulkPosts(log).map((r) => r.status)).toEqual([202]);
    expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [sales, 'editor']));
  });

  it('on a retry, reads the operation its heartbeat names instead of submitting again', async () => {
    const registry = await registryFor(server.url);
    const client = registry.learning360(CONNECTION);
    const [ada, bea] = await createLearners(client, 2);
    const roles = [pending(ada!, allStaff, 'coach'), pending(bea!, allStaff, 'coach')];
    // The lost attempt submitted the roles; the operation ran while both learners were active.
    const id = await client.submitBulkMemberships(
      roles.map((r) => ({ userId: r.learnerId, groupId: r.groupId, role: r.role })),
    );
    emulator.kit.clock.advance(3 * STEP);
    expect(await client.getBulkOperation(id)).toMatchObject({ _id: id, status: 'completed' });
    // A new submission would now fail for Bea: her success can only come from that operation's results.
    await client.deleteUser(bea!);
    await clearRequests();

    const { result, heartbeats } = await runActivity(registry, roles, {
      attempt: 2,
      heartbeatDetails: { submitted: [id] },
    });

    expect(result).toStrictEqual({ bulkOperationIds: [id], writes: 1, results: roles });
    expect(heartbeats).toEqual([{ submitted: [id] }]);
    const log = await requests();
    expect(bulkPosts(log)).toEqual([]);
    expect(roleCalls(log)).toEqual([]);
    expect(log.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /api/v2/bulk/operations/${id}`,
      `GET /api/v2/bulk/operations/${id}/results`,
    ]);
  });

  describe('with operations that wait for the emulator clock', () => {
    // Operations that stay unfinished until the clock is moved on: an emulator of their own.
    const SLOW_STEP = 600_000;
    let slow: Learning360Emulator;
    let slowServer: RunningServer;
    beforeAll(async () => {
      slow = new Learning360Emulator({ bulkStepMs: SLOW_STEP, writesPerSecond: 1000, getPerSecond: 1000 });
      slowServer = await slow.start(0);
    });
    afterAll(async () => {
      expect(slow.drift).toEqual([]);
      expect(slow.internalErrors).toEqual([]);
      await slowServer?.close();
    });

    /** A learner, and the three unfinished bulk operations 360Learning allows at once, each giving it a role. */
    async function threeUnfinished() {
      const registry = await registryFor(slowServer.url);
      const client = registry.learning360(CONNECTION);
      const [learner] = await createLearners(client, 1);
      for (const groupId of [engineering, sales, london])
        await client.submitBulkMemberships([{ userId: learner!, groupId, role: 'learner' }]);
      await clearRequests(slowServer.url);
      return { registry, client, learner: learner! };
    }

    it('with three unfinished, waits for one to end and then submits, within the same attempt', async () => {
      const { registry, client, learner: bea } = await threeUnfinished();
      const roles = [pending(bea, allStaff, 'editor')];

      const running = runActivity(registry, roles, {}, { ...POLL, concurrencyWaitMs: 30_000 });
      // The three end a little later; from then on the clock keeps moving so the new one runs too.
      let ticking: NodeJS.Timeout | undefined;
      const later = setTimeout(() => {
        ticking = setInterval(() => slow.kit.clock.advance(SLOW_STEP), 20);
      }, 300);
      try {
        const { result, heartbeats } = await running;
        expect(result.writes).toBe(1);
        expect(result.results).toStrictEqual(roles);
        // The emulator clock moving this fast expires access tokens: a 401 is answered by a new token and the same call.
        const statuses = bulkPosts(await requests(slowServer.url))
          .map((r) => r.status)
          .filter((status) => status !== 401);
        expect(statuses.length).toBeGreaterThanOrEqual(2);
        expect(statuses.slice(0, -1).every((status) => status === 429)).toBe(true);
        expect(statuses.at(-1)).toBe(202);
        // It heartbeat while it waited, before anything was submitted.
        expect(heartbeats[0]).toEqual({ submitted: [] });
      } finally {
        clearTimeout(later);
        clearInterval(ticking);
      }
      expect(await rolesOf(client, bea)).toContain(`${allStaff} editor`);
    });

    it('with three unfinished, fails with a retryable 429, and the retry goes through once they have ended', async () => {
      const { registry, client, learner: ada } = await threeUnfinished();
      const roles = [pending(ada, allStaff, 'coach')];

      const failed = await runActivity(registry, roles, {}, { ...POLL, concurrencyWaitMs: 0 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failed).toBeInstanceOf(ApiError);
      expect(failed).toMatchObject({
        service: '360learning',
        status: 429,
        code: 'bulkOperationsConcurrencyLimitReached',
        retryable: true,
      });
      // On the worker, the activity's vendor errors are classified: this one is left to Temporal's retry policy.
      const env = new MockActivityEnvironment(
        { activityType: 'addGroupRolesInBulk' },
        { logger: new DefaultLogger('ERROR') },
      );
      const classified = withFailureClassification(
        bulkMembershipActivities(registry, { ...POLL, concurrencyWaitMs: 0 }),
      );
      const failure = await env.run(classified.addGroupRolesInBulk, CONNECTION, roles).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({
        type: '360learning:bulkOperationsConcurrencyLimitReached',
        nonRetryable: false,
      });
      expect(bulkPosts(await requests(slowServer.url)).map((r) => r.status)).toEqual([429, 429]);

      // The three operations end; the retry submits its own and waits for it.
      slow.kit.clock.advance(3 * SLOW_STEP);
      const retried = runActivity(registry, roles, { attempt: 2 });
      // Its operation ends too: move the clock on until the activity has read the results.
      const ticking = setInterval(() => slow.kit.clock.advance(SLOW_STEP), 20);
      try {
        const { result } = await retried;
        expect(result.bulkOperationIds).toHaveLength(1);
        expect(result.writes).toBe(1);
        expect(result.results).toStrictEqual(roles);
      } finally {
        clearInterval(ticking);
      }
      expect(await rolesOf(client, ada)).toEqual(
        held([ROOT, 'learner'], [engineering, 'learner'], [sales, 'learner'], [london, 'learner'], [allStaff, 'coach']),
      );
    });

    it('on a retry, polls the unfinished operation its heartbeat names until it has run', async () => {
      const registry = await registryFor(slowServer.url);
      const client = registry.learning360(CONNECTION);
      const [ada] = await createLearners(client, 1);
      const roles = [pending(ada!, london, 'editor')];
      const id = await client.submitBulkMemberships([{ userId: ada!, groupId: london, role: 'editor' }]);
      await clearRequests(slowServer.url);
      const polls = async () =>
        (await requests(slowServer.url)).filter((r) => r.path === `/api/v2/bulk/operations/${id}`).length;

      const running = runActivity(registry, roles, { attempt: 2, heartbeatDetails: { submitted: [id] } });
      // The operation runs only once the activity has found it pending.
      for (let i = 0; i < 1000 && (await polls()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      slow.kit.clock.advance(3 * SLOW_STEP);
      const { result, heartbeats } = await running;

      expect(result).toStrictEqual({ bulkOperationIds: [id], writes: 1, results: roles });
      expect(heartbeats.length).toBeGreaterThanOrEqual(2);
      expect(heartbeats).toEqual(heartbeats.map(() => ({ submitted: [id] })));
      const log = await requests(slowServer.url);
      expect(bulkPosts(log)).toEqual([]);
      expect(await polls()).toBe(heartbeats.length);
      expect(log.filter((r) => r.path === `/api/v2/bulk/operations/${id}/results`).map((r) => r.status)).toEqual([200]);
      expect(await rolesOf(client, ada!)).toEqual(held([ROOT, 'learner'], [london, 'editor']));
    });
  });

  it('left the emulator without drift or handler errors', () => {
    expect(emulator.drift).toEqual([]);
    expect(emulator.internalErrors).toEqual([]);
  });
});
