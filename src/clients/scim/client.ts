/**
 * SCIM 2.0 client (RFC 7643/7644) for provisioning learners into any SCIM service provider,
 * Skillcast first (contracts/skillcast.md §6). It reads the server's discovery documents once
 * and follows them: PATCH or PUT, filters or a scan, the page size cap, the extension that
 * carries custom attributes. Bearer token auth, a per-instance request rate, lenient error
 * parsing and classification. Retries of transient failures are normally left to the caller
 * (Temporal's retry policy) with the server's Retry-After attached; `maxAttempts` lets the
 * client retry by itself for callers without one.
 */
import { SpacingLimiter } from '../http/spacing-limiter';
import {
  ScimApiError,
  ScimConfigurationError,
  isScimErrorBody,
  parseRetryAfter,
  parseScimErrorBody,
  type ScimService,
} from './errors';
import { eqFilter } from './filter';
import { applyChanges, buildPatchOperations, toUserDocument } from './patch';
import {
  CORE_USER_URN,
  PATCH_OP_URN,
  SCIM_MEDIA_TYPE,
  listResponseReader,
  resourceTypeReader,
  schemaReader,
  serviceProviderConfigReader,
  userReader,
  type PatchOperation,
  type ResourceType,
  type ScimSchema,
  type ScimUser,
  type ScimUserChanges,
  type ScimUserInput,
  type ServiceProviderConfig,
} from './types';

/** PUTs of one update made in all when each finds the user changed since its read (412). */
const PUT_ATTEMPTS_ON_CONFLICT = 3;

export interface ScimClientOptions {
  /** The SCIM base URL, e.g. `https://acme.skillcast.io/skillcastApi/scim`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`; never logged, never part of an error. */
  token: string;
  /** Schema URN of the extension that carries custom attributes (taken from the server's /Schemas). */
  extensionUrn?: string;
  /** Custom attribute names the integration writes; discover() fails if the server does not declare them. */
  customAttributes?: readonly string[];
  /** Self-imposed request rate of this instance, all methods together. Default 10. */
  requestsPerSecond?: number;
  /** Page size asked for when listing; never above the server's filter.maxResults. Default 100. */
  pageSize?: number;
  /** Attempts per request when the failure is transient (429, 5xx, network). Default 1: the caller retries. */
  maxAttempts?: number;
  /** Longest wait between the client's own attempts; a longer Retry-After is left to the caller. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** How errors name the service (ApiError.service). Default `skillcast`. */
  service?: ScimService;
  fetch?: typeof fetch;
  now?: () => number;
}

/** What the server said it can do, read once from its discovery endpoints (RFC 7644 §4). */
export interface ScimCapabilities {
  patch: boolean;
  filter: boolean;
  /** Largest page the server returns (filter.maxResults), when it says. */
  maxResults?: number;
  etag: boolean;
  sort: boolean;
  bulk: boolean;
  /** Where User resources live, from the User resource type; `/Users` unless the server says otherwise. */
  usersEndpoint: string;
  userSchemaExtensions: { schema: string; required: boolean }[];
  /** Every schema from /Schemas; undefined when the server does not serve it. */
  schemas?: ScimSchema[];
  resourceTypes?: ResourceType[];
  serviceProviderConfig: ServiceProviderConfig;
  /** The configured extension: whether the server declares it and, when /Schemas says, its attribute names. */
  extension?: { urn: string; declared: boolean; attributes?: string[] };
}

export interface ScimCallCounts {
  /** GET requests sent, retries included. */
  read: number;
  /** POST, PUT and PATCH requests sent, retries included. */
  write: number;
  byMethod: Record<HttpMethod, number>;
}

export interface ScimUserPage {
  users: ScimUser[];
  /** 1-based index of the first user of this page. */
  startIndex: number;
  totalResults: number;
  /** startIndex of the next page; none on the last. */
  next?: number;
}

export interface ListUsersOptions {
  /** A SCIM filter expression; build it with eqFilter(). */
  filter?: string;
  /** Users per request; capped by the server's maxResults. */
  pageSize?: number;
  /** Only these attributes (plus `id`, which servers always return). */
  attributes?: readonly string[];
  /** 1-based index to start at (default 1), e.g. the `next` of a page read before. */
  startIndex?: number;
}

export type UserKey = 'id' | 'externalId' | 'userName';

