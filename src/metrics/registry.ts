/**
 * One Prometheus registry per bobsync process role. The API and the worker are separate
 * processes in production; `npm start` and the tests run both in one, so each role keeps a
 * registry of its own and each /metrics shows only its process role's series.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every name bobsync defines itself starts with this, so its series never meet the SDK's (`temporal_`). */
export const METRIC_PREFIX = 'bobsync_';

/** A registry with Node's process metrics (CPU, memory, event loop lag, GC) registered in it. */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** A label value from a closed set, or `other`: a label must never take values without bound. */
export function oneOf<T extends string>(value: string, allowed: readonly T[]): T | 'other' {
  return (allowed as readonly string[]).includes(value) ? (value as T) : 'other';
}
