/**
 * Full sync end to end on the real dev server: snapshot → plan → batches of employee workflows
 * → report, checked against the 360Learning emulator's state and request log.
 */
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { blobStoreFromEnv } from '../../src/blobstore';
import type { UserDump } from '../../packages/local/emulators/learning360/company';
import type { SyncReport } from '../../src/reports/types';
import { fullSync } from '../../src/workflows';
import { stateQuery } from '../../src/workflows/employee-sync-api';
import type { FullSyncResult } from '../../src/workflows/full-sync-api';
import { recordHistoryIfAsked } from '../support/histories';
import { fastFullSync, startTestStack, type TestStack, type TestStackOptions } from '../support/stack';

jest.setTimeout(300_000);

/** HiBob's read-after-write lag in the first suite's connection: short, so a run can follow the one before it. */
const READ_LAG_SECONDS = 2;

/** The same stack options, with the connection's HiBob read-after-write lag set. */
function withReadLag<T extends Pick<TestStackOptions, 'configure'>>(options: T, seconds: number): T {
  return {
    ...options,
    configure: (config) => {
      options.configure?.(config);
      config.connections[0]!.source.readAfterWriteLagSeconds = seconds;
    },
  };
}

describe('full sync: initial load, then nothing to do', () => {
  let stack: TestStack;
  const lms = () => stack.emulators.learning360!.emulator;
  const hibob = () => stack.emulators.hibob!.emulator;
  const users = (): UserDump[] => lms().dump().users;
  let lastWorkflowId = '';
  const run = (dryRun = false) => {
    lastWorkflowId = `bobsync/demo-360/full-sync/test-${Date.now()}`;
    return stack.client.workflow.execute(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: lastWorkflowId,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, dryRun, trigger: 'test' }],
    });
  };
  const writes = () => lms().kit.requests.entries.filter((e) => e.method !== 'GET' && !e.path.includes('oauth2'));

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'fullsync',
      smtp: true,
      employees: 200,
      seed: 11,
      only: ['hibob', '360learning'],
      ...withReadLag(fastFullSync({ batchSize: 20, parallelism: 4, concurrencyPerBatch: 5 }), READ_LAG_SECONDS),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  let first: FullSyncResult;
  /** Learners a run with nothing changed still reads (two people sharing an address are looked at every run). */
  let readEveryRun = new Set<string>();

  it('a dry run plans the initial load and writes nothing', async () => {
    lms().kit.requests.clear();
    const result = await run(true);
    expect(result.dryRun).toBe(true);
    expect(result.byAction.create).toBeGreaterThan(100);
    expect(writes()).toHaveLength(0);
    const preview = await blobStoreFromEnv(stack.env).getBytes(result.previewRefs!.xlsx);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(preview as never);
    expect(book.worksheets.length).toBeGreaterThan(0);
  });

  it('loads every in-scope HiBob employee into an empty 360Learning exactly once, as planned', async () => {
    lms().kit.requests.clear();
    first = await run();
    await recordHistoryIfAsked(stack.client.workflow.getHandle(lastWorkflowId), 'full-sync-initial-load');
    await recordHistoryIfAsked(stack.client.workflow.getHandle(`${lastWorkflowId}/batch-0`), 'sync-batch-bulk-roles');
    const report = await blobStoreFromEnv(stack.env).getJson<SyncReport>(first.reportRef);
    expect(report.counts.byOutcome.failed ?? 0).toBe(0);
    const created = report.rows.filter((r) => r.action === 'create');
    expect(created.length).toBe(first.byAction.create);
    expect(created.every((r) => r.outcome === 'applied')).toBe(true);

    const all = users();
    // One learner per address, one per HiBob id.
    expect(new Set(all.map((u) => u.mail)).size).toBe(all.length);
    const linked = all.flatMap((u) => u.externalIds.map((x) => x.value));
    expect(new Set(linked).size).toBe(linked.length);
    expect(all.length).toBe(created.length);

    // Every created learner matches its HiBob record.
    for (const row of created) {
      const employee = hibob().getEmployee(row.employeeId)!;
      const learner = all.find((u) => u.externalIds.some((x) => x.value === row.employeeId))!;
      expect(learner.mail).toBe(employee.email!.trim().toLowerCase());
      expect(learner.firstName).toBe(employee.firstName);
      expect(learner.lastName).toBe(employee.surname);
      const start = learner.customValues.find((v) => v.type === 'date');
      if (employee.startDate) expect(start?.value).toBe(employee.startDate);
      if (employee.reportsTo && all.some((u) => u.externalIds.some((x) => x.value === employee.reportsTo))) {
        const manager = all.find((u) => u.externalIds.some((x) => x.value === employee.reportsTo))!;
        expect(learner.managers).toContain(manager._id);
      }
    }
    // Statuses: future hires are invited, not active; everyone else active.
    expect(all.filter((u) => u.status === 'active').length).toBeGreaterThan(created.length * 0.8);

    // Group roles went in bulk, at most one request per batch, none one call each; every planned one is held
    // (the next run, below, finds nothing to add).
    // Submissions 360Learning refused while three operations ran (429) are tried again, and not counted.
    const bulk = writes().filter(
      (e) => e.method === 'POST' && e.path === '/api/v2/bulk/groups/memberships' && e.status === 202,
    );
    const oneByOne = writes().filter((e) => e.method === 'POST' && /^\/api\/v2\/groups\/[0-9a-f]{24}\//.test(e.path));
    expect(bulk.length).toBeGreaterThan(0);
    expect(bulk.length).toBeLessThanOrEqual(Math.ceil(created.length / 20) + 2);
    expect(oneByOne).toHaveLength(0);
    const rolesGiven = report.rows.filter((r) => /added \w+ in [0-9a-f]{24} \(bulk operation/.test(r.detail ?? ''));
    expect(rolesGiven.length).toBeGreaterThan(0);
  });

  it('mails the report with CSV and XLSX attachments that open', async () => {
    const mails = await stack.smtp!.waitFor(1);

    const mail = mails.find((m) => /full sync/.test(m.subject ?? '') && !/dry run/i.test(m.subject ?? ''))!;
    expect(mail).toBeDefined();
    expect(mail.html).toContain('demo-360');
    const csv = mail.attachments.find((a) => a.filename?.endsWith('.csv'))!;
    const xlsx = mail.attachments.find((a) => a.filename?.endsWith('.xlsx'))!;
    const records: Record<string, string>[] = parse(csv.content, { bom: true, columns: true });
    expect(records.filter((r) => r.Action === 'create')).toHaveLength(first.byAction.create!);
    expect(records.every((r) => r['Employee ID'])).toBe(true);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.content as never);
    const sheet = book.getWorksheet('Employees')!;
    // A header row, then one row per employee with a change.
    expect(sheet.rowCount).toBe(1 + records.length);
  });

  it('a second full sync finds nothing to do: zero writes, no employee workflow started', async () => {
    lms().kit.requests.clear();
    const second = await run();
    expect(writes()).toHaveLength(0);
    expect(
      Object.keys(second.byAction).filter(
        (a) => a !== 'noop' && a !== 'park' && (second.byAction as Record<string, number>)[a]! > 0,
      ),
    ).toEqual([]);
    const report = await blobStoreFromEnv(stack.env).getJson<SyncReport>(second.reportRef);
    expect(report.rows.every((r) => r.action === 'park')).toBe(true);
    // The initial load recorded what this run computes: no learner is read in full beyond the paged lists.
    const perLearnerReads = lms().kit.requests.entries.filter(
      (e) => e.method === 'GET' && /^\/api\/v2\/users\/[0-9a-f]{24}/.test(e.path),
    );
    expect(perLearnerReads.length).toBeLessThanOrEqual(Math.floor(0.05 * report.totals.hibobEmployees));
    readEveryRun = new Set(perLearnerReads.map((e) => /^\/api\/v2\/users\/([0-9a-f]{24})/.exec(e.path)![1]!));
    expect(report.apiCalls.lmsReads).toBeLessThanOrEqual(Math.floor(0.05 * report.totals.hibobEmployees));
  });

  it('a later full sync applies changes made in HiBob, reading in full only the learners of those who changed, and HiBob no more', async () => {
    const active = users().filter((u) => u.status === 'active' && u.externalIds.length === 1);
    const employeeOf = (u: UserDump) => u.externalIds[0]!.value;
    const departmentField = lms()
      .dump()
      .customFields.find((f) => f.name === 'Department')!;
    const departmentOf = (u: UserDump | undefined) =>
      u?.customValues.find((v) => v.customFieldId === departmentField._id)?.value;
    const [renamed, moved] = active;
    const elsewhere = active.find((u) => departmentOf(u) !== departmentOf(moved))!;
    // A surname (in 360Learning's user list) and a department (a custom value, which the list does not show).
    hibob().updateEmployee(employeeOf(renamed!), { surname: 'Renamed-In-HiBob' });
    hibob().updateEmployee(employeeOf(moved!), {
      department: hibob().getEmployee(employeeOf(elsewhere))!.department ?? null,
    });
    lms().kit.requests.clear();
    hibob().kit.requests.clear();
    // The employees' workflows read HiBob during the initial load: a search must begin more than the
    // read lag after that for its records to stand in for a read.
    await new Promise((resolve) => setTimeout(resolve, READ_LAG_SECONDS * 1000 + 500));

    const result = await run();

    expect(result.outcomes.failed ?? 0).toBe(0);
    const after = (u: UserDump) => users().find((x) => x._id === u._id);
    expect(after(renamed!)?.lastName).toBe('Renamed-In-HiBob');
    expect(departmentOf(after(moved!))).toBe(departmentOf(elsewhere));
    // Per-learner reads are those two employees' (their workflows read them in full) and those every run makes;
    // planning reads no one else's, and the managers' learners are taken from the run's snapshot.
    const readLearners = new Set(
      lms()
        .kit.requests.entries.filter((e) => e.method === 'GET')
        .map((e) => /^\/api\/v2\/users\/([0-9a-f]{24})/.exec(e.path)?.[1])
        .filter((id): id is string => id !== undefined),
    );
    const theirs = new Set([...readEveryRun, renamed!._id, moved!._id]);
    // Any other learner read is named with the requests that read it.
    expect(
      [...readLearners]
        .filter((id) => !theirs.has(id))
        .map((id) => ({
          id,
          paths: lms()
            .kit.requests.entries.filter((e) => e.path.includes(id))
            .map((e) => e.path),
        })),
    ).toEqual([]);
    // Each of the two is read in full once, by its workflow, except the user itself, which the run's list showed;
    // planning read neither. (Writing a custom value reads the values again, to keep the others.)
    const gets = (path: string) => lms().kit.requests.entries.filter((e) => e.method === 'GET' && e.path === path);
    for (const u of [renamed!, moved!]) {
      for (const part of ['roles', 'managers']) expect(gets(`/api/v2/users/${u._id}/${part}`)).toHaveLength(1);
      expect(gets(`/api/v2/users/${u._id}`)).toHaveLength(0);
    }
    // Their workflows took their records from the run's people search: HiBob was searched once, no one read alone.
    const hibobReads = hibob().kit.requests.entries.filter((e) => e.method === 'POST' && /\/people\//.test(e.path));
    expect(hibobReads.map((e) => e.path.replace(/^\/v1/, ''))).toEqual(['/people/search']);
  });
});

