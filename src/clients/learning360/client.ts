/**
 * 360Learning API v2 client: OAuth2 client-credentials token cache, the version header,
 * typed calls generated from 360Learning's own OpenAPI spec (openapi-fetch over
 * openapi-typescript types), Link-header paging and error normalisation. Retries belong to
 * Temporal's activity retry policy; this client only says whether an error is worth one.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './core-api';
import type { components as bulkComponents, paths as bulkPaths } from './bulk-api';
import { ApiError, describeValue, isRetryableStatus } from '../http/errors';
import { SpacingLimiter } from '../http/spacing-limiter';

export type User360 = components['schemas']['UserDTO'];
export type CreateUser360 = components['schemas']['InputUserDTO'];
export type UpdateUser360 = components['schemas']['UpdateUserDTO'];
export type Role360 = 'admin' | 'analyst' | 'editor' | 'coach' | 'contributor' | 'learner' | 'userAdmin';
export type BulkMembership = bulkComponents['schemas']['MembershipAdditionDTO'];
/** A bulk operation as 360Learning reports it: pending, queued, running, completed or error. */
export type BulkOperation =
  | bulkComponents['schemas']['PendingOperationDTO']
  | bulkComponents['schemas']['QueuedOperationDTO']
  | bulkComponents['schemas']['RunningOperationDTO']
  | bulkComponents['schemas']['CompletedOperationDTO']
  | bulkComponents['schemas']['ErroredOperationDTO'];
/** One item's result: its input, and success with the resource or error with a message. */
export type BulkItemResult =
  | { input: BulkMembership; status: 'success'; resourceId: string }
  | { input: BulkMembership; status: 'error'; errorMessage: string };

/** Items one bulk request may carry (bulk-api.json, maxItems). */
export const BULK_MAX_ITEMS = 20_000;

/** One page of a paged list and the URL of the next page (none on the last). */
export interface LinkedPage<T> {
  items: T[];
  next?: string;
}

export interface ExternalIdMapping {
  _id: string;
  platform: string;
  targetType: string;
  targetId: string;
  value: string;
}

export interface CustomFieldValue {
  customFieldId: string;
  type: 'string' | 'date';
  value: string;
}

export interface CustomFieldDefinition {
  _id: string;
  name: string;
  targetType: string;
  type: 'string' | 'date';
}

export interface Learning360ClientOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Self-throttling within this process; 360Learning allows 10 writes/s and 50 GET/s per company. */
  writesPerSecond?: number;
  readsPerSecond?: number;
  /** Refresh this long before the token expires (tokens live one hour). */
  refreshMarginMs?: number;
  now?: () => number;
}

const VERSION = { '360-api-version': 'v2.0' } as const;

/** Path role names are hyphenated (`user-admin`), bodies and listings are camelCase (`userAdmin`). */
export function roleToPath(role: Role360): string {
  return role === 'userAdmin' ? 'user-admin' : role;
}

export function parseNextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (match) return match[1];
  }
  return undefined;
}

/** 360Learning sends `{"error":"code"}` for OAuth and 429, `{"error":{"code","message"}}` otherwise. */
export function normaliseError(status: number, body: unknown): { code: string; message: string } {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = body.error;
    if (typeof error === 'string') return { code: error, message: error };
    if (error && typeof error === 'object') {
      const e = error as { code?: unknown; message?: unknown };
      return { code: describeValue(e.code ?? `http${status}`), message: describeValue(e.message ?? e.code ?? '') };
    }
  }
  return { code: `http${status}`, message: typeof body === 'string' ? body.slice(0, 200) : `HTTP ${status}` };
}

export class Learning360Client {
  private token?: { value: string; expiresAt: number };
  private tokenRequest?: Promise<string>;
  private readonly api;
  private readonly bulkApi;
  private readonly doFetch: typeof fetch;
  private readonly baseUrl: string;
  private readonly now: () => number;
  /** Counts calls by kind, for reports and benchmarks. */
  readonly calls = { get: 0, write: 0, token: 0 };
  private readonly writeLimiter: SpacingLimiter;
  private readonly readLimiter: SpacingLimiter;

