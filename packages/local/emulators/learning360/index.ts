/**
 * 360Learning API v2 emulator: a real HTTP server with in-memory companies, following
 * shared/contracts/360learning.md and validated against 360Learning's published Core API spec.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
// qs comes with express and express-openapi-validator; it is how both read bracket notation.
import { parse as parseQueryString } from 'qs';
import { EmulatorKit, listen, type RunningServer } from '../common/server';
import { FixedWindowLimiter } from '../common/rate-limit';
import {
  Company,
  type CompanyDump,
  type CompanySeed,
  type InvitationRecord,
  type SeedInput,
  type SeedResult,
} from './company';
import { ObjectIdFactory } from './ids';
import type { GenerateTokenBody, GenerateTokenResponse } from './model';
import { coreApiRouter, type PageSizes } from './routes';
import { loadLearning360Spec, type PreparedSpec } from './spec';
import {
  TOKEN_PATH,
  createSpecValidation,
  operationOf,
  sendRaw,
  type DriftRecord,
  type InternalErrorRecord,
  type SpecValidation,
} from './validation';

export type {
  BulkOperationDTO,
  BulkResult,
  CompanySeed,
  ClientSeed,
  GroupSeed,
  CustomFieldSeed,
  UserSeed,
  OwnerSeed,
  SeedInput,
  SeedResult,
  CompanyDump,
  UserDump,
  InvitationRecord,
} from './company';
export type { DriftRecord, InternalErrorRecord } from './validation';
export { Company } from './company';
export { ApiError, PATH_ROLES, ROLES, ALL_SCOPES } from './model';
export type {
  Role,
  UserDTO,
  GroupDTO,
  ExternalIdDTO,
  CustomFieldDTO,
  CustomFieldValueDTO,
  Membership,
  UserRole,
} from './model';

export interface Learning360EmulatorOptions {
  /** Companies (platforms) served; default: one demo company (see DEMO_COMPANY). */
  companies?: CompanySeed[];
  /** Access-token lifetime, on the emulator clock. Default 3600. */
  tokenTtlSeconds?: number;
  /** GET requests per second per company. Default 50. */
  getPerSecond?: number;
  /** POST/PUT/PATCH/DELETE requests per second per company. Default 10. */
  writesPerSecond?: number;
  /** Page sizes of the lists; smaller values make paging easy to test. */
  pageSizes?: Partial<PageSizes>;
  /** Validate every response body against core-api.json. Default true. */
  validateResponses?: boolean;
  /** Platform names external ids may not use, for companies that do not set their own. Default ['360learning']. */
  reservedPlatforms?: string[];
  /** Time a bulk operation spends pending, then queued, then running, on the emulator clock. Default 500. */
  bulkStepMs?: number;
}

export const DEFAULT_PAGE_SIZES: PageSizes = {
  users: 500,
  groups: 500,
  customFields: 1000,
  roles: 1000,
  managers: 1000,
  externalIds: 5000,
  bulkOperations: 20,
};

/** The demo company `npm start` talks to. Ids are fixed so configs can name its groups. */
export const DEMO_COMPANY = {
  id: '650000000000000000000001',
  name: 'Demo Company',
  clientId: 'bobsync-demo',
  clientSecret: 'demo-secret',
  rootGroupId: '650000000000000000000100',
  groups: {
    engineering: '650000000000000000000101',
    sales: '650000000000000000000102',
    london: '650000000000000000000103',
    allStaff: '650000000000000000000104',
  },
} as const;

function demoCompany(): CompanySeed {
  return {
    id: DEMO_COMPANY.id,
    name: DEMO_COMPANY.name,
    clients: [{ clientId: DEMO_COMPANY.clientId, clientSecret: DEMO_COMPANY.clientSecret }],
    rootGroupId: DEMO_COMPANY.rootGroupId,
    rootGroupName: DEMO_COMPANY.name,
    groups: [
      { id: DEMO_COMPANY.groups.engineering, name: 'Engineering' },
      { id: DEMO_COMPANY.groups.sales, name: 'Sales' },
      { id: DEMO_COMPANY.groups.london, name: 'London', public: false },
      { id: DEMO_COMPANY.groups.allStaff, name: 'All staff' },
    ],
  };
}

interface TokenRecord {
  companyId: string;
  clientId: string;
  scopes: string[];
  expiresAtMs: number;
}

export interface RequestCount {
  /** Start of the second, epoch milliseconds on the emulator clock. */
  second: number;
  gets: number;
  writes: number;
  /** Requests answered 429 in that second (not included in gets/writes). */
  throttled: number;
}

