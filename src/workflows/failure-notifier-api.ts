/**
 * The messages the failure notifier understands. Kept apart from the workflow body so the
 * activity that hands it failures can import them without pulling in workflow code.
 */
import { defineSignal } from '@temporalio/workflow';
import type { EmployeeFailure } from '../activities/employee-types';

/** The workflow type the worker registers the notifier under. */
export const failureNotifierWorkflowType = 'failureNotifier';

export const failureSignal = defineSignal<[EmployeeFailure]>('failure');

export interface FailureNotifierInput {
  connection: string;
  digestWindowSeconds: number;
  minIntervalSeconds: number;
  carried?: EmployeeFailure[];
}
