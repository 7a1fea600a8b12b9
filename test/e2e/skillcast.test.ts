/**
 * HiBob → Skillcast over SCIM 2.0, end to end on the real dev server and the Skillcast emulator:
 * add, update, archive and reactivate by full sync, nothing written when nothing changed, and
 * users of another domain or on the protected list left alone.
 */
import { WorkflowFailedError } from '@temporalio/client';
import ExcelJS from 'exceljs';
import { blobStoreFromEnv } from '../../src/blobstore';
import type { SyncReport } from '../../src/reports/types';
import type { AdminUserView } from '../../packages/local/emulators/skillcast';
import { fullSync } from '../../src/workflows';
import { approveUpdate, progressQuery, type FullSyncResult } from '../../src/workflows/full-sync-api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

const EXTENSION = 'urn:ietf:params:scim:schemas:extension:skillcast:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

describe('full sync to Skillcast', () => {
  let stack: TestStack;
  const skillcast = () => stack.emulators.skillcast!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const domainUsers = (domain = 'Employees'): AdminUserView[] => skillcast().users(domain)[domain] ?? [];
  const userOf = (employeeId: string) => {
    const found = domainUsers().filter((u) => u.externalId === employeeId);
    if (found.length > 1) throw new Error(`employee ${employeeId} has ${found.length} Skillcast users`);
    return found[0];
  };
  const writes = () => skillcast().kit.requests.entries.filter((e) => e.method !== 'GET' && e.path.includes('/scim/'));
  const run = (): Promise<FullSyncResult> =>
    stack.client.workflow.execute(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-skillcast/full-sync/test-${Date.now()}`,
      args: [{ connection: 'demo-skillcast', taskQueue: stack.taskQueue, trigger: 'test' }],
    });

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'skillcast',
      employees: 40,
      seed: 21,
      only: ['hibob', 'skillcast'],
      configure: (config) => {
        config.connections = config.connections.filter((c) => c.name === 'demo-skillcast');
        const c = config.connections[0]!;
        if (c.destination.type === 'skillcast') c.destination.requestsPerSecond = 100;
        c.fullSync = { ...c.fullSync, batchSize: 10, parallelism: 4, concurrencyPerBatch: 5 };
        c.safety = {
          ...c.safety,
          approval: 'onSafeguard',
          maxDeactivationPercent: 100,
          protectedUsers: ['auditor@northwind.example'],
        };
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  let auditorOf = '';
  const activeEmployees = () =>
    hibob()
      .listEmployees()
      .filter((e) => e.status === 'Active' && e.lifecycleStatus === 'employed' && e.email);

  it('adds every active employee, linked by the HiBob id, with mapped attributes', async () => {
    // Someone kept active by hand in another domain, with the address of a HiBob employee.
    const managers = new Set(
      hibob()
        .listEmployees()
        .map((e) => e.reportsTo),
    );
    const kept = activeEmployees().find((e) => !managers.has(e.id));
    skillcast().seedUsers(
      [{ userName: kept!.email!, emails: [{ value: kept!.email!, primary: true }], active: true }],
      'Always active',
    );
    // An auditor's account, linked to a HiBob employee but on the protected list.
    const dan = activeEmployees().find((e) => e.id !== kept!.id && !managers.has(e.id))!;
    auditorOf = dan.id;
    skillcast().seedUsers([{ userName: 'auditor@northwind.example', externalId: dan.id, active: true }]);
    const result = await run();
    expect(result.byAction.create).toBeGreaterThan(20);

    const ada = activeEmployees().find((e) => e.id !== kept!.id)!;
    const user = userOf(ada.id);
    expect(user).toMatchObject({
      userName: ada.email,
      active: true,
      name: { givenName: ada.firstName, familyName: ada.surname },
    });
    const attributes = (user as Record<string, unknown>)[EXTENSION] as Record<string, unknown>;
    expect(attributes).toMatchObject({ Site: expect.any(String), Department: expect.any(String) });
    // The enterprise attributes the demo maps: HiBob's employee number, and the department's label.
    expect((user as Record<string, unknown>)[ENTERPRISE]).toMatchObject({
      employeeNumber: String(ada.employeeIdInCompany),
      department: attributes.Department,
    });
    // The other domain's user is neither read nor changed; its employee is reported, not duplicated.
    const elsewhere = skillcast().users('Always active')['Always active'];
    expect(elsewhere).toEqual([expect.objectContaining({ userName: kept!.email, active: true })]);
    expect(elsewhere?.[0]).not.toHaveProperty('externalId');
    expect(userOf(kept!.id)).toBeUndefined();
    expect(result.outcomes.failed ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('a second run changes nothing: the only write is the refused create of the other domain’s address', async () => {
    skillcast().kit.requests.clear();
    const result = await run();
    expect(writes().filter((w) => w.status < 400)).toEqual([]);
    expect(writes().map((w) => [w.method, w.status])).toEqual([['POST', 409]]);
    expect(result.byAction.create ?? 0).toBe(1);
    expect(result.byAction.update ?? 0).toBe(0);
    const report = await blobStoreFromEnv(stack.env).getJson<SyncReport>(result.reportRef);
    expect(report.rows.filter((r) => r.action === 'park').map((r) => r.reason)).toEqual(
      expect.arrayContaining([expect.stringMatching(/apostrophe|email/)]),
    );
  });

  it('updates, archives and reactivates the same user, and leaves a protected user alone', async () => {
    const [ann, ben, cat] = activeEmployees()
      .filter((e) => userOf(e.id) && e.id !== auditorOf)
      .slice(0, 3);
    const catUser = userOf(cat!.id)!;
    hibob().deleteEmployee(auditorOf);
    hibob().updateEmployee(ann!.id, { surname: 'Renamed' });
    hibob().terminate(ben!.id, { terminationDate: '2025-06-30' });
    hibob().deleteEmployee(cat!.id);
    await run();
    expect(userOf(ann!.id)?.name).toMatchObject({ familyName: 'Renamed' });
    expect(userOf(ben!.id)?.active).toBe(false);
    expect(userOf(cat!.id)?.active).toBe(false);
    expect(domainUsers().find((u) => u.userName === 'auditor@northwind.example')?.active).toBe(true);

    const benBefore = userOf(ben!.id)!;
    hibob().rehire(ben!.id, { startDate: '2025-09-01' });
    skillcast().kit.requests.clear();
    await run();
    const benAfter = userOf(ben!.id)!;
    expect(benAfter.active).toBe(true);
    expect(benAfter.id).toBe(benBefore.id);
    expect(catUser.id).toBe(userOf(cat!.id)!.id);
    expect(
      writes()
        .filter((w) => w.status < 400)
        .every((w) => w.method === 'PATCH'),
    ).toBe(true);
  });
});

describe.each([
  ['labels (humanReadable)', true],
  ['machine values', false],
])('full sync to Skillcast from the HiBob report "LMS feed", %s', (_mode, humanReadable) => {
  let stack: TestStack;
  const skillcast = () => stack.emulators.skillcast!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const userOf = (employeeId: string) =>
    skillcast()
      .users('Employees')
      .Employees?.find((u) => u.externalId === employeeId);
  const writes = () => skillcast().kit.requests.entries.filter((e) => e.method !== 'GET' && e.path.includes('/scim/'));
  const run = (): Promise<FullSyncResult> =>
    stack.client.workflow.execute(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-skillcast/full-sync/report-test-${Date.now()}`,
      args: [{ connection: 'demo-skillcast', taskQueue: stack.taskQueue, trigger: 'test' }],
    });

  beforeAll(async () => {
    stack = await startTestStack({
      name: `skillcast-report-${humanReadable ? 'labels' : 'values'}`,
      employees: 25,
      // Employee workflow ids name the HiBob id: each stack on the shared server needs people of its own.
      seed: humanReadable ? 8 : 9,
      only: ['hibob', 'skillcast'],
      configure: (config) => {
        config.connections = config.connections.filter((c) => c.name === 'demo-skillcast');
        const c = config.connections[0]!;
        if (c.destination.type === 'skillcast') c.destination.requestsPerSecond = 100;
        c.source.report = {
          name: 'LMS feed',
          identityColumn: 'Bob ID',
          humanReadable,
          columns: { 'Bob ID': 'root.id' },
        };
        c.safety = { ...c.safety, approval: 'onSafeguard', maxDeactivationPercent: 100 };
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('adds, then updates, archives and reactivates, each ending in Skillcast as planned', async () => {
    const first = await run();
    expect(first.byAction.create).toBeGreaterThan(10);
    const employed = hibob()
      .listEmployees()
      .filter((e) => e.status === 'Active' && e.lifecycleStatus === 'employed' && userOf(e.id));
    const [ann, ben] = employed;
    expect(userOf(ann!.id)).toMatchObject({ userName: ann!.email, active: true });

    hibob().updateEmployee(ann!.id, { surname: 'From-Report' });
    hibob().terminate(ben!.id, { terminationDate: '2025-06-30' });
    await run();
    expect((userOf(ann!.id)?.name as { familyName?: string }).familyName).toBe('From-Report');
    expect(userOf(ben!.id)?.active).toBe(false);

    const benId = userOf(ben!.id)!.id;
    hibob().rehire(ben!.id, { startDate: '2025-09-01' });
    await run();
    expect(userOf(ben!.id)).toMatchObject({ id: benId, active: true });

    skillcast().kit.requests.clear();
    await run();
    expect(writes()).toEqual([]);
  });

  it('a report missing a mapped column fails before any write, naming the column and the report', async () => {
    const c = stack.config.connections[0]!;
    const saved = c.mapping.customFields;
    c.mapping.customFields = [
      ...saved,
      {
        name: 'Site',
        source: { from: 'work.custom.field_1700000000000' },
        type: 'string',
        createIfMissing: false,
      } as never,
    ];
    skillcast().kit.requests.clear();
    try {
      const failure = await run().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause;
      const message = (cause?.cause as Error | undefined)?.message ?? cause?.message;
      expect(message).toMatch(/report "LMS feed"/);
      expect(message).toMatch(/field_1700000000000/);
      expect(writes()).toEqual([]);
    } finally {
      c.mapping.customFields = saved;
    }
  });
});

describe('a first Skillcast run waits for approval of its preview, and applies the plan that was approved', () => {
  let stack: TestStack;
  const skillcast = () => stack.emulators.skillcast!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const domainUsers = () => skillcast().users('Employees').Employees ?? [];
  const writes = () => skillcast().kit.requests.entries.filter((e) => e.method !== 'GET' && e.path.includes('/scim/'));

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'skillcast-approval',
      employees: 20,
      seed: 31,
      only: ['hibob', 'skillcast'],
      configure: (config) => {
        config.connections = config.connections.filter((c) => c.name === 'demo-skillcast');
        const c = config.connections[0]!;
        // Skillcast's default: the first run's whole plan waits for a person.
        delete c.safety.approval;
        if (c.destination.type === 'skillcast') c.destination.requestsPerSecond = 100;
      },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('an employee edited in HiBob before the approval is left out as changed since approval; the others land as previewed', async () => {
    const handle = await stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-skillcast/full-sync/approval-test-${Date.now()}`,
      args: [{ connection: 'demo-skillcast', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
    const waiting = await eventually(
      async () => {
        const p = await handle.query(progressQuery);
        return p.phase === 'awaitingApproval' ? p : undefined;
      },
      60_000,
      'the run waiting for approval',
    );
    expect(waiting.approval).toMatchObject({ scope: 'plan' });
    expect(writes()).toEqual([]);

    const edited = hibob()
      .listEmployees()
      .find((e) => e.status === 'Active' && e.lifecycleStatus === 'employed' && e.email)!;
    hibob().updateEmployee(edited.id, { surname: 'Edited-After-Preview' });
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'test' }] });
    const result = await handle.result();
    expect(result.approval).toMatchObject({ scope: 'plan', decision: 'approved', changedSinceApproval: 1 });

    // The preview as an approver read it: every other person to be added is in Skillcast, as previewed.
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await blobStoreFromEnv(stack.env).getBytes(result.previewRefs!.xlsx)) as never);
    const sheet = book.getWorksheet('To be added')!;
    const previewed: { employeeId: string; email: string }[] = [];
    sheet.eachRow((row, n) => {
      if (n > 1) previewed.push({ employeeId: row.getCell(1).text, email: row.getCell(3).text });
    });
    expect(previewed.length).toBeGreaterThan(10);
    expect(previewed.map((p) => p.employeeId)).toContain(edited.id);
    const applied = domainUsers().map((u) => ({ employeeId: String(u.externalId), email: String(u.userName) }));
    expect(applied.sort((a, b) => a.employeeId.localeCompare(b.employeeId))).toEqual(
      previewed.filter((p) => p.employeeId !== edited.id).sort((a, b) => a.employeeId.localeCompare(b.employeeId)),
    );

    const report = await blobStoreFromEnv(stack.env).getJson<SyncReport>(result.reportRef);
    expect(report.rows.find((r) => r.employeeId === edited.id)?.outcome).toBe('changedSinceApproval');
  });
});
