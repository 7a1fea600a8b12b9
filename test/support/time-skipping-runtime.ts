/**
 * Temporal SDK logging for workflow tests: warnings and errors, from the TypeScript side and
 * from the SDK core alike, except two that every test would print and that say nothing about it:
 * - the time-skipping server does not advertise a capability of Temporal Server 1.16+ (heartbeat
 *   details kept when an activity fails), which no workflow here relies on;
 * - a Worker that serves only activities (one per vendor queue, as in src/worker.ts) says it
 *   does not poll for workflow tasks.
 */
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';

const EXPECTED_WARNINGS = [
  'Temporal Server 1.16.0 or newer is required',
  'No workflows registered, not polling for workflow tasks',
];

class WorkflowTestLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (EXPECTED_WARNINGS.some((expected) => message.startsWith(expected))) return;
    super.log(level, message, meta);
  }
}

try {
  Runtime.install({
    logger: new WorkflowTestLogger('WARN'),
    telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
  });
} catch {
  /* a runtime exists already in this module registry: keep it */
}