export class Learning360Emulator {
  readonly kit = new EmulatorKit();
  readonly app: Express;
  readonly spec: PreparedSpec;

  private readonly options: Required<Omit<Learning360EmulatorOptions, 'companies' | 'pageSizes'>> & {
    pageSizes: PageSizes;
  };
  private readonly seeds: CompanySeed[];
  private readonly ids = new ObjectIdFactory(this.kit.clock);
  private readonly companies = new Map<string, Company>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly getLimiter: FixedWindowLimiter;
  private readonly writeLimiter: FixedWindowLimiter;
  private readonly counts = new Map<string, Map<number, RequestCount>>();
  private readonly validation: SpecValidation;
  /** Properties the token call accepts, from the spec's GenerateTokenBody. */
  private readonly tokenFields: Set<string>;

  constructor(options: Learning360EmulatorOptions = {}) {
    this.options = {
      tokenTtlSeconds: options.tokenTtlSeconds ?? 3600,
      getPerSecond: options.getPerSecond ?? 50,
      writesPerSecond: options.writesPerSecond ?? 10,
      validateResponses: options.validateResponses ?? true,
      reservedPlatforms: options.reservedPlatforms ?? ['360learning'],
      bulkStepMs: options.bulkStepMs ?? 500,
      pageSizes: { ...DEFAULT_PAGE_SIZES, ...options.pageSizes },
    };
    // Fix generated ids once, so a reset brings back the same companies and root groups.
    this.seeds = (options.companies ?? [demoCompany()]).map((c) => ({
      ...c,
      id: c.id ?? this.ids.next(),
      rootGroupId: c.rootGroupId ?? this.ids.next(),
    }));
    const clientIds = this.seeds.flatMap((c) => c.clients.map((k) => k.clientId));
    if (new Set(clientIds).size !== clientIds.length)
      throw new Error('360Learning emulator: client ids must be unique across companies');
    this.getLimiter = new FixedWindowLimiter(this.kit.clock, this.options.getPerSecond, 1000);
    this.writeLimiter = new FixedWindowLimiter(this.kit.clock, this.options.writesPerSecond, 1000);
    this.spec = loadLearning360Spec();
    this.tokenFields = new Set(Object.keys(this.tokenSchemaProperties()));
    this.validation = createSpecValidation(this.spec, {
      validateResponses: this.options.validateResponses,
      now: () => this.kit.clock.now(),
    });
    this.buildCompanies();
    this.app = this.buildApp();
  }

  start(port = 0, host = '127.0.0.1'): Promise<RunningServer> {
    return listen(this.app, port, host);
  }

  // ---------------------------------------------------------------- programmatic admin

  /** The company with that id, or the first one. */
  company(companyId?: string): Company {
    const company = companyId ? this.companies.get(companyId) : this.companies.values().next().value;
    if (!company) throw new Error(`360Learning emulator: no company ${companyId ?? ''}`.trim());
    return company;
  }

  companyIds(): string[] {
    return [...this.companies.keys()];
  }

  /** Back to the configured companies: users, tokens, rate windows and invitation logs cleared. */
  reset(): void {
    this.tokens.clear();
    this.getLimiter.reset();
    this.writeLimiter.reset();
    this.counts.clear();
    this.buildCompanies();
  }

  seed(input: SeedInput, companyId?: string): SeedResult {
    return this.company(companyId).seed(input);
  }

  dump(companyId?: string): CompanyDump {
    const company = this.company(companyId);
    company.sweep();
    return company.dump();
  }

  invitations(companyId?: string): InvitationRecord[] {
    const companies = companyId ? [this.company(companyId)] : [...this.companies.values()];
    return companies.flatMap((c) => c.invitations).sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  }

  /** Per-company requests per second, counted where the rate limits count them. */
  requestCounts(companyId?: string): Record<string, RequestCount[]> {
    const out: Record<string, RequestCount[]> = {};
    for (const [id, seconds] of this.counts) {
      if (companyId && id !== companyId) continue;
      out[id] = [...seconds.values()].sort((a, b) => a.second - b.second).map((c) => ({ ...c }));
    }
    return out;
  }

  /** Responses that did not match core-api.json; tests assert this stays empty. */
  get drift(): DriftRecord[] {
    return [...this.validation.drift];
  }

  /** Handler exceptions (answered 500); tests assert this stays empty. */
  get internalErrors(): InternalErrorRecord[] {
    return [...this.validation.internalErrors];
  }

