/**
 * HiBob emulator: a real HTTP server with in-memory state that follows contracts/hibob.md —
 * Basic-auth service users, people search/read in the dual shape, metadata, named lists,
 * reports, rate limits, a lifecycle clock and a webhook v2 sender.
 */
import express, { type Express } from 'express';
import { EmulatorKit, listen, type RunningServer } from '../common/server';
import {
  HibobDirectory,
  type AppliedTransition,
  type EmployeeFields,
  type LeaveInput,
  type NewEmployee,
  type TerminateInput,
} from './directory';
import { DEFAULT_CUSTOM_FIELDS, FieldCatalog } from './fields';
import { authMiddleware, DEFAULT_SERVICE_USER, RateLimits, ServiceUsers, Waf, type RateGroup } from './http/access';
import { adminRoutes } from './http/admin-routes';
import { companyRoutes } from './http/company-routes';
import type { HibobHttpContext, HibobSettings } from './http/context';
import { BAD_REQUEST_HTML, jsonErrorHandler, LOGIN_PAGE_HTML, sendError } from './http/errors';
import { peopleRoutes } from './http/people-routes';
import { DEFAULT_NAMED_LISTS, DEFAULT_SITES, ListIndex } from './lists';
import { AsyncReportFiles, DEFAULT_REPORTS } from './reports';
import { EmployeeStore } from './store';
import {
  HibobAdminError,
  type CustomFieldConfig,
  type HibobEmployeeRecord,
  type HibobEmployeeSeed,
  type HibobEventType,
  type NamedList,
  type ReportDefinition,
  type ServiceUserConfig,
  type SiteConfig,
} from './types';
import {
  WebhookSender,
  type WebhookDelivery,
  type WebhookSubscription,
  type WebhookSubscriptionInput,
  type WebhookSubscriptionPatch,
} from './webhooks';

export interface HibobEmulatorOptions {
  /** Number in payloads and metadata (default 636192). */
  companyId?: number;
  /** Default: one user (DEFAULT_SERVICE_USER) seeing every category and everyone. */
  serviceUsers?: ServiceUserConfig[];
  /** POST /people/search budget per service user (default 50/min). */
  searchLimitPerMinute?: number;
  /** Other per-endpoint budgets per service user and minute. */
  rateLimits?: Partial<Record<RateGroup, number>>;
  /** Send Retry-After with 429 (Bob does not document one; default off). */
  retryAfterHeader?: boolean;
  /** Reads show data as it was this long ago (0–20 000; default 0; `reset` returns to it). */
  readAfterWriteLagMs?: number;
  /** Waits between delivery attempts; default 1, 10, 20, 40, 80, 160 minutes. */
  webhookRetryScheduleMs?: number[];
  /** Per-attempt response deadline (default 10 s). */
  webhookTimeoutMs?: number;
  /** How often webhook queues are checked (default 25 ms). */
  webhookPollMs?: number;
  /** Content type of the plain "Ping test" body (default text/plain). */
  pingStringContentType?: string;
  /** How often the lifecycle clock checks for due changes (real ms, default 1000; 0 = only on demand). */
  lifecycleTickMs?: number;
  /** Custom fields in metadata (default DEFAULT_CUSTOM_FIELDS). */
  customFields?: CustomFieldConfig[];
  /** Extra or replacement named lists (matched by name). */
  namedLists?: NamedList[];
  /** Sites with their time zones (default London, Paris, New York, Tel Aviv, Sydney, archived Berlin). */
  sites?: SiteConfig[];
  /** Time zone for employees without a site (default Europe/London). */
  defaultTimeZone?: string;
  reports?: ReportDefinition[];
  /** How long async reports answer 204 (emulator clock; default 1500 ms). */
  reportAsyncDelayMs?: number;
  /** Start CSV reports with a UTF-8 BOM (default true). */
  csvBom?: boolean;
  /** Realism quirks: 200 text/html for unknown paths, 400 HTML for a GET with a JSON content type. */
  htmlQuirks?: boolean;
  /** Block a caller address after this many consecutive failed logins (default: never). */
  wafBlockAfterFailures?: number;
  wafBlockMs?: number;
  /** Path prefix of the API (default /v1), the same for production and sandbox hosts. */
  basePath?: string;
  /** `triggeredBy` of HR edits made through the admin API (default a fixed backend id). */
  hrAdminId?: string;
  /** Seed for generated backend ids. */
  idSeed?: number;
}

export interface HibobSettingsPatch extends Partial<HibobSettings> {
  readAfterWriteLagMs?: number;
  rateLimits?: Partial<Record<RateGroup, number>>;
  retryAfterHeader?: boolean;
  webhookRetryScheduleMs?: number[];
  webhookTimeoutMs?: number;
  wafBlockAfterFailures?: number | null;
}

