import { ApplicationFailure } from '@temporalio/activity';
import { ApiError } from '../clients/http/errors';

/**
 * Turns a vendor error into what Temporal should do with it: business errors (4xx other than
 * 408/429) fail the activity for good, so the workflow can park the employee instead of
 * retrying for days; transient ones are rethrown for the retry policy, with the vendor's wait.
 */
export function toActivityFailure(err: unknown): unknown {
  if (!(err instanceof ApiError)) return err;
  const details = [{ service: err.service, status: err.status, code: err.code }];
  if (!err.retryable)
    return ApplicationFailure.create({
      message: err.message,
      type: `${err.service}:${err.code}`,
      nonRetryable: true,
      details,
    });
  return ApplicationFailure.create({
    message: err.message,
    type: `${err.service}:${err.code}`,
    details,
    nextRetryDelay: err.retryAfterSeconds ? `${err.retryAfterSeconds} seconds` : undefined,
  });
}

/** Wraps every function of an activity object so vendor errors are classified on the way out. */
export function withFailureClassification<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toActivityFailure(err);
      }
    };
  }
  return wrapped as T;
}
