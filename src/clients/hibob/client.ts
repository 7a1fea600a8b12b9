/**
 * HiBob people API: Basic auth with a service user, the search and read-one calls, and error
 * classification. Never logs the token. Values are read from the nested shape, slash keys as fallback.
 */
import { ApiError, describeValue, isRetryableStatus } from '../http/errors';
import { EmployeeRecords } from './employee-records';

export interface HibobClientOptions {
  baseUrl: string;
  serviceUserId: string;
  token: string;
  fetch?: typeof fetch;
  /** Deadline of one call, its whole answer read (default 30 s). */
  timeoutMs?: number;
  /**
   * Deadline of a people search, its whole answer read (default 10 minutes): one search returns
   * everyone, about 150 MB at 100,000 people, and HiBob sends it at its own pace.
   */
  searchTimeoutMs?: number;
}

const CALL_TIMEOUT_MS = 30_000;
const SEARCH_TIMEOUT_MS = 10 * 60_000;

export interface SearchOptions {
  /** Ends the search early: the activity's cancellation, so a cancelled run stops reading. */
  signal?: AbortSignal;
  /** This search's deadline instead of the client's `searchTimeoutMs`. */
  timeoutMs?: number;
}

export type HibobEmployee = Record<string, unknown> & { id: string };

export interface SearchRequest {
  fields?: string[];
  filters?: { fieldPath: 'root.id' | 'root.email'; operator: 'equals'; values: string[] }[];
  showInactive?: boolean;
  humanReadable?: 'APPEND' | 'REPLACE';
}

export class HibobClient {
  private readonly authorization: string;
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;

  constructor(private readonly options: HibobClientOptions) {
    this.authorization = `Basic ${Buffer.from(`${options.serviceUserId}:${options.token}`).toString('base64')}`;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
  }

  /** POST /people/search. Never sends `filters: []` (HiBob rejects it). */
  async searchPeople(request: SearchRequest, options: SearchOptions = {}): Promise<HibobEmployee[]> {
    const answer = await this.requestBytes('POST', '/people/search', searchBody(request), this.searchDeadline(options));
    return (JSON.parse(answer.toString('utf8')) as { employees: HibobEmployee[] }).employees;
  }

  /** The same search, its records kept as the bytes HiBob sent (see EmployeeRecords). */
  async searchPeopleAnswer(request: SearchRequest, options: SearchOptions = {}): Promise<EmployeeRecords> {
    const path = '/people/search';
    const response = await this.send('POST', path, searchBody(request), this.searchDeadline(options));
    if (!response.ok || !response.body) return EmployeeRecords.fromAnswer(await this.bodyOf('POST', path, response));
    checkJson('POST', path, response);
    // At 100,000 people the answer is about 150 MB: read as it arrives rather than all at the end.
    try {
      return await EmployeeRecords.fromAnswerStream(response.body);
    } catch (err) {
      if (err instanceof SyntaxError) throw err;
      throw networkError('POST', path, err);
    }
  }

  /** POST /people/{idOrEmail}; undefined when HiBob does not know the person. */
  async getEmployee(
    idOrEmail: string,
    fields?: string[],
    humanReadable?: 'APPEND',
  ): Promise<HibobEmployee | undefined> {
    try {
      const body: Record<string, unknown> = {};
      if (fields) body.fields = fields;
      if (humanReadable) body.humanReadable = humanReadable;
      return await this.request<HibobEmployee>('POST', `/people/${encodeURIComponent(idOrEmail)}`, body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** A search's deadline, ended early by the caller's signal. */
  private searchDeadline(options: SearchOptions): AbortSignal {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.options.searchTimeoutMs ?? SEARCH_TIMEOUT_MS);
    return options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return JSON.parse((await this.requestBytes(method, path, body)).toString('utf8')) as T;
  }

  /** The JSON body of a successful answer, as received. */
  private async requestBytes(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Buffer> {
    return this.bodyOf(method, path, await this.send(method, path, body, signal));
  }

  private async send(
    method: string,
    path: string,
    body?: unknown,
    signal = AbortSignal.timeout(this.options.timeoutMs ?? CALL_TIMEOUT_MS),
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: this.authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.doFetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw networkError(method, path, err);
    }
  }

  /** The whole body of a successful JSON answer; an ApiError for any other. */
  private async bodyOf(method: string, path: string, response: Response): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await response.arrayBuffer());
    } catch (err) {
      throw networkError(method, path, err);
    }
    if (!response.ok) {
      const { code, message } = parseHibobError(bytes.toString('utf8'));
      const reset = Number(response.headers.get('x-ratelimit-reset'));
      const retryAfter =
        Number(response.headers.get('retry-after')) ||
        (reset ? Math.max(1, reset - Math.floor(Date.now() / 1000)) : undefined);
      throw new ApiError(
        'hibob',
        response.status,
        code,
        `${method} ${path}: ${message}`,
        isRetryableStatus(response.status),
        retryAfter,
      );
    }
    checkJson(method, path, response);
    return bytes;
  }
}

function networkError(method: string, path: string, err: unknown): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError('hibob', 0, 'network', `${method} ${path} failed: ${message}`, true);
}

/** HiBob answers unknown paths with a 200 HTML login page: a non-JSON 2xx is an error. */
function checkJson(method: string, path: string, response: Response): void {
  if (!(response.headers.get('content-type') ?? '').includes('json'))
    throw new ApiError(
      'hibob',
      response.status,
      'notJson',
      `${method} ${path} answered ${response.headers.get('content-type')} instead of JSON`,
      false,
    );
}

/** A search request as sent: without `filters: []`, which HiBob rejects. */
function searchBody(request: SearchRequest): SearchRequest {
  const body: SearchRequest = { ...request };
  if (body.filters && body.filters.length === 0) delete body.filters;
  return body;
}

/** HiBob errors come as {key, error}, as bare strings, or as HTML; read them leniently. */
export function parseHibobError(text: string): { code: string; message: string } {
  try {
    const body = JSON.parse(text) as unknown;
    if (body && typeof body === 'object') {
      const o = body as Record<string, unknown>;
      return { code: describeValue(o.key ?? 'error'), message: describeValue(o.error ?? o.message ?? text) };
    }
    if (typeof body === 'string') return { code: 'error', message: body };
  } catch {
    /* not JSON */
  }
  return { code: 'error', message: text.slice(0, 200) };
}
