/**
 * Who may call and how much: service users (Basic auth), their field categories and population,
 * an optional WAF block after repeated failures, and per-user, per-endpoint minute budgets.
 */
import type { RequestHandler, Response } from 'express';
import type { EmulatorClock } from '../../common/clock';
import { FixedWindowLimiter } from '../../common/rate-limit';
import type { FieldCatalog, FieldDef } from '../fields';
import type { HibobEmployeeRecord, ServiceUserConfig } from '../types';
import { sendError, WAF_BLOCK_HTML } from './errors';

export const DEFAULT_SERVICE_USER: ServiceUserConfig = { id: 'SERVICE-4242', token: 'bob-emulator-token' };

export class ServiceUsers {
  private readonly users = new Map<string, ServiceUserConfig>();

  constructor(users: ServiceUserConfig[]) {
    this.replaceAll(users);
  }

  replaceAll(users: ServiceUserConfig[]): void {
    this.users.clear();
    for (const u of users) this.set(u);
  }

  set(user: ServiceUserConfig): void {
    if (!user.id || !user.token) throw new Error('a service user needs an id and a token');
    this.users.set(user.id, structuredClone(user));
  }

  remove(id: string): boolean {
    return this.users.delete(id);
  }

  list(): ServiceUserConfig[] {
    return [...this.users.values()].map((u) => structuredClone(u));
  }

  /** The service user named by a Basic header, or why not. */
  authenticate(header: string | undefined): { user: ServiceUserConfig } | { error: string } {
    if (!header) return { error: 'Missing Authorization header' };
    const m = /^Basic\s+(\S+)$/i.exec(header.trim());
    if (!m) return { error: 'Unsupported authorization: use Basic with the service user ID and token' };
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { error: 'Malformed Basic credentials' };
    const user = this.users.get(decoded.slice(0, colon));
    if (!user || user.token !== decoded.slice(colon + 1)) return { error: 'Invalid service user credentials' };
    return { user };
  }
}

export function canSeeCategory(user: ServiceUserConfig, categoryId: string): boolean {
  return !user.categories || user.categories.includes('*') || user.categories.includes(categoryId);
}

export function inPopulation(user: ServiceUserConfig, rec: HibobEmployeeRecord): boolean {
  if (!user.lifecycleStatuses) return true;
  const lc = rec.lifecycleStatus.toLowerCase();
  return user.lifecycleStatuses.some((s) => s.toLowerCase() === lc);
}

export function canSeeReport(user: ServiceUserConfig, reportId: number): boolean {
  if (user.reports === undefined || user.reports === true) return true;
  if (user.reports === false) return false;
  return user.reports.includes(reportId);
}

/** Requested (or default) fields the user may read; unknown and unpermitted ids vanish silently. */
export function permittedFields(
  catalog: FieldCatalog,
  user: ServiceUserConfig,
  requested: string[] | undefined,
): FieldDef[] {
  const defs = requested
    ? [...new Set(requested)].map((id) => catalog.get(id)).filter((d): d is FieldDef => d !== undefined)
    : catalog.defaults;
  return defs.filter((d) => canSeeCategory(user, d.meta.categoryId));
}

export function serviceUserOf(res: Response): ServiceUserConfig {
  return res.locals.serviceUser as ServiceUserConfig;
}

/** Blocks a caller address after N consecutive failed logins, like HiBob's WAF. */
export class Waf {
  private readonly failures = new Map<string, number>();
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    private readonly clock: EmulatorClock,
    public threshold: number | undefined,
    public blockMs: number,
  ) {}

  isBlocked(address: string): boolean {
    const until = this.blockedUntil.get(address);
    if (until === undefined) return false;
    if (this.clock.nowMs() < until) return true;
    this.blockedUntil.delete(address);
    this.failures.delete(address);
    return false;
  }

  failed(address: string): void {
    if (!this.threshold) return;
    const n = (this.failures.get(address) ?? 0) + 1;
    this.failures.set(address, n);
    if (n >= this.threshold) this.blockedUntil.set(address, this.clock.nowMs() + this.blockMs);
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  reset(): void {
    this.failures.clear();
    this.blockedUntil.clear();
  }
}

