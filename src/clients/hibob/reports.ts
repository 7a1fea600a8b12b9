/**
 * HiBob company reports as a data source (contract §9): list the reports a service user may see,
 * find one by name or id, and download it as JSON, synchronously or through Bob's asynchronous
 * file (202 + Location, then 204 until the file is ready, then 200).
 *
 * Basic auth with the service user, as for the people API; the token is never logged and never
 * appears in an error. Report downloads share a budget of 20 per minute per service user
 * (§11); the client spaces its own downloads inside a sliding minute and, when Bob answers 429
 * anyway, holds further downloads until Bob's reset. Errors are parsed leniently (§12) and
 * surface as `ApiError`, whose `retryable` tells an activity whether another attempt can help.
 */
import { z } from 'zod';
import { ApiError, isRetryableStatus } from '../http/errors';
import { parseHibobError } from './client';

export type ReportHumanReadable = 'APPEND' | 'REPLACE';

/**
 * `sync`: one GET of the file. `async`: ask Bob to build the file, then poll for it.
 * `auto`: sync first; when Bob (or the deadline) says the report is too large to answer at once,
 * the asynchronous file instead.
 */
export type ReportDownloadMode = 'sync' | 'async' | 'auto';

export interface ReportPollOptions {
  /** Wait before the first poll and after the first 204 (default 1 000 ms). */
  initialDelayMs?: number;
  /** Each further 204 multiplies the wait by this (default 2)… */
  factor?: number;
  /** …up to this (default 15 000 ms). */
  maxDelayMs?: number;
  /** Give up when the file is not ready after this long (default 10 minutes). */
  timeoutMs?: number;
}

export interface HibobReportClientOptions {
  baseUrl: string;
  serviceUserId: string;
  token: string;
  fetch?: typeof fetch;
  /** Deadline of one HTTP request (default 60 s: a synchronous download of a big report is slow). */
  timeoutMs?: number;
  /** Report downloads (sync or async start) per minute for this service user (default 20, contract §11). */
  downloadsPerMinute?: number;
  poll?: ReportPollOptions;
  /** Clock for the download budget (default Date.now). */
  now?: () => number;
}

export interface CallOptions {
  /** Cancels the call, including waits for the rate budget and for an async file. */
  signal?: AbortSignal;
}

/** One report the service user may see (`GET /company/reports`). Ids are kept as strings. */
export interface ReportView {
  id: string;
  name: string;
}

export interface DownloadOptions extends CallOptions {
  /** Default `auto`. */
  mode?: ReportDownloadMode;
  /** Default `APPEND`: machine values plus a `humanReadable` mirror with labels. */
  humanReadable?: ReportHumanReadable;
  /** Display locale of dates and labels (e.g. `fr-FR`); Bob uses the service user's own when omitted. */
  locale?: string;
  /** Ask Bob to add the report's id, name and generation time. */
  includeInfo?: boolean;
}

/** A downloaded JSON report. */
export interface ReportDownload {
  reportId: string;
  humanReadable: ReportHumanReadable;
  /** How the file was obtained. */
  via: 'sync' | 'async';
  /** One object per employee in Bob's dual shape, limited to the report's columns (field ids, not column names). */
  employees: Record<string, unknown>[];
  /** What Bob sent under `info` when `includeInfo` was asked. */
  info?: { id?: string; name?: string; generatedAt?: string };
  /** 204 answers received while the async file was being built. */
  notReadyPolls: number;
}

/** Field metadata, enough to name report columns (`GET /company/people/fields`). */
export interface HibobFieldMeta {
  id: string;
  name: string;
  jsonPath?: string;
  type?: string;
  categoryId?: string;
}

const DEFAULT_POLL: Required<ReportPollOptions> = {
  initialDelayMs: 1000,
  factor: 2,
  maxDelayMs: 15_000,
  timeoutMs: 10 * 60_000,
};
/** Consecutive transient failures (5xx, network) tolerated while polling an async file. */
const POLL_TRANSIENT_FAILURES = 3;

const reportListSchema = z.object({
  views: z.array(z.looseObject({ id: z.union([z.number(), z.string()]), name: z.string() })),
});

const reportFileSchema = z.looseObject({
  employees: z.array(z.record(z.string(), z.unknown())),
  info: z
    .looseObject({
      id: z.union([z.number(), z.string()]).optional(),
      name: z.string().optional(),
      generatedAt: z.string().optional(),
    })
    .optional(),
});

const fieldListSchema = z.array(
  z.looseObject({
    id: z.string(),
    name: z.string(),
    jsonPath: z.string().optional(),
    type: z.string().optional(),
    categoryId: z.string().optional(),
  }),
);

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * At most `limit` calls in any sliding window of `windowMs`. The window is a little longer than
 * Bob's minute so network delay cannot put one call too many into one of Bob's windows. After a
 * 429, `blockUntil` holds every call until Bob's budget resets.
 */
