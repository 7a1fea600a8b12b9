/**
 * The public HTTP face of bobsync: health and readiness for load balancers, Prometheus metrics,
 * and (mounted by the server) the webhook receiver. The codec endpoint is never mounted here: it
 * decrypts history, so it has a listener of its own (src/codec/codec-server.ts) that need not be
 * reachable from HiBob.
 */
import express, { type Express, type Router } from 'express';
import type { Client } from '@temporalio/client';
import { apiMetrics, type ApiMetrics } from '../metrics';

export interface ApiDependencies {
  /** Temporal client; readiness fails while Temporal does not answer. */
  temporal: Client;
  /** Routers mounted by path, e.g. { '/webhooks': webhookRouter }. */
  routers?: Record<string, Router>;
  /** What GET /metrics serves (default: this process's API metrics, which the webhook router counts into). */
  metrics?: ApiMetrics;
}

export function createApiApp(deps: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Nothing here is cached: an ETag would only cost a hash of every answer.
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await deps.temporal.connection.withDeadline(Date.now() + 2_000, () =>
        deps.temporal.workflowService.getSystemInfo({}),
      );
      res.json({ status: 'ready', temporal: 'ok' });
    } catch (err) {
      res.status(503).json({ status: 'not ready', temporal: (err as Error).message });
    }
  });
  const { registry } = deps.metrics ?? apiMetrics();
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  for (const [path, router] of Object.entries(deps.routers ?? {})) app.use(path, router);
  return app;
}
