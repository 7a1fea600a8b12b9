/**
 * POST /webhooks/hibob/:connection — the real-time entry point. The answer tells HiBob whether
 * to retry: 2xx only once Temporal durably holds the event (signal-with-start of the employee's
 * workflow), 503 when Temporal cannot be reached, 4xx for requests that will never succeed.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { BobsyncConfig } from '../config/schema';
import { readSecret } from '../config/loader';
import { employeeWorkflowId } from '../workflows/ids';
import { hibobEventSignal, type EmployeeSyncInput, type HibobEventSignal } from '../workflows/employee-sync-api';
import { parseHibobWebhook, verifyBobSignature } from './hibob-webhook';

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
  /** Observes each accepted event (metrics). */
  onAccepted?: (connection: string, event: HibobEventSignal) => void;
}

export function createWebhookRouter(options: WebhookRouterOptions): Router {
  const router = express.Router();
  const taskQueue = options.taskQueue ?? options.config.temporal.taskQueue;
  const connections = new Map(options.config.connections.map((c) => [c.name, c]));

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
      const workflowId = employeeWorkflowId(name, signal.employeeId);
      const input: EmployeeSyncInput = { connection: name, employeeId: signal.employeeId, taskQueue };
      try {
        await options.temporal.connection.withDeadline(Date.now() + (options.temporalTimeoutMs ?? 5_000), () =>
          options.temporal.workflow.signalWithStart('employeeSync', {
            workflowId,
            taskQueue,
            args: [input],
            signal: hibobEventSignal,
            signalArgs: [signal],
          }),
        );
      } catch (err) {
        options.log.error({ connection: name, workflowId, err: (err as Error).message }, 'Temporal did not accept the event; asking HiBob to retry');
        res.setHeader('Retry-After', '30');
        return res.status(503).json({ error: 'temporarily unable to accept the event; retry later' });
      }
      options.onAccepted?.(name, signal);
      return res.status(202).json({ accepted: true, workflowId });
    },
  );

  router.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.too.large') return res.status(413).json({ error: 'body too large' });
    if (err.status && err.status >= 400 && err.status < 500) return res.status(err.status).json({ error: err.message });
    next(err);
  });
  return router;
}