export const DEFAULT_COMPANY_ID = 636192;
/** Longest read-after-write lag Bob documents (contract §4.10). */
export const MAX_READ_LAG_SECONDS = 20;
export const DEFAULT_HR_ADMIN_ID = '3332883804594373380';

/** A lag given in `unit` as milliseconds if it lies within 0–20 s, else a 400 naming `name` and the range. */
function checkLagMs(value: unknown, name: string, unit: 's' | 'ms'): number {
  const scale = unit === 's' ? 1000 : 1;
  const max = (MAX_READ_LAG_SECONDS * 1000) / scale;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw new HibobAdminError(400, 'invalid_request', `${name} must be a number from 0 to ${max}`);
  }
  return unit === 's' ? Math.round(value * scale) : value;
}

function mergeLists(base: NamedList[], extra: NamedList[] = []): NamedList[] {
  const byName = new Map(base.map((l) => [l.name, l]));
  for (const l of extra) byName.set(l.name, l);
  return [...byName.values()];
}

export class HibobEmulator {
  readonly kit = new EmulatorKit();
  readonly app: Express;
  readonly directory: HibobDirectory;
  readonly webhooks: WebhookSender;
  /** Shared state of the HTTP routes (for advanced tests). */
  readonly ctx: HibobHttpContext;
  private readonly options: HibobEmulatorOptions;
  private running: RunningServer | undefined;
  private lifecycleTimer: NodeJS.Timeout | undefined;

  constructor(options: HibobEmulatorOptions = {}) {
    this.options = options;
    const companyId = options.companyId ?? DEFAULT_COMPANY_ID;
    const sites = options.sites ?? DEFAULT_SITES;
    const lists = new ListIndex(mergeLists(DEFAULT_NAMED_LISTS, options.namedLists));
    const catalog = new FieldCatalog(options.customFields ?? DEFAULT_CUSTOM_FIELDS);
    const store = new EmployeeStore(
      this.kit.clock,
      checkLagMs(options.readAfterWriteLagMs ?? 0, 'readAfterWriteLagMs', 'ms'),
    );
    this.webhooks = new WebhookSender({
      clock: this.kit.clock,
      companyId,
      retryScheduleMs: options.webhookRetryScheduleMs,
      timeoutMs: options.webhookTimeoutMs,
      pollMs: options.webhookPollMs,
      pingStringContentType: options.pingStringContentType,
    });
    this.directory = new HibobDirectory({
      clock: this.kit.clock,
      store,
      catalog,
      lists,
      sites,
      defaultTimeZone: options.defaultTimeZone ?? 'Europe/London',
      companyId,
      hrAdminId: options.hrAdminId ?? DEFAULT_HR_ADMIN_ID,
      emit: (event) => this.webhooks.emit(event),
      idSeed: options.idSeed,
    });
    const rateLimits = new RateLimits(this.kit.clock, {
      ...options.rateLimits,
      ...(options.searchLimitPerMinute !== undefined ? { search: options.searchLimitPerMinute } : {}),
    });
    rateLimits.retryAfterHeader = options.retryAfterHeader ?? false;
    this.ctx = {
      kit: this.kit,
      directory: this.directory,
      store,
      catalog,
      lists,
      sites,
      users: new ServiceUsers(options.serviceUsers ?? [DEFAULT_SERVICE_USER]),
      waf: new Waf(this.kit.clock, options.wafBlockAfterFailures, options.wafBlockMs ?? 10 * 60_000),
      rateLimits,
      reports: options.reports ?? DEFAULT_REPORTS,
      asyncReports: new AsyncReportFiles(),
      settings: {
        reportAsyncDelayMs: options.reportAsyncDelayMs ?? 1500,
        csvBom: options.csvBom ?? true,
        htmlQuirks: options.htmlQuirks ?? false,
      },
    };
    this.app = this.buildApp();
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    // Bob answers every read with a full body; conditional 304s would only confuse clients.
    app.set('etag', false);
    app.use(this.kit.middleware());
    app.use('/__admin', adminRoutes(this), this.kit.adminRouter());

    const api = express.Router();
    api.use((req, res, next) => {
      if (
        this.ctx.settings.htmlQuirks &&
        req.method === 'GET' &&
        /application\/json/i.test(req.headers['content-type'] ?? '')
      ) {
        res.status(400).type('html').send(BAD_REQUEST_HTML);
        return;
      }
      next();
    });
    api.use(authMiddleware(this.ctx.users, this.ctx.waf));
    api.use(this.ctx.rateLimits.middleware());
    api.use(express.json({ limit: '20mb' }));
    api.use(peopleRoutes(this.ctx));
    api.use(companyRoutes(this.ctx));
    api.use((_req, res) => this.unknownPath(res));
    api.use(jsonErrorHandler);
    app.use(this.options.basePath ?? '/v1', api);
    app.use((_req, res) => this.unknownPath(res));
    app.use(jsonErrorHandler);
    return app;
  }

