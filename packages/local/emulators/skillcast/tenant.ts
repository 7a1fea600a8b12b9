import { randomBytes, randomUUID } from 'node:crypto';
import type { EmulatorClock } from '../common/clock';
import { FixedWindowLimiter } from '../common/rate-limit';
import { ScimError } from './errors';
import { matchesFilter, type EqFilter } from './filter';
import {
  previewFeed,
  type FeedPreview,
  type FeedPreviewInput,
  type FeedRecord,
  type FeedUser,
  type FieldChange,
} from './feed-preview';
import type { ResolvedSkillcastOptions, SkillcastApiUser, SkillcastRestUser } from './options';
import { applyPatch, parsePatchRequest } from './patch';
import { ENTERPRISE_USER_URN } from './schemas';
import { UserStore } from './store';
import {
  etagOf,
  isPlainObject,
  parseUserDocument,
  primaryEmail,
  toDocument,
  type Assignment,
  type SchemaContext,
  type ScimObject,
  type StoredUser,
  type UserData,
} from './user-model';

export type TokenStatus = 'active' | 'expired' | 'revoked';

export interface ApiUserState extends SkillcastApiUser {
  status: TokenStatus;
}

export interface RestSession {
  token: string;
  userId: string;
  /** The caller's IP at login: later calls from any other IP are refused. */
  ip: string;
  createdMs: number;
  lastUsedMs: number;
}

/** A user with its domain, as seeded or dumped through the admin API. */
export type SeedUser = ScimObject & { domain?: string; id?: string; assignments?: Assignment[] };

export interface FeedRunInput extends Omit<FeedPreviewInput, 'users' | 'attributes' | 'domain'> {
  domain: string;
}

export interface FeedApplyResult {
  preview: FeedPreview;
  added: string[];
  reactivated: string[];
  updated: string[];
  archived: string[];
  failed: Array<{ row?: number; userId?: string; reason: string }>;
}

/** The state and rules of one Skillcast tenant, independent of HTTP. */
export class SkillcastTenant {
  readonly store = new UserStore();
  apiUsers: ApiUserState[] = [];
  readonly restSessions = new Map<string, RestSession>();
  private readonly limiter?: FixedWindowLimiter;

  constructor(
    readonly options: ResolvedSkillcastOptions,
    private readonly clock: EmulatorClock,
  ) {
    if (options.rateLimit)
      this.limiter = new FixedWindowLimiter(clock, options.rateLimit.limit, options.rateLimit.windowMs);
    this.reset();
  }

  get schema(): SchemaContext {
    return { extensionUrn: this.options.extensionUrn, attributes: this.options.attributes };
  }

  /** Back to the configured tenant: no users, fresh tokens, no REST sessions. */
  reset(): void {
    this.store.clear();
    this.restSessions.clear();
    this.apiUsers = this.options.apiUsers.map((u) => ({ ...u, domains: [...u.domains], status: 'active' }));
    this.limiter?.reset();
  }

  // ---- API users (SCIM bearer tokens) ----

  authenticateBearer(header: string | undefined): ApiUserState {
    const match = /^Bearer\s+(\S+)\s*$/iu.exec(header ?? '');
    const unauthorized = (detail: string) =>
      new ScimError(401, undefined, detail, { 'WWW-Authenticate': 'Bearer realm="skillcast"' });
    if (!match) throw unauthorized('Authorization: Bearer <token> is required');
    const user = this.apiUsers.find((u) => u.token === match[1]);
    if (!user) throw unauthorized('Invalid token');
    if (user.status === 'expired') throw unauthorized('Token has expired: generate a new session ID in API Management');
    if (user.status === 'revoked') throw unauthorized('Token has been revoked');
    if (this.limiter) {
      const decision = this.limiter.take(user.name);
      if (!decision.allowed) {
        const retryAfter = Math.max(1, decision.resetEpochSeconds - Math.floor(this.clock.nowMs() / 1000));
        throw new ScimError(429, undefined, 'Too many requests', { 'Retry-After': String(retryAfter) });
      }
    }
    return user;
  }

  /** Marks a SCIM token expired or revoked, or ends a REST session; false when the token is unknown. */
  invalidateToken(token: string, status: Exclude<TokenStatus, 'active'> = 'expired'): boolean {
    const user = this.apiUsers.find((u) => u.token === token);
    if (user) {
      user.status = status;
      return true;
    }
    return this.restSessions.delete(token);
  }

  restoreToken(token: string): boolean {
    const user = this.apiUsers.find((u) => u.token === token);
    if (user) user.status = 'active';
    return user !== undefined;
  }