export interface CreateUserResult {
  user: ScimUser;
  /**
   * True when the server already had a user with this userName (or externalId): nothing was
   * created and `user` is that existing user. The caller decides whether it is the same person.
   */
  linked: boolean;
  /** How the existing user was found when linked. */
  matchedBy?: Exclude<UserKey, 'id'>;
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH';

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses that resolve with `undefined` instead of throwing. */
  tolerate?: readonly number[];
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads a discovery list: a ListResponse, or the bare array some servers send. */
function resourcesOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  const parsed = listResponseReader.safeParse(body);
  return parsed.success ? (parsed.data.Resources ?? []) : [];
}

export class ScimClient {
  readonly #token: string;
  private readonly baseUrl: string;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;
  private readonly limiter: SpacingLimiter;
  private readonly service: ScimService;
  private readonly settings: Required<
    Pick<ScimClientOptions, 'maxAttempts' | 'maxRetryDelayMs' | 'timeoutMs' | 'pageSize'>
  >;
  private readonly customAttributes: readonly string[];
  private discovery?: Promise<ScimCapabilities>;
  /** Set from a Retry-After: no request of this instance leaves before then. */
  private pausedUntil = 0;
  /** Counts requests by kind, for reports and benchmarks. */
  readonly calls: ScimCallCounts = { read: 0, write: 0, byMethod: { GET: 0, POST: 0, PUT: 0, PATCH: 0 } };
  readonly extensionUrn?: string;

  constructor(options: ScimClientOptions) {
    if (!options.token) throw new Error('A SCIM bearer token is required');
    this.#token = options.token;
    this.baseUrl = options.baseUrl.replace(/\/+$/u, '');
    this.doFetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.limiter = new SpacingLimiter(options.requestsPerSecond ?? 10, this.now);
    this.service = options.service ?? 'skillcast';
    this.settings = {
      maxAttempts: Math.max(1, Math.floor(options.maxAttempts ?? 1)),
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      timeoutMs: options.timeoutMs ?? 30_000,
      pageSize: options.pageSize ?? 100,
    };
    this.extensionUrn = options.extensionUrn;
    this.customAttributes = [...(options.customAttributes ?? [])];
    if (this.customAttributes.length > 0 && !this.extensionUrn)
      throw new Error('customAttributes need an extensionUrn');
  }

  // ---- discovery ----------------------------------------------------------------------------

  /**
   * Reads /ServiceProviderConfig, /ResourceTypes and /Schemas once per instance (again with
   * `refresh`) and checks that the configured extension and custom attributes are declared.
   */
  discover(options: { refresh?: boolean } = {}): Promise<ScimCapabilities> {
    if (options.refresh || !this.discovery) {
      const pending = this.readCapabilities();
      this.discovery = pending;
      // A failed discovery is not cached: the next call asks again.
      void pending.catch(() => {
        if (this.discovery === pending) this.discovery = undefined;
      });
    }
    return this.discovery;
  }

  private async readCapabilities(): Promise<ScimCapabilities> {
    const [configReply, typesReply, schemasReply] = await Promise.all([
      this.request('GET', '/ServiceProviderConfig'),
      // Both are required by RFC 7644 §4, yet some servers leave them out: then they are unknown.
      this.request('GET', '/ResourceTypes', { tolerate: [404, 501] }),
      this.request('GET', '/Schemas', { tolerate: [404, 501] }),
    ]);
    const config = serviceProviderConfigReader.safeParse(configReply?.body);
    if (!config.success)
      throw this.unexpected(configReply, 'GET /ServiceProviderConfig', 'not a ServiceProviderConfig');
    const spc = config.data;

    const resourceTypes = typesReply
      ? resourcesOf(typesReply.body).flatMap((r) => {
          const parsed = resourceTypeReader.safeParse(r);
          return parsed.success ? [parsed.data] : [];
        })
      : undefined;
    const schemas = schemasReply
      ? resourcesOf(schemasReply.body).flatMap((s) => {
          const parsed = schemaReader.safeParse(s);
          return parsed.success ? [parsed.data] : [];
        })
      : undefined;

    const userType =
      resourceTypes?.find((r) => r.schema.toLowerCase() === CORE_USER_URN.toLowerCase()) ??
      resourceTypes?.find((r) => r.name === 'User');
    const endpoint = userType?.endpoint ?? '/Users';
    const capabilities: ScimCapabilities = {
      patch: spc.patch.supported,
      filter: spc.filter.supported,
      etag: spc.etag?.supported ?? false,
      sort: spc.sort?.supported ?? false,
      bulk: spc.bulk?.supported ?? false,
      usersEndpoint: endpoint.startsWith('/') ? endpoint : `/${endpoint}`,
      userSchemaExtensions: userType?.schemaExtensions ?? [],
      serviceProviderConfig: spc,
    };
    if (spc.filter.maxResults !== undefined && spc.filter.maxResults > 0)
      capabilities.maxResults = spc.filter.maxResults;
    if (schemas) capabilities.schemas = schemas;
    if (resourceTypes) capabilities.resourceTypes = resourceTypes;

    if (this.extensionUrn) {
      const urn = this.extensionUrn.toLowerCase();
      const schema = schemas?.find((s) => s.id.toLowerCase() === urn);
      const declared =
        schema !== undefined || capabilities.userSchemaExtensions.some((e) => e.schema.toLowerCase() === urn);
      capabilities.extension = { urn: this.extensionUrn, declared };
      if (schema) capabilities.extension.attributes = schema.attributes.map((a) => a.name);
    }
    this.checkCustomAttributes(this.customAttributes, capabilities, 'discover');
    return capabilities;
  }

