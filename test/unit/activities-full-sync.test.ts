/**
 * Full-sync activities run directly, outside a workflow.
 *
 * armEmployeeTimers, the full-sync activity that hands effective dates ahead to the employees'
 * own workflows: it reads the pending timers from the blob store and signal-with-starts each
 * employee's workflow with `scheduleRecheck`, heart-beating how many are done so that a retried
 * attempt carries on where the last one stopped instead of signalling everyone again.
 *
 * It runs in Temporal's mock activity context, whose client is a stand-in that records each
 * signal-with-start; the timers sit in a sealed file blob store in a temporary directory.
 *
 * The ending of a run: buildReport and saveSyncState write the same blobs however often they
 * run, and sendReportEmail mails a run's report once, to a real SMTP server on loopback, even
 * when it runs again.
 *
 * Approval modes: planFullSync decides what a run waits for, writePreview mails a whole plan for
 * approval, and confirmApprovedPlan, against the HiBob emulator over HTTP, takes out of an
 * approved plan the employees HiBob changed after the preview.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { ConnectionRegistry } from '../../src/activities/deps';
import { fullSyncActivities, mergeOutcomes, reportMessageId } from '../../src/activities/full-sync';
import { BlobNotFoundError, FileBlobStore, type BlobRef, type BlobStore } from '../../src/blobstore/blob-store';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import {
  scheduleRecheckSignal,
  type EmployeeSyncInput,
  type RecheckRequest,
} from '../../src/workflows/employee-sync-api';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import type { ApprovalState, ConfirmedPlan, FullSyncResult, PlannedSync } from '../../src/workflows/full-sync-api';
import { employeeWorkflowId } from '../../src/workflows/ids';
import type { SyncReport } from '../../src/reports/types';
import { sampleReport } from '../fixtures/reports/sample-report';
import { testCodecEnv } from '../support/codec';
import { startSmtpSink, type SmtpSink } from '../support/smtp';
import ExcelJS from 'exceljs';
import { parse, stringify } from 'yaml';
import type { BobsyncConfig } from '../../src/config/schema';
import { embeddedConfigYaml } from '../../packages/local/stack/embedded';
import { DEMO_CREDENTIALS } from '../../packages/local/stack/emulators';
import type { LmsSnapshot } from '../../src/domain/full-plan';
import { hibobFieldsFor } from '../../src/domain/normalise';
import type { RunningServer } from '../../packages/local/emulators/common/server';
import { DEFAULT_SITES, DEPARTMENTS, HibobEmulator } from '../../packages/local/emulators/hibob';
import type { HibobEmployeeSeed } from '../../packages/local/emulators/hibob/types';
import type { PlanApproval } from '../../src/reports/types';
import { GROUP_DEFAULT, GROUP_ENG, GROUP_LONDON, GROUP_SALES } from './domain-fixtures';

const CONNECTION = 'acme-360';
const TASK_QUEUE = 'bobsync';

const connectionYaml = (extra = '') => `
connections:
  - name: ${CONNECTION}
    source:
      type: hibob
      baseUrl: http://127.0.0.1:9/v1
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_SERVICE_USER_TOKEN }
    destination:
      type: 360learning
      baseUrl: http://127.0.0.1:9
      clientId: acme
      clientSecret: { env: LEARNING360_CLIENT_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
${extra}`;
const CONFIG = parseConfig(connectionYaml(), 'test config');
/** The same connection, mailing its reports. */
const MAILING_CONFIG = parseConfig(
  connectionYaml(`    notifications:
      to: [hr@acme.example, it@acme.example]
      from: bobsync@acme.example
`),
  'test config',
);

/** Five employees whose status changes within the horizon, in the order the plan listed them. */
const TIMERS = [
  { employeeId: '3332883894235038401', at: '2025-06-20T23:00:00.000Z', reason: 'starts on 2025-06-21' },
  { employeeId: '3332883894235038402', at: '2025-06-30T22:00:00.000Z', reason: 'last day of work 2025-06-30' },
  { employeeId: '3332883894235038403', at: '2025-07-01T04:00:00.000Z', reason: 'starts on 2025-07-01' },
  { employeeId: '3332883894235038404', at: '2025-07-14T14:00:00.000Z', reason: 'leave ends 2025-07-14' },
  { employeeId: '3332883894235038405', at: '2025-07-31T23:00:00.000Z', reason: 'terminated on 2025-08-01' },
];

interface SignalWithStart {
  workflowType: string;
  workflowId: string;
  taskQueue: string;
  args: EmployeeSyncInput[];
  signal: unknown;
  signalArgs: RecheckRequest[];
}