  /** "Generate new session ID": the old token stops working at once. */
  regenerateToken(apiUserName: string, token = `scim-${randomBytes(18).toString('base64url')}`): string | undefined {
    const user = this.apiUsers.find((u) => u.name === apiUserName);
    if (!user) return undefined;
    if (this.apiUsers.some((u) => u !== user && u.token === token)) throw new Error('token already in use');
    user.token = token;
    user.status = 'active';
    return token;
  }

  // ---- SCIM users ----

  private canSee(apiUser: SkillcastApiUser, user: StoredUser): boolean {
    return apiUser.domains.includes(user.domain);
  }

  list(apiUser: SkillcastApiUser, filter?: EqFilter): StoredUser[] {
    // Lookups by the two unique keys use the indexes: a full sync makes one per employee.
    if (filter?.attribute === 'userName' || filter?.attribute === 'externalId') {
      const user =
        filter.attribute === 'userName'
          ? this.store.findByUserName(filter.value)
          : this.store.findByExternalId(filter.value);
      return user && this.canSee(apiUser, user) ? [user] : [];
    }
    return this.store.all().filter((u) => this.canSee(apiUser, u) && (!filter || matchesFilter(u, filter)));
  }

  get(apiUser: SkillcastApiUser, id: string): StoredUser {
    const user = this.store.get(id);
    if (!user || !this.canSee(apiUser, user)) throw new ScimError(404, undefined, `User ${id} not found`);
    return user;
  }

  private writable(apiUser: SkillcastApiUser, id: string, ifMatch?: string): StoredUser {
    const user = this.store.get(id);
    if (!user) throw new ScimError(404, undefined, `User ${id} not found`);
    if (!this.canSee(apiUser, user)) {
      throw new ScimError(
        403,
        undefined,
        `User ${id} is in domain "${user.domain}", outside the domain access of API user "${apiUser.name}"`,
      );
    }
    if (
      ifMatch !== undefined &&
      ifMatch.trim() !== '*' &&
      !ifMatch.split(',').some((tag) => tag.trim() === etagOf(user))
    ) {
      throw new ScimError(412, undefined, `Version mismatch: the user is at ${etagOf(user)}`);
    }
    return user;
  }

  private checkReferences(data: UserData, selfId?: string) {
    const manager = data.enterprise.manager as ScimObject | undefined;
    const managerId = manager?.value;
    if (typeof managerId !== 'string') return;
    if (managerId === selfId) throw new ScimError(400, 'invalidValue', 'A user cannot be their own manager');
    if (!this.store.get(managerId))
      throw new ScimError(400, 'invalidValue', `manager.value "${managerId}" is not a known user id`);
  }

  private build(data: UserData, domain: string, id: string = randomUUID()): StoredUser {
    const now = this.clock.nowMs();
    const user: StoredUser = { ...data, id, domain, created: now, lastModified: now, version: 1, assignments: [] };
    if (!data.core.active) user.archivedAt = now;
    return user;
  }

  private commit(previous: StoredUser, data: UserData): StoredUser {
    this.checkReferences(data, previous.id);
    const now = this.clock.nowMs();
    const next: StoredUser = { ...previous, ...data, lastModified: now, version: previous.version + 1 };
    // Archive keeps the record and its history; reactivation clears only the archive mark.
    if (previous.core.active && !data.core.active) next.archivedAt = now;
    if (data.core.active) delete next.archivedAt;
    this.store.update(next);
    return next;
  }

  create(apiUser: SkillcastApiUser, body: unknown): StoredUser {
    const data = parseUserDocument(body, this.schema, true);
    this.store.assertUnique(data);
    this.checkReferences(data);
    const user = this.build(data, apiUser.defaultDomain);
    this.store.insert(user);
    return user;
  }

  replace(apiUser: SkillcastApiUser, id: string, body: unknown, ifMatch?: string): StoredUser {
    const previous = this.writable(apiUser, id, ifMatch);
    // A PUT without `active` leaves the archive state alone rather than silently reactivating.
    return this.commit(previous, parseUserDocument(body, this.schema, previous.core.active));
  }

  patch(apiUser: SkillcastApiUser, id: string, body: unknown, ifMatch?: string): StoredUser {
    const operations = parsePatchRequest(body);
    const previous = this.writable(apiUser, id, ifMatch);
    const doc = applyPatch(toDocument(previous, this.schema), operations, this.schema);
    return this.commit(previous, parseUserDocument(doc, this.schema, previous.core.active));
  }

