import express, { type Express } from 'express';
import { EmulatorKit, listen, type RunningServer } from '../common/server';
import type { FaultRule } from '../common/faults';
import { createAdminRouter, type FeedRequest } from './admin-router';
import { SCIM_MEDIA_TYPE, scimErrorBody } from './errors';
import type { FeedPreview } from './feed-preview';
import { resolveOptions, type ResolvedSkillcastOptions, type SkillcastEmulatorOptions } from './options';
import { createRestRouter } from './rest-router';
import { createScimRouter } from './scim-router';
import { SkillcastTenant, type FeedApplyResult, type SeedUser } from './tenant';
import { displayNameOf, toScimResource, type ScimObject, type StoredUser } from './user-model';

export { previewFeed } from './feed-preview';
export type { FeedPreview, FeedPreviewInput, FeedRow, FeedUser, FeedIdentifier, FeedColumns } from './feed-preview';
export { DEFAULT_FEED_COLUMNS, DEFAULT_INACTIVE_STATUSES } from './feed-preview';
export type { SkillcastEmulatorOptions, SkillcastApiUser, SkillcastRestUser } from './options';
export { DEFAULT_SCIM_TOKEN, DEFAULT_REST_USER } from './options';
export { CORE_USER_URN, ENTERPRISE_USER_URN, DEFAULT_EXTENSION_URN } from './schemas';
export type { SeedUser, FeedApplyResult } from './tenant';

/** Where the SCIM service provider lives (the v2 alias is `${SCIM_BASE_PATH}/v2`). */
export const SCIM_BASE_PATH = '/skillcastApi/scim';
export const REST_BASE_PATH = '/skillcastapi';

/** A user as the admin API shows it: the SCIM resource plus what only the portal knows. */
export type AdminUserView = ScimObject & {
  domain: string;
  archivedAt?: string;
  assignments: StoredUser['assignments'];
};

/**
 * A Skillcast tenant over real HTTP: SCIM 2.0 for provisioning, the REST login model, the
 * native HiBob feed preview, and admin controls under /__admin for tests and demos.
 */
export class SkillcastEmulator {
  readonly kit = new EmulatorKit();
  readonly app: Express;
  readonly options: ResolvedSkillcastOptions;
  readonly tenant: SkillcastTenant;
  private running?: RunningServer;

  constructor(options: SkillcastEmulatorOptions = {}) {
    this.options = resolveOptions(options);
    this.tenant = new SkillcastTenant(this.options, this.kit.clock);
    const app = express();
    app.disable('x-powered-by');
    app.use(...this.kit.middleware());
    app.use('/__admin', createAdminRouter(this));
    app.use('/__admin', this.kit.adminRouter());
    const scim = createScimRouter(this.tenant);
    // The alias first: otherwise the plain mount would take /v2/... and answer 404.
    app.use(`${SCIM_BASE_PATH}/v2`, scim);
    app.use(SCIM_BASE_PATH, scim);
    app.use(REST_BASE_PATH, createRestRouter(this.tenant));
    app.get('/', (_req, res) => {
      res.json({
        service: 'skillcast',
        tenant: this.options.tenant,
        scim: SCIM_BASE_PATH,
        rest: REST_BASE_PATH,
        admin: '/__admin',
      });
    });
    this.app = app;
  }

  /** Listens on loopback; port 0 picks a free port. */
  async start(port = 0, host = '127.0.0.1'): Promise<RunningServer> {
    this.running = await listen(this.app, port, host);
    return this.running;
  }

  /** Empty tenant again: no users, configured tokens, no sessions, no faults, empty request log, real time. */
  reset(): void {
    this.tenant.reset();
    this.kit.faults.clear();
    this.kit.requests.clear();
    this.kit.clock.reset();
  }

  seedUsers(users: readonly SeedUser[], domain?: string, baseUrl?: string): AdminUserView[] {
    return this.tenant.seed(users, domain).map((u) => this.adminView(u, baseUrl));
  }

  /** Users per domain (all domains, or just one). */
  users(domain?: string, baseUrl?: string): Record<string, AdminUserView[]> {
    const out: Record<string, AdminUserView[]> = {};
    for (const [name, users] of Object.entries(this.tenant.usersByDomain(domain)))
      out[name] = users.map((u) => this.adminView(u, baseUrl));
    return out;
  }

  adminView(user: StoredUser, baseUrl = this.running?.url ?? ''): AdminUserView {
    const resource = toScimResource(user, {
      ...this.tenant.schema,
      location: (id) => `${baseUrl}${SCIM_BASE_PATH}/Users/${id}`,
      displayNameOf: (id) => {
        const other = this.tenant.store.get(id);
        return other ? displayNameOf(other) : undefined;
      },
    });
    const view: AdminUserView = { ...resource, domain: user.domain, assignments: structuredClone(user.assignments) };
    if (user.archivedAt !== undefined) view.archivedAt = new Date(user.archivedAt).toISOString();
    return view;
  }

  private feedInput(request: FeedRequest) {
    const domain = request.domain ?? this.options.apiUsers[0]?.defaultDomain ?? this.options.domains[0] ?? '';
    return { ...request, domain };
  }

  /** What the native HiBob connection would do to a domain with these report rows. */
  previewFeed(request: FeedRequest): FeedPreview {
    return this.tenant.previewFeed(this.feedInput(request));
  }

  /** Runs the native HiBob connection once: applies the preview to the domain. */
  applyFeed(request: FeedRequest): FeedApplyResult {
    return this.tenant.applyFeed(this.feedInput(request));
  }

  expireToken(token: string): boolean {
    return this.tenant.invalidateToken(token, 'expired');
  }

  revokeToken(token: string): boolean {
    return this.tenant.invalidateToken(token, 'revoked');
  }

  restoreToken(token: string): boolean {
    return this.tenant.restoreToken(token);
  }

  regenerateToken(apiUserName: string, token?: string): string | undefined {
    return this.tenant.regenerateToken(apiUserName, token);
  }

  /**
   * Adds a fault rule; a failing status without a body gets a SCIM error body (and Retry-After
   * for 429/503), so clients see what a real failure would look like.
   */
  injectFault(rule: FaultRule): number {
    const status = rule.status;
    if (status === undefined || status < 400 || rule.body !== undefined || rule.dropConnection)
      return this.kit.faults.add(rule);
    const headers: Record<string, string> = { 'Content-Type': SCIM_MEDIA_TYPE };
    if (status === 429 || status === 503) headers['Retry-After'] = '1';
    return this.kit.faults.add({
      ...rule,
      body: scimErrorBody(status, `Injected failure ${status}`),
      headers: { ...headers, ...rule.headers },
    });
  }
}
