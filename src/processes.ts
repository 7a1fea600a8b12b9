/**
 * Long-running bobsync processes (worker, API, codec endpoint) and one-shot commands that talk to
 * Temporal. Shared by the CLI, the embedded default and the docker images.
 */
import type { Server } from 'node:http';
import type { Express } from 'express';
import { createApiApp } from './api/app';
import { createWebhookRouter } from './api/webhooks';
import { loadContext, temporalSettings, type CommandContext } from './config/context';
import { codecDataConverter, codecFromEnv } from './codec/aes-gcm-codec';
import { codecRouterOptionsFromEnv, createCodecApp } from './codec/codec-server';
import { runtimeSettings, type RuntimeSettings } from './config/runtime';
import { createLogger } from './logging';
import { connectClient } from './temporal/client';
import { describeConnection, type ConnectionSummary } from './temporal/connection-settings';
import { createWorkers, installWorkerRuntime, startWorkerMetricsServer, type WorkerSet } from './worker';
import { healthCheck, type HealthCheckResult } from './workflows/health-check';
import { waitForSignal } from './shutdown';

export interface RunningWorker extends WorkerSet {
  /** Base URL of the metrics listener (GET /metrics); absent when BOBSYNC_WORKER_METRICS_PORT is 0. */
  metricsUrl?: string;
}

/**
 * The Workers, and their metrics listener on BOBSYNC_WORKER_METRICS_HOST:BOBSYNC_WORKER_METRICS_PORT
 * unless the port is 0; it closes when the Workers have stopped. A port already taken (another
 * worker on the same host) costs the metrics, not the syncing: the worker runs and logs the fix.
 */
export async function startWorker(ctx: CommandContext, env: NodeJS.ProcessEnv = process.env): Promise<RunningWorker> {
  const { BOBSYNC_WORKER_METRICS_PORT: port, BOBSYNC_WORKER_METRICS_HOST: host } = ctx.runtime;
  const metricsServer =
    port === 0
      ? undefined
      : await startWorkerMetricsServer({ port, host }).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EADDRINUSE') throw err;
          createLogger('worker', ctx.runtime.BOBSYNC_LOG_LEVEL).warn(
            { host, port },
            "the worker's metrics port is in use, so this worker serves no metrics: give each worker on a host its own BOBSYNC_WORKER_METRICS_PORT (0 turns the listener off)",
          );
          return undefined;
        });
  let set: WorkerSet;
  try {
    set = await createWorkers({
      config: ctx.config,
      env,
      temporal: temporalSettings(ctx),
      dataConverter: codecDataConverter(codecFromEnv(env)),
    });
  } catch (err) {
    await metricsServer?.close();
    throw err;
  }
  if (!metricsServer) return set;
  const closeMetrics = () => metricsServer.close();
  return {
    ...set,
    metricsUrl: metricsServer.url,
    run: () => set.run().finally(closeMetrics),
    async shutdown() {
      await set.shutdown();
      await closeMetrics();
    },
  };
}

export async function runWorkerProcess(opts: { config?: string }): Promise<void> {
  const log = createLogger('worker');
  const ctx = loadContext(opts);
  const sdkMetrics = ctx.runtime.BOBSYNC_WORKER_METRICS_PORT !== 0;
  const sdkMetricsUrl = await installWorkerRuntime({
    logLevel: ctx.runtime.BOBSYNC_LOG_LEVEL === 'debug' || ctx.runtime.BOBSYNC_LOG_LEVEL === 'trace' ? 'DEBUG' : 'INFO',
    sdkMetrics,
  });
  if (sdkMetrics && !sdkMetricsUrl)
    log.warn("the Temporal SDK's metrics exporter could not start; /metrics serves bobsync's metrics alone");
  const set = await startWorker(ctx);
  log.info(
    {
      temporal: describeConnection(temporalSettings(ctx)),
      connections: ctx.config.connections.map((c) => c.name),
      metrics: set.metricsUrl && `${set.metricsUrl}/metrics`,
    },
    'worker started',
  );
  const running = set.run();
  const signal = await Promise.race([waitForSignal(), running.then(noop, noop)]);
  if (signal) {
    log.info({ signal }, 'shutting down');
    await set.shutdown();
  }
  try {
    await running;
  } catch (err) {
    // The other Workers are stopped (or given up on) by now. Exit explicitly: a failed Worker's
    // native side may still hold the event loop, and the orchestrator must see the process end.
    log.error({ err }, 'a worker failed; exiting so that the process is restarted');
    process.exit(1);
  }
}

const noop = () => undefined;