  /** DELETE archives by default, like every Skillcast provisioning flow; configurable to remove. */
  remove(apiUser: SkillcastApiUser, id: string, ifMatch?: string): void {
    const previous = this.writable(apiUser, id, ifMatch);
    if (!this.options.deleteArchives) {
      this.store.delete(id);
      return;
    }
    if (previous.core.active) this.commit(previous, { ...previous, core: { ...previous.core, active: false } });
  }

  // ---- admin ----

  private checkDomain(domain: string) {
    if (!this.options.domains.includes(domain))
      throw new Error(`Unknown domain "${domain}" (domains: ${this.options.domains.join(', ')})`);
  }

  /** Adds users directly (any domain, default the first API user's default domain). All-or-nothing. */
  seed(users: readonly SeedUser[], domain?: string): StoredUser[] {
    const fallback = domain ?? this.options.apiUsers[0]?.defaultDomain ?? this.options.domains[0] ?? '';
    const built: StoredUser[] = [];
    for (const seed of users) {
      if (!isPlainObject(seed)) throw new Error('each seeded user must be an object');
      const { domain: own, id, assignments, ...doc } = seed;
      const target = own ?? fallback;
      this.checkDomain(target);
      const data = parseUserDocument(doc, this.schema, true);
      const user = this.build(data, target, id ?? randomUUID());
      user.assignments = structuredClone(assignments ?? []);
      built.push(user);
    }
    const inserted: StoredUser[] = [];
    try {
      for (const user of built) {
        this.store.insert(user);
        inserted.push(user);
      }
      for (const user of built) this.checkReferences(user, user.id);
    } catch (err) {
      for (const user of inserted) this.store.delete(user.id);
      throw err;
    }
    return built;
  }

  moveUser(id: string, domain: string): StoredUser | undefined {
    this.checkDomain(domain);
    const user = this.store.get(id);
    if (!user) return undefined;
    const moved = { ...user, domain, lastModified: this.clock.nowMs(), version: user.version + 1 };
    this.store.update(moved);
    return moved;
  }

  setAssignments(id: string, assignments: Assignment[]): StoredUser | undefined {
    const user = this.store.get(id);
    if (!user) return undefined;
    user.assignments = structuredClone(assignments);
    return user;
  }

  usersByDomain(domain?: string): Record<string, StoredUser[]> {
    if (domain !== undefined) this.checkDomain(domain);
    const out: Record<string, StoredUser[]> = {};
    for (const d of this.options.domains) if (domain === undefined || d === domain) out[d] = [];
    for (const user of this.store.all()) out[user.domain]?.push(user);
    return out;
  }

  // ---- feed preview (native HiBob connection) ----

  feedUsers(): FeedUser[] {
    return this.store.all().map((user) => {
      const name = (user.core.name as ScimObject | undefined) ?? {};
      const feedUser: FeedUser = {
        id: user.id,
        domain: user.domain,
        active: user.core.active,
        attributes: user.attributes,
      };
      const email = primaryEmail(user);
      if (email !== undefined) feedUser.email = email;
      if (typeof user.enterprise.employeeNumber === 'string') feedUser.employeeId = user.enterprise.employeeNumber;
      if (typeof name.givenName === 'string') feedUser.firstName = name.givenName;
      if (typeof name.familyName === 'string') feedUser.lastName = name.familyName;
      return feedUser;
    });
  }

  previewFeed(input: FeedRunInput): FeedPreview {
    this.checkDomain(input.domain);
    return previewFeed({ ...input, users: this.feedUsers(), attributes: this.options.attributes });
  }

  /** Runs the feed as the native connection would: the preview, then every change in it. */
  applyFeed(input: FeedRunInput): FeedApplyResult {
    const preview = this.previewFeed(input);
    const result: FeedApplyResult = { preview, added: [], reactivated: [], updated: [], archived: [], failed: [] };
    const attempt = (what: { row?: number; userId?: string }, fn: () => void) => {
      try {
        fn();
      } catch (err) {
        result.failed.push({ ...what, reason: err instanceof Error ? err.message : String(err) });
      }
    };
    for (const archive of preview.toArchive) {
      attempt({ userId: archive.userId }, () => {
        const user = this.store.get(archive.userId);
        if (user) this.commit(user, { ...user, core: { ...user.core, active: false } });
        result.archived.push(archive.userId);
      });
    }
    for (const change of [...preview.toReactivate, ...preview.toUpdate]) {
      const reactivate = preview.toReactivate.includes(change);
      attempt({ row: change.record.row, userId: change.userId }, () => {
        const user = this.store.get(change.userId);
        if (!user) throw new Error(`User ${change.userId} vanished`);
        const data = applyChanges(user, change.changes);
        data.core.active = true;
        this.commit(user, parseUserDocument(toDocument(data, this.schema), this.schema, true));
        (reactivate ? result.reactivated : result.updated).push(change.userId);
      });
    }
    for (const add of preview.toAdd) {
      attempt({ row: add.row }, () => {
        const data = parseUserDocument(documentOf(add, this.schema), this.schema, true);
        this.store.assertUnique(data);
        const user = this.build(data, input.domain);
        this.store.insert(user);
        result.added.push(user.id);
      });
    }
    return result;
  }

