/**
 * A worker killed with SIGKILL in the middle of a full sync's apply phase, then started again:
 * the run completes, the LMS is right, nothing is duplicated. The worker runs as a real
 * `bobsync worker` process, so the kill is a real one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { blobStoreFromEnv } from '../../src/blobstore';
import type { SyncReport } from '../../src/reports/types';
import { fullSync } from '../../src/workflows';
import { progressQuery } from '../../src/workflows/full-sync-api';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

describe('worker crash during a full sync', () => {
  let stack: TestStack;
  let worker: ChildProcess | undefined;
  let configPath: string;

  const startWorker = (): ChildProcess => {
    const child = spawn(process.execPath, [join(__dirname, '../../bin/bobsync.js'), 'worker', '--config', configPath], {
      env: { ...process.env, ...stack.env, TEMPORAL_ADDRESS: stack.config.temporal.address, BOBSYNC_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return child;
  };
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) =>
      child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
    );

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'crash',
      employees: 40,
      seed: 9,
      worker: false,
      only: ['hibob', '360learning'],
      configure: (config) => {
        config.connections[0]!.fullSync = {
          ...config.connections[0]!.fullSync,
          batchSize: 5,
          parallelism: 2,
          concurrencyPerBatch: 3,
        };
      },
    });
    configPath = join(mkdtempSync(join(tmpdir(), 'bobsync-crash-')), 'bobsync.yaml');
    writeFileSync(configPath, stringify(stack.config));
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    await stack?.close();
  });

  it('completes the run after a SIGKILL mid-apply, with one learner per employee', async () => {
    worker = startWorker();
    const handle = await stack.client.workflow.start(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/crash-${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
    const learners = () => stack.emulators.learning360!.emulator.dump().users;
    await eventually(
      async () => {
        const progress = await handle.query(progressQuery);
        return progress.phase === 'apply' && learners().length >= 8 ? true : undefined;
      },
      120_000,
      'apply under way',
    );

    worker.kill('SIGKILL');
    await exited(worker);
    const atKill = learners().length;
    worker = startWorker();

    const result = await handle.result();
    const report = await blobStoreFromEnv(stack.env).getJson<SyncReport>(result.reportRef);
    const created = report.rows.filter((r) => r.action === 'create');
    expect(atKill).toBeLessThan(created.length);
    expect(report.rows.filter((r) => r.outcome === 'failed')).toEqual([]);
    const all = learners();
    expect(all).toHaveLength(created.length);
    expect(new Set(all.map((u) => u.mail)).size).toBe(all.length);
    for (const row of created) {
      const linked = all.filter((u) => u.externalIds.some((x) => x.value === row.employeeId));
      expect(linked).toHaveLength(1);
    }
  });
});
