/**
 * The Temporal SDK's own metrics (task latencies, pollers, slots, schedule-to-start) come from
 * its native core, which serves them in Prometheus format on an address of its own. The worker
 * binds that exporter to a loopback port nobody else sees and appends its text to bobsync's,
 * so one scrape of the worker's /metrics gets both.
 */
import { createServer } from 'node:net';
import type { Registry } from 'prom-client';

/** A TCP port on 127.0.0.1 that was free a moment ago (the SDK's exporter cannot report the port it took). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The SDK exporter's settings: durations in seconds with the unit in the name, and counters
 * ending in `_total`, as Prometheus names things (and bobsync's own metrics do).
 */
export function sdkPrometheusExporter(port: number) {
  return {
    bindAddress: `127.0.0.1:${port}`,
    useSecondsForDurations: true,
    unitSuffix: true,
    countersTotalSuffix: true,
  };
}

/** The SDK's metrics as Prometheus text, or undefined when its exporter does not answer in time. */
export async function readSdkMetrics(url: string, timeoutMs = 2_000): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * bobsync's registry followed by the SDK's text, when `sdkUrl` is given. Both are Prometheus
 * text format and their names never overlap (`bobsync_`, Node's `process_`/`nodejs_`, the SDK's
 * `temporal_`), so concatenating them is a valid exposition. `up` says whether the SDK's part
 * is in this scrape.
 */
export async function renderWithSdk(
  registry: Registry,
  sdkUrl: string | undefined,
  up?: { set(value: number): void },
): Promise<string> {
  const sdk = sdkUrl ? await readSdkMetrics(sdkUrl) : undefined;
  up?.set(sdk === undefined ? 0 : 1);
  const own = await registry.metrics();
  if (!sdk) return own;
  return `${own}${own.endsWith('\n') ? '' : '\n'}${sdk}${sdk.endsWith('\n') ? '' : '\n'}`;
}
