/**
 * End to end on the real Temporal dev server: a Worker and a Client that share the codec
 * run a workflow carrying an email address, then the history is read back with a plain
 * client (no codec), as anyone with access to Temporal's stores would see it.
 */
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { codecDataConverter, codecFromEnv, generateCodecKey } from '../../src/codec';
import { testEnvironment, uniqueTaskQueue } from '../support/temporal';
import type { CodecProbeActivities, CodecProbeInput, CodecProbeResult } from '../support/workflows/codec-probe';

jest.setTimeout(180_000);

const EMAIL = 'Ada.Lovelace+codec@Example.COM';
const NORMALISED = 'ada.lovelace+codec@example.com';

/** Every Payload anywhere inside a history event (inputs, results, headers, memos…). */
function collectPayloads(node: unknown, out: Payload[] = [], seen = new Set<unknown>()): Payload[] {
  if (typeof node !== 'object' || node === null || seen.has(node) || ArrayBuffer.isView(node)) return out;
  seen.add(node);
  const candidate = node as { metadata?: unknown; data?: unknown };
  if (candidate.metadata && typeof candidate.metadata === 'object' && 'encoding' in candidate.metadata) {
    out.push(node);
    return out;
  }
  for (const value of Object.values(node)) collectPayloads(value, out, seen);
  return out;
}

describe('payload codec on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;

  /** What Temporal stored for a workflow, fetched without the codec, and its raw bytes in lower case. */
  async function storedHistory(workflowId: string) {
    const response = await env.client.workflowService.getWorkflowExecutionHistory({
      namespace: env.namespace ?? 'default',
      execution: { workflowId },
    });
    const events = response.history?.events ?? [];
    const raw = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish())
      .toString('latin1')
      .toLowerCase();
    return { events, raw };
  }

  async function startProbeWorker(taskQueue: string, activities: CodecProbeActivities) {
    const codec = codecFromEnv({ BOBSYNC_CODEC_KEYS: `it-1:${generateCodecKey()}` });
    const dataConverter = codecDataConverter(codec);
    const namespace = env.namespace ?? 'default';
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      workflowsPath: require.resolve('../support/workflows/codec-probe'),
      activities,
      dataConverter,
    });
    const client = new Client({ connection: env.connection, namespace, dataConverter });
    return { codec, worker, client };
  }

  beforeAll(async () => {
    env = await testEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('keeps the email address out of the plain history while the result decodes', async () => {
    const taskQueue = uniqueTaskQueue('codec-probe');
    const workflowId = `codec-probe-${taskQueue}`;
    const { codec, worker, client } = await startProbeWorker(taskQueue, {
      normaliseEmail: async (email) => email.trim().toLowerCase(),
      refuseEmail: () => Promise.reject(new Error('not used here')),
    });

    const input: CodecProbeInput = { employeeId: 'E-1001', email: EMAIL };
    const result = await worker.runUntil(
      client.workflow.execute<(i: CodecProbeInput) => Promise<CodecProbeResult>>('codecProbe', {
        taskQueue,
        workflowId,
        args: [input],
      }),
    );
    expect(result).toEqual({ employeeId: 'E-1001', email: NORMALISED, greeting: `Welcome, ${NORMALISED}` });

    // What Temporal stored, fetched without the codec.
    const { events, raw } = await storedHistory(workflowId);
    const eventTypes = events.map((e) => e.eventType);
    expect(eventTypes).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect(eventTypes).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);

    // The raw bytes of the whole history contain neither spelling of the address, nor the id.
    expect(raw).not.toContain('ada.lovelace');
    expect(raw).not.toContain('e-1001');

    // Every payload is sealed with the configured key.
    const payloads = collectPayloads(events);
    expect(payloads.length).toBeGreaterThanOrEqual(4); // workflow input, activity input + result, workflow result
    for (const p of payloads) {
      expect(Buffer.from(p.metadata!.encoding!).toString()).toBe('binary/encrypted');
      expect(Buffer.from(p.metadata!['encryption-key-id']!).toString()).toBe('it-1');
    }

    // The stored result decodes with the codec …
    const completed = events.find((e) => e.workflowExecutionCompletedEventAttributes)!;
    const stored = completed.workflowExecutionCompletedEventAttributes!.result!.payloads!;
    const [decoded] = await codec.decode(stored);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(result);

    // … and a client without it cannot read it.
    await expect(env.client.workflow.getHandle(workflowId).result()).rejects.toThrow(/binary\/encrypted/);
  });

  it('keeps the email address out of the plain history when failure messages name it', async () => {
    const taskQueue = uniqueTaskQueue('codec-probe-refusal');
    const workflowId = `codec-probe-refusal-${taskQueue}`;
    const { worker, client } = await startProbeWorker(taskQueue, {
      normaliseEmail: async (email) => email,
      refuseEmail: (email) =>
        Promise.reject(ApplicationFailure.nonRetryable(`${email} already belongs to another account`, 'Taken')),
    });
    const input: CodecProbeInput = { employeeId: 'E-1002', email: EMAIL };
    const failed = await worker
      .runUntil(client.workflow.execute('codecProbeRefusal', { taskQueue, workflowId, args: [input] }))
      .then(
        () => undefined,
        (err: unknown) => err,
      );

    // The client with the codec reads both messages back …
    expect(failed).toBeInstanceOf(WorkflowFailedError);
    const failure = (failed as WorkflowFailedError).cause;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure!.message).toBe(`${EMAIL} was not linked: ${EMAIL} already belongs to another account`);

    // … while Temporal stored an activity failure and a workflow failure without the address.
    const { events, raw } = await storedHistory(workflowId);
    const eventTypes = events.map((e) => e.eventType);
    expect(eventTypes).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED);
    expect(eventTypes).toContain(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
    expect(raw).not.toContain('ada.lovelace');
    expect(raw).not.toContain('already belongs');
  });
});