  clearDrift(): void {
    this.validation.drift.length = 0;
    this.validation.internalErrors.length = 0;
  }

  /** Revokes access tokens (all, or those of one client); the next call gets 401 invalid_token. */
  revokeTokens(clientId?: string): number {
    let revoked = 0;
    for (const [token, record] of this.tokens) {
      if (clientId && record.clientId !== clientId) continue;
      this.tokens.delete(token);
      revoked += 1;
    }
    return revoked;
  }

  // ---------------------------------------------------------------- internals

  private buildCompanies(): void {
    this.companies.clear();
    for (const seed of this.seeds) {
      const company = new Company(seed, this.kit.clock, this.ids, {
        reservedPlatforms: this.options.reservedPlatforms,
        bulkStepMs: this.options.bulkStepMs,
        bulkConcurrency: 3,
      });
      this.companies.set(company.id, company);
    }
  }

  private tokenSchemaProperties(): Record<string, unknown> {
    const doc = this.spec.document() as {
      components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
    };
    return doc.components?.schemas?.GenerateTokenBody?.properties ?? {};
  }

  private findClient(clientId: string): { company: Company; scopes: string[]; secret: string } | undefined {
    for (const company of this.companies.values()) {
      const client = company.clients.find((c) => c.clientId === clientId);
      if (client) return { company, scopes: client.scopes, secret: client.clientSecret };
    }
    return undefined;
  }

  private count(companyId: string, field: 'gets' | 'writes' | 'throttled'): void {
    const now = this.kit.clock.nowMs();
    const second = now - (now % 1000);
    let seconds = this.counts.get(companyId);
    if (!seconds) this.counts.set(companyId, (seconds = new Map<number, RequestCount>()));
    let entry = seconds.get(second);
    if (!entry) seconds.set(second, (entry = { second, gets: 0, writes: 0, throttled: 0 }));
    entry[field] += 1;
  }