  constructor(private readonly options: Learning360ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.doFetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.writeLimiter = new SpacingLimiter(options.writesPerSecond ?? 10);
    this.readLimiter = new SpacingLimiter(options.readsPerSecond ?? 50);
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      fetch: (request: Request) => this.doFetch(request),
      querySerializer: { object: { style: 'deepObject', explode: true } },
    });
    const auth: Middleware = {
      onRequest: async ({ request }) => {
        request.headers.set('authorization', `Bearer ${await this.accessToken()}`);
        if (request.method === 'GET') {
          await this.readLimiter.take();
          this.calls.get += 1;
        } else {
          await this.writeLimiter.take();
          this.calls.write += 1;
        }
        return request;
      },
    };
    this.api.use(auth);
    // The Bulk API is a document of its own; same server, token, version header and limits.
    this.bulkApi = createClient<bulkPaths>({
      baseUrl: this.baseUrl,
      fetch: (request: Request) => this.doFetch(request),
    });
    this.bulkApi.use(auth);
  }

  /** A valid bearer token, fetched once and shared by concurrent callers. */
  async accessToken(forceRefresh = false): Promise<string> {
    const margin = this.options.refreshMarginMs ?? 5 * 60_000;
    if (!forceRefresh && this.token && this.token.expiresAt - margin > this.now()) return this.token.value;
    this.tokenRequest ??= this.requestToken().finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async requestToken(): Promise<string> {
    this.calls.token += 1;
    let response: Response;
    try {
      response = await this.doFetch(`${this.baseUrl}/api/v2/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_id: this.options.clientId,
          client_secret: this.options.clientSecret,
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new ApiError('360learning', 0, 'network', `token request failed: ${(err as Error).message}`, true);
    }
    const body = (await response.json().catch(() => undefined)) as
      { access_token?: string; expires_in?: number | string } | undefined;
    if (!response.ok || !body?.access_token) {
      const { code, message } = normaliseError(response.status, body);
      // Bad client credentials will not fix themselves: not retryable.
      throw new ApiError(
        '360learning',
        response.status,
        code,
        `token request: ${message}`,
        isRetryableStatus(response.status),
      );
    }
    // The documented type is a number, one example shows a string: accept both.
    const ttlSeconds = Number(body.expires_in ?? 3600) || 3600;
    this.token = { value: body.access_token, expiresAt: this.now() + ttlSeconds * 1000 };
    return body.access_token;
  }

  /**
   * Runs one typed call; on 401 invalid_token refreshes the token and tries once more.
   * Throws ApiError for every non-2xx answer.
   */
  private async call<T>(
    label: string,
    run: () => Promise<{ data?: T; error?: unknown; response: Response }>,
  ): Promise<{ data: T; response: Response }> {
    let result: { data?: T; error?: unknown; response: Response };
    try {
      result = await run();
      if (result.response.status === 401) {
        await this.accessToken(true);
        result = await run();
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('360learning', 0, 'network', `${label} failed: ${(err as Error).message}`, true);
    }
    const { response } = result;
    if (!response.ok) {
      const { code, message } = normaliseError(response.status, result.error);
      throw new ApiError(
        '360learning',
        response.status,
        code,
        `${label}: ${message}`,
        isRetryableStatus(response.status),
      );
    }
    return { data: result.data as T, response };
  }

  /**
   * Follows `Link: rel="next"` from a first page until the last; never builds page URLs by hand.
   * Each page comes with the URL of the next one, so a reader can stop and later go on `from` it.
   */
  private async *cursorPages<T>(
    label: string,
    first: () => Promise<{ data?: T[]; error?: unknown; response: Response }>,
    from?: string,
  ): AsyncGenerator<LinkedPage<T>> {
    let next = from;
    if (next === undefined) {
      const { data, response } = await this.call(label, first);
      next = parseNextLink(response.headers.get('link'));
      yield { items: data, next };
    }
    while (next) {
      const url = next;
      const page = await this.call<T[]>(label, async () => {
        await this.readLimiter.take();
        const r = await this.doFetch(url, {
          headers: { ...VERSION, accept: 'application/json', authorization: `Bearer ${await this.accessToken()}` },
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        });
        this.calls.get += 1;
        const body = await r.json().catch(() => undefined);
        return r.ok ? { data: body as T[], response: r } : { error: body, response: r };
      });
      next = parseNextLink(page.response.headers.get('link'));
      yield { items: page.data, next };
    }
  }

  private async *pages<T>(
    label: string,
    first: () => Promise<{ data?: T[]; error?: unknown; response: Response }>,
  ): AsyncGenerator<T[]> {
    for await (const page of this.cursorPages(label, first)) yield page.items;
  }

  private async all<T>(
    label: string,
    first: () => Promise<{ data?: T[]; error?: unknown; response: Response }>,
  ): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this.pages(label, first)) out.push(...page);
    return out;
  }

  // --- users -------------------------------------------------------------------------------

  async getUser(userId: string): Promise<User360 | undefined> {
    try {
      const { data } = await this.call('get user', () =>
        this.api.GET('/api/v2/users/{userId}', { params: { header: VERSION, path: { userId } } }),
      );
      return data;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async findUsersByMail(mail: string): Promise<User360[]> {
    return this.all('find users by mail', () =>
      this.api.GET('/api/v2/users', { params: { header: VERSION, query: { mail: { eq: mail } } } }),
    );
  }

  /** Every user page by page (for snapshots), from the first page or `from` a page URL an earlier read stopped at. */
  listUsers(from?: string): AsyncGenerator<LinkedPage<User360>> {
    return this.cursorPages(
      'list users',
      () => this.api.GET('/api/v2/users', { params: { header: VERSION, query: {} } }),
      from,
    ) as AsyncGenerator<LinkedPage<User360>>;
  }

  /**
   * POST /users, with 360Learning's invitation e-mail only when asked. 201 = new invited user,
   * 200 = a deleted user restored.
   */
  async createUser(
    body: CreateUser360,
    options: { sendInvitationEmail?: boolean } = {},
  ): Promise<{ user: User360; restored: boolean }> {
    const sendInvitationEmail = options.sendInvitationEmail ? 'true' : 'false';
    const { data, response } = await this.call('create user', () =>
      this.api.POST('/api/v2/users', { params: { header: VERSION, query: { sendInvitationEmail } }, body }),
    );
    return { user: data, restored: response.status === 200 };
  }

  async updateUser(userId: string, body: UpdateUser360): Promise<User360> {
    const { data } = await this.call('update user', () =>
      this.api.PATCH('/api/v2/users/{userId}', { params: { header: VERSION, path: { userId } }, body }),
    );
    return data;
  }

  async deleteUser(userId: string): Promise<void> {
    await this.call('delete user', () =>
      this.api.DELETE('/api/v2/users/{userId}', { params: { header: VERSION, path: { userId } } }),
    );
  }

  async activateUser(userId: string): Promise<User360> {
    const { data } = await this.call('activate user', () =>
      this.api.PUT('/api/v2/users/{userId}/activate', { params: { header: VERSION, path: { userId } } }),
    );
    return data;
  }

  // --- external ids --------------------------------------------------------------------------

  async findExternalId(platform: string, value: string): Promise<ExternalIdMapping | undefined> {
    const found = await this.all('find external id', () =>
      this.api.GET('/api/v2/external-ids', {
        params: { header: VERSION, query: { platform: { eq: platform }, value: { eq: value } } },
      }),
    );
    return found[0];
  }

  async findExternalIdOfUser(platform: string, userId: string): Promise<ExternalIdMapping | undefined> {
    const found = await this.all('find external id of user', () =>
      this.api.GET('/api/v2/external-ids', {
        params: { header: VERSION, query: { platform: { eq: platform }, targetId: { eq: userId } } },
      }),
    );
    return found[0];
  }

  listExternalIds(platform: string, from?: string): AsyncGenerator<LinkedPage<ExternalIdMapping>> {
    return this.cursorPages(
      'list external ids',
      () =>
        this.api.GET('/api/v2/external-ids', {
          params: { header: VERSION, query: { platform: { eq: platform }, type: { eq: 'user' } } },
        }),
      from,
    ) as AsyncGenerator<LinkedPage<ExternalIdMapping>>;
  }

  async createExternalId(platform: string, userId: string, value: string): Promise<ExternalIdMapping> {
    const { data } = await this.call('create external id', () =>
      this.api.POST('/api/v2/external-ids', {
        params: { header: VERSION },
        body: { platform, targetType: 'user', targetId: userId, value } as never,
      }),
    );
    return data;
  }

  async deleteExternalId(mappingId: string): Promise<void> {
    await this.call('delete external id', () =>
      this.api.DELETE('/api/v2/external-ids/{mappingId}', { params: { header: VERSION, path: { mappingId } } }),
    );
  }

  // --- custom fields -------------------------------------------------------------------------

  async listUserCustomFields(): Promise<CustomFieldDefinition[]> {
    return await this.all('list custom fields', () =>
      this.api.GET('/api/v2/custom-fields', {
        params: { header: VERSION, query: { targetType: { eq: 'users' } } as never },
      }),
    );
  }

  async createUserCustomField(name: string, type: 'string' | 'date'): Promise<CustomFieldDefinition> {
    const { data } = await this.call('create custom field', () =>
      this.api.POST('/api/v2/custom-fields', {
        params: { header: VERSION },
        body: { name, targetType: 'users', type } as never,
      }),
    );
    return data;
  }

  async getAuthorizedValues(customFieldId: string): Promise<string[]> {
    const { data } = await this.call('get authorized values', () =>
      this.api.GET('/api/v2/custom-fields/{customFieldId}/authorized-values', {
        params: { header: VERSION, path: { customFieldId } },
      }),
    );
    return data;
  }

  async replaceAuthorizedValues(customFieldId: string, authorizedValues: string[]): Promise<void> {
    await this.call('replace authorized values', () =>
      this.api.PUT('/api/v2/custom-fields/{customFieldId}/authorized-values', {
        params: { header: VERSION, path: { customFieldId } },
        body: { authorizedValues } as never,
      }),
    );
  }

  async getUserCustomValues(userId: string): Promise<CustomFieldValue[]> {
    const { data } = await this.call('get custom values', () =>
      this.api.GET('/api/v2/users/{userId}/custom-fields/values', { params: { header: VERSION, path: { userId } } }),
    );
    return data;
  }

  /** Replaces ALL custom values of the user: callers merge first. */
  async replaceUserCustomValues(userId: string, customValues: CustomFieldValue[]): Promise<void> {
    await this.call('replace custom values', () =>
      this.api.PUT('/api/v2/users/{userId}/custom-fields/values', {
        params: { header: VERSION, path: { userId } },
        body: { customValues } as never,
      }),
    );
  }

  // --- groups, roles, managers ---------------------------------------------------------------

  async listGroups(): Promise<{ _id: string; name: string; parentId?: string; public?: boolean }[]> {
    return await this.all('list groups', () => this.api.GET('/api/v2/groups', { params: { header: VERSION } }));
  }

  /** Members of one group with their roles (owner included), every page. */
  async getGroupRoles(groupId: string): Promise<{ userId: string; role: Role360 | 'owner' }[]> {
    return await this.all('get group roles', () =>
      this.api.GET('/api/v2/groups/{groupId}/roles', { params: { header: VERSION, path: { groupId } } }),
    );
  }

  async getUserRoles(userId: string): Promise<{ groupId: string; role: Role360 }[]> {
    return (await this.all('get user roles', () =>
      this.api.GET('/api/v2/users/{userId}/roles', { params: { header: VERSION, path: { userId } } }),
    )) as { groupId: string; role: Role360 }[];
  }

  async addGroupRole(groupId: string, role: Role360, userId: string): Promise<void> {
    await this.call('add group role', () =>
      this.api.POST('/api/v2/groups/{groupId}/{role}/{userId}', {
        params: { header: VERSION, path: { groupId, role: roleToPath(role) as never, userId } },
      }),
    );
  }

  async removeGroupRole(groupId: string, role: Role360, userId: string): Promise<void> {
    await this.call('remove group role', () =>
      this.api.DELETE('/api/v2/groups/{groupId}/{role}/{userId}', {
        params: { header: VERSION, path: { groupId, role: roleToPath(role) as never, userId } },
      }),
    );
  }

  // --- bulk memberships --------------------------------------------------------------------

  /**
   * Submits group roles to add in one bulk operation (at most BULK_MAX_ITEMS) and returns the
   * operation's id, read from the Location header of the 202.
   */
  async submitBulkMemberships(input: BulkMembership[]): Promise<string> {
    const { response } = await this.call('submit bulk memberships', () =>
      this.bulkApi.POST('/api/v2/bulk/groups/memberships', { params: { header: VERSION }, body: { input } }),
    );
    const location = response.headers.get('location') ?? '';
    const id = /\/bulk\/operations\/([a-fA-F0-9]{24})\/?$/.exec(location)?.[1];
    if (!id)
      throw new ApiError(
        '360learning',
        response.status,
        'badLocation',
        `bulk submission answered Location "${location}"`,
        false,
      );
    return id;
  }

  async getBulkOperation(bulkOperationId: string): Promise<BulkOperation> {
    const { data } = await this.call('get bulk operation', () =>
      this.bulkApi.GET('/api/v2/bulk/operations/{bulkOperationId}', {
        params: { header: VERSION, path: { bulkOperationId } },
      }),
    );
    return data;
  }

  /** Each item's result, in the order submitted; 400 bulkOperationNotRun while it has not run. */
  async getBulkResults(bulkOperationId: string): Promise<BulkItemResult[]> {
    const { data } = await this.call('get bulk results', () =>
      this.bulkApi.GET('/api/v2/bulk/operations/{bulkOperationId}/results', {
        params: { header: VERSION, path: { bulkOperationId } },
      }),
    );
    return data as BulkItemResult[];
  }

  async getManagers(userId: string): Promise<string[]> {
    return this.all('get managers', () =>
      this.api.GET('/api/v2/users/{userId}/managers', { params: { header: VERSION, path: { userId } } }),
    );
  }

  async addManager(userId: string, managerId: string): Promise<void> {
    await this.call('add manager', () =>
      this.api.POST('/api/v2/users/{userId}/managers/{managerId}', {
        params: { header: VERSION, path: { userId, managerId } },
      }),
    );
  }

  async removeManager(userId: string, managerId: string): Promise<void> {
    await this.call('remove manager', () =>
      this.api.DELETE('/api/v2/users/{userId}/managers/{managerId}', {
        params: { header: VERSION, path: { userId, managerId } },
      }),
    );
  }
}
