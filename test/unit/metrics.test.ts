/**
 * Metrics without Temporal: the API and worker registries stay apart, the webhook API counts
 * every answer under a bounded connection label, the worker's /metrics appends the SDK's text
 * (and says when it cannot), and the instrumented activities count what they learn.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import { createApiApp } from '../../src/api/app';
import { signBobBody } from '../../src/api/hibob-webhook';
import { createWebhookRouter } from '../../src/api/webhooks';
import type { BlobRef, BlobStore } from '../../src/blobstore';
import type { Operation } from '../../src/domain/types';
import { ApiError, observeApiErrors } from '../../src/clients/http/errors';
import { parseConfig } from '../../src/config/loader';
import { runtimeSettings } from '../../src/config/runtime';
import {
  ApiMetrics,
  apiMetrics,
  renderWithSdk,
  startMetricsServer,
  WorkerMetrics,
  workerMetrics,
} from '../../src/metrics';
import { countingBlobStore, instrumentActivities } from '../../src/worker';

const SECRET = 'whsec-metrics';
const config = parseConfig(`
connections:
  - name: acme-360
    source:
      type: hibob
      serviceUserId: SERVICE-1
      serviceUserToken: { env: HIBOB_TOKEN }
      webhookSecret: { env: HIBOB_WEBHOOK_SECRET }
    destination:
      type: 360learning
      clientId: client-1
      clientSecret: { env: L360_SECRET }
      defaultGroupId: 507f1f77bcf86cd799439011
`);

/** The value of one series, 0 when it has not been counted yet. */
async function valueOf(
  metrics: { registry: WorkerMetrics['registry'] },
  name: string,
  labels: Record<string, string> = {},
) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return found?.value ?? 0;
}