  private unknownPath(res: express.Response): void {
    if (this.ctx.settings.htmlQuirks) res.status(200).type('html').send(LOGIN_PAGE_HTML);
    else sendError(res, 404, 'not_found', 'No such endpoint');
  }

  // ---- server ------------------------------------------------------------------

  /** Listens (port 0 = any free port), starts webhook delivery and the lifecycle clock. */
  async start(port = 0, host = '127.0.0.1'): Promise<RunningServer> {
    if (this.running) throw new Error('the HiBob emulator is already running');
    const server = await listen(this.app, port, host);
    this.running = server;
    this.webhooks.start();
    const every = this.options.lifecycleTickMs ?? 1000;
    if (every > 0) {
      this.lifecycleTimer = setInterval(() => this.directory.tick(), every);
      this.lifecycleTimer.unref();
    }
    return { ...server, close: () => this.stop() };
  }

  /** Stops timers, in-flight deliveries and the HTTP server. */
  async stop(): Promise<void> {
    if (this.lifecycleTimer) clearInterval(this.lifecycleTimer);
    this.lifecycleTimer = undefined;
    await this.webhooks.stop();
    const server = this.running;
    this.running = undefined;
    await server?.close();
  }

  /** Base URL of the API once started, e.g. http://127.0.0.1:1234/v1. */
  get apiUrl(): string {
    if (!this.running) throw new Error('the HiBob emulator is not running');
    return `${this.running.url}${this.options.basePath ?? '/v1'}`;
  }

  // ---- employees -------------------------------------------------------------------

  /** Replaces every employee; raises no webhooks. */
  seed(employees: HibobEmployeeSeed[]): number {
    return this.directory.seed(employees);
  }

  /** Back to a fresh emulator: no employees, subscriptions, report files, counters or faults, and the configured read lag (default 0). */
  reset(): void {
    this.directory.clear();
    this.ctx.store.lagMs = this.options.readAfterWriteLagMs ?? 0;
    this.webhooks.reset();
    this.ctx.asyncReports.clear();
    this.ctx.rateLimits.reset();
    this.ctx.waf.reset();
    this.kit.requests.clear();
    this.kit.faults.clear();
    this.kit.clock.reset();
    this.ctx.users.replaceAll(this.options.serviceUsers ?? [DEFAULT_SERVICE_USER]);
  }

  listEmployees(): HibobEmployeeRecord[] {
    return this.directory.list();
  }

  /** By backend id or email; the latest state, without read lag. */
  getEmployee(idOrEmail: string): HibobEmployeeRecord | undefined {
    return this.directory.find(idOrEmail);
  }

  createEmployee(input: NewEmployee, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.create(input, triggeredBy);
  }

  updateEmployee(id: string, patch: EmployeeFields, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.update(id, patch, triggeredBy);
  }

  changeEmail(id: string, email: string, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.changeEmail(id, email, triggeredBy);
  }

  terminate(id: string, input: TerminateInput, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.terminate(id, input, triggeredBy);
  }

  rehire(id: string, input: { startDate: string }, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.rehire(id, input, triggeredBy);
  }

  startLeave(id: string, input: LeaveInput, triggeredBy?: string): HibobEmployeeRecord {
    return this.directory.startLeave(id, input, triggeredBy);
  }

  deleteEmployee(id: string, triggeredBy?: string): void {
    this.directory.remove(id, triggeredBy);
  }

  /** Raises an event without changing data (e.g. a table change the emulator does not model). */
  emitEvent(type: HibobEventType, data: Record<string, unknown>, triggeredBy = 'system'): void {
    this.directory.raise(type, triggeredBy, data);
  }

  // ---- lifecycle clock -----------------------------------------------------------------

  /** Applies lifecycle changes whose effective date has begun in each employee's site zone. */
  tickLifecycle(): AppliedTransition[] {
    return this.directory.tick();
  }

  advanceClock(ms: number): AppliedTransition[] {
    this.kit.clock.advance(ms);
    return this.directory.tick();
  }

  setClock(at: Date): AppliedTransition[] {
    this.kit.clock.set(at);
    return this.directory.tick();
  }

  // ---- read-after-write lag --------------------------------------------------------------

  /** Seconds a change stays hidden from API reads (contract §4.10); 0 = reads see every change at once. */
  getReadLag(): number {
    return this.ctx.store.lagMs / 1000;
  }

  /**
   * Makes API reads (people read and search, lifecycle, reports) serve each employee as it was
   * before a change until `seconds` (0–20) after it; a new employee reads as absent meanwhile.
   * Webhooks still go out at change time, so a consumer that reads at once sees old data.
   */
  setReadLag(seconds: number): number {
    this.ctx.store.lagMs = checkLagMs(seconds, 'seconds', 's');
    return this.getReadLag();
  }

