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
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Info } from '@temporalio/activity';
import { DefaultLogger } from '@temporalio/worker';
import { ConnectionRegistry } from '../../src/activities/deps';
import { fullSyncActivities, reportMessageId } from '../../src/activities/full-sync';
import { BlobNotFoundError, FileBlobStore, type BlobRef, type BlobStore } from '../../src/blobstore/blob-store';
import { codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import { scheduleRecheckSignal, type EmployeeSyncInput, type RecheckRequest } from '../../src/workflows/employee-sync-api';
import type { SyncOutcome } from '../../src/workflows/employee-sync-api';
import type { FullSyncResult, PlannedSync } from '../../src/workflows/full-sync-api';
import { employeeWorkflowId } from '../../src/workflows/ids';
import type { SyncReport } from '../../src/reports/types';
import { sampleReport } from '../fixtures/reports/sample-report';
import { testCodecEnv } from '../support/codec';
import { startSmtpSink, type SmtpSink } from '../support/smtp';

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
      signalWithStart: async (workflowType: string, options: Omit<SignalWithStart, 'workflowType'>) => {
        calls.push({ workflowType, ...options });
        if (calls.length === failOn) throw new Error('Temporal frontend unavailable');
        return { workflowId: options.workflowId };
      },
    },
  };
  return { client: client as unknown as Client, calls };
}