async function listen(handler: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe('per-process registries', () => {
  it('keep the API and worker series apart, in one process as in two', async () => {
    const api = await apiMetrics().registry.metrics();
    const worker = await workerMetrics().registry.metrics();
    expect(api).toContain('# TYPE bobsync_webhooks_total counter');
    expect(api).not.toContain('bobsync_lms_writes_total');
    expect(worker).toContain('# TYPE bobsync_lms_writes_total counter');
    expect(worker).not.toContain('bobsync_webhooks_total');
    // Both carry the process's own figures, under the standard names.
    expect(api).toContain('process_cpu_seconds_total');
    expect(worker).toContain('process_cpu_seconds_total');
    expect(apiMetrics()).toBe(apiMetrics());
    expect(workerMetrics()).toBe(workerMetrics());
  });

  it('name every bobsync series with the bobsync_ prefix', async () => {
    for (const registry of [new ApiMetrics().registry, new WorkerMetrics().registry]) {
      const own = registry.getMetricsAsArray().filter((m) => !/^(process|nodejs)_/.test(m.name));
      expect(own.length).toBeGreaterThan(2);
      for (const m of own) expect(m.name).toMatch(/^bobsync_[a-z_]+$/);
    }
  });
});

describe('webhook API metrics', () => {
  const metrics = new ApiMetrics();
  const temporal = {
    connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
    workflow: { signalWithStart: async () => undefined, getHandle: () => ({ signal: async () => undefined }) },
    workflowService: { getSystemInfo: async () => ({}) },
  } as unknown as Client;
  let base: string;
  let server: Server;

  beforeAll(async () => {
    const app = createApiApp({
      temporal,
      metrics,
      routers: {
        '/webhooks': createWebhookRouter({
          config,
          env: { HIBOB_WEBHOOK_SECRET: SECRET },
          temporal,
          log: pino({ level: 'silent' }),
          metrics,
          maxBodyBytes: 1024,
        }),
      },
    });
    ({ url: base, server } = await listen(app));
  });
  afterAll(() => close(server));

  const post = (path: string, body: string, secret = SECRET) =>
    fetch(`${base}/webhooks/hibob/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'bob-signature': signBobBody(secret, body) },
      body,
    });
  const event = JSON.stringify({
    companyId: 1,
    type: 'employee.updated',
    triggeredAt: '2025-01-08T13:06:26.915906',
    data: { employeeId: '3332883854254932743' },
  });

  it('counts each answer by connection and status, with its latency, and how long Temporal took', async () => {
    expect((await post('acme-360', event)).status).toBe(202);
    expect((await post('acme-360', event, 'wrong-secret')).status).toBe(401);
    expect((await post('acme-360', 'x'.repeat(2048))).status).toBe(413);
    expect(await valueOf(metrics, 'bobsync_webhooks_total', { connection: 'acme-360', status: '202' })).toBe(1);
    expect(await valueOf(metrics, 'bobsync_webhooks_total', { connection: 'acme-360', status: '401' })).toBe(1);
    expect(await valueOf(metrics, 'bobsync_webhooks_total', { connection: 'acme-360', status: '413' })).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^bobsync_webhook_ack_duration_seconds_count\{connection="acme-360",status="202"\} 1$/m);
    expect(text).toMatch(/^bobsync_webhook_signal_duration_seconds_count\{connection="acme-360"\} 1$/m);
  });

  it('puts every unknown connection under one label, so no caller can grow the series', async () => {
    for (const name of ['nope-1', 'nope-2', 'nope-3']) expect((await post(name, event)).status).toBe(404);
    expect(await valueOf(metrics, 'bobsync_webhooks_total', { connection: 'unknown', status: '404' })).toBe(3);
    expect(await metrics.registry.metrics()).not.toContain('nope-');
  });

  it('serves them at GET /metrics on the webhook listener', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/^bobsync_webhooks_total\{connection="acme-360",status="202"\} 1$/m);
  });
});

describe("the worker's /metrics", () => {
  const sdkText =
    '# HELP temporal_num_pollers Current number of active pollers\n# TYPE temporal_num_pollers gauge\ntemporal_num_pollers{poller_type="workflow_task"} 2\n';

  it("appends the SDK's text to bobsync's, and says whether it could", async () => {
    const metrics = new WorkerMetrics();
    const sdk = await listen((_req, res) => res.end(sdkText));
    try {
      const merged = await renderWithSdk(metrics.registry, `${sdk.url}/metrics`, metrics.sdkMetricsUp);
      expect(merged).toContain('bobsync_worker_sdk_metrics_up 1');
      expect(merged.endsWith(sdkText)).toBe(true);
      // One exposition: no family is declared twice.
      const types = [...merged.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]);
      expect(new Set(types).size).toBe(types.length);
    } finally {
      await close(sdk.server);
    }
    const alone = await renderWithSdk(metrics.registry, `${sdk.url}/metrics`, metrics.sdkMetricsUp);
    expect(alone).toContain('bobsync_worker_sdk_metrics_up 0');
    expect(alone).not.toContain('temporal_num_pollers');
  });

  it('answers GET /metrics only', async () => {
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', render: async () => 'bobsync_x 1\n' });
    try {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await res.text()).toBe('bobsync_x 1\n');
      expect((await fetch(`${server.url}/`)).status).toBe(404);
      expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('worker counting', () => {
  it('counts 429s from the LMS and HiBob as the clients make their errors, and nothing else', async () => {
    const metrics = new WorkerMetrics();
    const stop = observeApiErrors((service, status) => metrics.vendorAnswered(service, status));
    try {
      new ApiError('360learning', 429, 'tooManyRequests', 'slow down', true);
      new ApiError('skillcast', 429, 'tooMany', 'slow down', true);
      new ApiError('skillcast', 503, 'unavailable', 'later', true);
      new ApiError('hibob', 429, 'tooManyRequests', 'slow down', true);
    } finally {
      stop();
    }
    new ApiError('360learning', 429, 'tooManyRequests', 'after stop', true);
    expect(await valueOf(metrics, 'bobsync_lms_throttled_total', { destination: '360learning' })).toBe(1);
    expect(await valueOf(metrics, 'bobsync_lms_throttled_total', { destination: 'skillcast' })).toBe(1);
    expect(await valueOf(metrics, 'bobsync_hibob_throttled_total')).toBe(1);
  });

  it('counts the blob bytes written and read, and hands back what the store has', async () => {
    const stored = new Map<string, Buffer>();
    const store: BlobStore = {
      putBytes: async (key, data) => (stored.set(key, data), { key, bytes: data.length, sha256: 'x' }),
      putJson: async (key, value) => store.putBytes(key, Buffer.from(JSON.stringify(value))),
      getBytes: async (ref) => stored.get(typeof ref === 'string' ? ref : ref.key)!,
      getJson: async () => {
        throw new Error('not used');
      },
      delete: async (key) => void stored.delete(key),
    };
    const metrics = new WorkerMetrics();
    const counted = countingBlobStore(store, metrics);
    const ref: BlobRef = await counted.putJson('a.json', { people: [1, 2, 3] });
    await counted.putBytes('b.bin', Buffer.alloc(10));
    expect(await counted.getJson(ref)).toEqual({ people: [1, 2, 3] });
    expect(await valueOf(metrics, 'bobsync_blob_store_bytes_total', { direction: 'write' })).toBe(ref.bytes + 10);
    expect(await valueOf(metrics, 'bobsync_blob_store_bytes_total', { direction: 'read' })).toBe(ref.bytes);
  });

  describe('around the activities', () => {
    const metrics = new WorkerMetrics();
    const report = (over: Record<string, unknown>) => ({
      connection: 'acme-360',
      dryRun: false,
      reportRef: { key: 'r', bytes: 1, sha256: 'x' },
      byAction: {},
      outcomes: { applied: 3, parked: 2 },
      durationMs: 90_000,
      ...over,
    });
    const stub = {
      hibobSearch: { snapshotHibob: async () => ({ ref: {}, count: 1 }) },
      lmsReads: { snapshotLms: async () => ({ ref: {}, count: 1 }), planFullSync: async () => ({}) },
      lmsWrites: {
        applyOperation: async (_c: string, employeeId: string) => {
          if (employeeId === 'refused') throw ApplicationFailure.nonRetryable('no', '360learning:invalid');
          if (employeeId === 'throttled') throw ApplicationFailure.retryable('slow', '360learning:tooManyRequests');
          return { note: 'done' };
        },
      },
      workflows: {
        syncEmployeeNow: async (_c: string, employeeId: string) => ({
          result: employeeId === 'p' ? 'parked' : 'applied',
        }),
        reportFailure: async () => undefined,
        writePreview: async () => ({}),
        buildReport: async (...args: unknown[]) => report({ dryRun: args[1] === 'dry', approval: args[6] }),
        finishFullSync: async () => report({}),
        sendRunFailureEmail: async () => ({ status: 'notConfigured' }),
        sendApprovalReminder: async () => ({ status: 'notConfigured' }),
      },
    } as unknown as Activities;
    const activities = instrumentActivities(stub, config, metrics);
    const op: Operation = { op: 'updateFields', changes: [], reason: 'test' };

    it('counts LMS writes by operation and result', async () => {
      await activities.lmsWrites.applyOperation('acme-360', 'e1', 'l1', op);
      await expect(activities.lmsWrites.applyOperation('acme-360', 'refused', 'l1', op)).rejects.toThrow('no');
      await expect(activities.lmsWrites.applyOperation('acme-360', 'throttled', 'l1', op)).rejects.toThrow('slow');
      const labels = { destination: '360learning', connection: 'acme-360', operation: 'updateFields' };
      expect(await valueOf(metrics, 'bobsync_lms_writes_total', { ...labels, result: 'ok' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_lms_writes_total', { ...labels, result: 'rejected' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_lms_writes_total', { ...labels, result: 'retryableError' })).toBe(1);
    });

    it('counts full-sync outcomes and failure reports, with bounded labels', async () => {
      await activities.workflows.syncEmployeeNow('acme-360', 'a', 'q');
      await activities.workflows.syncEmployeeNow('acme-360', 'p', 'q');
      await activities.workflows.syncEmployeeNow('not-configured', 'a', 'q');
      const failure = { employeeId: '42', reason: 'no email', at: '2025-01-01T00:00:00Z' };
      await activities.workflows.reportFailure('acme-360', { ...failure, code: 'missingEmail' });
      await activities.workflows.reportFailure('acme-360', { ...failure, code: 'somethingNew' });
      expect(
        await valueOf(metrics, 'bobsync_employee_syncs_total', { connection: 'acme-360', outcome: 'applied' }),
      ).toBe(1);
      expect(
        await valueOf(metrics, 'bobsync_employee_syncs_total', { connection: 'acme-360', outcome: 'parked' }),
      ).toBe(1);
      expect(
        await valueOf(metrics, 'bobsync_employee_syncs_total', { connection: 'unknown', outcome: 'applied' }),
      ).toBe(1);
      expect(await valueOf(metrics, 'bobsync_employee_failures_total', { code: 'missingEmail' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_employee_failures_total', { code: 'other' })).toBe(1);
      // No employee id ever becomes a label value.
      expect(await metrics.registry.metrics()).not.toMatch(/"(42|a|p)"/);
    });

    it('counts a full sync from start to report, dry runs apart from the duration', async () => {
      await activities.hibobSearch.snapshotHibob('acme-360', 'runs/acme-360/1');
      await activities.hibobSearch.snapshotHibob('acme-360', 'runs/acme-360/1/approved');
      await activities.lmsReads.snapshotLms('acme-360', 'runs/acme-360/1');
      const meta = { connection: 'acme-360', workflowId: 'w', runId: 'r', dryRun: false, startedAt: '', trigger: 't' };
      const planRef = { key: 'p', bytes: 1, sha256: 'x' };
      await activities.workflows.writePreview(
        'acme-360',
        'k',
        planRef,
        meta,
        { tripped: false },
        { scope: 'plan', reason: 'first run' },
      );
      await activities.workflows.writePreview(
        'acme-360',
        'k',
        planRef,
        meta,
        { tripped: false },
        { scope: 'none', reason: '-' },
      );
      const plan = {} as Parameters<Activities['workflows']['buildReport']>[2];
      await activities.workflows.buildReport('acme-360', 'k', plan, [], { ...meta, finishedAt: '' }, undefined, {
        scope: 'plan',
        reason: 'first run',
        decision: 'approved',
      });
      await activities.workflows.buildReport('acme-360', 'dry', plan, [], { ...meta, finishedAt: '' });
      await activities.workflows.sendRunFailureEmail('acme-360', {
        workflowId: 'w',
        runId: 'r',
        phase: 'apply',
        kind: 'timedOut',
        error: 'too long',
      });
      const c = { connection: 'acme-360' };
      expect(await valueOf(metrics, 'bobsync_full_syncs_started_total', c)).toBe(1);
      expect(await valueOf(metrics, 'bobsync_full_sync_approval_requests_total', { ...c, scope: 'plan' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_full_sync_approvals_total', { ...c, decision: 'approved' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_full_syncs_total', { ...c, result: 'completed', phase: 'done' })).toBe(2);
      expect(await valueOf(metrics, 'bobsync_full_syncs_total', { ...c, result: 'timedOut', phase: 'apply' })).toBe(1);
      expect(await valueOf(metrics, 'bobsync_parked_employees', c)).toBe(2);
      const text = await metrics.registry.metrics();
      expect(text).toMatch(/^bobsync_full_sync_duration_seconds_count\{connection="acme-360"\} 1$/m);
      expect(text).toMatch(/^bobsync_full_sync_duration_seconds_sum\{connection="acme-360"\} 90$/m);
      expect(text).toMatch(
        /^bobsync_full_sync_phase_duration_seconds_count\{connection="acme-360",phase="snapshotHibob"\} 2$/m,
      );
      expect(await valueOf(metrics, 'bobsync_full_sync_last_success_timestamp_seconds', c)).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
    });
  });
});

describe('worker metrics settings', () => {
  it('listen on 127.0.0.1:9464 unless told otherwise; 0 turns the listener off', () => {
    expect(runtimeSettings({})).toMatchObject({
      BOBSYNC_WORKER_METRICS_PORT: 9464,
      BOBSYNC_WORKER_METRICS_HOST: '127.0.0.1',
    });
    expect(runtimeSettings({ BOBSYNC_WORKER_METRICS_PORT: '' }).BOBSYNC_WORKER_METRICS_PORT).toBe(9464);
    expect(runtimeSettings({ BOBSYNC_WORKER_METRICS_PORT: '0' }).BOBSYNC_WORKER_METRICS_PORT).toBe(0);
    expect(() => runtimeSettings({ BOBSYNC_WORKER_METRICS_PORT: 'nine' })).toThrow(/BOBSYNC_WORKER_METRICS_PORT/);
  });
});
