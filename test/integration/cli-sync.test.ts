/**
 * `bobsync sync`, `approve` and `reject` on the real dev server: the command functions with a
 * memory sink for output, the stack's config and environment, and the files they save.
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { decideApproval } from '../../src/cli/approval';
import type { CommandContext } from '../../src/cli/context';
import type { CommandIo } from '../../src/cli/io';
import { renderProgress, runSync } from '../../src/cli/sync';
import { runtimeSettings } from '../../src/config/runtime';
import type { SyncReport } from '../../src/reports/types';
import type { FullSyncResult } from '../../src/workflows/full-sync-api';
import { eventually, fastFullSync, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(180_000);

function cliIo(stack: TestStack, tty = false): CommandIo & { text(): string } {
  const chunks: string[] = [];
  const ctx: CommandContext = {
    config: stack.config,
    configPath: 'test config',
    runtime: runtimeSettings(stack.env),
    address: stack.config.temporal.address,
    namespace: stack.config.temporal.namespace,
  };
  return {
    ctx,
    env: { ...stack.env, USER: 'ops-test' },
    out: { write: (t: string) => chunks.push(t), isTTY: tty, columns: 120 },
    text: () => chunks.join(''),
  };
}

describe('bobsync sync, approve and reject', () => {
  let stack: TestStack;
  const hibob = () => stack.emulators.hibob!.emulator;
  const lms = () => stack.emulators.learning360!.emulator;
  const learnerOf = (employeeId: string) =>
    lms()
      .dump()
      .users.find((u) => u.externalIds.some((x) => x.value === employeeId));
  const outDir = () => mkdtempSync(join(tmpdir(), 'bobsync-cli-'));

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'cli-sync',
      employees: 12,
      seed: 21,
      only: ['hibob', '360learning'],
      ...fastFullSync({ batchSize: 4, parallelism: 2, concurrencyPerBatch: 4 }),
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('--dry-run --follow without a terminal prints plain progress lines, the summary and saves report and preview', async () => {
    const io = cliIo(stack);
    const dir = outDir();
    const run = await runSync(io, { dryRun: true, follow: true, outDir: dir, pollMs: 100 });
    const text = io.text();

    expect(run.workflowId).toMatch(/^bobsync\/demo-360\/full-sync\/\d{4}-\d\d-\d\dT/);
    expect(text).toContain(`Started a dry run of the full sync of demo-360: ${run.workflowId}`);
    expect(text).toContain(
      `Temporal UI  http://localhost:8233/namespaces/${stack.config.temporal.namespace}/workflows/${encodeURIComponent(run.workflowId)}`,
    );
    expect(text).not.toContain('\r');
    expect(text).toMatch(/Full sync of demo-360 finished in .* \(dry run: nothing was written\)/);
    expect(text).toContain(`planned    ${run.result!.byAction.create} create`);
    expect(run.result!.dryRun).toBe(true);
    expect(lms().dump().users).toHaveLength(0);

    expect(Object.keys(run.files!).sort()).toEqual([
      'preview.csv',
      'preview.xlsx',
      'report.csv',
      'report.json',
      'report.xlsx',
    ]);
    for (const path of Object.values(run.files!)) {
      expect(path.startsWith(dir)).toBe(true);
      expect(statSync(path).size).toBeGreaterThan(0);
    }
    expect(text.indexOf('Preview of what a real run would do:')).toBeLessThan(text.indexOf(run.files!['preview.csv']!));
    const preview: Record<string, string>[] = parse(readFileSync(run.files!['preview.csv']!), {
      bom: true,
      columns: true,
    });
    expect(preview.filter((r) => r.Action === 'create')).toHaveLength(run.result!.byAction.create!);
    const report = JSON.parse(readFileSync(run.files!['report.json']!, 'utf8')) as SyncReport;
    expect(report).toMatchObject({ workflowId: run.workflowId, dryRun: true });
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(readFileSync(run.files!['report.xlsx']!) as never);
    expect(book.worksheets.length).toBeGreaterThan(0);
  });

  it('--follow on a terminal redraws one progress line with a bar, and the run applies the plan', async () => {
    const io = cliIo(stack, true);
    const run = await runSync(io, { follow: true, outDir: outDir(), pollMs: 100 });
    const text = io.text();
    expect(text).toContain('\r\x1b[2K');
    expect(text).toMatch(/applying .*\[[#.]{20}\] \d+\/\d+/);
    const created = run.result!.byAction.create!;
    expect(created).toBeGreaterThan(0);
    expect(run.result!.outcomes.applied).toBe(created);
    expect(text).toMatch(new RegExp(`outcome    .*${created} applied`));
    expect(lms().dump().users).toHaveLength(created);
    expect(text.indexOf('Report:')).toBeLessThan(text.indexOf('Plan preview:'));
  });

  it('without --follow or --wait it only starts the run and says how to watch it', async () => {
    const io = cliIo(stack);
    const run = await runSync(io);
    expect(run.result).toBeUndefined();
    expect(io.text()).toContain('Add --follow to watch its progress here');
    // Approving a run that is not waiting is refused with the workflow's reason.
    await expect(decideApproval(io, run.workflowId, 'approve')).rejects.toThrow(
      /^cannot approve bobsync\/demo-360\/full-sync\/.*: nothing is waiting for approval \(phase: \w+\)$/,
    );
    await stack.client.workflow.getHandle(run.workflowId).result();
    await expect(decideApproval(io, run.workflowId, 'reject')).rejects.toThrow(
      /^cannot reject .*: it has already finished/,
    );
    await expect(decideApproval(io, 'bobsync/demo-360/full-sync/no-such-run', 'approve')).rejects.toThrow(
      /no such workflow/,
    );
  });

  it('says when the run waits for approval, prints the commands, and approve lets it finish', async () => {
    const active = hibob()
      .listEmployees()
      .filter((e) => e.status === 'Active' && learnerOf(e.id)?.status === 'active');
    const leavers = active.slice(0, Math.ceil(active.length / 2));
    for (const e of leavers) hibob().terminate(e.id, { terminationDate: '2026-01-15' });

    const io = cliIo(stack);
    const following = runSync(io, { follow: true, outDir: outDir(), pollMs: 100 });
    await eventually(
      () => (io.text().includes('is waiting for approval') ? true : undefined),
      120_000,
      'approval prompt',
    );
    const workflowId = /Started a full sync of demo-360: (\S+)/.exec(io.text())![1]!;
    expect(io.text()).toContain(`bobsync approve ${workflowId} --by <your name>`);
    expect(io.text()).toContain(`bobsync reject ${workflowId} --by <your name>`);
    expect(leavers.every((e) => learnerOf(e.id)?.status === 'active')).toBe(true);

    // While it waits, a second full sync of the connection is refused.
    await eventually(
      async () => {
        for await (const w of stack.client.workflow.list({
          query: `WorkflowId = '${workflowId}' AND ExecutionStatus = 'Running'`,
        }))
          return w;
        return undefined;
      },
      30_000,
      'run visible',
    );
    await expect(runSync(cliIo(stack))).rejects.toThrow(`a full sync of demo-360 is already running: ${workflowId}.`);

    const approver = cliIo(stack);
    const state = await decideApproval(approver, workflowId, 'approve', { by: 'hr-lead' });
    expect(state).toMatchObject({ tripped: true, decision: 'approved', decidedBy: 'hr-lead' });
    expect(approver.text()).toContain(
      `Approved by hr-lead: the held deactivations of ${workflowId} are being applied.`,
    );

    const run = await following;
    const result: FullSyncResult = run.result!;
    expect(run.askedForApproval).toBe(true);
    expect(result.safeguard).toMatchObject({ decision: 'approved', decidedBy: 'hr-lead' });
    expect(io.text()).toMatch(/safeguard {2}.*: approved by hr-lead/);
    expect(leavers.every((e) => learnerOf(e.id)?.status === 'deleted')).toBe(true);
  });

  it('draws progress within the width it is given', () => {
    const line = renderProgress(
      {
        phase: 'apply',
        planned: { create: 120, update: 4, noop: 3000 },
        toApply: 124,
        applied: 62,
        outcomes: { applied: 60, failed: 2 },
        batchesTotal: 3,
        batchesDone: 1,
      },
      200,
    );
    expect(line).toBe(
      'applying  planned 120 create · 4 update · 3000 noop  [##########..........] 62/124  batches 1/3  2 failed',
    );
    expect(
      renderProgress(
        {
          phase: 'apply',
          planned: { create: 120 },
          toApply: 124,
          applied: 62,
          outcomes: {},
          batchesTotal: 3,
          batchesDone: 1,
        },
        30,
      ),
    ).toHaveLength(29);
  });
});
