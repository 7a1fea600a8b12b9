/**
 * Two workers on "different hosts" (separate BOBSYNC_DATA_DIR, nothing shared but Temporal and
 * an S3 bucket on a real S3-compatible server) carry one full sync between them: the first takes
 * the snapshots and makes the plan, then stops while the run waits for approval; the second
 * applies the plan the first stored and writes the report. The report must be the one the same
 * data gives on the filesystem store with a single worker.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import { blobStoreFromEnv } from '../../src/blobstore';
import { codecDataConverter, codecFromEnv } from '../../src/codec/aes-gcm-codec';
import type { BobsyncConfig } from '../../src/config/schema';
import type { SyncReport } from '../../src/reports/types';
import { createWorkers, type WorkerSet } from '../../src/worker';
import { fullSync } from '../../src/workflows';
import { approveUpdate, progressQuery } from '../../src/workflows/full-sync-api';
import { announceS3Server, ensureS3Server, startS3Server, type RunningS3Server } from '../support/s3-server';
import { eventually, fastFullSync, startTestStack, type TestStack } from '../support/stack';
import { workflowBundle } from '../support/temporal';

jest.setTimeout(300_000);

const install = ensureS3Server();
announceS3Server(install);
const describeWithServer = 'unavailable' in install ? describe.skip : describe;

const BUCKET = 'bobsync-e2e';
const PREFIX = 'two-workers/';

/** One worker process's share: its own data directory, the shared bucket, its own Temporal connection. */
interface Host {
  env: NodeJS.ProcessEnv;
  workers: WorkerSet;
  running: Promise<void>;
}