  /** Fails when custom attributes are written that the server does not declare (names compared exactly). */
  private checkCustomAttributes(names: readonly string[], capabilities: ScimCapabilities, operation: string): void {
    if (names.length === 0) return;
    const extension = capabilities.extension;
    if (!extension)
      throw new ScimConfigurationError(
        this.service,
        operation,
        'custom attributes need an extensionUrn',
        'extensionNotConfigured',
      );
    if (!extension.declared) {
      throw new ScimConfigurationError(
        this.service,
        operation,
        `the server does not declare the extension ${extension.urn} (user extensions: ${capabilities.userSchemaExtensions.map((e) => e.schema).join(', ') || 'none'})`,
        'extensionNotDeclared',
      );
    }
    if (!extension.attributes) return;
    const declared = extension.attributes;
    const missing = names.filter((n) => !declared.includes(n));
    if (missing.length === 0) return;
    const squash = (s: string) => s.toLowerCase().replace(/[\s_-]+/gu, '');
    const described = missing.map((name) => {
      const near = declared.find((d) => squash(d) === squash(name));
      return near ? `"${name}" (the server has "${near}"; names must match exactly)` : `"${name}"`;
    });
    throw new ScimConfigurationError(
      this.service,
      operation,
      `${extension.urn} does not declare ${described.join(', ')} (declared: ${declared.map((d) => `"${d}"`).join(', ') || 'none'})`,
      'attributeNotDeclared',
    );
  }

  // ---- reads ---------------------------------------------------------------------------------

  /** GET /Users/{id}; undefined when the server does not know the id. */
  async getUser(id: string): Promise<ScimUser | undefined> {
    const { usersEndpoint } = await this.discover();
    const reply = await this.request('GET', `${usersEndpoint}/${encodeURIComponent(id)}`, { tolerate: [404] });
    return reply ? this.readUser(reply, `GET ${usersEndpoint}/{id}`) : undefined;
  }

  /** The user with this userName (compared case-insensitively, RFC 7643 §4.1.1), if any. */
  async findUserByUserName(userName: string): Promise<ScimUser | undefined> {
    const wanted = userName.toLowerCase();
    return this.findOne('userName', userName, (u) => u.userName.toLowerCase() === wanted);
  }

  /** The user with this externalId (compared exactly), if any. */
  async findUserByExternalId(externalId: string): Promise<ScimUser | undefined> {
    return this.findOne('externalId', externalId, (u) => u.externalId === externalId);
  }

  /**
   * Looks a user up the way the contract orders it: stored `id`, then `externalId`, then
   * `userName`. A server that refuses the externalId filter (400 invalidFilter) is asked by
   * userName instead.
   */
  async findUser(keys: {
    id?: string;
    externalId?: string;
    userName?: string;
  }): Promise<{ user: ScimUser; matchedBy: UserKey } | undefined> {
    if (keys.id) {
      const user = await this.getUser(keys.id);
      if (user) return { user, matchedBy: 'id' };
    }
    if (keys.externalId) {
      try {
        const user = await this.findUserByExternalId(keys.externalId);
        if (user) return { user, matchedBy: 'externalId' };
      } catch (err) {
        if (!(err instanceof ScimApiError && err.status === 400 && err.scimType === 'invalidFilter')) throw err;
      }
    }
    if (keys.userName) {
      const user = await this.findUserByUserName(keys.userName);
      if (user) return { user, matchedBy: 'userName' };
    }
    return undefined;
  }

