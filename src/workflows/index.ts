// Every workflow the worker registers. Workflow code is deterministic: no I/O, no Node built-ins.
export { healthCheck } from './health-check';
export { employeeSync } from './employee-sync';
export { failureNotifier } from './failure-notifier';
export { fullSync } from './full-sync';
export { syncBatch } from './sync-batch';
