/**
 * Long-running bobsync processes (worker, API) and one-shot commands that talk to Temporal.
 * Shared by the CLI, the embedded default and the docker images.
 */
import type { Server } from 'node:http';
import { createApiApp } from './api/app';
import { createWebhookRouter } from './api/webhooks';
import { loadContext, type CommandContext } from './config/context';
import { codecDataConverter, codecFromEnv } from './codec/aes-gcm-codec';
import { codecRouterFromEnv } from './codec/codec-server';
import { createLogger } from './logging';
import { connectClient } from './temporal/client';
import { createWorkers, installWorkerLogging, type WorkerSet } from './worker';
import { healthCheck, type HealthCheckResult } from './workflows/health-check';
import { waitForSignal } from './shutdown';

export async function startWorker(ctx: CommandContext, env: NodeJS.ProcessEnv = process.env): Promise<WorkerSet> {
  return createWorkers({
    config: ctx.config,
    env,
    address: ctx.address,
    namespace: ctx.namespace,
    dataConverter: codecDataConverter(codecFromEnv(env)),
  });
}

export async function runWorkerProcess(opts: { config?: string }): Promise<void> {
  const log = createLogger('worker');
  const ctx = loadContext(opts);
  installWorkerLogging(
    ctx.runtime.BOBSYNC_LOG_LEVEL === 'debug' || ctx.runtime.BOBSYNC_LOG_LEVEL === 'trace' ? 'DEBUG' : 'INFO',
  );
  const set = await startWorker(ctx);
  log.info(
    { address: ctx.address, namespace: ctx.namespace, connections: ctx.config.connections.map((c) => c.name) },
    'worker started',
  );
  const running = set.run();
  const signal = await Promise.race([waitForSignal(), running.then(() => 'done' as const)]);
  if (signal !== 'done') {
    log.info({ signal }, 'shutting down');
    await set.shutdown();
  }
}

export interface RunningApi {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export async function startApi(ctx: CommandContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningApi> {
  const codec = codecFromEnv(env);
  const temporal = await connectClient({
    address: ctx.address,
    namespace: ctx.namespace,
    dataConverter: codecDataConverter(codec),
  });
  const log = createLogger('api');
  const app = createApiApp({
    temporal,
    routers: {
      '/codec': codecRouterFromEnv(codec, env),
      '/webhooks': createWebhookRouter({ config: ctx.config, env, temporal, log }),
    },
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(ctx.runtime.BOBSYNC_API_PORT, ctx.runtime.BOBSYNC_API_HOST, (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
  });
  return {
    url: `http://${ctx.runtime.BOBSYNC_API_HOST}:${ctx.runtime.BOBSYNC_API_PORT}`,
    server,
    async close() {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await temporal.connection.close();
    },
  };
}

export async function runApiProcess(opts: { config?: string }): Promise<void> {
  const log = createLogger('api');
  const api = await startApi(loadContext(opts));
  log.info({ url: api.url }, 'api listening');
  const signal = await waitForSignal();
  log.info({ signal }, 'shutting down');
  await api.close();
}

export async function runHealthCheck(
  opts: { config?: string; connection?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<HealthCheckResult> {
  const ctx = loadContext(opts, env);
  const connection = opts.connection ?? ctx.config.connections[0]!.name;
  const client = await connectClient({
    address: ctx.address,
    namespace: ctx.namespace,
    dataConverter: codecDataConverter(codecFromEnv(env)),
  });
  try {
    return await client.workflow.execute(healthCheck, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId: `bobsync/${connection}/health-check/${Date.now()}`,
      args: [{ connection, taskQueue: ctx.config.temporal.taskQueue }],
      workflowExecutionTimeout: '2 minutes',
    });
  } finally {
    await client.connection.close();
  }
}