/** A mock activity context (a retry when `info` carries heartbeat details) and the heartbeats it reports. */
function activityEnv(client: Client, info: Partial<Info> = {}) {
  const env = new MockActivityEnvironment({ activityType: 'armEmployeeTimers', ...info }, { client, logger: new DefaultLogger('ERROR') });
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
    await expect(failed.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).rejects.toThrow('Temporal frontend unavailable');
    expect(signalled(first.calls)).toEqual(workflowsOf(TIMERS.slice(0, 4)));
    // The fourth was not acknowledged, so progress stops at three.
    expect(failed.heartbeats).toEqual([1, 2, 3]);

    const second = standInClient();
    const retried = activityEnv(second.client, { attempt: 2, heartbeatDetails: failed.heartbeats.at(-1) });
    await expect(retried.env.run(armEmployeeTimers, CONNECTION, ref, TASK_QUEUE)).resolves.toBe(TIMERS.length);
    expect(signalled(second.calls)).toEqual(workflowsOf(TIMERS.slice(3)));
    expect(retried.heartbeats).toEqual([4, 5]);
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
const reportEnv = (activityType: string, attempt = 1) => new MockActivityEnvironment({ activityType, attempt }, { logger: new DefaultLogger('ERROR') });
const built = (result: Promise<unknown>) => result as Promise<FullSyncResult>;

describe('buildReport and saveSyncState', () => {
  /** Three employees: one unchanged, one updated, one whose creation failed (and had a fingerprint from an earlier run). */
  async function storedRun() {
    const planRef = await blobs.putJson(`${RUN_KEY}/plan.json`, {
      rows: [
        { employeeId: 'emp-1', action: 'update', changes: [], operations: ['updateFields'], reason: 'job changed', fingerprint: 'f1' },
        { employeeId: 'emp-2', action: 'create', changes: [], operations: ['create'], reason: 'new hire', fingerprint: 'f2' },
      ],
      unchanged: { 'emp-3': 'f3' },
    });
    const outcomes: Record<string, SyncOutcome> = {
      'emp-1': { at: '2026-03-02T06:01:00.000Z', trigger: 'full sync', result: 'applied', detail: '', operations: ['updateFields'] },
      'emp-2': { at: '2026-03-02T06:01:00.000Z', trigger: 'full sync', result: 'failed', detail: '409 from 360Learning', operations: [] },
    };
    const outcomesRef = await blobs.putJson(`${RUN_KEY}/outcomes-0.json`, outcomes);
    await blobs.putJson(`state/${CONNECTION}/full-sync.json`, { hibobEmployees: 2, fingerprints: { 'emp-2': 'old', 'emp-9': 'f9' } });
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
    const files = async () => Promise.all(['report.json', 'report.csv', 'report.xlsx'].map((name) => blobs.getBytes(`${RUN_KEY}/${name}`)));

    const first = await built(reportEnv('buildReport').run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard));
    const written = await files();
    const second = await built(reportEnv('buildReport', 2).run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard));

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
    const { buildReport, saveSyncState } = fullSyncActivities(new ConnectionRegistry({ config: CONFIG, env: {} }), blobs, {});
    const { plan, results, meta } = await storedRun();
    const { reportRef } = await built(reportEnv('buildReport').run(buildReport, CONNECTION, RUN_KEY, plan, results, meta, plan.safeguard));
    const state = () => blobs.getJson(`state/${CONNECTION}/full-sync.json`);

    await reportEnv('saveSyncState').run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    const saved = await state();
    expect(saved).toEqual({ hibobEmployees: 3, finishedAt: meta.finishedAt, fingerprints: { 'emp-1': 'f1', 'emp-3': 'f3', 'emp-9': 'f9' } });

    await reportEnv('saveSyncState', 2).run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    expect(await state()).toEqual(saved);
  });

  it('saves no state for a dry run', async () => {
    const { buildReport, saveSyncState } = fullSyncActivities(new ConnectionRegistry({ config: CONFIG, env: {} }), blobs, {});
    const { plan, results, meta } = await storedRun();
    const { reportRef } = await built(reportEnv('buildReport').run(buildReport, CONNECTION, RUN_KEY, plan, results, { ...meta, dryRun: true }, plan.safeguard));

    await reportEnv('saveSyncState').run(saveSyncState, CONNECTION, plan.planRef, reportRef);
    expect(await blobs.getJson(`state/${CONNECTION}/full-sync.json`)).toEqual({ hibobEmployees: 2, fingerprints: { 'emp-2': 'old', 'emp-9': 'f9' } });
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

  const sendReportEmailWith = ({ store = blobs, mail = true, config = MAILING_CONFIG }: { store?: BlobStore; mail?: boolean; config?: typeof CONFIG } = {}) => {
    const env = mail ? { BOBSYNC_SMTP_URL: smtp.url } : {};
    return fullSyncActivities(new ConnectionRegistry({ config, env }), store, env).sendReportEmail;
  };

  it('sends the report once when it runs twice, with a Message-ID of the run', async () => {
    const sendReportEmail = sendReportEmailWith();

    await expect(reportEnv('sendReportEmail').run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual({ status: 'sent', messageId });
    await expect(reportEnv('sendReportEmail', 2).run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual({ status: 'alreadySent', messageId });

    // Let a second message arrive, were one on its way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail!.messageId).toBe(messageId);
    expect(mail!.subject).toContain(CONNECTION);
    expect(mail!.to).toMatchObject({ text: 'hr@acme.example, it@acme.example' });
    expect(mail!.attachments.map((a) => a.filename?.replace(/.*\./, ''))).toEqual(['csv', 'xlsx']);
    expect(await blobs.getJson(marker)).toEqual({ messageId, sentAt: expect.any(String), to: ['hr@acme.example', 'it@acme.example'] });
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

    await expect(reportEnv('sendReportEmail').run(sendReportEmailWith({ store: unreadable }), CONNECTION, RUN_KEY, reportRef)).rejects.toThrow('blob store unavailable');
    expect(smtp.messages).toEqual([]);
  });

  it.each([
    ['no SMTP server', false, MAILING_CONFIG],
    ['no recipients', true, CONFIG],
  ])('mails nothing and marks nothing with %s', async (_what, mail, config) => {
    const sendReportEmail = sendReportEmailWith({ mail, config });

    await expect(reportEnv('sendReportEmail').run(sendReportEmail, CONNECTION, RUN_KEY, reportRef)).resolves.toEqual({ status: 'notConfigured' });
    expect(smtp.messages).toEqual([]);
    await expect(blobs.getJson(marker)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
