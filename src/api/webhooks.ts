/**
 * POST /webhooks/hibob/:connection — the real-time entry point. The answer tells HiBob whether
 * to retry: 2xx only once Temporal durably holds the event (a signal, or a signal-with-start, to the
 * employee's workflow), 503 when Temporal cannot be reached, 4xx for requests that will never succeed.
 * One delivery reaches every enabled connection reading the same HiBob company (see fan-out.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { BobsyncConfig } from '../config/schema';
import { apiMetrics, UNKNOWN_CONNECTION, type ApiMetrics } from '../metrics';
import { readSecret } from '../config/loader';
import { employeeSync } from '../workflows/employee-sync';
import { employeeWorkflowId } from '../workflows/ids';
import { hibobEventSignal, type EmployeeSyncInput, type HibobEventSignal } from '../workflows/employee-sync-api';
import { connectionsOfSameSource } from './fan-out';
import { parseHibobWebhook, verifyBobSignature } from './hibob-webhook';
import { RecentWorkflows } from './recent-workflows';

export interface WebhookRouterOptions {
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  temporal: Client;
  log: Logger;
  /** Base task queue (defaults to the config's). */
  taskQueue?: string;
  /** Largest body accepted; HiBob events are a few hundred bytes. */
  maxBodyBytes?: number;
  /** How long to wait for Temporal before answering 503. */
  temporalTimeoutMs?: number;
  /**
   * Observes each accepted event and how long Temporal took to take it, in ms (metrics): once per
   * connection reached, and only when the delivery is answered 2xx.
   */
  onAccepted?: (connection: string, event: HibobEventSignal, temporalMs: number) => void;
  /** Where deliveries are counted (default: this process's API metrics, which GET /metrics serves). */
  metrics?: ApiMetrics;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function createWebhookRouter(options: WebhookRouterOptions): Router {
  const router = express.Router();
  const receive = webhookReceiver(options);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Compressed bodies (rare) go through Express's parser, which inflates them as before.
  const compressedBody = express.raw({ type: () => true, limit });

  router.post('/hibob/:connection', (req: Request<{ connection: string }>, res: Response, next: NextFunction) => {
    const name = req.params.connection;
    receive.counting(name, res);
    const deliver = (raw: Buffer) => receive.handle(name, raw, req, res).catch(next);
    if ((req.headers['content-encoding']?.toLowerCase() ?? 'identity') === 'identity') {
      readBody(req, limit, (err, raw) => (err ? answerBodyError(res, err) : void deliver(raw)));
      return;
    }
    compressedBody(req, res, (err?: unknown) => {
      if (err) return bodyParserError(res, next, err as BodyError & Error);
      void deliver(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0));
    });
  });

  // Anything else sent to a webhook path is answered by Express (404) and counted all the same.
  router.use('/hibob/:connection', (req: Request<{ connection: string }>, res: Response, next: NextFunction) => {
    receive.counting(req.params.connection, res);
    next();
  });
  return router;
}

/** What the router does with a delivery once its body is read: everything but HTTP routing. */
function webhookReceiver(options: WebhookRouterOptions) {
  const taskQueue = options.taskQueue ?? options.config.temporal.taskQueue;
  const connections = new Map(options.config.connections.map((c) => [c.name, c]));
  // The config does not change under a running router: each connection's fan-out is worked out once.
  const targetsOf = new Map<string, string[]>();
  const targets = (name: string) => {
    let found = targetsOf.get(name);
    if (!found) targetsOf.set(name, (found = connectionsOfSameSource(options.config, name)));
    return found;
  };
  // Half the employee workflow's 10-minute idle period, for a margin against clock and timing.
  const recent = new RecentWorkflows(5 * 60_000, 50_000);
  const metrics = options.metrics ?? apiMetrics();

  /** Every answer is counted once sent, whoever gave it (413 and 500 come from the body parser and Express). */
  function counting(connection: string, res: ServerResponse): void {
    const started = performance.now();
    // Paths name any connection anyone posts to: only configured names become labels.
    const label = connections.has(connection) ? connection : UNKNOWN_CONNECTION;
    res.once('finish', () => metrics.webhookAnswered(label, res.statusCode, (performance.now() - started) / 1000));
  }

  async function handle(name: string, raw: Buffer, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const connection = connections.get(name);
    if (!connection || !connection.enabled) return answer(res, 404, { error: `unknown connection "${name}"` });
    const parsed = parseHibobWebhook(raw);
    // HiBob's creation ping may come unsigned; it starts nothing, so answering it is safe.
    if (parsed.kind === 'ping') return answer(res, 200, { ok: true });

    if (!connection.source.webhookSecret) {
      return answer(res, 401, { error: `connection "${name}" has no source.webhookSecret configured` });
    }
    const secret = readSecret(connection.source.webhookSecret, options.env);
    const signature = req.headers['bob-signature'];
    if (!verifyBobSignature(secret, raw, Array.isArray(signature) ? signature[0] : signature)) {
      options.log.warn({ connection: name }, 'webhook rejected: bad or missing Bob-Signature');
      return answer(res, 401, { error: 'invalid Bob-Signature' });
    }
    if (parsed.kind === 'invalid') return answer(res, 400, { error: parsed.reason });
    if (parsed.kind === 'ignored') return answer(res, 202, { ignored: parsed.type, reason: parsed.reason });

    const signal: HibobEventSignal = { ...parsed.event, receivedAt: new Date().toISOString() };
    const reached = targets(name);
    const deadline = Date.now() + (options.temporalTimeoutMs ?? 5_000);
    const temporalStarted = performance.now();
    // Concurrently, so a delivery to several connections answers HiBob about as fast as one.
    const outcomes = await Promise.all(
      reached.map(async (target): Promise<DeliveryOutcome> => {
        const workflowId = employeeWorkflowId(target, signal.employeeId);
        const input: EmployeeSyncInput = { connection: target, employeeId: signal.employeeId, taskQueue };
        try {
          await options.temporal.connection.withDeadline(deadline, () =>
            deliverToEmployeeWorkflow(options.temporal, recent, { workflowId, taskQueue, input, signal }),
          );
          return { ok: true, connection: target, workflowId, temporalMs: performance.now() - temporalStarted };
        } catch (err) {
          return { ok: false, connection: target, workflowId, error: (err as Error).message };
        }
      }),
    );
    const failed = outcomes.filter((o) => !o.ok);
    if (failed.length > 0) {
      // HiBob retries the whole delivery: the connections already reached get the event again,
      // which is harmless since their workflows re-read HiBob before deciding anything.
      options.log.error(
        {
          connection: name,
          failed: failed.map((o) => ({ connection: o.connection, workflowId: o.workflowId, err: o.error })),
        },
        `Temporal did not accept the event for ${failed.map((o) => o.connection).join(', ')}; asking HiBob to retry`,
      );
      return answer(
        res,
        503,
        { error: 'temporarily unable to accept the event; retry later' },
        { 'Retry-After': '30' },
      );
    }
    for (const o of outcomes) {
      if (!o.ok) continue;
      metrics.signalAccepted(o.connection, o.temporalMs / 1000);
      options.onAccepted?.(o.connection, signal, o.temporalMs);
    }
    return answer(res, 202, {
      accepted: true,
      workflowId: employeeWorkflowId(name, signal.employeeId),
      connections: reached,
    });
  }

  return { counting, handle };
}

