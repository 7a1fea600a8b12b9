/**
 * A bobsync stack for integration tests: emulators on free ports, a config pointing at them,
 * a worker on the shared Temporal dev server with a task queue of its own, and a client.
 */
import type { Client } from '@temporalio/client';
import { codecDataConverter, codecFromEnv } from '../../src/codec/aes-gcm-codec';
import { parseConfig } from '../../src/config/loader';
import type { BobsyncConfig } from '../../src/config/schema';
import { DEMO_CREDENTIALS, startEmulators, type RunningEmulators, type StartEmulatorsOptions } from '../../src/dev/emulators';
import { embeddedConfigYaml } from '../../src/dev/embedded';
import { connectClient } from '../../src/temporal/client';
import { createWorkers, type WorkerSet } from '../../src/worker';
import { testCodecEnv } from './codec';
import { uniqueTaskQueue, workflowBundle } from './temporal';

export interface TestStack {
  emulators: RunningEmulators;
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  taskQueue: string;
  client: Client;
  workers: WorkerSet;
  close(): Promise<void>;
}

export async function startTestStack(options: StartEmulatorsOptions & { name?: string } = {}): Promise<TestStack> {
  const address = process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  const emulators = await startEmulators({ employees: 5, seed: 7, ...options, ports: { hibob: 0, learning360: 0, skillcast: 0 } });
  const taskQueue = uniqueTaskQueue(options.name ?? 'stack');
  const env: NodeJS.ProcessEnv = {
    ...testCodecEnv,
    HIBOB_SERVICE_USER_TOKEN: DEMO_CREDENTIALS.hibobToken,
    HIBOB_WEBHOOK_SECRET: DEMO_CREDENTIALS.hibobWebhookSecret,
    LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret,
    SKILLCAST_SCIM_TOKEN: DEMO_CREDENTIALS.skillcastToken,
  };
  const config = parseConfig(
    embeddedConfigYaml(
      emulators.hibob?.server.url ?? 'http://127.0.0.1:9',
      emulators.learning360?.server.url ?? 'http://127.0.0.1:9',
      emulators.skillcast?.server.url ?? 'http://127.0.0.1:9',
      '0'.repeat(24),
    ),
  );
  config.temporal = { address, namespace: 'default', taskQueue };
  const dataConverter = codecDataConverter(codecFromEnv(env));
  const workers = await createWorkers({ config, env, address, dataConverter, workflowBundle: workflowBundle() });
  const running = workers.run();
  const client = await connectClient({ address, namespace: 'default', dataConverter });
  return {
    emulators,
    config,
    env,
    taskQueue,
    client,
    workers,
    async close() {
      await client.connection.close();
      await workers.shutdown();
      await running;
      await emulators.close();
    },
  };
}