/** A client whose signal-with-start only records the call; `failOn` makes the nth call (1-based) fail. */
function standInClient(failOn?: number) {
  const calls: SignalWithStart[] = [];
  const client = {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => R): R => fn(),
    workflow: {
      signalWithStart: async (
        workflowType: string | ((...args: never[]) => unknown),
        options: Omit<SignalWithStart, 'workflowType'>,
      ) => {
        // The activity passes the workflow function; Temporal starts it by its name.
        calls.push({ workflowType: typeof workflowType === 'string' ? workflowType : workflowType.name, ...options });
        if (calls.length === failOn) throw new Error('Temporal frontend unavailable');
        return { workflowId: options.workflowId };
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

/** A mock activity context (a retry when `info` carries heartbeat details) and the heartbeats it reports. */
function activityEnv(client: Client, info: Partial<Info> = {}) {
  const env = new MockActivityEnvironment(
    { activityType: 'armEmployeeTimers', ...info },
    { client, logger: new DefaultLogger('ERROR') },
  );
  const heartbeats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => heartbeats.push(details));
  return { env, heartbeats };
}

const signalled = (calls: SignalWithStart[]) => calls.map((c) => c.workflowId);
const workflowsOf = (timers: typeof TIMERS) => timers.map((t) => employeeWorkflowId(CONNECTION, t.employeeId));

let dir: string;
let blobs: FileBlobStore;
let ref: BlobRef;
let armEmployeeTimers: ReturnType<typeof fullSyncActivities>['armEmployeeTimers'];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bobsync-full-sync-'));
  blobs = new FileBlobStore(dir, codecFromEnv(testCodecEnv));
  ref = await blobs.putJson(`runs/${CONNECTION}/run-1/timers.json`, TIMERS);
  ({ armEmployeeTimers } = fullSyncActivities(new ConnectionRegistry({ config: CONFIG, env: {} }), blobs, {}));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('mergeOutcomes', () => {
  const at = '2026-12-03T10:00:00.000Z';
  const created: SyncOutcome = {
    at,
    trigger: 'full sync',
    result: 'applied',
    detail: 'created invited learner 6a00000000000000000000e1',
    operations: ['create', 'linkExternalId'],
    learnerId: '6a00000000000000000000e1',
    deferredManager: true,
  };

  it('keeps the learner the first sync created when the second finds nothing to do', () => {
    // The workflow's own retry timer added the manager before the run synced the employee again.
    const second: SyncOutcome = { at, trigger: 'full sync', result: 'unchanged', detail: 'in step', operations: [] };
    expect(mergeOutcomes(created, second)).toEqual({
      ...second,
      result: 'applied',
      operations: ['create', 'linkExternalId'],
      detail: 'created invited learner 6a00000000000000000000e1; in step',
      learnerId: '6a00000000000000000000e1',
    });
  });

  it('adds up the operations and takes the second result and learner when the second sync wrote', () => {
    const second: SyncOutcome = {
      at,
      trigger: 'full sync',
      result: 'applied',
      detail: 'manager set',
      operations: ['addManager'],
      learnerId: '6a00000000000000000000e1',
    };
    expect(mergeOutcomes(created, second)).toMatchObject({
      result: 'applied',
      operations: ['create', 'linkExternalId', 'addManager'],
      learnerId: '6a00000000000000000000e1',
    });
    expect(mergeOutcomes(undefined, second)).toBe(second);
  });
});

describe('armEmployeeTimers', () => {
  it('signal-with-starts every employee’s workflow with its recheck, in plan order, heart-beating the count done', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client);

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);

    expect(calls).toEqual(
      TIMERS.map(({ employeeId, at, reason }) => ({
        workflowType: 'employeeSync',
        workflowId: employeeWorkflowId(CONNECTION, employeeId),
        taskQueue: TASK_QUEUE,
        args: [{ connection: CONNECTION, employeeId, taskQueue: TASK_QUEUE }],
        signal: scheduleRecheckSignal,
        signalArgs: [{ at, reason }],
      })),
    );
    expect(heartbeats).toEqual([1, 2, 3, 4, 5]);
  });

  it('on a retried attempt, signals only the employees after the last heartbeat', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 2, heartbeatDetails: 2 });

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);

    expect(signalled(calls)).toEqual(workflowsOf(TIMERS.slice(2)));
    expect(calls.map((c) => c.signalArgs)).toEqual(TIMERS.slice(2).map(({ at, reason }) => [{ at, reason }]));
    expect(heartbeats).toEqual([3, 4, 5]);
  });

  it('after a failure part-way, the retry resumes at the employee that failed', async () => {
    const first = standInClient(4);
    const failed = activityEnv(first.client);
    await expect(failed.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).rejects.toThrow(
      'Temporal frontend unavailable',
    );
    // The fifth was already in flight when the fourth failed.
    expect(signalled(first.calls)).toEqual(workflowsOf(TIMERS));
    // The fourth was not acknowledged, so progress stops at three.
    expect(failed.heartbeats).toEqual([1, 2, 3]);

    const second = standInClient();
    const retried = activityEnv(second.client, { attempt: 2, heartbeatDetails: failed.heartbeats.at(-1) });
    await expect(retried.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);
    expect(signalled(second.calls)).toEqual(workflowsOf(TIMERS.slice(3)));
    expect(retried.heartbeats).toEqual([4, 5]);
  });

  it('keeps several signals in flight, at most eight, and counts them done in plan order', async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({
      employeeId: `33328838942350${String(i).padStart(5, '0')}`,
      at: '2025-07-01T04:00:00.000Z',
      reason: 'starts on 2025-07-01',
    }));
    const manyRef = await blobs.putJson(`runs/${CONNECTION}/run-2/timers.json`, many);
    let inFlight = 0;
    let most = 0;
    const started: string[] = [];
    const client = {
      withAbortSignal: <R>(_signal: AbortSignal, fn: () => R): R => fn(),
      workflow: {
        signalWithStart: async (_type: unknown, options: { workflowId: string }) => {
          started.push(options.workflowId);
          most = Math.max(most, ++inFlight);
          // Later ones answer sooner: the count must still follow the plan's order.
          await new Promise((resolve) => setTimeout(resolve, 30 - (started.length % 8) * 3));
          inFlight -= 1;
          return { workflowId: options.workflowId };
        },
      },
    } as unknown as Client;
    const { env, heartbeats } = activityEnv(client);

    await expect(env.run(armEmployeeTimers, CONNECTION, manyRef, TASK_QUEUE)).resolves.toBe(30);
    expect(started).toEqual(workflowsOf(many));
    expect(most).toBe(8);
    expect(heartbeats).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('signals nobody again when the last attempt had reached the end of the list', async () => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 3, heartbeatDetails: TIMERS.length });

    await expect(env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);
    expect(calls).toEqual([]);
    expect(heartbeats).toEqual([]);
  });

  it.each([
    ['no details', undefined],
    ['a negative count', -1],
    ['details that are not a count', { planned: 3 }],
    ['a count as text', '2'],
  ])('starts from the first employee when the heartbeat has %s', async (_what, heartbeatDetails: unknown) => {
    const { client, calls } = standInClient();
    const { env, heartbeats } = activityEnv(client, { attempt: 2, heartbeatDetails });

    await env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE);
    expect(signalled(calls)).toEqual(workflowsOf(TIMERS));
    expect(heartbeats).toEqual([1, 2, 3, 4, 5]);
  });
});

