/**
 * The HTTP face of bobsync: health and readiness for load balancers, and (mounted by the
 * server) the webhook receiver and the codec endpoint for the Temporal UI.
 */
import express, { type Express, type Router } from 'express';
import type { Client } from '@temporalio/client';

export interface ApiDependencies {
  /** Temporal client; readiness fails while Temporal does not answer. */
  temporal: Client;
  /** Extra routers mounted by path, e.g. { '/codec': codecRouter }. */
  routers?: Record<string, Router>;
}

export function createApiApp(deps: ApiDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
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
  for (const [path, router] of Object.entries(deps.routers ?? {})) app.use(path, router);
  return app;
}
