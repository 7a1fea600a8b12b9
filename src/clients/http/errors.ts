/**
 * One error type for every vendor call, so activities can decide retry vs park from
 * `retryable` and `code` without knowing the vendor's body shape.
 */
export class ApiError extends Error {
  constructor(
    readonly service: 'hibob' | '360learning' | 'skillcast',
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    /** Seconds to wait before retrying, when the server said so. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${service} answered ${status} ${code}: ${message}`);
    this.name = 'ApiError';
    for (const observe of observers) {
      try {
        observe(service, status);
      } catch {
        /* an observer never changes what the caller sees */
      }
    }
  }
}

/** Told of every vendor error as it is made: the service and the HTTP status (0 for no answer). */
export type ApiErrorObserver = (service: ApiError['service'], status: number) => void;

const observers = new Set<ApiErrorObserver>();

/**
 * Every client reports a non-2xx answer by making an ApiError, so observing them here counts
 * answers such as 429 for every vendor without each client knowing about metrics. Returns the
 * function that stops observing.
 */
export function observeApiErrors(observer: ApiErrorObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

/** 429 and 5xx (and network failures, status 0) are worth retrying; other 4xx are business errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** Text of a value from an error body, whatever its type, for messages. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}