const RUN_KEY = `runs/${CONNECTION}/2026-03-02T06-00-00-000Z-0195a1b2`;

/** A mock activity context for one of the report activities, on attempt `attempt`. */
const reportEnv = (activityType: string, attempt = 1) =>
  new MockActivityEnvironment({ activityType, attempt }, { logger: new DefaultLogger('ERROR') });
const built = (result: Promise<unknown>) => result as Promise<FullSyncResult>;

describe('buildReport and saveSyncState', () => {
  /** Three employees: one unchanged, one updated, one whose creation failed (and had a fingerprint from an earlier run). */
  async function storedRun() {
    const planRef = await blobs.putJson(`${RUN_KEY}/plan.json`, {
      rows: [
        {
          employeeId: 'emp-1',
          action: 'update',
          changes: [],
          operations: ['updateFields'],
          reason: 'job changed',
          fingerprint: 'f1',
        },
        {
          employeeId: 'emp-2',
          action: 'create',
          changes: [],
          operations: ['create'],
          reason: 'new hire',
          fingerprint: 'f2',
        },
      ],
      unchanged: { 'emp-3': 'f3' },
    });
    const outcomes: Record<string, SyncOutcome> = {
      'emp-1': {
        at: '2026-03-02T06:01:00.000Z',
        trigger: 'full sync',
        result: 'applied',
        detail: '',
        operations: ['updateFields'],
      },
      'emp-2': {
        at: '2026-03-02T06:01:00.000Z',
        trigger: 'full sync',
        result: 'failed',
        detail: '409 from 360Learning',
        operations: [],
      },
    };
    const outcomesRef = await blobs.putJson(`${RUN_KEY}/outcomes-0.json`, outcomes);
    await blobs.putJson(`state/${CONNECTION}/full-sync.json`, {
      hibobEmployees: 2,
      fingerprints: { 'emp-2': 'old', 'emp-9': 'f9' },
    });
    const plan: PlannedSync = {
      runKey: RUN_KEY,
      planRef,
      hibobEmployees: 3,
      lmsLearners: 2,
      byAction: { noop: 1, update: 1, create: 1 },
      batches: [],
      heldBatches: [],
      toApply: 2,
      heldCount: 0,
      settings: { parallelism: 1, concurrencyPerBatch: 1, approvalTimeoutMs: 1 },
      safeguard: { tripped: false },
      apiCalls: { hibob: 1, lmsReads: 0 },
    };
    const meta = {
      connection: CONNECTION,
      workflowId: 'full-sync/acme-360',
      runId: '0195a1b2-7c3d-7e4f-9a0b-1c2d3e4f5a6b',
      dryRun: false,
      startedAt: '2026-03-02T06:00:00.000Z',
      finishedAt: '2026-03-02T06:04:00.000Z',
      trigger: 'test',
    };
    return { plan, results: [{ ref: outcomesRef, outcomes: { applied: 1, failed: 1 }, writes: 1 }], meta };
  }

  it('writes the same report blobs, under the same keys, however often it runs', async () => {
    const { buildReport } = fullSyncActivities(new ConnectionRegistry({ config: CONFIG, env: {} }), blobs, {});
    const { plan, results, meta } = await storedRun();
    // The workbook is compared by its cells: its zip entries carry the time they were written.
    const cells = async (xlsx: Buffer) => {
      const book = new ExcelJS.Workbook();
      await book.xlsx.load(xlsx as unknown as ArrayBuffer);
      return book.worksheets.map((sheet) => [sheet.name, sheet.getSheetValues()]);
    };
    const files = async () => {
      const [json, csv, xlsx] = await Promise.all(
        ['report.json', 'report.csv', 'report.xlsx'].map((name) => blobs.getBytes(`${RUN_KEY}/${name}`)),
      );
      return [json, csv, await cells(xlsx!)];
    };

    const first = await built(
      reportEnv('buildReport').run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard),
    );
    const written = await files();
    const second = await built(
      reportEnv('buildReport', 2).run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard),
    );

    expect(second).toEqual(first);
    expect(await files()).toEqual(written);
    expect(first).toEqual({
      connection: CONNECTION,
      dryRun: false,
      reportRef: expect.objectContaining({ key: `${RUN_KEY}/report.json` }),
      byAction: plan.byAction,
      outcomes: { unchanged: 1, applied: 1, failed: 1 },
      safeguard: plan.safeguard,
      durationMs: 240_000,
    });
    const report = await blobs.getJson<SyncReport>(first.reportRef);
    expect(report.finishedAt).toBe(meta.finishedAt);
    expect(report.rows.map((r) => [r.employeeId, r.outcome])).toEqual([
      ['emp-1', 'applied'],
      ['emp-2', 'failed'],
    ]);
  });

  it('keeps the fingerprints of employees now in step and forgets the failed one, the same on a second run', async () => {
    const { buildReport, saveSyncState } = fullSyncActivities(
      new ConnectionRegistry({ config: CONFIG, env: {} }),
      blobs,
      {},
    );
    const { plan, results, meta } = await storedRun();
    const { reportRef } = await built(
      reportEnv('buildReport').run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard),
    );
    const state = () => blobs.getJson(`state/${CONNECTION}/full-sync.json`);

    await reportEnv('saveSyncState').run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    const saved = await state();
    expect(saved).toEqual({
      hibobEmployees: 3,
      finishedAt: meta.finishedAt,
      fingerprints: { 'emp-1': 'f1', 'emp-3': 'f3', 'emp-9': 'f9' },
    });

    await reportEnv('saveSyncState', 2).run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    expect(await state()).toEqual(saved);
  });

  it('saves no state for a dry run', async () => {
    const { buildReport, saveSyncState } = fullSyncActivities(
      new ConnectionRegistry({ config: CONFIG, env: {} }),
      blobs,
      {},
    );
    const { plan, results, meta } = await storedRun();
    const { reportRef } = await built(
      reportEnv('buildReport').run(
        buildReport,
        CONNECTION,
        RUN_KEY,
        plan,
        results,
        { ...meta, dryRun: true },
        plan.safeguard,
      ),
    );

    await reportEnv('saveSyncState').run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    expect(await blobs.getJson(`state/${CONNECTION}/full-sync.json`)).toEqual({
      hibobEmployees: 2,
      fingerprints: { 'emp-2': 'old', 'emp-9': 'f9' },
    });
  });
});

