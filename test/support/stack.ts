/**
 * The local stack (packages/local/stack/local-stack) on the test run's shared Temporal dev server, with the
 * test codec key, the prebuilt workflow bundle, a namespace and task queue of its own and an
 * SMTP sink.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../packages/local/stack/local-stack';
import { TEST_CODEC_KEYS } from './codec';
import { startSmtpSink, type SmtpSink } from './smtp';
import { createTestNamespace, uniqueTaskQueue, workflowBundle } from './temporal';

export { eventually } from '../../packages/local/stack/local-stack';

export interface TestStack extends LocalStack {
  smtp?: SmtpSink;
}

export type TestStackOptions = Omit<LocalStackOptions, 'temporalAddress' | 'taskQueue' | 'codecKeys' | 'smtpUrl'> & {
  name?: string;
  /** A Temporal server of the test's own (its `default` namespace) instead of the shared one. */
  temporalAddress?: string;
  /** Start an SMTP sink and send notifications there. */
  smtp?: boolean;
};

/**
 * Stack options for full-sync tests: 360Learning limits raised well above the defaults so a test
 * is not a rate-limit wait, and the batch shape each test wants to exercise.
 */
export function fastFullSync(batches: {
  batchSize: number;
  parallelism: number;
  concurrencyPerBatch: number;
}): Pick<TestStackOptions, 'learning360' | 'configure'> {
  return {
    learning360: { writesPerSecond: 60, getPerSecond: 200 },
    configure: (config) => {
      const c = config.connections[0]!;
      if (c.destination.type === '360learning')
        Object.assign(c.destination, { writesPerSecond: 50, readsPerSecond: 150 });
      c.fullSync = { ...c.fullSync, ...batches };
    },
  };
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const temporalAddress = options.temporalAddress ?? process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS;
  if (!temporalAddress)
    throw new Error('No Temporal test server: run the tests through jest so global setup starts one.');
  const smtp = options.smtp ? await startSmtpSink() : undefined;
  const stack = await startLocalStack({
    ...options,
    temporalAddress,
    taskQueue: uniqueTaskQueue(options.name ?? 'stack'),
    namespace:
      options.namespace ?? (options.temporalAddress ? 'default' : await createTestNamespace(options.name ?? 'stack')),
    codecKeys: TEST_CODEC_KEYS,
    workflowBundle: workflowBundle(),
    // Stacks started with a namespace of another (two hosts of one deployment) still hire
    // people of their own.
    hibobIdSeed: options.hibobIdSeed ?? Math.floor(Math.random() * 2 ** 31),
    smtpUrl: smtp?.url,
    // Blobs (snapshots, plans, reports) of one stack never meet another's.
    dataDir: options.dataDir ?? mkdtempSync(join(tmpdir(), 'bobsync-data-')),
  });
  return {
    ...stack,
    smtp,
    async close() {
      await stack.close();
      await smtp?.close();
    },
  };
}
