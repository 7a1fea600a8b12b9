/**
 * POST /webhooks/hibob/:connection — the real-time entry point. The answer tells HiBob whether
 * to retry: 2xx only once Temporal durably holds the event (a signal, or a signal-with-start, to the
 * employee's workflow), 503 when Temporal cannot be reached, 4xx for requests that will never succeed.
 * One delivery reaches every enabled connection reading the same HiBob company (see fan-out.ts).
 */
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

export function createWebhookRouter(options: WebhookRouterOptions): Router {
  const router = express.Router();
  const taskQueue = options.taskQueue ?? options.config.temporal.taskQueue;
  const connections = new Map(options.config.connections.map((c) => [c.name, c]));
  // Half the employee workflow's 10-minute idle period, for a margin against clock and timing.
  const recent = new RecentWorkflows(5 * 60_000, 50_000);
  const metrics = options.metrics ?? apiMetrics();

  // Every answer is counted once sent, whichever handler gave it (413 and 500 come from the error handler).
  router.use('/hibob/:connection', (req: Request<{ connection: string }>, res: Response, next: NextFunction) => {
    const started = performance.now();
    // Paths name any connection anyone posts to: only configured names become labels.
    const label = connections.has(req.params.connection) ? req.params.connection : UNKNOWN_CONNECTION;
    res.once('finish', () => metrics.webhookAnswered(label, res.statusCode, (performance.now() - started) / 1000));
    next();
  });

  router.post(
    '/hibob/:connection',
    express.raw({ type: () => true, limit: options.maxBodyBytes ?? 64 * 1024 }),
    async (req: Request<{ connection: string }>, res: Response) => {
      const name = req.params.connection;
      const connection = connections.get(name);
      if (!connection || !connection.enabled) return res.status(404).json({ error: `unknown connection "${name}"` });
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const parsed = parseHibobWebhook(raw);
      // HiBob's creation ping may come unsigned; it starts nothing, so answering it is safe.
      if (parsed.kind === 'ping') return res.status(200).json({ ok: true });

      if (!connection.source.webhookSecret) {
        return res.status(401).json({ error: `connection "${name}" has no source.webhookSecret configured` });
      }
      const secret = readSecret(connection.source.webhookSecret, options.env);
      if (!verifyBobSignature(secret, raw, req.header('bob-signature'))) {
        options.log.warn({ connection: name }, 'webhook rejected: bad or missing Bob-Signature');
        return res.status(401).json({ error: 'invalid Bob-Signature' });
      }
      if (parsed.kind === 'invalid') return res.status(400).json({ error: parsed.reason });
      if (parsed.kind === 'ignored') return res.status(202).json({ ignored: parsed.type, reason: parsed.reason });

      const signal: HibobEventSignal = { ...parsed.event, receivedAt: new Date().toISOString() };
      const targets = connectionsOfSameSource(options.config, name);
      const deadline = Date.now() + (options.temporalTimeoutMs ?? 5_000);
      const temporalStarted = performance.now();
      // Concurrently, so a delivery to several connections answers HiBob about as fast as one.
      const outcomes = await Promise.all(
        targets.map(async (target): Promise<DeliveryOutcome> => {
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
        res.setHeader('Retry-After', '30');
        return res.status(503).json({ error: 'temporarily unable to accept the event; retry later' });
      }
      for (const o of outcomes) {
        if (!o.ok) continue;
        metrics.signalAccepted(o.connection, o.temporalMs / 1000);
        options.onAccepted?.(o.connection, signal, o.temporalMs);
      }
      return res
        .status(202)
        .json({ accepted: true, workflowId: employeeWorkflowId(name, signal.employeeId), connections: targets });
    },
  );

  router.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.too.large') return res.status(413).json({ error: 'body too large' });
    if (err.status && err.status >= 400 && err.status < 500) return res.status(err.status).json({ error: err.message });
    next(err);
  });
  return router;
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
