/**
 * Go-live against a populated 360Learning: 20 active learners, none linked yet. Five belong to
 * HiBob leavers, three to nobody in HiBob, one is a protected admin. The first full sync links
 * and deactivates the leavers' learners (held by the safeguard until approved), lists the
 * unknown ones in its report and leaves them active; under `unmatchedLearners: deactivate` the
 * next run deactivates them. The admin is never touched. Afterwards, group roles given by hand
 * survive every sync, and a rule deleted from the config takes exactly the roles it gave.
 */
import { blobStoreFromEnv } from '../../src/blobstore';
import type { UserDump } from '../../packages/local/emulators/learning360/company';
import type { SyncReport } from '../../src/reports/types';
import { fullSync } from '../../src/workflows';
import { approveUpdate, progressQuery, type FullSyncResult } from '../../src/workflows/full-sync-api';
import { eventually, fastFullSync, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

const ADMIN = 'lms-admin@northwind.example';
const UNKNOWN = ['contractor-1@agency.example', 'contractor-2@agency.example', 'old-trainer@northwind.example'];

describe('go-live against a populated 360Learning', () => {
  let stack: TestStack;
  let seq = 0;
  const lms = () => stack.emulators.learning360!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const connection = () => stack.config.connections.find((c) => c.name === 'demo-360')!;
  const userByMail = (mail: string): UserDump =>
    lms()
      .dump()
      .users.find((u) => u.mail?.toLowerCase() === mail.toLowerCase())!;
  const start = () =>
    stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/go-live-${Date.now()}-${seq++}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
  const report = (result: FullSyncResult) => blobStoreFromEnv(stack.env).getJson<SyncReport>(result.reportRef);
  let stayers: { id: string; email: string }[];
  let leavers: { id: string; email: string }[];

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'go-live',
      employees: 26,
      seed: 43,
      only: ['hibob', '360learning'],
      ...fastFullSync({ batchSize: 5, parallelism: 2, concurrencyPerBatch: 3 }),
    });
    const c = connection();
    c.safety.protectedUsers = [ADMIN];
    c.safety.maxDeactivations = 4;
    c.mapping.manager = { ...c.mapping.manager, enabled: false };

    // Sixteen HiBob people with an address; five of them left the company last year.
    const people = hibob()
      .listEmployees()
      .filter((e): e is typeof e & { email: string } => e.email !== null && e.status === 'Active');
    expect(people.length).toBeGreaterThanOrEqual(16);
    leavers = people.slice(0, 5).map(({ id, email }) => ({ id, email }));
    stayers = people.slice(5, 16).map(({ id, email }) => ({ id, email }));
    for (const l of leavers) hibob().terminate(l.id, { terminationDate: '2025-06-30' });
    // Nobody in HiBob beyond these sixteen.
    for (const e of people.slice(16)) hibob().deleteEmployee(e.id);

    // The LMS as the customer runs it today: everyone active, nothing linked.
    lms().seed({
      users: [
        ...[...stayers, ...leavers].map((p) => ({ mail: p.email, firstName: 'Known' })),
        ...UNKNOWN.map((mail, i) => ({ mail, firstName: 'Unknown', lastLoginDate: `2026-0${i + 1}-15T09:00:00.000Z` })),
        { mail: ADMIN, firstName: 'Admin', memberships: [{ role: 'admin' as const }] },
      ],
    });
    expect(
      lms()
        .dump()
        .users.filter((u) => u.status === 'active'),
    ).toHaveLength(20);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('the first run holds the leavers’ deactivations for approval, then links and deactivates exactly them', async () => {
    const adminBefore = userByMail(ADMIN);
    const handle = await start();
    await eventually(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      120_000,
      'approval wait',
    );
    // Held: the stayers are linked, nobody is deactivated yet.
    expect(stayers.every((p) => userByMail(p.email).externalIds.some((x) => x.value === p.id))).toBe(true);
    expect(
      lms()
        .dump()
        .users.filter((u) => u.status === 'deleted'),
    ).toHaveLength(0);

    await handle.executeUpdate(approveUpdate, { args: [{ by: 'hr-lead' }] });
    const done = await report(await handle.result());

    for (const l of leavers) {
      const user = userByMail(l.email);
      expect(user.status).toBe('deleted');
      expect(user.externalIds.map((x) => x.value)).toEqual([l.id]);
    }
    expect(stayers.every((p) => userByMail(p.email).status === 'active')).toBe(true);
    expect(UNKNOWN.every((mail) => userByMail(mail).status === 'active')).toBe(true);
    expect(userByMail(ADMIN)).toEqual(adminBefore);

    expect(done.safeguard).toMatchObject({ tripped: true, decision: 'approved' });
    expect(
      done.rows
        .filter((r) => r.action === 'deactivate' || r.action === 'held')
        .map((r) => r.employeeId)
        .sort(),
    ).toEqual(leavers.map((l) => l.id).sort());
    expect(done.notInHibob).toEqual(
      [
        ...UNKNOWN.map((mail, i) => ({
          learnerId: userByMail(mail)._id,
          email: mail,
          displayName: 'Unknown',
          lastLogin: `2026-0${i + 1}-15T09:00:00.000Z`,
          status: 'active',
          handling: 'kept (safety.unmatchedLearners is report)',
        })),
        {
          learnerId: adminBefore._id,
          email: ADMIN,
          displayName: 'Admin',
          status: 'active',
          handling: 'protected: kept',
        },
      ].sort((a, b) => a.email.localeCompare(b.email)),
    );
  });

  it('under unmatchedLearners: deactivate, the next run deactivates the unknown learners and still not the admin', async () => {
    connection().safety.unmatchedLearners = 'deactivate';
    // Three of twenty is above the default 10%: this run is about the mode, not the safeguard.
    connection().safety.maxDeactivationPercent = 50;
    const adminBefore = userByMail(ADMIN);
    const done = await report(await (await start()).result());

    expect(UNKNOWN.every((mail) => userByMail(mail).status === 'deleted')).toBe(true);
    expect(userByMail(ADMIN)).toEqual(adminBefore);
    expect(stayers.every((p) => userByMail(p.email).status === 'active')).toBe(true);
    expect(done.notInHibob?.map((e) => [e.email, e.handling])).toEqual(
      [...UNKNOWN.map((mail) => [mail, 'deactivated']), [ADMIN, 'protected: kept']].sort((a, b) =>
        a[0]!.localeCompare(b[0]!),
      ),
    );
    // Deactivated learners are no longer listed: a third run lists only the admin and writes nothing.
    const third = await report(await (await start()).result());
    expect(third.notInHibob?.map((e) => e.email)).toEqual([ADMIN]);
    expect(third.apiCalls.lmsWrites).toBe(0);
  });

  it('removes only the roles bobsync gave: a hand-given coach survives, a deleted rule takes exactly its roles', async () => {
    const group = (name: string) =>
      lms()
        .dump()
        .groups.find((g) => g.name === name)!._id;
    const allStaff = group('All staff');
    const london = group('London');
    const rolesOf = (mail: string) => userByMail(mail).roles.map((r) => `${r.groupId}/${r.role}`);
    // An administrator makes one employee a coach of a group the rules manage.
    const coach = stayers[0]!;
    lms().company().addGroupRole(allStaff, 'coach', userByMail(coach.email)._id);
    const londoners = stayers.filter((p) => rolesOf(p.email).includes(`${london}/learner`));
    expect(londoners.length).toBeGreaterThan(0);
    // …and adds someone outside London to London by hand: a role a rule manages, but not one bobsync gave.
    const guest = stayers.find((p) => p !== coach && !londoners.includes(p))!;
    lms().company().addGroupRole(london, 'learner', userByMail(guest.email)._id);
    const before = new Map(stayers.map((p) => [p.email, rolesOf(p.email)]));

    await (await start()).result();
    expect(rolesOf(coach.email)).toContain(`${allStaff}/coach`);
    expect(rolesOf(guest.email)).toContain(`${london}/learner`);

    // The London rule is deleted from the config: the next run removes the London roles it gave, nothing else.
    const c = connection();
    const rules = c.mapping.groups;
    c.mapping.groups = rules.filter((r) => r.groupId !== london);
    try {
      const done = await report(await (await start()).result());
      for (const p of stayers) {
        const expected = before.get(p.email)!.filter((r) => p === guest || r !== `${london}/learner`);
        expect(rolesOf(p.email).sort()).toEqual(expected.sort());
      }
      expect(rolesOf(coach.email)).toContain(`${allStaff}/coach`);
      const removals = done.rows.filter((r) => r.operations.includes('removeGroupRole'));
      expect(removals.map((r) => r.employeeId).sort()).toEqual(londoners.map((p) => p.id).sort());
    } finally {
      c.mapping.groups = rules;
    }
  });
});
