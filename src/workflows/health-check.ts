import { proxyActivities } from '@temporalio/workflow';
import type { HibobSearchActivities } from '../activities';
import { taskQueues } from './task-queues';

export interface HealthCheckInput {
  connection: string;
  /** Base task queue name of the deployment (config temporal.taskQueue). */
  taskQueue: string;
}

export interface HealthCheckResult {
  connection: string;
  hibob: 'ok';
  sampleEmployeeId: string | null;
}

/** Proves the whole chain works: workflow → HiBob task queue → activity → HiBob API. */
export async function healthCheck(input: HealthCheckInput): Promise<HealthCheckResult> {
  const hibob = proxyActivities<HibobSearchActivities>({
    taskQueue: taskQueues(input.taskQueue).hibobSearch,
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3, initialInterval: '1 second' },
  });
  const sample = await hibob.readSampleEmployee(input.connection);
  return { connection: input.connection, hibob: 'ok', sampleEmployeeId: sample?.employeeId ?? null };
}