  // ---- REST API (login model) ----

  private restUser(userId: string, password: string): SkillcastRestUser | undefined {
    return this.options.restUsers.find((u) => u.userId === userId && u.password === password);
  }

  login(userId: string, password: string, ip: string): RestSession | undefined {
    if (!this.restUser(userId, password)) return undefined;
    const now = this.clock.nowMs();
    const session: RestSession = {
      token: randomBytes(24).toString('base64url'),
      userId,
      ip,
      createdMs: now,
      lastUsedMs: now,
    };
    this.restSessions.set(session.token, session);
    return session;
  }

  /** Basic on every call, or a Bearer token from login used from the same IP within the idle timeout. */
  authenticateRest(header: string | undefined, ip: string): SkillcastRestUser | undefined {
    const basic = parseBasic(header);
    if (basic) return this.restUser(basic.userId, basic.password);
    const bearer = /^Bearer\s+(\S+)\s*$/iu.exec(header ?? '');
    if (!bearer?.[1]) return undefined;
    const session = this.restSessions.get(bearer[1]);
    if (!session || session.ip !== ip) return undefined;
    const now = this.clock.nowMs();
    if (now - session.lastUsedMs > this.options.tokenIdleTimeoutMs) {
      this.restSessions.delete(session.token);
      return undefined;
    }
    session.lastUsedMs = now;
    return this.options.restUsers.find((u) => u.userId === session.userId);
  }
}

export function parseBasic(header: string | undefined): { userId: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/iu.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { userId: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A new user from a feed row: its userName is the row's unique identifier (email or employee ID). */
function documentOf(record: FeedRecord, schema: SchemaContext): ScimObject {
  const doc: ScimObject = { userName: record.identifier, active: true };
  const name: ScimObject = {};
  if (record.firstName) name.givenName = record.firstName;
  if (record.lastName) name.familyName = record.lastName;
  if (Object.keys(name).length) {
    doc.name = name;
    doc.displayName = [record.firstName, record.lastName].filter(Boolean).join(' ');
  }
  if (record.email) doc.emails = [{ value: record.email, type: 'work', primary: true }];
  if (record.employeeId) doc[ENTERPRISE_USER_URN] = { employeeNumber: record.employeeId };
  doc[schema.extensionUrn] = { ...record.attributes };
  return doc;
}

function applyChanges(user: StoredUser, changes: FieldChange[]): UserData {
  const data: UserData = structuredClone({ core: user.core, enterprise: user.enterprise, attributes: user.attributes });
  const name: ScimObject = isPlainObject(data.core.name) ? data.core.name : {};
  const set = (obj: ScimObject | Record<string, string>, key: string, value: string) => {
    if (value === '') delete obj[key];
    else obj[key] = value;
  };
  for (const change of changes) {
    if (change.field === 'firstName') set(name, 'givenName', change.to);
    else if (change.field === 'lastName') set(name, 'familyName', change.to);
    else if (change.field === 'employeeId') set(data.enterprise, 'employeeNumber', change.to);
    else if (change.field === 'email') {
      const emails = (data.core.emails as ScimObject[] | undefined) ?? [];
      const primary = emails.find((e) => e.primary === true) ?? emails[0];
      if (change.to === '') data.core.emails = emails.filter((e) => e !== primary);
      else if (primary) primary.value = change.to;
      else data.core.emails = [{ value: change.to, type: 'work', primary: true }];
    } else if (change.field.startsWith('attributes.'))
      set(data.attributes, change.field.slice('attributes.'.length), change.to);
  }
  if (Object.keys(name).length) {
    data.core.name = name;
    data.core.displayName = [name.givenName, name.familyName].filter((p) => typeof p === 'string').join(' ');
  }
  return data;
}