describeWithServer('full sync on two workers sharing an S3 bucket', () => {
  let server: RunningS3Server;
  let s3Stack: TestStack;
  let fileStack: TestStack;
  const hosts: Host[] = [];

  // The same HiBob company twice; the connections are named apart because employee workflow ids
  // name the connection and the HiBob id, and both stacks share one Temporal server.
  const stackOptions = (connection: string) => {
    const fast = fastFullSync({ batchSize: 5, parallelism: 2, concurrencyPerBatch: 3 });
    return {
      employees: 30,
      seed: 41,
      only: ['hibob' as const, '360learning' as const],
      learning360: fast.learning360,
      configure: (config: BobsyncConfig) => {
        fast.configure!(config);
        const c = config.connections[0]!;
        c.name = connection;
        // Every run waits for approval after its plan: the moment to change workers.
        c.safety = { ...c.safety, approval: 'always' };
      },
    };
  };

  const startHost = async (): Promise<Host> => {
    const env = { ...s3Stack.env, BOBSYNC_DATA_DIR: mkdtempSync(join(tmpdir(), 'bobsync-host-')) };
    const workers = await createWorkers({
      config: s3Stack.config,
      env,
      address: s3Stack.config.temporal.address,
      dataConverter: codecDataConverter(codecFromEnv(env)),
      workflowBundle: workflowBundle(),
    });
    const host = { env, workers, running: workers.run() };
    hosts.push(host);
    return host;
  };

  const startRun = (stack: TestStack) => {
    const connection = stack.config.connections[0]!.name;
    return stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/${connection}/full-sync/test-${Date.now()}`,
      args: [{ connection, taskQueue: stack.taskQueue, trigger: 'test' }],
    });
  };
  const awaitingApproval = (handle: WorkflowHandle<typeof fullSync>) =>
    eventually(
      async () => ((await handle.query(progressQuery)).phase === 'awaitingApproval' ? true : undefined),
      120_000,
      'the run to wait for approval',
    );
  /** The run's result, or a failure naming what its activities keep failing on (a worker that cannot read a blob retries for ever). */
  const resultWithin = async (handle: WorkflowHandle<typeof fullSync>, ms = 120_000) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void handle.describe().then(
          (d) => {
            const failures = (d.raw.pendingActivities ?? []).map((a) => a.lastFailure?.message).filter(Boolean);
            reject(
              new Error(`the run did not finish within ${ms / 1000} s; activities failing: ${failures.join('; ')}`),
            );
          },
          (err: Error) => reject(err),
        );
      }, ms);
    });
    try {
      return await Promise.race([handle.result(), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const approve = (handle: WorkflowHandle<typeof fullSync>) =>
    handle.executeUpdate(approveUpdate, { args: [{ by: 'e2e', reason: 'planned load' }] });
  const objectKeys = async () => {
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: PREFIX }));
    return (listed.Contents ?? []).map((o) => o.Key!);
  };
  /**
   * What a report says about each employee. The two stacks' LMS tenants give learners and bulk
   * operations different ids, so each learner id is replaced by the HiBob id it is linked to, and
   * each bulk operation id by a placeholder.
   */
  const rowsOf = (report: SyncReport, stack: TestStack) => {
    const learners = stack.emulators.learning360!.emulator.dump().users;
    const linked = new Map(learners.map((u) => [u._id, `<learner of ${u.externalIds[0]?.value}>`]));
    const named = (text?: string) =>
      text
        ?.replace(/\(bulk operation [0-9a-f]{24}(, [0-9a-f]{24})*\)/g, '(bulk operation <id>)')
        .replace(/\b[0-9a-f]{24}\b/g, (id) => linked.get(id) ?? id);
    return report.rows
      .map((row) => ({ ...row, learnerId: named(row.learnerId), detail: named(row.detail) }))
      .sort((a, b) => a.employeeId.localeCompare(b.employeeId));
  };

  beforeAll(async () => {
    if ('unavailable' in install) return;
    server = await startS3Server(install.python);
    await server.createBucket(BUCKET);
    s3Stack = await startTestStack({
      name: 's3-two-workers',
      ...stackOptions('s3-blobs'),
      worker: false,
      env: server.blobStoreEnv(BUCKET, PREFIX),
    });
    fileStack = await startTestStack({ name: 'file-one-worker', ...stackOptions('file-blobs') });
  }, 120_000);
  afterAll(async () => {
    for (const host of hosts) {
      await host.workers.shutdown();
      await host.running.catch(() => undefined);
    }
    await s3Stack?.close();
    await fileStack?.close();
    await server?.stop();
  });

  let s3Report: SyncReport;

  it('completes a run planned by one worker and applied by another', async () => {
    const first = await startHost();
    const handle = await startRun(s3Stack);
    await awaitingApproval(handle);
    // Snapshots, plan and preview are in the bucket, not on the first host's disk.
    const written = await objectKeys();
    expect(written.length).toBeGreaterThan(3);
    expect(written.every((key) => key.startsWith(PREFIX))).toBe(true);

    const second = await startHost();
    await first.workers.shutdown();
    await first.running;
    // Only the second worker is left to apply what the first planned.
    await approve(handle);
    const result = await resultWithin(handle);

    s3Report = await blobStoreFromEnv(second.env).getJson<SyncReport>(result.reportRef);
    expect(s3Report.approval).toMatchObject({ scope: 'plan', decision: 'approved', decidedBy: 'e2e' });
    const created = s3Report.rows.filter((r) => r.action === 'create');
    expect(created.length).toBeGreaterThan(15);
    expect(created.every((r) => r.outcome === 'applied')).toBe(true);
    expect(s3Stack.emulators.learning360!.emulator.dump().users).toHaveLength(created.length);
    expect(await objectKeys()).toContain(`${PREFIX}${result.reportRef.key}`);
    for (const host of [first, second]) expect(readdirSync(host.env.BOBSYNC_DATA_DIR!)).toEqual([]);
  });

  it('reports what the same data gives on the filesystem store with one worker', async () => {
    expect(s3Report).toBeDefined();
    const handle = await startRun(fileStack);
    await awaitingApproval(handle);
    await approve(handle);
    const result = await resultWithin(handle);
    const fileReport = await blobStoreFromEnv(fileStack.env).getJson<SyncReport>(result.reportRef);

    const fileRows = rowsOf(fileReport, fileStack);
    expect(fileRows.length).toBeGreaterThan(15);
    expect(fileRows.some((r) => r.detail?.includes('<learner of'))).toBe(true);
    expect(rowsOf(s3Report, s3Stack)).toEqual(fileRows);
    expect(s3Report.counts).toEqual(fileReport.counts);
    expect(s3Report.totals).toEqual(fileReport.totals);
    expect(s3Report.errors).toEqual(fileReport.errors);
  });
});