  // ---- webhooks ------------------------------------------------------------------------

  /** Registers a receiver; a ping test runs first unless `ping: false`. */
  subscribeWebhook(input: WebhookSubscriptionInput): WebhookSubscription {
    return this.webhooks.subscribe(input);
  }

  updateWebhook(id: string, patch: WebhookSubscriptionPatch): WebhookSubscription {
    return this.webhooks.update(id, patch);
  }

  unsubscribeWebhook(id: string): void {
    this.webhooks.remove(id);
  }

  listWebhooks(): WebhookSubscription[] {
    return this.webhooks.list();
  }

  getWebhook(id: string): WebhookSubscription {
    return this.webhooks.get(id);
  }

  webhookDeliveries(subscriptionId?: string): WebhookDelivery[] {
    return this.webhooks.deliveries(subscriptionId);
  }

  /** True once every active subscription's queue is empty. */
  webhooksIdle(timeoutMs = 10_000): Promise<boolean> {
    return this.webhooks.idle(timeoutMs);
  }

  // ---- access and settings -----------------------------------------------------------------

  listServiceUsers(): ServiceUserConfig[] {
    return this.ctx.users.list();
  }

  setServiceUser(user: ServiceUserConfig): void {
    this.ctx.users.set(user);
  }

  removeServiceUser(id: string): boolean {
    return this.ctx.users.remove(id);
  }

  getSettings(): HibobSettings & {
    readAfterWriteLagMs: number;
    rateLimits: Record<RateGroup, number>;
    retryAfterHeader: boolean;
    webhookRetryScheduleMs: number[];
    webhookTimeoutMs: number;
    wafBlockAfterFailures: number | null;
  } {
    return {
      ...this.ctx.settings,
      readAfterWriteLagMs: this.ctx.store.lagMs,
      rateLimits: this.ctx.rateLimits.limits(),
      retryAfterHeader: this.ctx.rateLimits.retryAfterHeader,
      webhookRetryScheduleMs: [...this.webhooks.retryScheduleMs],
      webhookTimeoutMs: this.webhooks.timeoutMs,
      wafBlockAfterFailures: this.ctx.waf.threshold ?? null,
    };
  }

  updateSettings(patch: HibobSettingsPatch): ReturnType<HibobEmulator['getSettings']> {
    // Checked before anything changes, so a rejected patch leaves every setting as it was.
    const lagMs =
      patch.readAfterWriteLagMs === undefined
        ? undefined
        : checkLagMs(patch.readAfterWriteLagMs, 'readAfterWriteLagMs', 'ms');
    const s = this.ctx.settings;
    if (patch.reportAsyncDelayMs !== undefined) s.reportAsyncDelayMs = patch.reportAsyncDelayMs;
    if (patch.csvBom !== undefined) s.csvBom = patch.csvBom;
    if (patch.htmlQuirks !== undefined) s.htmlQuirks = patch.htmlQuirks;
    if (lagMs !== undefined) this.ctx.store.lagMs = lagMs;
    for (const [group, limit] of Object.entries(patch.rateLimits ?? {}))
      this.ctx.rateLimits.setLimit(group as RateGroup, limit);
    if (patch.retryAfterHeader !== undefined) this.ctx.rateLimits.retryAfterHeader = patch.retryAfterHeader;
    if (patch.webhookRetryScheduleMs) this.webhooks.retryScheduleMs = [...patch.webhookRetryScheduleMs];
    if (patch.webhookTimeoutMs !== undefined) this.webhooks.timeoutMs = patch.webhookTimeoutMs;
    if (patch.wafBlockAfterFailures !== undefined) this.ctx.waf.threshold = patch.wafBlockAfterFailures ?? undefined;
    return this.getSettings();
  }
}

export { generateDemoEmployees, asciiFold, type DemoOptions } from './demo-data';
export { DEFAULT_SERVICE_USER, DEFAULT_RATE_LIMITS, type RateGroup } from './http/access';
export { CUSTOM_FIELD_IDS, DEFAULT_CUSTOM_FIELDS } from './fields';
export { DEFAULT_NAMED_LISTS, DEFAULT_SITES, DEPARTMENTS } from './lists';
export { DEFAULT_REPORTS } from './reports';
export { bobSignature, FIELD_UPDATES_VARIANTS, type FieldUpdatesVariant } from './webhook-payload';
export {
  DEFAULT_RETRY_SCHEDULE_MS,
  type WebhookDelivery,
  type WebhookFaults,
  type WebhookSubscription,
  type WebhookSubscriptionInput,
} from './webhooks';
export { zonedMidnight, localDate } from './dates';
export type { AppliedTransition, EmployeeFields, LeaveInput, NewEmployee, TerminateInput } from './directory';
export * from './types';