export function authMiddleware(users: ServiceUsers, waf: Waf): RequestHandler {
  return (req, res, next) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    if (waf.isBlocked(address)) {
      res.status(403).type('html').send(WAF_BLOCK_HTML);
      return;
    }
    const result = users.authenticate(req.headers.authorization);
    if ('error' in result) {
      waf.failed(address);
      sendError(res, 401, 'unauthorized', result.error);
      return;
    }
    waf.succeeded(address);
    res.locals.serviceUser = result.user;
    res.locals.caller = result.user.id;
    next();
  };
}

export type RateGroup =
  | 'search'
  | 'people.read'
  | 'people.write'
  | 'people.lifecycle'
  | 'metadata'
  | 'namedLists'
  | 'reports.list'
  | 'reports.download'
  | 'reports.poll'
  | 'other';

export const DEFAULT_RATE_LIMITS: Record<RateGroup, number> = {
  search: 50,
  'people.read': 600,
  'people.write': 600,
  'people.lifecycle': 600,
  metadata: 50,
  namedLists: 50,
  'reports.list': 600,
  'reports.download': 20,
  'reports.poll': 600,
  other: 600,
};

/** Which minute budget a request under /v1 draws from. */
export function rateGroupOf(method: string, path: string): RateGroup {
  if (method === 'POST' && path === '/people/search') return 'search';
  if (method === 'POST' && /^\/people\/[^/]+$/.test(path)) return 'people.read';
  if (method === 'PUT' && path.startsWith('/people/')) return 'people.write';
  if (method === 'GET' && /^\/people\/[^/]+\/lifecycle$/.test(path)) return 'people.lifecycle';
  if (path === '/company/people/fields') return 'metadata';
  if (path.startsWith('/company/named-lists')) return 'namedLists';
  if (path === '/company/reports') return 'reports.list';
  if (path.startsWith('/company/reports/download/')) return 'reports.poll';
  if (/^\/company\/reports\/[^/]+\/download(-async)?$/.test(path)) return 'reports.download';
  return 'other';
}

export class RateLimits {
  private readonly limiters = new Map<RateGroup, FixedWindowLimiter>();
  retryAfterHeader = false;

  constructor(
    private readonly clock: EmulatorClock,
    limits: Partial<Record<RateGroup, number>>,
  ) {
    for (const [group, limit] of Object.entries({ ...DEFAULT_RATE_LIMITS, ...limits })) {
      this.limiters.set(group as RateGroup, new FixedWindowLimiter(clock, limit, 60_000));
    }
  }

  setLimit(group: RateGroup, perMinute: number): void {
    const limiter = this.limiters.get(group);
    if (!limiter) throw new Error(`unknown rate group ${group}`);
    limiter.limit = perMinute;
  }

  limits(): Record<RateGroup, number> {
    return Object.fromEntries([...this.limiters].map(([g, l]) => [g, l.limit])) as Record<RateGroup, number>;
  }

  reset(): void {
    for (const l of this.limiters.values()) l.reset();
  }

  middleware(): RequestHandler {
    return (req, res, next) => {
      const group = rateGroupOf(req.method, req.path);
      const decision = this.limiters.get(group)!.take(`${serviceUserOf(res).id}:${group}`);
      res.setHeader('X-RateLimit-Limit', String(decision.limit));
      res.setHeader('X-RateLimit-Remaining', String(decision.remaining));
      res.setHeader('X-RateLimit-Reset', String(decision.resetEpochSeconds));
      if (decision.allowed) return next();
      if (this.retryAfterHeader)
        res.setHeader(
          'Retry-After',
          String(Math.max(1, decision.resetEpochSeconds - Math.floor(this.clock.nowMs() / 1000))),
        );
      sendError(res, 429, 'too_many_requests', `Rate limit of ${decision.limit} requests per minute exceeded`);
    };
  }
}