describe('sendReportEmail', () => {
  let smtp: SmtpSink;
  let reportRef: BlobRef;
  const report = sampleReport();
  const messageId = reportMessageId(report.workflowId, report.runId);
  const marker = `${RUN_KEY}/report-mailed.json`;

  beforeAll(async () => {
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp?.close();
  });
  beforeEach(async () => {
    smtp.messages.length = 0;
    reportRef = await blobs.putJson(`${RUN_KEY}/report.json`, report);
  });

  const sendReportEmailWith = ({
    store = blobs,
    mail = true,
    config = MAILING_CONFIG,
  }: { store?: BlobStore; mail?: boolean; config?: typeof CONFIG } = {}) => {
    const env = mail ? { BOBSYNC_SMTP_URL: smtp.url } : {};
    return fullSyncActivities(new ConnectionRegistry({ config, env }), store, env).sendReportEmail;
  };

  it('sends the report once when it runs twice, with a Message-ID of the run', async () => {
    const sendReportEmail = sendReportEmailWith();

    await expect(reportEnv('sendReportEmail').run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual({
      status: 'sent',
      messageId,
    });
    await expect(reportEnv('sendReportEmail', 2).run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual(
      { status: 'alreadySent', messageId },
    );

    // Let a second message arrive, were one on its way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail!.messageId).toBe(messageId);
    expect(mail!.subject).toContain(CONNECTION);
    expect(mail!.to).toMatchObject({ text: 'hr@acme.example, it@acme.example' });
    expect(mail!.attachments.map((a) => a.filename?.replace(/.*\./, ''))).toEqual(['csv', 'xlsx']);
    expect(await blobs.getJson(marker)).toEqual({
      messageId,
      sentAt: expect.any(String),
      to: ['hr@acme.example', 'it@acme.example'],
    });
  });

  it('when the marker was lost after a send, the second copy carries the same Message-ID, for the receiver to drop', async () => {
    const sendReportEmail = sendReportEmailWith();
    await reportEnv('sendReportEmail').run(sendReportEmail, CONNECTION, RUN_KEY, reportRef);
    await blobs.delete(marker);
    await reportEnv('sendReportEmail', 2).run(sendReportEmail, CONNECTION, RUN_KEY, reportRef);

    const mails = await smtp.waitFor(2);
    expect(mails.map((m) => m.messageId)).toEqual([messageId, messageId]);
  });

  it('another run gets another Message-ID', () => {
    expect(reportMessageId(report.workflowId, 'another-run')).not.toBe(messageId);
    expect(messageId).toMatch(/^<[^<>@\s]+@[^<>@\s]+>$/);
  });

  it('sends nothing when the store cannot tell whether the report went out', async () => {
    const unreadable: BlobStore = {
      putJson: (key, value) => blobs.putJson(key, value),
      putBytes: (key, data) => blobs.putBytes(key, data),
      getBytes: (r) => blobs.getBytes(r),
      delete: (key) => blobs.delete(key),
      getJson: async <T>(r: BlobRef | string): Promise<T> => {
        if ((typeof r === 'string' ? r : r.key) === marker) throw new Error('blob store unavailable');
        return blobs.getJson<T>(r);
      },
    };

    await expect(
      reportEnv('sendReportEmail').run(sendReportEmailWith({ store: unreadable }), CONNECTION, RUN_KEY, reportRef),
    ).rejects.toThrow('blob store unavailable');
    expect(smtp.messages).toEqual([]);
  });

  it.each([
    ['no SMTP server', false, MAILING_CONFIG],
    ['no recipients', true, CONFIG],
  ])('mails nothing and marks nothing with %s', async (_what, mail, config) => {
    const sendReportEmail = sendReportEmailWith({ mail, config });

    await expect(reportEnv('sendReportEmail').run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual({
      status: 'notConfigured',
    });
    expect(smtp.messages).toEqual([]);
    await expect(blobs.getJson(marker)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});

describe('approval modes against the HiBob emulator', () => {
  const DEMO = 'demo-360';
  const NOW = new Date('2025-06-16T12:00:00Z');
  const LONDON = DEFAULT_SITES.find((s) => s.name === 'London')!;
  const [ANNA, BEN, CARA, DAN] = [
    '3332883894235038601',
    '3332883894235038602',
    '3332883894235038603',
    '3332883894235038604',
  ];
  /** 360Learning is never called: its client is only made for the read counter. */
  const env = {
    HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
    LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
  };
  /** Nobody in the LMS yet: everyone is a creation, planned from the snapshot alone. */
  const EMPTY_LMS: LmsSnapshot = { users: [], externalIds: [], groupRoles: [], complete: true };

  let emulator: HibobEmulator;
  let server: RunningServer;
  let smtp: SmtpSink;

  const person = (id: string, firstName: string, surname: string): HibobEmployeeSeed => ({
    id,
    firstName,
    surname,
    email: `${firstName.toLowerCase()}.${surname.toLowerCase()}@northwind.example`,
    department: DEPARTMENTS.platform,
    siteId: LONDON.id,
    startDate: '2021-03-01',
    lifecycleStatus: 'employed',
    title: null,
    reportsTo: null,
    terminationDate: null,
    lastDayOfWork: null,
  });

  /** The demo 360Learning connection with the approval mode given (none: the destination's default). */
  function demoConfig(approval?: string, notifications?: object): BobsyncConfig {
    const groups = {
      root: GROUP_DEFAULT,
      byName: { Engineering: GROUP_ENG, Sales: GROUP_SALES, London: GROUP_LONDON },
    };
    const raw = parse(embeddedConfigYaml(server.url, 'http://127.0.0.1:9', groups)) as {
      connections: { name: string; safety?: object }[];
    };
    raw.connections = raw.connections
      .filter((c) => c.name === DEMO)
      .map((c) => ({
        ...c,
        safety: { ...c.safety, ...(approval ? { approval } : {}) },
        ...(notifications ? { notifications } : {}),
      }));
    return parseConfig(stringify(raw), 'demo config');
  }

  const activitiesFor = (config: BobsyncConfig, extraEnv: NodeJS.ProcessEnv = {}) =>
    fullSyncActivities(new ConnectionRegistry({ config, env: { ...env, ...extraEnv } }), blobs, extraEnv);

  const runActivity = <P extends unknown[], R>(fn: (...args: P) => Promise<R>, ...args: P): Promise<R> =>
    new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run<P, R, typeof fn>(fn, ...args);

  /** Snapshots HiBob, and plans against an empty LMS, as the full sync does. */
  async function plan(activities: ReturnType<typeof activitiesFor>, runKey = RUN_KEY) {
    const hibob = await runActivity(activities.snapshotHibob, DEMO, runKey);
    const lmsRef = await blobs.putJson(`${runKey}/lms.json`, EMPTY_LMS);
    return runActivity(activities.planFullSync, DEMO, runKey, hibob.ref, lmsRef, false);
  }

  const batchIds = async (refs: BlobRef[]) =>
    (await Promise.all(refs.map((r) => blobs.getJson<string[]>(r)))).flat().sort();

  beforeAll(async () => {
    emulator = new HibobEmulator({
      serviceUsers: [{ id: DEMO_CREDENTIALS.hibobServiceUserId, token: DEMO_CREDENTIALS.hibobToken }],
      lifecycleTickMs: 0,
    });
    server = await emulator.start(0);
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });
  beforeEach(() => {
    emulator.reset();
    emulator.kit.clock.set(NOW);
    emulator.setReadLag(0);
    emulator.seed([
      person(ANNA, 'Anna', 'Berg'),
      person(BEN, 'Ben', 'Cole'),
      person(CARA, 'Cara', 'Diaz'),
      person(DAN, 'Dan', 'Eze'),
    ]);
    smtp.messages.length = 0;
  });

  it("plans from the population its worker just stored; another worker reads the snapshot's blob", async () => {
    const config = demoConfig('never');
    const activities = activitiesFor(config);
    const hibob = await runActivity(activities.snapshotHibob, DEMO, RUN_KEY);
    const lmsRef = await blobs.putJson(`${RUN_KEY}/lms.json`, EMPTY_LMS);
    await blobs.delete(hibob.ref.key);
    const planned = await runActivity(activities.planFullSync, DEMO, RUN_KEY, hibob.ref, lmsRef, false);
    expect(planned.byAction.create).toBe(4);
    // Taken once: planning again on the same worker, or on another, reads the blob.
    await expect(runActivity(activities.planFullSync, DEMO, RUN_KEY, hibob.ref, lmsRef, false)).rejects.toThrow(
      BlobNotFoundError,
    );
    await expect(
      runActivity(activitiesFor(config).planFullSync, DEMO, RUN_KEY, hibob.ref, lmsRef, false),
    ).rejects.toThrow(BlobNotFoundError);
  });

  it("stores HiBob's answer as it came; a snapshot stored as an array of records still plans", async () => {
    const config = demoConfig('never');
    const activities = activitiesFor(config);
    const hibob = await runActivity(activities.snapshotHibob, DEMO, RUN_KEY);
    const { source } = config.connections[0]!;
    const answer = await fetch(`${source.baseUrl}/people/search`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${DEMO_CREDENTIALS.hibobServiceUserId}:${DEMO_CREDENTIALS.hibobToken}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        fields: hibobFieldsFor(config.connections[0]!.mapping),
        showInactive: true,
        humanReadable: 'APPEND',
      }),
    });
    expect((await blobs.getBytes(hibob.ref)).toString('utf8')).toBe(await answer.text());

    const records = (JSON.parse((await blobs.getBytes(hibob.ref)).toString('utf8')) as { employees: unknown[] })
      .employees;
    const legacy = await blobs.putJson(`${RUN_KEY}/legacy/hibob.json`, records);
    const lmsRef = await blobs.putJson(`${RUN_KEY}/lms.json`, EMPTY_LMS);
    const planned = await runActivity(activitiesFor(config).planFullSync, DEMO, RUN_KEY, legacy, lmsRef, false);
    expect(planned.hibobEmployees).toBe(4);
    expect(planned.byAction.create).toBe(4);
  });

  it('stores the steady memo again only when it differs from the one it recalled', async () => {
    const memoKey = `state/${DEMO}/steady-memo.json`;
    await blobs.delete(memoKey).catch(() => undefined);
    await plan(activitiesFor(demoConfig('never')), 'memo-1');
    const first = await blobs.getJson<Record<string, unknown>>(memoKey);
    // Marked, so that a rewrite shows.
    await blobs.putJson(memoKey, { ...first, marked: true });
    await plan(activitiesFor(demoConfig('never')), 'memo-2');
    expect(await blobs.getJson<Record<string, unknown>>(memoKey)).toEqual({ ...first, marked: true });
    // Under another approval mode the memo's settings differ: it is made and stored anew.
    await plan(activitiesFor(demoConfig('always')), 'memo-3');
    const third = await blobs.getJson<Record<string, unknown>>(memoKey);
    expect(third.marked).toBeUndefined();
    expect(third.key).not.toBe(first.key);
  });

  it("leaves beside each batch the records it was planned from and when HiBob's search began", async () => {
    const before = Date.now();
    const planned = await plan(activitiesFor(demoConfig('never')));
    expect(planned.batches).not.toHaveLength(0);
    for (const batch of planned.batches) {
      const ids = await blobs.getJson<string[]>(batch);
      const sources = await blobs.getJson<{ readAt: string; employees: Record<string, { record: { id: string } }> }>(
        batch.key.replace(/\.json$/, '.sources.json'),
      );
      expect(Date.parse(sources.readAt)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(sources.readAt)).toBeLessThanOrEqual(Date.now());
      expect(Object.keys(sources.employees).sort()).toEqual([...ids].sort());
      for (const id of ids) expect(sources.employees[id]!.record.id).toBe(id);
    }
  });

  it('planFullSync records, on each planned row, the digest of the HiBob employee it was planned from', async () => {
    const planned = await plan(activitiesFor(demoConfig('always')));
    const stored = await blobs.getJson<{ rows: { employeeId: string; sourceDigest?: string }[] }>(planned.planRef);
    expect(stored.rows.map((r) => r.employeeId).sort()).toEqual([ANNA, BEN, CARA, DAN].sort());
    for (const row of stored.rows) expect(row.sourceDigest).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(stored.rows.map((r) => r.sourceDigest)).size).toBe(4);
  });

  it('confirmApprovedPlan leaves out the employees HiBob changed or no longer returns since the preview, and keeps the rest as planned', async () => {
    const activities = activitiesFor(demoConfig('always'));
    const planned = await plan(activities);
    expect(planned.approval).toEqual({ scope: 'plan', reason: 'approval mode always' });
    expect(await batchIds([...planned.batches, ...planned.heldBatches])).toEqual([ANNA, BEN, CARA, DAN].sort());

    // Between the preview and the approval: Ben's surname changes, Cara is deleted.
    emulator.updateEmployee(BEN, { surname: 'Cole-Martin' });
    emulator.deleteEmployee(CARA);

    const fresh = await runActivity(activities.snapshotHibob, DEMO, `${RUN_KEY}/approved`);
    const confirmed: ConfirmedPlan = await runActivity(
      activities.confirmApprovedPlan,
      DEMO,
      RUN_KEY,
      planned,
      fresh.ref,
    );

    expect(confirmed).toMatchObject({ toApply: 2, changed: 2 });
    expect(await batchIds(confirmed.batches)).toEqual([ANNA, DAN].sort());
    expect(confirmed.batches.every((b) => b.key.startsWith(`${RUN_KEY}/approved-`))).toBe(true);
    expect(await blobs.getJson(confirmed.changedRef)).toEqual({
      [BEN]: 'the HiBob record changed after the preview',
      [CARA]: 'HiBob no longer returns this employee',
    });

    // A retry writes the same answer under the same keys.
    const again = await runActivity(activities.confirmApprovedPlan, DEMO, RUN_KEY, planned, fresh.ref);
    expect(again).toEqual(confirmed);
  });

  it('confirmApprovedPlan keeps everyone when HiBob is as it was', async () => {
    const activities = activitiesFor(demoConfig('always'));
    const planned = await plan(activities);
    const fresh = await runActivity(activities.snapshotHibob, DEMO, `${RUN_KEY}/approved`);
    const confirmed = await runActivity(activities.confirmApprovedPlan, DEMO, RUN_KEY, planned, fresh.ref);
    expect(confirmed).toMatchObject({ toApply: 4, changed: 0 });
    expect(await batchIds(confirmed.batches)).toEqual([ANNA, BEN, CARA, DAN].sort());
  });

  it('the report lists the employees changed since approval, and the state leaves them for the next run', async () => {
    const activities = activitiesFor(demoConfig('always'));
    const planned = await plan(activities);
    emulator.updateEmployee(BEN, { surname: 'Cole-Martin' });
    const fresh = await runActivity(activities.snapshotHibob, DEMO, `${RUN_KEY}/approved`);
    const confirmed = await runActivity(activities.confirmApprovedPlan, DEMO, RUN_KEY, planned, fresh.ref);
    const applied: SyncOutcome = {
      at: NOW.toISOString(),
      trigger: 'full sync',
      result: 'applied',
      detail: 'created',
      operations: ['create'],
    };
    const outcomesRef = await blobs.putJson(
      `${RUN_KEY}/outcomes-0.json`,
      Object.fromEntries([ANNA, CARA, DAN].map((id) => [id, applied])),
    );
    const approval: ApprovalState = {
      ...planned.approval!,
      decision: 'approved',
      decidedBy: 'hr-lead',
      changedSinceApproval: confirmed.changed,
      changedRef: confirmed.changedRef,
    };
    const meta = {
      connection: DEMO,
      workflowId: 'full-sync/demo-360',
      runId: 'run-1',
      dryRun: false,
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      trigger: 'test',
    };

    const built = await runActivity(
      activities.buildReport,
      DEMO,
      RUN_KEY,
      planned,
      [{ ref: outcomesRef, outcomes: { applied: 3 }, writes: 3 }],
      meta,
      planned.safeguard,
      approval,
    );
    const report = await blobs.getJson<SyncReport>(built.reportRef);
    expect(report.rows.map((r) => [r.employeeId, r.outcome]).sort()).toEqual(
      [
        [ANNA, 'applied'],
        [BEN, 'changedSinceApproval'],
        [CARA, 'applied'],
        [DAN, 'applied'],
      ].sort(),
    );
    expect(report.rows.find((r) => r.employeeId === BEN)?.detail).toBe(
      'changed since approval: the HiBob record changed after the preview; left for the next run',
    );
    expect(report.approval).toEqual({
      scope: 'plan',
      reason: 'approval mode always',
      decision: 'approved',
      decidedBy: 'hr-lead',
      changedSinceApproval: 1,
    });
    expect(built.outcomes).toMatchObject({ applied: 3, changedSinceApproval: 1 });
    expect((await blobs.getBytes(`${RUN_KEY}/report.csv`)).toString('utf8')).toContain(',changed since approval,');

    await runActivity(activities.saveSyncState, DEMO, planned.planRef, built.reportRef);
    const state = await blobs.getJson<{ fingerprints: Record<string, string> }>(`state/${DEMO}/full-sync.json`);
    expect(Object.keys(state.fingerprints).sort()).toEqual([ANNA, CARA, DAN].sort());
  });

  it('a whole plan nobody approved is reported as not applied and saves no state', async () => {
    const activities = activitiesFor(demoConfig('firstRun'));
    const planned = await plan(activities);
    expect(planned.approval).toEqual({ scope: 'plan', reason: 'first run of this connection, approval mode firstRun' });
    const meta = {
      connection: DEMO,
      workflowId: 'full-sync/demo-360',
      runId: 'run-1',
      dryRun: false,
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      trigger: 'test',
    };

    const built = await runActivity(activities.buildReport, DEMO, RUN_KEY, planned, [], meta, planned.safeguard, {
      ...planned.approval!,
      decision: 'rejected',
      decidedBy: 'hr-lead',
    });
    const report = await blobs.getJson<SyncReport>(built.reportRef);
    expect(
      report.rows.every((r) => r.outcome === 'skipped' && r.detail === 'not applied: the plan was rejected by hr-lead'),
    ).toBe(true);

    await runActivity(activities.saveSyncState, DEMO, planned.planRef, built.reportRef);
    await expect(blobs.getJson(`state/${DEMO}/full-sync.json`)).rejects.toBeInstanceOf(BlobNotFoundError);
    // Still the first run: the next one asks again.
    expect((await plan(activities, `${RUN_KEY}-next`)).approval?.scope).toBe('plan');
  });

  it.each<[string, string | undefined, boolean, PlanApproval]>([
    [
      'firstRun asks for the whole plan on the first run',
      'firstRun',
      false,
      { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' },
    ],
    [
      'firstRun asks nothing once a run has finished',
      'firstRun',
      true,
      { scope: 'none', reason: 'no safeguard tripped' },
    ],
    [
      'the 360Learning default (onSafeguard) asks nothing on a first run without a tripped safeguard',
      undefined,
      false,
      { scope: 'none', reason: 'no safeguard tripped' },
    ],
  ])('planFullSync: %s', async (_what, mode, hasState, expected) => {
    if (hasState)
      await blobs.putJson(`state/${DEMO}/full-sync.json`, {
        hibobEmployees: 4,
        finishedAt: NOW.toISOString(),
        fingerprints: {},
      });
    const planned = await plan(activitiesFor(demoConfig(mode)));
    expect(planned.approval).toEqual(expected);
  });

  it('planFullSync asks nothing when the plan has nothing to apply', async () => {
    emulator.reset();
    const planned = await plan(activitiesFor(demoConfig('always')));
    expect(planned.toApply).toBe(0);
    expect(planned.approval).toEqual({ scope: 'none', reason: 'nothing to apply' });
  });

  it('writePreview mails a whole plan for approval to the connection’s recipients, with the spreadsheet and the command', async () => {
    const config = demoConfig('always', { to: ['hr@northwind.example'], from: 'bobsync@northwind.example' });
    const activities = activitiesFor(config, { BOBSYNC_SMTP_URL: smtp.url });
    const planned = await plan(activities);
    const meta = {
      connection: DEMO,
      workflowId: 'bobsync/demo-360/full-sync/run-1',
      runId: 'run-1',
      dryRun: false,
      startedAt: NOW.toISOString(),
      trigger: 'test',
    };

    const refs = await runActivity(
      activities.writePreview,
      DEMO,
      RUN_KEY,
      planned.planRef,
      meta,
      planned.safeguard,
      planned.approval,
    );

    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toMatchObject({ text: 'hr@northwind.example' });
    expect(mail!.subject).toBe('[bobsync] demo-360 full sync needs approval of the whole plan: 4 to create');
    expect(mail!.text).toContain('bobsync approve bobsync/demo-360/full-sync/run-1');
    const xlsx = mail!.attachments.find((a) => a.filename?.endsWith('.xlsx'))!;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.content as never);
    expect(book.worksheets.map((w) => w.name)).toEqual([
      'Summary',
      'To be added',
      'To be reactivated',
      'To be updated',
      'To be archived',
      'Errors',
      'Employees',
    ]);
    expect(book.getWorksheet('To be added')!.rowCount).toBe(1 + 4);
    // The stored preview is the same workbook's data, without the plan's bookkeeping.
    expect((await blobs.getBytes(refs.csv)).toString('utf8')).not.toContain('sourceDigest');
  });

  it('writePreview mails nothing when the run waits for nothing (approval mode never)', async () => {
    const config = demoConfig('never', { to: ['hr@northwind.example'], from: 'bobsync@northwind.example' });
    const activities = activitiesFor(config, { BOBSYNC_SMTP_URL: smtp.url });
    const planned = await plan(activities);
    const meta = {
      connection: DEMO,
      workflowId: 'bobsync/demo-360/full-sync/run-1',
      runId: 'run-1',
      dryRun: false,
      startedAt: NOW.toISOString(),
      trigger: 'test',
    };
    const held = { tripped: true, reason: 'test', decision: 'notAsked' as const };

    await runActivity(activities.writePreview, DEMO, RUN_KEY, planned.planRef, meta, held, {
      scope: 'none',
      reason: 'held: safeguard, approval mode never',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.messages).toEqual([]);
  });
});