  private async findOne(
    attribute: 'userName' | 'externalId',
    value: string,
    matches: (user: ScimUser) => boolean,
  ): Promise<ScimUser | undefined> {
    const capabilities = await this.discover();
    // Without filter support the only way is to read every user.
    const options: ListUsersOptions = capabilities.filter ? { filter: eqFilter(attribute, value), pageSize: 10 } : {};
    for await (const page of this.userPages(options)) {
      const found = page.users.find(matches);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * Every user (or every match of a filter) page by page, with startIndex/count paging
   * (RFC 7644 §3.4.2.4): pages are never larger than the server's maxResults, and paging stops
   * once `totalResults` users have been seen or a page comes back empty.
   */
  async *userPages(options: ListUsersOptions = {}): AsyncGenerator<ScimUserPage> {
    const capabilities = await this.discover();
    if (options.filter !== undefined && !capabilities.filter) {
      throw new ScimConfigurationError(
        this.service,
        `GET ${capabilities.usersEndpoint}`,
        'the server does not support filters',
        'filterNotSupported',
      );
    }
    const wanted = options.pageSize ?? this.settings.pageSize;
    const count = Math.max(1, Math.min(wanted, capabilities.maxResults ?? wanted));
    const operation = `GET ${capabilities.usersEndpoint}`;
    let startIndex = options.startIndex ?? 1;
    for (;;) {
      const reply = await this.request('GET', capabilities.usersEndpoint, {
        query: { filter: options.filter, startIndex, count, attributes: options.attributes?.join(',') },
      });
      const list = listResponseReader.safeParse(reply?.body);
      if (!reply || !list.success) throw this.unexpected(reply, operation, 'not a ListResponse');
      const users = (list.data.Resources ?? []).map((r) => this.readUserBody(r, reply.status, operation));
      const pageStart = list.data.startIndex ?? startIndex;
      // A server that ignores startIndex would hand out the first page forever.
      if (pageStart !== startIndex && users.length > 0)
        throw this.unexpected(reply, operation, `asked for startIndex ${startIndex}, got ${pageStart}`);
      const last = users.length === 0 || startIndex - 1 + users.length >= list.data.totalResults;
      const next = last ? undefined : startIndex + users.length;
      yield { users, startIndex, totalResults: list.data.totalResults, next };
      if (next === undefined) return;
      startIndex = next;
    }
  }

  async listUsers(options: ListUsersOptions = {}): Promise<ScimUser[]> {
    const users: ScimUser[] = [];
    for await (const page of this.userPages(options)) users.push(...page.users);
    return users;
  }

  // ---- writes --------------------------------------------------------------------------------

  /**
   * POST /Users. When the server answers 409 (uniqueness), nothing is created: the user who
   * holds the userName (or externalId) is looked up and returned with `linked: true`, so a
   * retried or repeated create never makes a duplicate.
   */
  async createUser(input: ScimUserInput): Promise<CreateUserResult> {
    const capabilities = await this.discover();
    const operation = `POST ${capabilities.usersEndpoint}`;
    this.checkCustomAttributes(Object.keys(input.custom ?? {}), capabilities, operation);
    try {
      const reply = await this.request('POST', capabilities.usersEndpoint, {
        body: toUserDocument(input, this.extensionUrn),
      });
      if (reply && reply.body !== undefined) return { user: this.readUser(reply, operation), linked: false };
      // A 201 without a body: read back what was created.
      const created = await this.findUserByUserName(input.userName);
      if (!created) throw this.unexpected(reply, operation, 'created, but the user cannot be read back');
      return { user: created, linked: false };
    } catch (err) {
      if (
        !(err instanceof ScimApiError) ||
        err.status !== 409 ||
        (err.scimType !== undefined && err.scimType !== 'uniqueness')
      )
        throw err;
      const byUserName = await this.findUserByUserName(input.userName);
      if (byUserName) return { user: byUserName, linked: true, matchedBy: 'userName' };
      const byExternalId = input.externalId ? await this.findUserByExternalId(input.externalId) : undefined;
      if (byExternalId) return { user: byExternalId, linked: true, matchedBy: 'externalId' };
      // Taken by someone this token cannot see (another domain, say): nothing to link to.
      throw err;
    }
  }

  /**
   * Changes some attributes of a user: PATCH operations where the server supports PATCH, else a
   * GET of the current resource and a PUT of all of it with the changes applied (with If-Match
   * where the server supports ETags, so a concurrent change is not overwritten). Pass `current`
   * to send only what differs. Returns the user as the server has it afterwards.
   */
  async updateUser(id: string, changes: ScimUserChanges, options: { current?: ScimUser } = {}): Promise<ScimUser> {
    const capabilities = await this.discover();
    const path = `${capabilities.usersEndpoint}/${encodeURIComponent(id)}`;
    this.checkCustomAttributes(
      Object.keys(changes.custom ?? {}),
      capabilities,
      `update ${capabilities.usersEndpoint}/{id}`,
    );
    if (capabilities.patch) {
      const operations = buildPatchOperations(changes, { extensionUrn: this.extensionUrn, current: options.current });
      if (operations.length === 0) return options.current ?? (await this.requireUser(id));
      return this.patchUser(id, operations);
    }
    // A 412 means the user changed between the read and the PUT: read it again and reapply.
    for (let attempt = 1; ; attempt++) {
      const current = await this.requireUser(id);
      const headers: Record<string, string> = {};
      if (capabilities.etag && current.meta?.version) headers['if-match'] = current.meta.version;
      try {
        const body = applyChanges(current, changes, this.extensionUrn);
        const reply = await this.request('PUT', path, { body, headers });
        return reply && reply.body !== undefined
          ? this.readUser(reply, `PUT ${capabilities.usersEndpoint}/{id}`)
          : this.requireUser(id);
      } catch (err) {
        if (!(err instanceof ScimApiError && err.status === 412 && attempt < PUT_ATTEMPTS_ON_CONFLICT)) throw err;
      }
    }
  }

  /** PATCH /Users/{id} with these operations as they are; fails if the server has no PATCH. */
  async patchUser(id: string, operations: PatchOperation[]): Promise<ScimUser> {
    const capabilities = await this.discover();
    const operation = `PATCH ${capabilities.usersEndpoint}/{id}`;
    if (!capabilities.patch)
      throw new ScimConfigurationError(
        this.service,
        operation,
        'the server does not support PATCH',
        'patchNotSupported',
      );
    const reply = await this.request('PATCH', `${capabilities.usersEndpoint}/${encodeURIComponent(id)}`, {
      body: { schemas: [PATCH_OP_URN], Operations: operations },
    });
    // 204 No Content is allowed (RFC 7644 §3.5.2): read the result back.
    return reply && reply.body !== undefined ? this.readUser(reply, operation) : this.requireUser(id);
  }

  /** PUT /Users/{id} with the full resource: attributes left out may be cleared by the server. */
  async replaceUser(id: string, input: ScimUserInput, options: { ifMatch?: string } = {}): Promise<ScimUser> {
    const capabilities = await this.discover();
    const operation = `PUT ${capabilities.usersEndpoint}/{id}`;
    this.checkCustomAttributes(Object.keys(input.custom ?? {}), capabilities, operation);
    const headers: Record<string, string> = options.ifMatch ? { 'if-match': options.ifMatch } : {};
    const reply = await this.request('PUT', `${capabilities.usersEndpoint}/${encodeURIComponent(id)}`, {
      body: toUserDocument(input, this.extensionUrn),
      headers,
    });
    return reply && reply.body !== undefined ? this.readUser(reply, operation) : this.requireUser(id);
  }

  /** Archives the user (`active: false`); the user and its id stay. */
  archiveUser(id: string): Promise<ScimUser> {
    return this.updateUser(id, { active: false });
  }

  /** Reactivates the same user (`active: true`), never a new one. */
  reactivateUser(id: string): Promise<ScimUser> {
    return this.updateUser(id, { active: true });
  }

  private async requireUser(id: string): Promise<ScimUser> {
    const user = await this.getUser(id);
    if (user) return user;
    throw new ScimApiError({
      service: this.service,
      status: 404,
      detail: `user ${id} not found`,
      operation: 'GET /Users/{id}',
    });
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private readUser(reply: Reply | undefined, operation: string): ScimUser {
    return this.readUserBody(reply?.body, reply?.status ?? 0, operation);
  }

  private readUserBody(body: unknown, status: number, operation: string): ScimUser {
    const parsed = userReader.safeParse(body);
    if (!parsed.success)
      throw this.unexpected({ status, headers: new Headers(), body }, operation, 'not a User resource');
    return parsed.data;
  }

  private unexpected(reply: Reply | undefined, operation: string, what: string): ScimApiError {
    return new ScimApiError({
      service: this.service,
      status: reply?.status ?? 0,
      detail: `unexpected answer: ${what}`,
      operation,
      code: 'unexpectedResponse',
      kind: 'invalid',
      retryable: false,
    });
  }

  private url(path: string, query: RequestOptions['query']): string {
    const params = Object.entries(query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      // %20 rather than `+` for spaces: every server decodes it the same way.
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
    return `${this.baseUrl}${path}${params.length ? `?${params.join('&')}` : ''}`;
  }

  /** Waits for any Retry-After pause, then for this instance's rate slot. */
  private async slot(): Promise<void> {
    for (let wait = this.pausedUntil - this.now(); wait > 0; wait = this.pausedUntil - this.now()) await sleep(wait);
    await this.limiter.take();
  }

  private retryDelayMs(error: ScimApiError, attempt: number): number {
    if (error.retryAfterSeconds !== undefined) return error.retryAfterSeconds * 1000;
    // Exponential backoff with jitter: 250 ms, 500 ms, 1 s … each somewhere in its upper half.
    const ceiling = Math.min(this.settings.maxRetryDelayMs, 250 * 2 ** (attempt - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private async request(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<Reply | undefined> {
    const operation = `${method} ${path}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(method, path, operation, options);
      } catch (err) {
        if (!(err instanceof ScimApiError) || !err.retryable || attempt >= this.settings.maxAttempts) throw err;
        const delay = this.retryDelayMs(err, attempt);
        if (delay > this.settings.maxRetryDelayMs) throw err;
        await sleep(delay);
      }
    }
  }

  private async attempt(
    method: HttpMethod,
    path: string,
    operation: string,
    options: RequestOptions,
  ): Promise<Reply | undefined> {
    const headers: Record<string, string> = {
      accept: `${SCIM_MEDIA_TYPE}, application/json;q=0.9`,
      authorization: `Bearer ${this.#token}`,
      ...options.headers,
    };
    if (options.body !== undefined) headers['content-type'] = SCIM_MEDIA_TYPE;
    await this.slot();
    this.calls.byMethod[method] += 1;
    if (method === 'GET') this.calls.read += 1;
    else this.calls.write += 1;

    let response: Response;
    let text: string;
    try {
      response = await this.doFetch(this.url(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      const e = err as Error;
      const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
      throw new ScimApiError({
        service: this.service,
        status: 0,
        code: timedOut ? 'timeout' : 'network',
        detail: timedOut ? `no answer within ${this.settings.timeoutMs} ms` : `request failed: ${e.message}`,
        operation,
      });
    }

    if (!response.ok) {
      if (options.tolerate?.includes(response.status)) return undefined;
      const { scimType, detail } = parseScimErrorBody(response.status, text);
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'), this.now());
      // Every request of this instance waits out the server's Retry-After, not just this one.
      if (retryAfterSeconds !== undefined && (response.status === 429 || response.status === 503)) {
        this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterSeconds * 1000);
      }
      throw new ScimApiError({
        service: this.service,
        status: response.status,
        scimType,
        detail,
        operation,
        retryAfterSeconds,
      });
    }

    let body: unknown;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw new ScimApiError({
          service: this.service,
          status: response.status,
          code: 'notJson',
          kind: 'invalid',
          retryable: false,
          detail: `answered ${response.headers.get('content-type') ?? 'no content type'} instead of SCIM JSON: ${text.trim().slice(0, 120)}`,
          operation,
        });
      }
    }
    // A few servers report failures inside a 200.
    if (isScimErrorBody(body)) {
      const status = Number((body as { status?: unknown }).status);
      if (status >= 400) {
        const { scimType, detail } = parseScimErrorBody(status, text);
        throw new ScimApiError({ service: this.service, status, scimType, detail, operation });
      }
    }
    return { status: response.status, headers: response.headers, body };
  }
}
