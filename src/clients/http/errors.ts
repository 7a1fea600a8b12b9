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
  }
}

/** 429 and 5xx (and network failures, status 0) are worth retrying; other 4xx are business errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

/** Text of a value from an error body, whatever its type, for messages. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}
