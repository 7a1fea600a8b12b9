/**
 * The webhook API alone in a process of its own, as docker compose deploys it, for
 * `bench/webhooks.ts --api separate`: same app and router as the local stack, its own Temporal
 * client. Reports its CPU time, event-loop delay and how long Temporal took per event when stopped.
 */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { createApiApp } from '../src/api/app';
import { createWebhookRouter } from '../src/api/webhooks';
import { codecDataConverter, codecFromEnv } from '../src/codec/aes-gcm-codec';
import type { BobsyncConfig } from '../src/config/schema';
import { connectClient } from '../src/temporal/client';

export interface ApiProcessStart {
  address: string;
  /** Record a CPU profile of the measured span (written to the temp directory). */
  profile?: boolean;
  config: BobsyncConfig;
  env: NodeJS.ProcessEnv;
  taskQueue: string;
}

export interface ApiProcessStats {
  cpuMs: number;
  /** Each accepted event (by its triggeredAt) and how long Temporal took to take it, in ms. */
  temporalCalls: TemporalCall[];
  /** Event-loop delay percentiles over the measured span, in ms. */
  loop: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number; count: number };
  /** The measured span's CPU profile, when asked for. */
  profileFile?: string;
}

export interface TemporalCall {
  triggeredAt: string;
  ms: number;
}

export type ApiProcessMessage = { kind: 'listening'; url: string } | { kind: 'stats'; stats: ApiProcessStats };
export type ApiProcessCommand = { kind: 'measure' } | { kind: 'stop' };

async function serve(start: ApiProcessStart): Promise<void> {
  const temporal = await connectClient({
    address: start.address,
    namespace: 'default',
    dataConverter: codecDataConverter(codecFromEnv(start.env)),
  });
  const temporalCalls: TemporalCall[] = [];

  const app = createApiApp({
    temporal,
    routers: {
      '/webhooks': createWebhookRouter({
        config: start.config,
        env: start.env,
        temporal,
        log: pino({ level: 'silent' }),
        taskQueue: start.taskQueue,
        onAccepted: (_connection, event, ms) => temporalCalls.push({ triggeredAt: event.triggeredAt, ms }),
      }),
    },
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  let cpuFrom = process.cpuUsage();

  let profiler: Session | undefined;

  process.on('message', async (command: ApiProcessCommand) => {
    if (command.kind === 'measure') {
      temporalCalls.length = 0;
      loop.reset();
      loop.enable();
      cpuFrom = process.cpuUsage();
      if (start.profile) {
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
        await profiler.post('Profiler.start');
      }
      return;
    }
    loop.disable();
    const cpu = process.cpuUsage(cpuFrom);
    let profileFile: string | undefined;
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profileFile = join(os.tmpdir(), `bobsync-webhooks-api-${Date.now()}.cpuprofile`);
      writeFileSync(profileFile, JSON.stringify(profile));
    }
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const stats: ApiProcessStats = {
      cpuMs: (cpu.user + cpu.system) / 1000,
      temporalCalls,
      loop: {
        p50: ms(loop.percentile(50)),
        p90: ms(loop.percentile(90)),
        p99: ms(loop.percentile(99)),
        p999: ms(loop.percentile(99.9)),
        max: ms(loop.max),
        mean: ms(loop.mean),
        count: loop.count,
      },
      ...(profileFile ? { profileFile } : {}),
    };
    server.closeAllConnections();
    server.close();
    void temporal.connection.close().finally(() => {
      process.send?.({ kind: 'stats', stats } satisfies ApiProcessMessage, () => process.disconnect());
    });
  });
  process.send?.({
    kind: 'listening',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  } satisfies ApiProcessMessage);
}

if (require.main === module && process.send) {
  process.once('message', (start: ApiProcessStart) => {
    serve(start).catch((err: Error) => {
      process.stderr.write(`api process: ${err.message}\n`);
      process.exit(1);
    });
  });
}