describe('full sync: effective dates ahead become timers in the employee workflows', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const run = () =>
    stack.client.workflow.execute(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/timers-${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
  const isoDate = (daysAhead: number) => new Date(Date.now() + daysAhead * 86_400_000).toISOString().slice(0, 10);
  /** Local midnight of `date` in London as a UTC instant, from the platform's own zone data. */
  const londonMidnight = (date: string) => {
    const noon = new Date(`${date}T12:00:00Z`);
    const offset = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'longOffset' })
      .formatToParts(noon)
      .find((p) => p.type === 'timeZoneName')!.value;
    const sign = offset.includes('-') ? -1 : 1;
    const [h, m] = (offset.replace('GMT', '') || '+00:00').slice(1).split(':').map(Number);
    return new Date(Date.parse(`${date}T00:00:00Z`) - sign * ((h ?? 0) * 60 + (m ?? 0)) * 60_000).toISOString();
  };
  const running = async (workflowId: string) => {
    const runs = [];
    for await (const w of stack.client.workflow.list({
      query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'`,
    }))
      runs.push(w);
    return runs;
  };

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'fullsync-timers',
      employees: 0,
      only: ['hibob', '360learning'],
      ...fastFullSync({ batchSize: 10, parallelism: 2, concurrencyPerBatch: 5 }),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('an employee starting in 3 weeks gets exactly one workflow holding the activation timer; one starting in 2 years gets none', async () => {
    const person = (firstName: string, startDate: string) =>
      hibob().createEmployee({
        firstName,
        surname: 'Future',
        email: `${firstName.toLowerCase()}@northwind.example`,
        startDate,
        site: 'London',
        department: 'Engineering',
        title: 'Software Engineer',
      });
    const soon = person('Soon', isoDate(21));
    const later = person('Later', isoDate(730));
    const soonId = `bobsync/demo-360/employee/${soon.id}`;
    const laterId = `bobsync/demo-360/employee/${later.id}`;
    // This stack has no webhook API: only the full sync sees them, as for people hired before go-live.
    await expect(stack.client.workflow.getHandle(soonId).describe()).rejects.toThrow(/not found/i);

    const result = await run();
    expect(result.timersArmed).toBe(1);
    expect(await running(soonId)).toHaveLength(1);
    const state = await stack.client.workflow.getHandle(soonId).query(stateQuery);
    expect(state.pendingTimer).toBe(londonMidnight(soon.startDate!));
    await expect(stack.client.workflow.getHandle(laterId).describe()).rejects.toThrow(/not found/i);

    // The next night's run keeps the one workflow and its one timer.
    const firstRun = (await stack.client.workflow.getHandle(soonId).describe()).runId;
    await run();
    const runs = await running(soonId);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.runId).toBe(firstRun);
    expect((await stack.client.workflow.getHandle(soonId).query(stateQuery)).pendingTimer).toBe(state.pendingTimer);
  });
});
