/**
 * SCIM failures as ApiError, so the activity layer decides retry vs park the same way as for
 * every other vendor. Adds what a SCIM error says beyond the status: `scimType`, `detail`, and a
 * `kind` that tells the caller what the contract expects next (contracts/skillcast.md §6.4).
 */
import { ApiError, describeValue, isRetryableStatus } from '../http/errors';
import { ERROR_URN } from './types';

export type ScimService = ApiError['service'];

/**
 * - `transient`: 408, 429, 5xx, network failures and timeouts; worth retrying with backoff.
 * - `invalid`: the request or a value was refused (400 invalidValue, invalidFilter, invalidSyntax,
 *   invalidPath, noTarget, …); retrying the same request cannot help, the record needs fixing.
 * - `configuration`: the integration is set up wrongly (400 mutability, 403, an extension or
 *   attribute the server does not declare, a capability it lacks).
 * - `unauthorized`: 401, the token is bad or expired; a person has to issue a new one.
 * - `notFound`: 404, the id is unknown; look the user up again.
 * - `conflict`: 409, a unique value is taken.
 * - `preconditionFailed`: 412, the resource changed since it was read; read it again.
 */
export type ScimErrorKind =
  'transient' | 'invalid' | 'configuration' | 'unauthorized' | 'notFound' | 'conflict' | 'preconditionFailed';

/** 400 scimTypes that point at the integration's set-up rather than at one record. */
const CONFIGURATION_SCIM_TYPES = new Set(['mutability', 'invalidVers', 'sensitive']);

export function classifyScimError(status: number, scimType?: string): { kind: ScimErrorKind; retryable: boolean } {
  if (isRetryableStatus(status)) return { kind: 'transient', retryable: true };
  switch (status) {
    case 401:
      return { kind: 'unauthorized', retryable: false };
    case 403:
      return { kind: 'configuration', retryable: false };
    case 404:
      return { kind: 'notFound', retryable: false };
    case 409:
      return { kind: 'conflict', retryable: false };
    case 412:
      return { kind: 'preconditionFailed', retryable: false };
    default:
      return {
        kind: scimType !== undefined && CONFIGURATION_SCIM_TYPES.has(scimType) ? 'configuration' : 'invalid',
        retryable: false,
      };
  }
}

export interface ScimErrorDetails {
  service: ScimService;
  /** HTTP status; 0 when no answer came (network failure, timeout) or the client refused to send. */
  status: number;
  scimType?: string;
  detail: string;
  /** What the client was doing, e.g. `POST /Users`. */
  operation: string;
  retryAfterSeconds?: number;
  /** Overrides the classification from status and scimType. */
  kind?: ScimErrorKind;
  retryable?: boolean;
  /** Overrides `scimType ?? http<status>` as the code. */
  code?: string;
}

export class ScimApiError extends ApiError {
  readonly scimType?: string;
  readonly detail: string;
  readonly kind: ScimErrorKind;
  readonly operation: string;

  constructor(details: ScimErrorDetails) {
    const classified = classifyScimError(details.status, details.scimType);
    const code = details.code ?? details.scimType ?? `http${details.status}`;
    super(
      details.service,
      details.status,
      code,
      `${details.operation}: ${details.detail}`,
      details.retryable ?? classified.retryable,
      details.retryAfterSeconds,
    );
    this.name = 'ScimApiError';
    this.scimType = details.scimType;
    this.detail = details.detail;
    this.kind = details.kind ?? classified.kind;
    this.operation = details.operation;
  }
}

/** Raised before sending anything: the server cannot do what the integration is configured for. */
export class ScimConfigurationError extends ScimApiError {
  constructor(service: ScimService, operation: string, detail: string, code = 'configuration') {
    super({ service, status: 0, detail, operation, code, kind: 'configuration', retryable: false });
    this.name = 'ScimConfigurationError';
    this.message = `${service} SCIM configuration: ${operation}: ${detail}`;
  }
}

/**
 * Reads an error body leniently: a SCIM Error message, a JSON body of another shape (`message`,
 * `error_description`, `error`), or text such as an HTML page from a proxy, cut short. The HTTP
 * status decides the classification; the body only adds `scimType` and `detail`. Never throws.
 */
export function parseScimErrorBody(httpStatus: number, text: string): { scimType?: string; detail: string } {
  const fallback = text.trim() === '' ? `HTTP ${httpStatus}` : text.trim().replace(/\s+/gu, ' ').slice(0, 300);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { detail: fallback };
  }
  if (typeof body === 'string') return { detail: body.slice(0, 300) || fallback };
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { detail: fallback };
  const o = body as Record<string, unknown>;
  const detail = o.detail ?? o.message ?? o.error_description ?? o.error;
  const result: { scimType?: string; detail: string } = {
    detail: detail === undefined || detail === null ? fallback : describeValue(detail),
  };
  if (typeof o.scimType === 'string' && o.scimType.trim() !== '') result.scimType = o.scimType.trim();
  return result;
}

/** True when a body is a SCIM Error message (RFC 7644 §3.12). */
export function isScimErrorBody(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const schemas = (body as { schemas?: unknown }).schemas;
  return (
    Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === ERROR_URN.toLowerCase())
  );
}

/** Retry-After as seconds (RFC 9110: delay-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/u.test(trimmed)) return Number.parseInt(trimmed, 10);
  // An HTTP date names its day and month (`Wed, 21 Oct 2015 07:28:00 GMT`); anything else is unreadable.
  const at = /[A-Za-z]{3}/u.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
