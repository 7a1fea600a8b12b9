/**
 * What the webhook API measures: every delivery HiBob makes, by the answer it got, and how long
 * answering took. The answer is what decides whether HiBob retries, so it is the thing to watch.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { processRegistry } from './registry';

/** Label for a delivery to a connection the config does not have (any path HiBob or anyone posts to). */
export const UNKNOWN_CONNECTION = 'unknown';

export class ApiMetrics {
  readonly webhooks: Counter<'connection' | 'status'>;
  readonly webhookAck: Histogram<'connection' | 'status'>;
  readonly webhookSignal: Histogram<'connection'>;

  constructor(readonly registry: Registry = processRegistry()) {
    const registers = [registry];
    this.webhooks = new Counter({
      name: 'bobsync_webhooks_total',
      help: 'HiBob webhook deliveries, by the connection in their URL and the HTTP status answered (202 accepted, 503 Temporal unreachable, 401 bad signature…)',
      labelNames: ['connection', 'status'],
      registers,
    });
    this.webhookAck = new Histogram({
      name: 'bobsync_webhook_ack_duration_seconds',
      help: 'Time from a webhook delivery arriving to its answer being sent',
      labelNames: ['connection', 'status'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.webhookSignal = new Histogram({
      name: 'bobsync_webhook_signal_duration_seconds',
      help: "Time Temporal took to accept an event for one connection's employee workflow (signal or signal-with-start)",
      labelNames: ['connection'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** One delivery answered; `connection` is a configured name or UNKNOWN_CONNECTION. */
  webhookAnswered(connection: string, status: number, seconds: number): void {
    const labels = { connection, status: String(status) };
    this.webhooks.inc(labels);
    this.webhookAck.observe(labels, seconds);
  }

  signalAccepted(connection: string, seconds: number): void {
    this.webhookSignal.observe({ connection }, seconds);
  }
}

let processApiMetrics: ApiMetrics | undefined;

/** This process's API metrics: what createApiApp serves and the webhook router counts into, unless given others. */
export function apiMetrics(): ApiMetrics {
  processApiMetrics ??= new ApiMetrics();
  return processApiMetrics;
}