/** A JSON answer, as Express's res.json writes it, without its per-answer work. */
function answer(res: ServerResponse, status: number, body: object, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

interface BodyError {
  status: number;
  type?: string;
  message: string;
}

/**
 * Reads an uncompressed body up to `limit` bytes. A larger one is read off to its end (so the
 * connection stays usable) and answered 413, as Express's body parser does.
 */
function readBody(req: IncomingMessage, limit: number, done: (err: BodyError | undefined, body: Buffer) => void) {
  const declared = Number(req.headers['content-length']);
  let tooLarge = declared > limit;
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const settle = (err: BodyError | undefined) => {
    if (settled) return;
    settled = true;
    done(err, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  };
  req.on('data', (chunk: Buffer) => {
    if (tooLarge) return;
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
      size = 0;
    } else chunks.push(chunk);
  });
  req.once('end', () =>
    settle(tooLarge ? { status: 413, type: 'entity.too.large', message: 'request entity too large' } : undefined),
  );
  req.once('error', () => settle({ status: 400, type: 'request.aborted', message: 'request aborted' }));
  req.once('close', () => settle({ status: 400, type: 'request.aborted', message: 'request aborted' }));
}

function answerBodyError(res: ServerResponse, err: BodyError): void {
  if (err.type === 'entity.too.large') return answer(res, 413, { error: 'body too large' });
  answer(res, err.status, { error: err.message });
}

/** Errors of Express's body parser: 413 and other 4xx answered as such, anything else left to Express (500). */
function bodyParserError(res: Response, next: NextFunction, err: BodyError & Error): void {
  if (err.type === 'entity.too.large') return answer(res, 413, { error: 'body too large' });
  if (err.status && err.status >= 400 && err.status < 500) return answer(res, err.status, { error: err.message });
  next(err);
}

type DeliveryOutcome =
  | { ok: true; connection: string; workflowId: string; temporalMs: number }
  | { ok: false; connection: string; workflowId: string; error: string };

interface Delivery {
  workflowId: string;
  taskQueue: string;
  input: EmployeeSyncInput;
  signal: HibobEventSignal;
}

/**
 * Signals the employee's workflow when this process delivered to it lately (it most likely still
 * runs), and signal-with-starts it otherwise. Temporal does noticeably less work for a plain
 * signal, which skips the start's checks; that matters in a burst of events for the same people.
 * A workflow that completed meanwhile answers "not found" and is started with the signal.
 */
async function deliverToEmployeeWorkflow(temporal: Client, recent: RecentWorkflows, delivery: Delivery): Promise<void> {
  if (recent.likelyRunning(delivery.workflowId)) {
    try {
      await temporal.workflow.getHandle(delivery.workflowId).signal(hibobEventSignal, delivery.signal);
      recent.delivered(delivery.workflowId);
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      recent.forget(delivery.workflowId);
    }
  }
  await temporal.workflow.signalWithStart(employeeSync, {
    workflowId: delivery.workflowId,
    taskQueue: delivery.taskQueue,
    args: [delivery.input],
    signal: hibobEventSignal,
    signalArgs: [delivery.signal],
  });
  recent.delivered(delivery.workflowId);
}
