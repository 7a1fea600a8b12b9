/**
 * A bobsync stack for integration tests: emulators on free ports, a config pointing at them,
 * a worker on the shared Temporal dev server with a task queue of its own, a client, and on
 * request the webhook API (with the HiBob emulator subscribed to it) and an SMTP sink.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { createApiApp } from '../../src/api/app';
import { createWebhookRouter } from '../../src/api/webhooks';
import { codecDataConverter, codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import type { BobsyncConfig } from '../../src/config/schema';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators, type StartEmulatorsOptions } from '../../src/dev/emulators';
import { demoGroups, embeddedConfigYaml } from '../../src/dev/embedded';
import { connectClient } from '../../src/temporal/client';
import { createWorkers, type WorkerSet } from '../../src/worker';
import { testCodecEnv } from './codec';
import { startSmtpSink, type SmtpSink } from './smtp';
import { uniqueTaskQueue, workflowBundle } from './temporal';

export interface TestStack {
  emulators: RunningEmulators;
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  taskQueue: string;
  client: Client;
  workers: WorkerSet;
  /** Base URL of the webhook API, when started. */
  apiUrl?: string;
  smtp?: SmtpSink;
  close(): Promise<void>;
}

export interface TestStackOptions extends StartEmulatorsOptions {
  name?: string;
  /** Start the webhook API and subscribe the HiBob emulator's webhooks to it. */
  api?: boolean;
  /** Start an SMTP sink and send notifications there. */
  smtp?: boolean;
  /** Adjust the parsed config before the worker starts. */
  configure?: (config: BobsyncConfig) => void;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const address = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  const emulators = await startEmulators({ employees: 5, seed: 7, ...options, ports: { hibob: 0, learning360: 0, skillcast: 0 } });
  const smtp = options.smtp ? await startSmtpSink() : undefined;
  const taskQueue = uniqueTaskQueue(options.name ?? 'stack');
  const env: NodeJS.ProcessEnv = {
    ...testCodecEnv,
    HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
    HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
    LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
    SKILLCAST_SCIM_TOKEN: DEMO_CREDENTIALS.skillcastToken,
    ...(smtp ? { BOBSYNC_SMTP_URL: smtp.url } : {}),
  };
  const config = parseConfig(
    embeddedConfigYaml(
      emulators.hibob?.server.url ?? 'http://127.0.0.1:9',
      emulators.learning360?.server.url ?? 'http://127.0.0.1:9',
      emulators.skillcast?.server.url ?? 'http://127.0.0.1:9',
      emulators.learning360 ? await demoGroups(emulators.learning360.server.url) : { root: '0'.repeat(24), byName: {} },
    ),
  );
  config.temporal = { address, namespace: 'default', taskQueue };
  for (const connection of config.connections) {
    connection.source.readsPerSecond = 50;
    connection.notifications = { ...connection.notifications, to: ['hr-systems@example.com'], digestWindowSeconds: 1, minIntervalSeconds: 0 };
  }
  options.configure?.(config);
  const dataConverter = codecDataConverter(codecFromEnv(env));
  const workers = await createWorkers({ config, env, address, dataConverter, workflowBundle: workflowBundle() });
  const running = workers.run();
  const client = await connectClient({ address, namespace: 'default', dataConverter });

  let api: Server | undefined;
  let apiUrl: string | undefined;
  if (options.api) {
    const app = createApiApp({
      temporal: client,
      routers: { '/webhooks': createWebhookRouter({ config, env, temporal: client, log: pino({ level: 'silent' }), taskQueue }) },
    });
    api = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const hibob = emulators.hibob?.emulator;
    hibob?.updateSettings({ webhookRetryScheduleMs: [200, 500, 1000, 2000, 4000] });
    hibob?.subscribeWebhook({ url: `${apiUrl}/webhooks/hibob/demo-360`, secret: DEMO_CREDENTIALS.hibobWebhookSecret, name: 'test', ping: false });
  }

  return {
    emulators,
    config,
    env,
    taskQueue,
    client,
    workers,
    apiUrl,
    smtp,
    async close() {
      if (api) {
        api.closeAllConnections();
        await new Promise<void>((resolve) => api.close(() => resolve()));
      }
      await emulators.close();
      await client.connection.close();
      await workers.shutdown();
      await running;
      await smtp?.close();
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