  private token(req: Request, res: Response): void {
    const body = (req.body ?? {}) as Partial<GenerateTokenBody> & Record<string, unknown>;
    // The vendor refuses properties it does not know, which the schema alone does not forbid.
    if (Object.keys(body).some((key) => !this.tokenFields.has(key))) {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
    const client = body.client_id ? this.findClient(body.client_id) : undefined;
    if (!client || client.secret !== body.client_secret) {
      res.status(401).json({ error: 'invalid_client' });
      return;
    }
    if (body.user_id) {
      const user = client.company.listUsers({}).find((u) => u._id === body.user_id);
      if (!user || user.status === 'deleted') {
        res.status(400).json({ error: 'non_existing_user' });
        return;
      }
    }
    const accessToken = randomBytes(32).toString('base64url');
    this.tokens.set(accessToken, {
      companyId: client.company.id,
      clientId: body.client_id!,
      scopes: client.scopes,
      expiresAtMs: this.kit.clock.nowMs() + this.options.tokenTtlSeconds * 1000,
    });
    const answer: GenerateTokenResponse = {
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: this.options.tokenTtlSeconds,
    };
    res.status(200).json(answer);
  }

  /** Bearer token → company; then the company's rate limits; then the operation's scope. */
  private authenticate(req: Request, res: Response, next: NextFunction): void {
    if (req.path === TOKEN_PATH) return next();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    const record = match ? this.tokens.get(match[1]!) : undefined;
    if (!record || record.expiresAtMs <= this.kit.clock.nowMs()) {
      if (record) this.tokens.delete(match![1]!);
      res.status(401).json({ error: 'invalid_token' });
      return;
    }
    const company = this.companies.get(record.companyId);
    if (!company) {
      res.status(401).json({ error: 'invalid_token' });
      return;
    }
    res.locals.company = company;
    res.locals.caller = `${company.id}/${record.clientId}`;
    const isGet = req.method === 'GET' || req.method === 'HEAD';
    const decision = (isGet ? this.getLimiter : this.writeLimiter).take(company.id);
    if (!decision.allowed) {
      this.count(company.id, 'throttled');
      // Sent as is: bulk operations declare another 429 body (concurrency), though the limit applies to them too.
      sendRaw(res, 429, { error: 'tooManyRequests' });
      return;
    }
    this.count(company.id, isGet ? 'gets' : 'writes');
    const operationId = operationOf(req)?.schema.operationId;
    const scope = operationId ? this.spec.operations.get(operationId)?.scope : undefined;
    if (scope && !record.scopes.includes(scope)) {
      res.status(403).json({ error: { code: 'invalid_scope', message: `This operation needs the ${scope} scope.` } });
      return;
    }
    company.sweep();
    next();
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    // mail[in]=a&mail[in]=b and mail[in][]=a both become arrays. qs's default of 20 items would
    // turn longer lists into objects, so allow lists as long as the largest page.
    app.set('query parser', (query: string) =>
      parseQueryString(query, { arrayLimit: 5000, parameterLimit: 20_000, depth: 5 }),
    );
    app.use(this.kit.middleware());
    app.use('/__admin', this.adminRouter());
    app.use(express.json({ limit: '10mb' }));
    app.use(this.validation.match);
    app.use((req, res, next) => this.authenticate(req, res, next));
    app.use(this.validation.validateRequest);
    app.post(TOKEN_PATH, (req, res) => this.token(req, res));
    app.use('/api/v2', coreApiRouter(this.options.pageSizes));
    app.use((req, res) =>
      sendRaw(res, 404, { error: { code: 'notFound', message: `${req.method} ${req.path} is not a Core API route.` } }),
    );
    app.use(this.validation.errorHandler);
    return app;
  }

  /**
   * /__admin: the kit's shared routes (requests, faults, clock) and
   * POST reset, POST seed, GET companies, GET state, GET/DELETE invitations, GET request-counts,
   * GET/DELETE drift, POST tokens/revoke, GET spec, POST bulk {enabled}.
   */
  private adminRouter(): express.Router {
    const router = express.Router();
    router.use(express.json({ limit: '50mb' }));
    router.use(this.kit.adminRouter());
    const companyParam = (req: Request) => (typeof req.query.companyId === 'string' ? req.query.companyId : undefined);
    const guard =
      (fn: (req: Request, res: Response) => void) =>
      (req: Request, res: Response): void => {
        try {
          fn(req, res);
        } catch (err) {
          res.status(400).json({ error: { code: 'adminError', message: (err as Error).message } });
        }
      };
    router.post(
      '/reset',
      guard((_req, res) => {
        this.reset();
        res.json({ companies: this.companyIds() });
      }),
    );
    router.post(
      '/seed',
      guard((req, res) => {
        const body = (req.body ?? {}) as SeedInput & { companyId?: string };
        res
          .status(201)
          .json(this.seed({ groups: body.groups, customFields: body.customFields, users: body.users }, body.companyId));
      }),
    );
    router.get(
      '/companies',
      guard((_req, res) => {
        res.json({
          companies: [...this.companies.values()].map((c) => ({
            id: c.id,
            name: c.name,
            rootGroupId: c.rootGroupId,
            ownerId: c.ownerId,
            clients: c.clients.map((k) => ({ clientId: k.clientId, scopes: k.scopes })),
          })),
        });
      }),
    );
    router.get(
      '/state',
      guard((req, res) => void res.json(this.dump(companyParam(req)))),
    );
    router.get(
      '/invitations',
      guard((req, res) => void res.json({ invitations: this.invitations(companyParam(req)) })),
    );
    router.delete(
      '/invitations',
      guard((_req, res) => {
        for (const c of this.companies.values()) c.invitations.length = 0;
        res.status(204).end();
      }),
    );
    router.get(
      '/request-counts',
      guard((req, res) => void res.json({ counts: this.requestCounts(companyParam(req)) })),
    );
    router.get(
      '/drift',
      guard((_req, res) => void res.json({ drift: this.drift, internalErrors: this.internalErrors })),
    );
    router.delete(
      '/drift',
      guard((_req, res) => {
        this.clearDrift();
        res.status(204).end();
      }),
    );
    router.post(
      '/tokens/revoke',
      guard((req, res) => {
        const clientId = (req.body as { clientId?: unknown } | undefined)?.clientId;
        res.json({ revoked: this.revokeTokens(typeof clientId === 'string' ? clientId : undefined) });
      }),
    );
    router.get(
      '/spec',
      guard((_req, res) => void res.json({ file: this.spec.file, files: this.spec.files, errata: this.spec.errata })),
    );
    router.post(
      '/bulk',
      guard((req, res) => {
        const body = (req.body ?? {}) as { companyId?: string; enabled?: unknown };
        const company = this.company(body.companyId);
        if (typeof body.enabled === 'boolean') company.bulkApiEnabled = body.enabled;
        res.json({ companyId: company.id, enabled: company.bulkApiEnabled });
      }),
    );
    return router;
  }
}
