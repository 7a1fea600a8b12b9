/**
 * A complete bobsync on loopback for tests and benchmarks: emulators on free ports, a config
 * pointing at them, a worker on a given Temporal server with a task queue of its own, a client,
 * and on request the webhook API (with the HiBob emulator subscribed to it).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import type { WorkerOptions } from '@temporalio/worker';
import { createApiApp } from '../../../src/api/app';
import { createWebhookRouter, type WebhookRouterOptions } from '../../../src/api/webhooks';
import { codecDataConverter, codecFromEnv } from '../../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../../src/config/loader';
import type { BobsyncConfig } from '../../../src/config/schema';
import { connectClient } from '../../../src/temporal/client';
import { createWorkers, type WorkerSet } from '../../../src/worker';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators, type StartEmulatorsOptions } from './emulators';
import { demoGroups, embeddedConfigYaml } from './embedded';

export interface LocalStack {
  emulators: RunningEmulators;
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  taskQueue: string;
  client: Client;
  /** Absent when the stack was started with `worker: false`. */
  workers?: WorkerSet;
  /** Base URL of the webhook API, when started. */
  apiUrl?: string;
  close(): Promise<void>;
}

export interface LocalStackOptions extends StartEmulatorsOptions {
  /** Temporal frontend, host:port. */
  temporalAddress: string;
  /** Base task queue; give each stack sharing a server its own. */
  taskQueue: string;
  /**
   * Temporal namespace (default `default`). Workflow ids name the connection, not the stack, so
   * stacks that must never meet each other's workflows (the failure notifier, the schedule) on
   * one server run in namespaces of their own.
   */
  namespace?: string;
  /** BOBSYNC_CODEC_KEYS for the payload codec. */
  codecKeys: string;
  /** A pre-built workflow bundle; without it the worker bundles src/workflows itself. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Notifications go to this SMTP server. */
  smtpUrl?: string;
  /** Start the webhook API and subscribe the HiBob emulator's webhooks to it. */
  api?: boolean;
  /** Adjust the parsed config before the worker starts. */
  configure?: (config: BobsyncConfig) => void;
  /** Run the worker in this process (default true); tests of worker crashes run it apart. */
  worker?: boolean;
  /** Where blobs go (BOBSYNC_DATA_DIR). */
  dataDir?: string;
  /** More environment for the worker and API, e.g. the blob store's settings (BOBSYNC_BLOB_STORE=s3 …). */
  env?: NodeJS.ProcessEnv;
  /** Passed to the webhook router: observes each accepted event. */
  onWebhookAccepted?: WebhookRouterOptions['onAccepted'];
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const address = options.temporalAddress;
  const taskQueue = options.taskQueue;
  const namespace = options.namespace ?? 'default';
  const emulators = await startEmulators({
    employees: 5,
    seed: 7,
    ...options,
    ports: { hibob: 0, learning360: 0, skillcast: 0 },
  });
  const env: NodeJS.ProcessEnv = {
    BOBSYNC_CODEC_KEYS: options.codecKeys,
    ...(options.dataDir ? { BOBSYNC_DATA_DIR: options.dataDir } : {}),
    HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
    HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
    LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
    SKILLCAST_SCIM_TOKEN: DEMO_CREDENTIALS.skillcastToken,
    ...(options.smtpUrl ? { BOBSYNC_SMTP_URL: options.smtpUrl } : {}),
    ...options.env,
  };
  const config = parseConfig(
    embeddedConfigYaml(
      emulators.hibob?.server.url ?? 'http://127.0.0.1:9',
      emulators.learning360?.server.url ?? 'http://127.0.0.1:9',
      emulators.learning360 ? await demoGroups(emulators.learning360.server.url) : { root: '0'.repeat(24), byName: {} },
      emulators.skillcast?.server.url,
    ),
  );
  config.temporal = { address, namespace, taskQueue };
  for (const connection of config.connections) {
    connection.source.readsPerSecond = 50;
    connection.notifications = {
      ...connection.notifications,
      to: ['hr-systems@example.com'],
      digestWindowSeconds: 1,
      minIntervalSeconds: 0,
    };
  }
  options.configure?.(config);
  const dataConverter = codecDataConverter(codecFromEnv(env));
  const workers =
    options.worker === false
      ? undefined
      : await createWorkers({ config, env, address, dataConverter, workflowBundle: options.workflowBundle });
  const running = workers?.run();
  const client = await connectClient({ address, namespace, dataConverter });

  let api: Server | undefined;
  let apiUrl: string | undefined;
  if (options.api) {
    const app = createApiApp({
      temporal: client,
      routers: {
        '/webhooks': createWebhookRouter({
          config,
          env,
          temporal: client,
          log: pino({ level: 'silent' }),
          taskQueue,
          onAccepted: options.onWebhookAccepted,
        }),
      },
    });
    api = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    const hibob = emulators.hibob?.emulator;
    hibob?.updateSettings({ webhookRetryScheduleMs: [200, 500, 1000, 2000, 4000] });
    hibob?.subscribeWebhook({
      url: `${apiUrl}/webhooks/hibob/demo-360`,
      secret: DEMO_CREDENTIALS.hibobWebhookSecret,
      name: 'test',
      ping: false,
    });
  }

  return {
    emulators,
    config,
    env,
    taskQueue,
    client,
    workers,
    apiUrl,
    async close() {
      if (api) {
        api.closeAllConnections();
        await new Promise<void>((resolve) => api.close(() => resolve()));
      }
      await emulators.close();
      await client.connection.close();
      await workers?.shutdown();
      await running;
    },
  };
}

/** Polls `probe` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
