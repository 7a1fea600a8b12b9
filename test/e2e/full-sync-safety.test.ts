/**
 * Full-sync safety on the real dev server: mass deactivations wait for a person, a webhook
 * applied during a sync survives it, and protected users are never touched.
 */
import ExcelJS from 'exceljs';
import { blobStoreFromEnv } from '../../src/blobstore';
import type { UserDump } from '../../packages/local/emulators/learning360/company';
import type { SyncReport } from '../../src/reports/types';
import { fullSync } from '../../src/workflows';
import { approveUpdate, progressQuery, rejectUpdate, type FullSyncResult } from '../../src/workflows/full-sync-api';
import { recordHistoryIfAsked } from '../support/histories';
import { eventually, fastFullSync, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

describe('full sync safety', () => {
  let stack: TestStack;
  let seq = 0;
  const lms = () => stack.emulators.learning360!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const users = (): UserDump[] => lms().dump().users;
  const learnerOf = (employeeId: string) => users().find((u) => u.externalIds.some((x) => x.value === employeeId));
  const start = () =>
    stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/safety-${Date.now()}-${seq++}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
  const report = (result: FullSyncResult) => blobStoreFromEnv(stack.env).getJson<SyncReport>(result.reportRef);
  const deletes = () =>
    lms().kit.requests.entries.filter((e) => e.method === 'DELETE' && /^\/api\/v2\/users\/[0-9a-f]{24}$/.test(e.path));
  /** Employees HiBob counts as working now, with a learner. */
  const activeEmployees = () =>
    hibob()
      .listEmployees()
      .filter((e) => e.status === 'Active' && learnerOf(e.id)?.status === 'active');

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'safety',
      smtp: true,
      api: true,
      employees: 60,
      seed: 5,
      only: ['hibob', '360learning'],
      ...fastFullSync({ batchSize: 10, parallelism: 3, concurrencyPerBatch: 4 }),
    });
    // Initial load; webhooks for what follows are switched off until a test wants them.
    const sub = hibob().listWebhooks()[0]!;
    hibob().updateWebhook(sub.id, { status: 'disabled' });
    await (await start()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('stops before deactivating 30% of learners, mails the preview, and applies exactly the plan once approved', async () => {
    const leavers = activeEmployees().slice(0, Math.ceil(activeEmployees().length * 0.3));
    const stayer = activeEmployees().find((e) => !leavers.some((l) => l.id === e.id))!;
    for (const e of leavers) hibob().terminate(e.id, { terminationDate: '2026-01-15' });
    hibob().updateEmployee(stayer.id, { surname: 'Updated-Before-Approval' });
    lms().kit.requests.clear();
    const mailsBefore = stack.smtp!.messages.length;

    const handle = await start();
    await eventually(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      120_000,
      'approval wait',
    );
    // Everything else was applied; nothing was deactivated.
    expect(learnerOf(stayer.id)?.lastName).toBe('Updated-Before-Approval');
    expect(deletes()).toHaveLength(0);
    expect(leavers.every((e) => learnerOf(e.id)?.status === 'active')).toBe(true);

    const mails = await stack.smtp!.waitFor(mailsBefore + 1);
    const previewMail = mails.slice(mailsBefore).find((m) => /needs approval/.test(m.subject ?? ''))!;
    expect(previewMail.text).toContain(handle.workflowId);
    const xlsx = previewMail.attachments.find((a) => a.filename?.endsWith('.xlsx'))!;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.content as never);
    const ids = new Set<string>();
    book.getWorksheet('Employees')!.eachRow((row, n) => n > 1 && ids.add(row.getCell(1).text));
    for (const e of leavers) expect(ids.has(e.id)).toBe(true);

    const state = await handle.executeUpdate(approveUpdate, { args: [{ by: 'hr-lead' }] });
    expect(state).toMatchObject({ tripped: true, decision: 'approved', decidedBy: 'hr-lead' });
    const result = await handle.result();
    expect(leavers.every((e) => learnerOf(e.id)?.status === 'deleted')).toBe(true);
    // Exactly the approved plan: one deactivation per leaver, nobody else.
    expect(deletes()).toHaveLength(leavers.length);
    const rows = (await report(result)).rows.filter((r) => r.action === 'deactivate');
    expect(rows.map((r) => r.employeeId).sort()).toEqual(leavers.map((e) => e.id).sort());
    expect(rows.every((r) => r.outcome === 'applied')).toBe(true);
    await recordHistoryIfAsked(handle, 'full-sync-approved');
  });

  it('a rejected plan deactivates nobody and reports them as held', async () => {
    const leavers = activeEmployees().slice(0, Math.ceil(activeEmployees().length * 0.5));
    for (const e of leavers) hibob().terminate(e.id, { terminationDate: '2026-01-20' });
    lms().kit.requests.clear();
    const handle = await start();
    await eventually(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      120_000,
      'approval wait',
    );
    const state = await handle.executeUpdate(rejectUpdate, { args: [{ by: 'hr-lead' }] });
    expect(state.decision).toBe('rejected');
    const result = await handle.result();
    expect(deletes()).toHaveLength(0);
    expect(leavers.every((e) => learnerOf(e.id)?.status === 'active')).toBe(true);
    const rows = (await report(result)).rows.filter((r) => leavers.some((e) => e.id === r.employeeId));
    expect(rows.every((r) => r.outcome === 'held')).toBe(true);
    // Approving after the decision is refused: nothing is waiting any more.
    await expect(handle.executeUpdate(approveUpdate, { args: [{}] })).rejects.toThrow();
    // HR takes the terminations back, so later runs have nothing to hold.
    for (const e of leavers) hibob().rehire(e.id, { startDate: '2026-01-21' });
  });

  it('a webhook applied while a full sync runs survives the sync', async () => {
    const people = activeEmployees().slice(0, 12);
    for (const e of people) hibob().updateEmployee(e.id, { title: 'Data Analyst' });
    // Slow 360Learning down so the sync is still applying when the webhook comes.
    lms().kit.faults.add({ method: 'PATCH', path: '^/api/v2/users/', delayMs: 400 });
    const sub = hibob().listWebhooks()[0]!;
    const handle = await start();
    await eventually(
      async () => ((await handle.query(progressQuery)).phase === 'apply' ? true : undefined),
      120_000,
      'apply phase',
    );
    const target = people[people.length - 1]!;
    hibob().updateWebhook(sub.id, { status: 'active' });
    hibob().updateEmployee(target.id, { surname: 'Changed-During-Sync' });
    await eventually(
      () => (learnerOf(target.id)?.lastName === 'Changed-During-Sync' ? true : undefined),
      60_000,
      'webhook applied',
    );
    await handle.result();
    lms().kit.faults.clear();
    hibob().updateWebhook(sub.id, { status: 'disabled' });
    expect(learnerOf(target.id)).toMatchObject({ lastName: 'Changed-During-Sync', job: 'Data Analyst' });
  });

  it('never changes or deactivates a protected user', async () => {
    // Someone nobody reports to, so ending their employment changes no other learner's manager.
    const vip = activeEmployees().find(
      (e) =>
        !hibob()
          .listEmployees()
          .some((r) => r.reportsTo === e.id),
    )!;
    const learner = learnerOf(vip.id)!;
    const day = (daysAgo: number) =>
      new Date(hibob().kit.clock.nowMs() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    stack.config.connections[0]!.safety.protectedUsers = [learner.mail!.toUpperCase()];
    try {
      hibob().updateEmployee(vip.id, { surname: 'Should-Not-Arrive' });
      // Past its last day in any time zone: without the protection this is a deactivation now.
      hibob().terminate(vip.id, { terminationDate: day(2) });
      expect(hibob().getEmployee(vip.id)?.status).toBe('Inactive');
      lms().kit.requests.clear();
      const result = await (await start()).result();
      expect(learnerOf(vip.id)).toMatchObject({
        status: 'active',
        lastName: learner.lastName,
        deletedAt: learner.deletedAt,
      });
      // No write about this learner reached 360Learning at all, a deactivation (DELETE) included.
      const touching = lms().kit.requests.entries.filter((e) => e.method !== 'GET' && e.path.includes(learner._id));
      expect(touching.map((e) => `${e.method} ${e.path}`)).toEqual([]);
      const row = (await report(result)).rows.find((r) => r.employeeId === vip.id);
      expect(row).toMatchObject({ action: 'protected', outcome: 'skipped' });
    } finally {
      stack.config.connections[0]!.safety.protectedUsers = [];
      // Back to how HiBob had them, matching the untouched learner, for whatever runs next.
      if (hibob().getEmployee(vip.id)?.lifecycleStatus === 'terminated') hibob().rehire(vip.id, { startDate: day(1) });
      hibob().updateEmployee(vip.id, { surname: vip.surname });
    }
  });
});
