/**
 * Metrics end to end: a real `bobsync worker` process (its own registry, its SDK runtime with
 * the Prometheus exporter) and the webhook API in this process. One full sync and one webhook,
 * with a 429 from 360Learning on the way; then GET /metrics on both shows bobsync's counters
 * moved and the worker's scrape carries the Temporal SDK's series too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort } from '../../src/dev/ports';
import { fullSync } from '../../src/workflows';
import { eventually, startTestStack, type TestStack } from '../support/stack';

jest.setTimeout(300_000);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, strictly enough that a malformed line or a family declared twice fails. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (declared.has(type[1]!)) throw new Error(`${type[1]} is declared twice`);
      declared.add(type[1]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  return samples;
}

/** Sum of the samples of `name` whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

async function scrape(url: string): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

/** Metric names a PromQL expression reads (bobsync_… and temporal_…, histogram parts folded to the family). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b((?:bobsync|temporal)_[a-z0-9_]+)/g)].map((m) => m[1]!);
}

describe('metrics of the webhook API and a worker process', () => {
  let stack: TestStack;
  let worker: ChildProcess | undefined;
  let workerMetricsUrl: string;
  const hibob = () => stack.emulators.hibob!.emulator;
  const lms = () => stack.emulators.learning360!.emulator;

  beforeAll(async () => {
    stack = await startTestStack({
      name: 'metrics',
      api: true,
      worker: false,
      employees: 8,
      seed: 59,
      only: ['hibob', '360learning'],
      // The worker process reads the config from a file, so its limits stay within what the schema allows.
      configure: (config) => {
        const c = config.connections[0]!;
        c.fullSync = { ...c.fullSync, batchSize: 4, parallelism: 2, concurrencyPerBatch: 2 };
      },
    });
    hibob().setReadLag(0);
    const configPath = join(mkdtempSync(join(tmpdir(), 'bobsync-metrics-')), 'bobsync.yaml');
    writeFileSync(configPath, stringify(stack.config));
    const port = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
    worker = spawn(process.execPath, [join(__dirname, '../../bin/bobsync.js'), 'worker', '--config', configPath], {
      env: {
        ...process.env,
        ...stack.env,
        TEMPORAL_ADDRESS: stack.config.temporal.address,
        BOBSYNC_LOG_LEVEL: 'warn',
        BOBSYNC_WORKER_METRICS_PORT: String(port),
        BOBSYNC_WORKER_METRICS_HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // The SDK logs at INFO; kept, and shown only when the worker does not come up.
    let stderr = '';
    worker.stderr!.on('data', (chunk: Buffer) => (stderr = `${stderr}${chunk.toString()}`.slice(-20_000)));
    const listening = await eventually(
      () =>
        worker!.exitCode !== null
          ? `exited with code ${worker!.exitCode}`
          : fetch(workerMetricsUrl).then(
              (r) => (r.ok ? 'listening' : undefined),
              () => undefined,
            ),
      120_000,
      "the worker's metrics listener",
    );
    expect({ listening, stderr: listening === 'listening' ? '' : stderr }).toEqual({
      listening: 'listening',
      stderr: '',
    });
  });
  afterAll(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await stack?.close();
  });

  it('counts a full sync and a webhook, 429 included, and the SDK series come with the same scrape', async () => {
    const result = await stack.client.workflow.execute(fullSync, {
      taskQueue: stack.taskQueue,
      workflowId: `bobsync/demo-360/full-sync/metrics-${Date.now()}`,
      args: [{ connection: 'demo-360', taskQueue: stack.taskQueue, trigger: 'test' }],
    });
    const applied = result.outcomes.applied ?? 0;
    expect(applied).toBeGreaterThan(0);

    // One webhook: a surname change, whose first call to 360Learning is answered 429.
    const learner = lms()
      .dump()
      .users.find((u) => u.status === 'active' && u.externalIds.length > 0)!;
    const employeeId = learner.externalIds[0]!.value;
    lms().kit.faults.add({ path: '^/api/v2/', status: 429, body: { error: 'tooManyRequests' }, times: 1 });
    hibob().updateEmployee(employeeId, { surname: 'Measured' });
    await eventually(
      () =>
        lms()
          .dump()
          .users.find((u) => u._id === learner._id && u.lastName === 'Measured'),
      90_000,
      'the surname in 360Learning',
    );
    expect(lms().kit.faults.list()[0]?.fired).toBe(1);

    const api = await scrape(`${stack.apiUrl}/metrics`);
    expect(
      total(api.samples, 'bobsync_webhooks_total', { connection: 'demo-360', status: '202' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(api.samples, 'bobsync_webhook_ack_duration_seconds_count', { connection: 'demo-360', status: '202' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      total(api.samples, 'bobsync_webhook_signal_duration_seconds_count', { connection: 'demo-360' }),
    ).toBeGreaterThanOrEqual(1);
    // The API's registry holds the API's series only.
    expect(api.text).not.toContain('bobsync_lms_writes_total');
    expect(api.text).not.toContain('temporal_');

    const { samples, text } = await scrape(workerMetricsUrl);
    const c = { connection: 'demo-360' };
    expect(total(samples, 'bobsync_full_syncs_started_total', c)).toBe(1);
    expect(total(samples, 'bobsync_full_syncs_total', { ...c, result: 'completed', phase: 'done' })).toBe(1);
    expect(total(samples, 'bobsync_full_sync_duration_seconds_count', c)).toBe(1);
    expect(total(samples, 'bobsync_full_sync_phase_duration_seconds_count', { ...c, phase: 'plan' })).toBe(1);
    // Every sync a run made: employees whose manager had no learner yet get a second pass, counted again.
    expect(total(samples, 'bobsync_employee_syncs_total', { ...c, outcome: 'applied' })).toBeGreaterThanOrEqual(
      applied,
    );
    expect(total(samples, 'bobsync_employee_syncs_total', { ...c, outcome: 'failed' })).toBe(0);
    const writes = { destination: '360learning', ...c, result: 'ok' };
    expect(total(samples, 'bobsync_lms_writes_total', { ...writes, operation: 'create' })).toBe(result.byAction.create);
    expect(total(samples, 'bobsync_lms_writes_total', { ...writes, operation: 'updateFields' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(total(samples, 'bobsync_lms_throttled_total', { destination: '360learning' })).toBe(1);
    expect(total(samples, 'bobsync_blob_store_bytes_total', { direction: 'write' })).toBeGreaterThan(1000);
    expect(total(samples, 'bobsync_blob_store_bytes_total', { direction: 'read' })).toBeGreaterThan(1000);
    expect(total(samples, 'bobsync_worker_sdk_metrics_up')).toBe(1);
    expect(text).not.toContain('bobsync_webhooks_total');

    // The SDK's own: workflow tasks reached the worker on this stack's queue, and its slots are reported.
    expect(
      total(samples, 'temporal_workflow_task_schedule_to_start_latency_seconds_count', { task_queue: stack.taskQueue }),
    ).toBeGreaterThan(0);
    expect(
      total(samples, 'temporal_activity_execution_latency_seconds_count', { activity_type: 'applyOperation' }),
    ).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);

    // No employee id (nor learner id) ever becomes a label value.
    const ids = new Set([
      ...hibob()
        .listEmployees()
        .map((e) => e.id),
      ...lms()
        .dump()
        .users.map((u) => u._id),
    ]);
    const leaked = [...api.samples, ...samples].flatMap((s) => Object.values(s.labels)).filter((v) => ids.has(v));
    expect(leaked).toEqual([]);

    // Every series the dashboard and the alerts read exists in one of the two scrapes. A few
    // appear only once something goes wrong, which this run avoids on purpose.
    const onlyOnTrouble = new Set([
      'temporal_request_failure_total',
      'temporal_long_request_failure_total',
      'temporal_workflow_failed_total',
      'temporal_activity_execution_failed_total',
    ]);
    // Declared families count too: a labelled counter nobody has incremented yet has no sample.
    const declared = [...`${api.text}${text}`.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    const sampled = [...api.samples, ...samples].map((s) => s.name);
    const families = new Set([...declared, ...sampled, ...sampled.map((n) => n.replace(/_(bucket|sum|count)$/, ''))]);
    const root = join(__dirname, '..', '..');
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy', 'grafana-dashboard.json'), 'utf8')) as {
      panels: { targets?: { expr: string }[] }[];
    };
    const alerts = parse(readFileSync(join(root, 'deploy', 'alerts.yml'), 'utf8')) as {
      groups: { rules: { expr: string }[] }[];
    };
    const exprs = [
      ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...alerts.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ];
    expect(exprs.length).toBeGreaterThan(20);
    const missing = [...new Set(exprs.flatMap(namesIn))].filter((n) => !families.has(n) && !onlyOnTrouble.has(n));
    expect(missing).toEqual([]);
  });
});
