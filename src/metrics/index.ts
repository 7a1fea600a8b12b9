/**
 * Prometheus metrics of the API and the worker. A leaf: it imports nothing else from src, and
 * the processes, the API and the worker import it.
 */
export { ApiMetrics, apiMetrics, UNKNOWN_CONNECTION } from './api';
export { METRIC_PREFIX, processRegistry } from './registry';
export { freeLoopbackPort, readSdkMetrics, renderWithSdk, sdkPrometheusExporter } from './sdk';
export { PROMETHEUS_CONTENT_TYPE, startMetricsServer, type MetricsServer } from './server';
export {
  WorkerMetrics,
  workerMetrics,
  type ApprovalDecisionLabel,
  type ApprovalScopeLabel,
  type FullSyncStep,
  type LmsWriteResult,
} from './worker';
