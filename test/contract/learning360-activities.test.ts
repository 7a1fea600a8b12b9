/**
 * The 360Learning side of a sync against the emulator over HTTP: the invitation e-mail is the
 * connection's choice (off by default), and custom fields with authorized values are extended
 * one writer at a time, or kept strict; a snapshot interrupted half-way goes on from its last
 * checkpoint.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionRegistry } from '../../src/activities/deps';
import { employeeActivities } from '../../src/activities/employee';
import type { LookupHints } from '../../src/activities/employee-types';
import { lmsActivities } from '../../src/activities/lms';
import { parseConfig } from '../../src/config/loader';
import type { BobsyncConfig } from '../../src/config/schema';
import { demoGroups, embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { Learning360Emulator } from '../../packages/local/emulators/learning360';
import {
  checkpointedPages,
  uncheckpointedPages,
  type PageCheckpointDetails,
} from '../../src/activities/page-checkpoints';
import { FileBlobStore } from '../../src/blobstore';
import { rawEmployee } from '../unit/domain-fixtures';

let emulator: Learning360Emulator;
let server: RunningServer;

beforeAll(async () => {
  // Limits far above 360Learning's: these tests are about values, not the vendor's rate limit.
  // Small user pages so a snapshot of a few dozen learners is many pages.
  emulator = new Learning360Emulator({ writesPerSecond: 1000, getPerSecond: 1000, pageSizes: { users: 5 } });
  server = await emulator.start(0);
});
afterAll(async () => {
  await server.close();
});

async function demo(adjust: (connection: BobsyncConfig['connections'][number]) => void = () => undefined) {
  const config = parseConfig(embeddedConfigYaml('http://127.0.0.1:9', server.url, await demoGroups(server.url)));
  const connection = config.connections[0]!;
  if (connection.destination.type !== '360learning') throw new Error('wrong destination');
  adjust(connection);
  const lms = lmsActivities(
    new ConnectionRegistry({ config, env: { LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret } }),
  );
  return { lms, membership: { groupId: connection.destination.defaultGroupId, role: 'learner' as const } };
}

async function createLearner(sendInvitationEmail: boolean | undefined, mail: string) {
  const { lms, membership } = await demo((c) => {
    if (c.destination.type === '360learning' && sendInvitationEmail !== undefined)
      c.destination.sendInvitationEmail = sendInvitationEmail;
  });
  return lms.applyOperation('demo-360', '3332883894235038486', undefined, {
    op: 'create',
    fields: { mail, firstName: 'Ada', lastName: 'Lovelace' },
    membership,
    reason: 'test',
  });
}

describe('360Learning invitation e-mails', () => {
  it('are not sent by default', async () => {
    const applied = await createLearner(undefined, 'quiet@northwind.example');
    expect(applied.note).not.toContain('invitation');
    expect(emulator.invitations().filter((i) => i.mail === 'quiet@northwind.example')).toEqual([]);
  });

  it('are sent to each created learner when the connection asks, and the outcome names it', async () => {
    const applied = await createLearner(true, 'invited@northwind.example');
    expect(applied.note).toContain('invitation e-mail sent');
    expect(emulator.invitations()).toEqual([
      expect.objectContaining({ mail: 'invited@northwind.example', userId: applied.learnerId, reason: 'created' }),
    ]);
  });
});

describe('custom fields with authorized values', () => {
  const setSite = (lms: Awaited<ReturnType<typeof demo>>['lms'], learnerId: string, value: string) =>
    lms.applyOperation('demo-360', `emp-${learnerId}`, learnerId, {
      op: 'setCustomFields',
      values: { Site: value },
      changes: [{ field: 'Site', from: undefined, to: value, rule: 'test' }],
      reason: 'test',
    });

  async function learners(
    n: number,
    lms: Awaited<ReturnType<typeof demo>>['lms'],
    membership: Awaited<ReturnType<typeof demo>>['membership'],
    prefix: string,
  ): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const made = await lms.applyOperation('demo-360', `${prefix}-${i}`, undefined, {
        op: 'create',
        fields: { mail: `${prefix}-${i}@northwind.example` },
        membership,
        reason: 'test',
      });
      ids.push(made.learnerId!);
    }
    return ids;
  }

  it('twenty employees bringing twenty new values at once all get theirs, and the list keeps every value', async () => {
    emulator.seed({ customFields: [{ name: 'Site', authorizedValues: ['London'] }] });
    const { lms, membership } = await demo();
    const ids = await learners(20, lms, membership, 'site');
    const sites = ids.map((_, i) => `Office ${i + 1}`);
    await Promise.all(ids.map((id, i) => setSite(lms, id, sites[i]!)));
    const field = emulator.dump().customFields.find((f) => f.name === 'Site')!;
    expect([...field.authorizedValues].sort()).toEqual(['London', ...sites].sort());
    const site = (id: string) =>
      emulator
        .dump()
        .users.find((u) => u._id === id)!
        .customValues.find((v) => v.customFieldId === field._id)?.value;
    expect(ids.map(site)).toEqual(sites);
  });

  it('with strict, twenty employees bringing unlisted values are parked at plan time with the value named', async () => {
    const { lms, membership } = await demo((c) => {
      c.mapping.customFields = c.mapping.customFields.map((f) =>
        f.name === 'Site' ? { ...f, authorizedValues: 'strict' } : f,
      );
    });
    const config = parseConfig(embeddedConfigYaml('http://127.0.0.1:9', server.url, await demoGroups(server.url)));
    const connection = config.connections[0]!;
    connection.mapping.customFields = connection.mapping.customFields.map((f) =>
      f.name === 'Site' ? { ...f, authorizedValues: 'strict' } : f,
    );
    const registry = new ConnectionRegistry({
      config,
      env: { LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret },
    });
    const employee = employeeActivities(registry);
    const ids = await learners(20, lms, membership, 'strict-site');
    // A listed value or two (an empty list would take any value).
    if (!emulator.dump().customFields.some((f) => f.name === 'Site'))
      emulator.seed({ customFields: [{ name: 'Site', authorizedValues: ['London'] }] });
    const before = emulator.dump().customFields.find((f) => f.name === 'Site')!.authorizedValues;
    const plans = await Promise.all(
      ids.map(async (learnerId, i) => {
        const record = rawEmployee({
          id: `strict-site-${i}`,
          email: `strict-site-${i}@northwind.example`,
          site: `Moon base ${i}`,
        });
        const lookup = await lmsActivities(registry).lookupLearner('demo-360', `strict-site-${i}`, record, learnerId);
        return employee.planEmployee('demo-360', `strict-site-${i}`, record, lookup);
      }),
    );
    expect(plans.map((p) => p.outcome)).toEqual(
      ids.map((_, i) => ({
        kind: 'park',
        code: 'unauthorizedValue',
        reason: `"Moon base ${i}" is not an authorized value of custom field "Site" (authorizedValues: strict); add it in the LMS or change it in HiBob`,
      })),
    );
    expect(emulator.dump().customFields.find((f) => f.name === 'Site')!.authorizedValues).toEqual(before);
  });

  it('a strict field refuses a value it does not list, naming the field and the value, and writes nothing', async () => {
    const { lms, membership } = await demo((c) => {
      c.mapping.customFields = c.mapping.customFields.map((f) =>
        f.name === 'Site' ? { ...f, authorizedValues: 'strict' } : f,
      );
    });
    const [id] = await learners(1, lms, membership, 'strict');
    await expect(setSite(lms, id!, 'Atlantis')).rejects.toThrow(
      /"Atlantis" is not an authorized value of custom field "Site"/,
    );
    expect(emulator.dump().customFields.find((f) => f.name === 'Site')!.authorizedValues).not.toContain('Atlantis');
    await expect(setSite(lms, id!, 'London')).resolves.toMatchObject({ note: expect.stringContaining('Site') });
  });

  it('a field at 360Learning’s 300-value cap fails with a clear reason instead of a rejected write', async () => {
    emulator.seed({
      customFields: [{ name: 'Cost centre', authorizedValues: Array.from({ length: 300 }, (_, i) => `CC-${i}`) }],
    });
    const { lms, membership } = await demo((c) => {
      c.mapping.customFields = [
        ...c.mapping.customFields,
        {
          name: 'Cost centre',
          type: 'string',
          source: { from: 'work.department' },
          createIfMissing: false,
          authorizedValues: 'extend',
        } as never,
      ];
    });
    const [id] = await learners(1, lms, membership, 'cap');
    await expect(
      lms.applyOperation('demo-360', 'cap-employee', id, {
        op: 'setCustomFields',
        values: { 'Cost centre': 'CC-new' },
        changes: [{ field: 'Cost centre', from: undefined, to: 'CC-new', rule: 'test' }],
        reason: 'test',
      }),
    ).rejects.toThrow(/already has 300 authorized values, 360Learning's maximum/);
  });
});

describe("a learner lookup with a full sync's hints", () => {
  it("takes the manager's learner and the listed user from the hints: four GETs instead of eight, and the same lookup", async () => {
    const { lms } = await demo();
    const config = parseConfig(embeddedConfigYaml('http://127.0.0.1:9', server.url, await demoGroups(server.url)));
    const destination = config.connections[0]!.destination;
    const platform = destination.type === '360learning' ? destination.externalIdPlatform : '';
    const [manager, employee] = emulator.seed({
      users: [
        { mail: 'hint-manager@northwind.example', externalIds: [{ platform, value: 'hint-manager' }] },
        { mail: 'hint-employee@northwind.example', externalIds: [{ platform, value: 'hint-employee' }] },
      ],
    }).users;
    const record = rawEmployee({
      id: 'hint-employee',
      email: 'hint-employee@northwind.example',
      reportsTo: { id: 'hint-manager', firstName: 'Grace', surname: 'Hopper' },
    });
    // The employee's learner already reports to the manager's.
    await lms.applyOperation('demo-360', 'hint-employee', employee!._id, {
      op: 'addManager',
      managerLearnerId: manager!._id,
      reason: 'test',
    });
    const gets = async (hints?: LookupHints) => {
      emulator.kit.requests.clear();
      const lookup = await lms.lookupLearner('demo-360', 'hint-employee', record, employee!._id, hints);
      const count = emulator.kit.requests.entries.filter((e) => e.method === 'GET' && !e.path.includes('oauth')).length;
      return { lookup, count };
    };
    await gets(); // the first reads the custom field definitions, which are kept
    const plain = await gets();
    expect(plain.lookup.managerLearnerIds).toEqual({ 'hint-manager': manager!._id });
    expect(plain.lookup.linkedManagerLearnerIds).toEqual([manager!._id]);
    expect(plain.count).toBe(8);

    const hinted = await gets({ managerLearnerIds: { 'hint-manager': manager!._id } });
    expect(hinted.lookup).toEqual(plain.lookup);
    expect(hinted.count).toBe(5);

    // The user as the snapshot's list showed it, while the link still names it: four GETs.
    const learner = (await lms.snapshot('demo-360', uncheckpointedPages)).users.find(
      (u) => u.learnerId === employee!._id,
    )!;
    const withUser = await gets({ managerLearnerIds: { 'hint-manager': manager!._id }, learner });
    expect(withUser.lookup).toEqual(plain.lookup);
    expect(withUser.count).toBe(4);

    // A listed learner the link no longer names is not taken: the linked user is read.
    const other = await gets({ managerLearnerIds: {}, learner: { ...learner, learnerId: manager!._id } });
    expect(other.lookup).toEqual(plain.lookup);
    expect(other.count).toBe(8);

    // Hints that do not name the manager leave the lookup as it was.
    const unhinted = await gets({ managerLearnerIds: {} });
    expect(unhinted.lookup).toEqual(plain.lookup);
    expect(unhinted.count).toBe(8);
  });
});

describe('an LMS snapshot interrupted half-way', () => {
  it('goes on from the last checkpoint on retry, reads the rest only, and ends with the same snapshot', async () => {
    emulator.seed({
      users: Array.from({ length: 42 }, (_, i) => ({ mail: `paged-${i}@northwind.example`, firstName: `P${i}` })),
    });
    const { lms } = await demo();
    const blobs = new FileBlobStore(await mkdtemp(join(tmpdir(), 'bobsync-pages-')));
    const gets = () => lms.reads('demo-360');

    const before = gets();
    const whole = await lms.snapshot('demo-360', uncheckpointedPages);
    const fullRead = gets() - before;
    expect(whole.users.length).toBeGreaterThanOrEqual(42);
    expect(fullRead).toBeGreaterThanOrEqual(9);

    // First attempt: the worker is lost at the checkpoint that holds a third saved page. The lists
    // are read side by side, so the pages may be of any of them, and a list that is empty ends with
    // a checkpoint that saves none: counted by pages, not by checkpoints, whichever finishes first.
    const pagesIn = (details: PageCheckpointDetails | undefined) =>
      Object.values(details?.pageCheckpoints ?? {}).reduce((n, list) => n + list.parts.length, 0);
    let last: PageCheckpointDetails | undefined;
    const lost = new Error('worker lost');
    const first = checkpointedPages({
      blobs,
      keyPrefix: 'run-1/lms',
      resumeFrom: undefined,
      saveEveryMs: 0,
      heartbeat: (details) => {
        if (pagesIn(details) >= 3) throw lost;
        last = details;
      },
    });
    await expect(lms.snapshot('demo-360', first)).rejects.toBe(lost);
    // Each checkpoint follows one saved page at most, so the last one kept holds two.
    const saved = pagesIn(last);
    expect(saved).toBe(2);

    // The retry goes on from the checkpoints: the pages they saved are not read again.
    const atRetry = gets();
    const retry = checkpointedPages({ blobs, keyPrefix: 'run-1/lms', resumeFrom: last, heartbeat: () => undefined });
    const resumed = await lms.snapshot('demo-360', retry);
    const reread = gets() - atRetry;
    expect(reread).toBeGreaterThan(0);
    expect(reread).toBeLessThanOrEqual(fullRead - saved);
    expect(resumed).toEqual(whole);
  });
});