export interface RunningListener {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface RunningApi extends RunningListener {
  /** The codec listener's base URL (the Temporal UI's codec endpoint is `${codecUrl}/codec`); absent with `codec: false`. */
  codecUrl?: string;
}

async function listen(app: Express, port: number, host: string): Promise<RunningListener> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The codec endpoint on its own listener (BOBSYNC_CODEC_HOST:BOBSYNC_CODEC_PORT). Throws before
 * listening when neither a token nor OIDC is configured, unless BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED.
 */
export async function startCodecServer(
  runtime: RuntimeSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningListener> {
  const options = codecRouterOptionsFromEnv(codecFromEnv(env), env);
  const app = createCodecApp({ ...options, allowUnauthenticated: runtime.BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED });
  if (!options.authToken && !options.oidc) {
    createLogger('codec', runtime.BOBSYNC_LOG_LEVEL).warn(
      { host: runtime.BOBSYNC_CODEC_HOST, port: runtime.BOBSYNC_CODEC_PORT },
      'the codec endpoint accepts anyone (BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED): for local development only',
    );
  }
  return listen(app, runtime.BOBSYNC_CODEC_PORT, runtime.BOBSYNC_CODEC_HOST);
}

/**
 * The webhook API (/webhooks, /healthz, /readyz) and, unless `codec: false`, the codec endpoint on
 * a listener of its own. The codec listener starts first: a missing credential stops the process
 * before it takes any webhook.
 */
export async function startApi(
  ctx: CommandContext,
  env: NodeJS.ProcessEnv = process.env,
  options: { codec?: boolean } = {},
): Promise<RunningApi> {
  const codec = codecFromEnv(env);
  const codecServer = options.codec === false ? undefined : await startCodecServer(ctx.runtime, env);
  try {
    const temporal = await connectClient({ settings: temporalSettings(ctx), dataConverter: codecDataConverter(codec) });
    const log = createLogger('api', ctx.runtime.BOBSYNC_LOG_LEVEL);
    const app = createApiApp({
      temporal,
      routers: { '/webhooks': createWebhookRouter({ config: ctx.config, env, temporal, log }) },
    });
    const webhooks = await listen(app, ctx.runtime.BOBSYNC_API_PORT, ctx.runtime.BOBSYNC_API_HOST).catch(
      async (err: unknown) => {
        await temporal.connection.close();
        throw err;
      },
    );
    return {
      ...webhooks,
      codecUrl: codecServer?.url,
      async close() {
        await webhooks.close();
        await codecServer?.close();
        await temporal.connection.close();
      },
    };
  } catch (err) {
    await codecServer?.close();
    throw err;
  }
}

export async function runApiProcess(opts: { config?: string; codec?: boolean }): Promise<void> {
  const log = createLogger('api');
  const ctx = loadContext(opts);
  const api = await startApi(ctx, process.env, { codec: opts.codec });
  log.info(
    {
      url: api.url,
      metrics: `${api.url}/metrics`,
      codecEndpoint: api.codecUrl && `${api.codecUrl}/codec`,
      temporal: describeConnection(temporalSettings(ctx)),
    },
    'api listening',
  );
  const signal = await waitForSignal();
  log.info({ signal }, 'shutting down');
  await api.close();
}

/** The codec endpoint alone: it needs the codec keys and its credential, neither the config nor Temporal. */
export async function runCodecServerProcess(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const log = createLogger('codec');
  const codec = await startCodecServer(runtimeSettings(env), env);
  log.info({ codecEndpoint: `${codec.url}/codec` }, 'codec endpoint listening');
  const signal = await waitForSignal();
  log.info({ signal }, 'shutting down');
  await codec.close();
}

/** `ctx` defaults to the one loaded from opts.config and env; the local dev stack passes its own (a plain local server). */
export async function runHealthCheck(
  opts: { config?: string; connection?: string },
  env: NodeJS.ProcessEnv = process.env,
  ctx: CommandContext = loadContext(opts, env),
): Promise<HealthCheckResult & { temporal: ConnectionSummary }> {
  const connection = opts.connection ?? ctx.config.connections[0]!.name;
  const settings = temporalSettings(ctx);
  const client = await connectClient({ settings, dataConverter: codecDataConverter(codecFromEnv(env)) });
  try {
    const result = await client.workflow.execute(healthCheck, {
      taskQueue: ctx.config.temporal.taskQueue,
      workflowId: `bobsync/${connection}/health-check/${Date.now()}`,
      args: [{ connection, taskQueue: ctx.config.temporal.taskQueue }],
      workflowExecutionTimeout: '2 minutes',
    });
    // Which Temporal answered, and how: the first thing to know when the check ran against the wrong one.
    return { ...result, temporal: describeConnection(settings) };
  } finally {
    await client.connection.close();
  }
}