export class SlidingWindowLimiter {
  private readonly sent: number[] = [];
  private blockedUntil = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 61_000,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = abortableSleep,
  ) {
    if (!(limit >= 1)) throw new Error('a rate limit must allow at least one call per window');
  }

  async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && this.sent[0]! <= now - this.windowMs) this.sent.shift();
      const full = this.sent.length >= this.limit;
      if (now >= this.blockedUntil && !full) {
        this.sent.push(now);
        return;
      }
      const waitForWindow = full ? this.sent[0]! + this.windowMs - now : 0;
      await this.sleep(Math.max(1, this.blockedUntil - now, waitForWindow), signal);
    }
  }

  blockUntil(epochMs: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, epochMs);
  }
}

/** The file name Bob puts after `/download/` in the Location of an async download. */
export function reportNameFromLocation(location: string): string | undefined {
  const at = location.lastIndexOf('/download/');
  if (at < 0) return undefined;
  const name = location.slice(at + '/download/'.length).split(/[?#]/)[0];
  if (!name) return undefined;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/**
 * Whether a failed synchronous download means "too large for a synchronous answer". Bob does
 * not document that answer; these are the shapes a large report can plausibly take: 413, a
 * gateway or request timeout, our own request deadline, or an error text about size or async.
 */
export function isTooLargeForSync(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.status === 413 || err.status === 408 || err.status === 504) return true;
  if (err.status === 0 && err.code === 'timeout') return true;
  if ([401, 403, 404, 429].includes(err.status) || err.status < 400) return false;
  return /too\s*(large|big)|size\s*limit|exceed|async/i.test(`${err.code} ${err.message}`);
}

interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export class HibobReportClient {
  readonly #authorization: string;
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly poll: Required<ReportPollOptions>;
  private readonly now: () => number;
  private readonly downloads: SlidingWindowLimiter;

  constructor(options: HibobReportClientOptions) {
    this.#authorization = `Basic ${Buffer.from(`${options.serviceUserId}:${options.token}`).toString('base64')}`;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.poll = { ...DEFAULT_POLL, ...options.poll };
    this.now = options.now ?? Date.now;
    this.downloads = new SlidingWindowLimiter(options.downloadsPerMinute ?? 20, 61_000, this.now);
  }

  /** `GET /company/reports`: the reports this service user may see. */
  async listReports(options: CallOptions = {}): Promise<ReportView[]> {
    const answer = await this.send('/company/reports', options.signal);
    const body = this.parseJson(answer, 'GET /company/reports', true);
    const parsed = reportListSchema.safeParse(body);
    if (!parsed.success) throw this.shapeError('GET /company/reports', 'a {"views":[{id,name}]} list', body);
    return parsed.data.views.map((v) => ({ id: String(v.id), name: v.name }));
  }

  /**
   * A report by id or by name. A number, or a string of digits, is tried as an id first; names
   * match exactly, then ignoring case and surrounding spaces. Unknown → a 404 ApiError naming the
   * reports the service user can see; two reports with the same name → an error asking for the id.
   */
  async findReport(ref: string | number, options: CallOptions = {}): Promise<ReportView> {
    const views = await this.listReports(options);
    const text = String(ref).trim();
    if (/^\d+$/.test(text)) {
      const byId = views.find((v) => v.id === text);
      if (byId) return byId;
    }
    const exact = views.filter((v) => v.name === text);
    const loose = exact.length > 0 ? exact : views.filter((v) => v.name.trim().toLowerCase() === text.toLowerCase());
    if (loose.length === 1) return loose[0]!;
    if (loose.length > 1) {
      throw new ApiError(
        'hibob',
        409,
        'ambiguousReport',
        `${loose.length} reports are named "${text}" (ids ${loose.map((v) => v.id).join(', ')}); configure the report by id`,
        false,
      );
    }
    const known = views.length > 0 ? views.map((v) => `"${v.name}" (${v.id})`).join(', ') : 'none';
    throw new ApiError(
      'hibob',
      404,
      'reportNotFound',
      `no report "${text}" among the reports this service user can see: ${known}`,
      false,
    );
  }

  /** `GET /company/people/fields`: field ids, names and json paths, to name report columns. */
  async listFields(options: CallOptions = {}): Promise<HibobFieldMeta[]> {
    const answer = await this.send('/company/people/fields', options.signal);
    const body = this.parseJson(answer, 'GET /company/people/fields', true);
    const parsed = fieldListSchema.safeParse(body);
    if (!parsed.success) throw this.shapeError('GET /company/people/fields', 'an array of {id, name, jsonPath}', body);
    return parsed.data.map((f) => {
      const meta: HibobFieldMeta = { id: f.id, name: f.name };
      if (f.jsonPath !== undefined) meta.jsonPath = f.jsonPath;
      if (f.type !== undefined) meta.type = f.type;
      if (f.categoryId !== undefined) meta.categoryId = f.categoryId;
      return meta;
    });
  }

  /** Downloads report `reportId` as JSON, synchronously, asynchronously or sync-then-async (`mode`, default auto). */
  async downloadJson(reportId: string | number, options: DownloadOptions = {}): Promise<ReportDownload> {
    const mode = options.mode ?? 'auto';
    if (mode === 'async') return this.downloadAsync(reportId, options);
    try {
      return await this.downloadSync(reportId, options);
    } catch (err) {
      if (mode === 'auto' && isTooLargeForSync(err)) return this.downloadAsync(reportId, options);
      throw err;
    }
  }

  /** `GET /company/reports/{id}/download?format=json`. */
  async downloadSync(reportId: string | number, options: DownloadOptions = {}): Promise<ReportDownload> {
    const humanReadable = options.humanReadable ?? 'APPEND';
    const path = `/company/reports/${encodeURIComponent(String(reportId))}/download${this.query(options, humanReadable)}`;
    await this.downloads.take(options.signal);
    const answer = await this.send(path, options.signal, { limited: true });
    return this.toDownload(
      String(reportId),
      humanReadable,
      'sync',
      0,
      this.parseJson(answer, `GET ${path}`, false),
      `GET ${path}`,
    );
  }

  /** `download-async`, then polls the file until Bob has built it. */
  async downloadAsync(reportId: string | number, options: DownloadOptions = {}): Promise<ReportDownload> {
    const humanReadable = options.humanReadable ?? 'APPEND';
    const { reportName } = await this.startAsyncDownload(reportId, options);
    const { body, notReadyPolls } = await this.pollReportFile(reportName, options);
    return this.toDownload(
      String(reportId),
      humanReadable,
      'async',
      notReadyPolls,
      body,
      `GET /company/reports/download/${reportName}`,
    );
  }

  /** `GET /company/reports/{id}/download-async`: Bob answers 202 with the file's URL in Location. */
  async startAsyncDownload(
    reportId: string | number,
    options: DownloadOptions = {},
  ): Promise<{ reportName: string; location: string }> {
    const humanReadable = options.humanReadable ?? 'APPEND';
    const path = `/company/reports/${encodeURIComponent(String(reportId))}/download-async${this.query(options, humanReadable)}`;
    await this.downloads.take(options.signal);
    const answer = await this.send(path, options.signal, { limited: true });
    const location = answer.headers.get('location') ?? '';
    const reportName = reportNameFromLocation(location);
    if (!reportName) {
      throw new ApiError(
        'hibob',
        answer.status,
        'noLocation',
        `GET ${path} answered ${answer.status} without a report file URL in Location`,
        false,
      );
    }
    return { reportName, location };
  }

  /**
   * Polls `GET /company/reports/download/{reportName}`: 204 means not ready yet, and each one
   * lengthens the wait (initialDelayMs × factor, up to maxDelayMs). A 429 waits for Bob's reset;
   * a few transient failures in a row are tolerated. Gives up after `poll.timeoutMs`.
   */
  async pollReportFile(
    reportName: string,
    options: CallOptions = {},
  ): Promise<{ body: unknown; notReadyPolls: number }> {
    const path = `/company/reports/download/${encodeURIComponent(reportName)}`;
    const started = this.now();
    let backoff = this.poll.initialDelayMs;
    let wait = backoff;
    let notReadyPolls = 0;
    let transientFailures = 0;
    for (;;) {
      await abortableSleep(wait, options.signal);
      let answer: HttpAnswer | undefined;
      try {
        answer = await this.send(path, options.signal, { allowNoContent: true });
        transientFailures = 0;
      } catch (err) {
        // A file Bob no longer serves (expired, say) is rebuilt by a new download, so another attempt helps.
        if (err instanceof ApiError && err.status === 404) {
          throw new ApiError(
            'hibob',
            404,
            'reportFileGone',
            `GET ${path}: Bob no longer serves this report file; start a new download`,
            true,
          );
        }
        if (!(err instanceof ApiError) || !err.retryable) throw err;
        if (err.status !== 429 && ++transientFailures > POLL_TRANSIENT_FAILURES) throw err;
        wait = Math.max(backoff, (err.retryAfterSeconds ?? 0) * 1000);
      }
      if (answer?.status === 204) {
        notReadyPolls += 1;
        if (notReadyPolls > 1) backoff = Math.min(this.poll.maxDelayMs, backoff * this.poll.factor);
        wait = backoff;
      } else if (answer) {
        return { body: this.parseJson(answer, `GET ${path}`, false), notReadyPolls };
      }
      const elapsed = this.now() - started;
      if (elapsed + wait > this.poll.timeoutMs) {
        throw new ApiError(
          'hibob',
          0,
          'reportNotReady',
          `report file ${reportName} was still not ready after ${Math.round(elapsed / 1000)} s (${notReadyPolls} polls answered 204)`,
          true,
        );
      }
    }
  }

  private query(options: DownloadOptions, humanReadable: ReportHumanReadable): string {
    const q = new URLSearchParams({ format: 'json', humanReadable });
    if (options.includeInfo) q.set('includeInfo', 'true');
    if (options.locale) q.set('locale', options.locale);
    return `?${q.toString()}`;
  }

  private toDownload(
    reportId: string,
    humanReadable: ReportHumanReadable,
    via: 'sync' | 'async',
    notReadyPolls: number,
    body: unknown,
    what: string,
  ): ReportDownload {
    const parsed = reportFileSchema.safeParse(body);
    if (!parsed.success) throw this.shapeError(what, 'a JSON report {"employees":[…]}', body);
    const download: ReportDownload = { reportId, humanReadable, via, employees: parsed.data.employees, notReadyPolls };
    const info = parsed.data.info;
    if (info) {
      download.info = {};
      if (info.id !== undefined) download.info.id = String(info.id);
      if (info.name !== undefined) download.info.name = info.name;
      if (info.generatedAt !== undefined) download.info.generatedAt = info.generatedAt;
    }
    return download;
  }

  /**
   * A GET with Basic auth, the caller's signal and a per-request deadline. Non-2xx answers
   * become ApiError; a 429 on a limited call also holds further downloads until Bob's reset.
   */
  private async send(
    path: string,
    signal: AbortSignal | undefined,
    flags: { limited?: boolean; allowNoContent?: boolean } = {},
  ): Promise<HttpAnswer> {
    const what = `GET ${path}`;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.doFetch(`${this.baseUrl}${path}`, {
        method: 'GET',
        headers: { accept: 'application/json', authorization: this.#authorization },
        signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
      });
      text = await response.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.aborted)
        throw new ApiError('hibob', 0, 'timeout', `${what} got no answer within ${this.timeoutMs} ms`, true);
      throw new ApiError('hibob', 0, 'network', `${what} failed: ${(err as Error).message}`, true);
    }
    if (response.status === 204 && !flags.allowNoContent) {
      throw new ApiError('hibob', 204, 'noContent', `${what} answered 204 without a body`, true);
    }
    if (response.ok) return { status: response.status, headers: response.headers, text };
    const { code, message } = parseHibobError(text);
    const retryAfter = this.retryAfterSeconds(response.headers);
    if (response.status === 429 && flags.limited) this.downloads.blockUntil(this.now() + (retryAfter ?? 60) * 1000);
    throw new ApiError(
      'hibob',
      response.status,
      code,
      `${what}: ${message}`,
      isRetryableStatus(response.status),
      retryAfter,
    );
  }

  /** Retry-After when sent, else the wait until X-RateLimit-Reset (Unix seconds). */
  private retryAfterSeconds(headers: Headers): number | undefined {
    const retryAfter = Number(headers.get('retry-after'));
    if (retryAfter > 0) return retryAfter;
    const reset = Number(headers.get('x-ratelimit-reset'));
    if (reset > 0) return Math.max(1, Math.ceil(reset - this.now() / 1000));
    return undefined;
  }

  /**
   * JSON of a 2xx answer. API calls must say JSON in their content type (Bob answers unknown paths
   * with a 200 login page); report files only must not be HTML, since a file may come as a
   * download type. A UTF-8 BOM is ignored.
   */
  private parseJson(answer: HttpAnswer, what: string, strictType: boolean): unknown {
    const type = answer.headers.get('content-type') ?? '';
    const typeOk = strictType ? type.includes('json') : !/html/i.test(type);
    if (typeOk) {
      try {
        return JSON.parse(answer.text.replace(/^\uFEFF/, '')) as unknown;
      } catch {
        /* reported below */
      }
    }
    throw new ApiError(
      'hibob',
      answer.status,
      'notJson',
      `${what} answered ${type || 'no content type'} that is not JSON: ${answer.text.slice(0, 120)}`,
      false,
    );
  }

  private shapeError(what: string, expected: string, body: unknown): ApiError {
    const keys =
      body && typeof body === 'object' && !Array.isArray(body)
        ? `an object with keys ${Object.keys(body).slice(0, 10).join(', ') || '(none)'}`
        : Array.isArray(body)
          ? 'an array'
          : typeof body;
    return new ApiError('hibob', 200, 'unexpectedShape', `${what} answered ${keys}, expected ${expected}`, false);
  }
}
