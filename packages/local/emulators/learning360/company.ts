/**
 * One 360Learning company (platform) held in memory: users, groups and roles, managers, custom
 * fields and external ids, with the business rules and error codes of the connector contract.
 * Methods throw ApiError; the HTTP layer turns them into answers.
 */
import type { EmulatorClock } from '../common/clock';
import type { ObjectIdFactory } from './ids';
import {
  ALL_SCOPES,
  ApiError,
  ROLES,
  matchesFilter,
  type CustomFieldDTO,
  type CustomFieldTarget,
  type CustomFieldType,
  type CustomFieldValueDTO,
  type ExternalIdDTO,
  type ExternalIdTargetType,
  type Filter,
  type GroupDTO,
  type InputCustomFieldDTO,
  type InputExternalIdDTO,
  type InputUserDTO,
  type Lang,
  type Membership,
  type Role,
  type UpdateUserDTO,
  type UserDTO,
  type UserRole,
  type UserStatus,
} from './model';

export interface ClientSeed {
  clientId: string;
  clientSecret: string;
  /** Defaults to every scope. */
  scopes?: string[];
}

export interface GroupSeed {
  id?: string;
  name: string;
  /** Defaults to true. */
  public?: boolean;
  /** Parent by id or by name; defaults to the root group. */
  parentId?: string;
  parentName?: string;
  custom?: string;
}

export interface CustomFieldSeed {
  id?: string;
  name: string;
  targetType?: CustomFieldTarget;
  type?: CustomFieldType;
  authorizedValues?: string[];
}

export interface UserSeed {
  id?: string;
  mail?: string;
  username?: string;
  status?: UserStatus;
  lang?: Lang;
  firstName?: string;
  lastName?: string;
  job?: string;
  organization?: string;
  phone?: string;
  custom?: string;
  toBeDeactivatedAt?: string;
  /** When the user last signed in (ISO); none for a user who never did. */
  lastLoginDate?: string;
  /** Group roles by group id or name; defaults to learner of the root group. */
  memberships?: Array<{ groupId?: string; groupName?: string; role: Role }>;
  primaryGroupId?: string;
  managerIds?: string[];
  externalIds?: Array<{ platform: string; value: string }>;
  customValues?: Array<{ customFieldId?: string; customFieldName?: string; value: string }>;
}

export interface OwnerSeed {
  id?: string;
  mail: string;
  firstName?: string;
  lastName?: string;
}

export interface CompanySeed {
  id?: string;
  name?: string;
  clients: ClientSeed[];
  rootGroupId?: string;
  rootGroupName?: string;
  /** Groups created under the root (or under each other) at start. */
  groups?: GroupSeed[];
  customFields?: CustomFieldSeed[];
  users?: UserSeed[];
  /** The company owner: active, `owner` of the root group, cannot be deleted. */
  owner?: OwnerSeed;
  /** Whether users may have a `username` (login without email). Default false. */
  usernameAllowed?: boolean;
  /** Whether the `analyst` role exists in this company. Default true. */
  analystAvailable?: boolean;
  /** Targets custom fields may be defined on. Default both. */
  customFieldTargets?: CustomFieldTarget[];
  /** Most custom-field definitions the company may hold. Default 100. */
  customFieldLimit?: number;
  /** Media ids a PATCH may set as `profileImageId`. */
  mediaIds?: string[];
  /** Platform names nobody may map external ids under (case-insensitive). */
  reservedPlatforms?: string[];
  /** Whether the Bulk API answers; false gives 503 bulkAPIDisabled. Default true. */
  bulkApiEnabled?: boolean;
}

/** Emulator-wide settings a company needs. */
export interface CompanySettings {
  reservedPlatforms: string[];
  /** Time a bulk operation spends in each of pending, queued and running, on the emulator clock. */
  bulkStepMs: number;
  /** Bulk operations a company may have unfinished at once. */
  bulkConcurrency: number;
}

export type BulkOperationType = 'addUsersToGroups' | 'removeUsersFromGroups';
export type BulkOperationStatus = 'pending' | 'queued' | 'running' | 'completed' | 'error';

export interface BulkMembershipItem {
  userId: string;
  groupId: string;
  role: Role;
}

export type BulkResult =
  | { input: BulkMembershipItem; status: 'success'; resourceId: string }
  | { input: BulkMembershipItem; status: 'error'; errorMessage: string };

/** A bulk operation as GET /bulk/operations/{id} shows it (fields depend on the status). */
export interface BulkOperationDTO {
  _id: string;
  type: BulkOperationType;
  createdAt: string;
  status: BulkOperationStatus;
  queuedAt?: string;
  startedAt?: string;
  endedAt?: string;
  progress?: { index: number; updatedAt: string };
}

interface BulkRecord {
  _id: string;
  type: BulkOperationType;
  createdAtMs: number;
  input: BulkMembershipItem[];
  results?: BulkResult[];
}

export interface SeedInput {
  groups?: GroupSeed[];
  customFields?: CustomFieldSeed[];
  users?: UserSeed[];
}

export interface SeedResult {
  groups: GroupDTO[];
  customFields: CustomFieldDTO[];
  users: UserDTO[];
}

export interface InvitationRecord {
  at: string;
  companyId: string;
  userId: string;
  mail: string;
  /** Created, or restored from deleted. */
  reason: 'created' | 'restored';
}

export interface UserDump extends UserDTO {
  roles: Membership[];
  managers: string[];
  externalIds: ExternalIdDTO[];
  customValues: CustomFieldValueDTO[];
}

export interface CompanyDump {
  id: string;
  name: string;
  rootGroupId: string;
  ownerId?: string;
  groups: GroupDTO[];
  customFields: Array<CustomFieldDTO & { authorizedValues: string[] }>;
  users: UserDump[];
  externalIds: ExternalIdDTO[];
}

type UserRecord = UserDTO & { deletedAt: string[]; reactivatedAt: string[] };
type CustomFieldRecord = CustomFieldDTO & { authorizedValues: string[] };

const MAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const NAME_MAX = 255;

/** `YYYY-MM-DD` for a valid calendar date or an ISO date-time; undefined otherwise. */
function asCalendarDate(value: string): string | undefined {
  const day = DATE.exec(value)
    ? value
    : /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value))
      ? value.slice(0, 10)
      : undefined;
  if (!day) return undefined;
  const parsed = new Date(`${day}T00:00:00.000Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === day ? day : undefined;
}

const byId = <T extends { _id: string }>(a: T, b: T) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);

const USER_TEXT_FIELDS = ['firstName', 'lastName', 'job', 'organization', 'phone', 'custom'] as const;

export class Company {
  readonly id: string;
  readonly name: string;
  readonly clients: Array<Required<ClientSeed>>;
  readonly rootGroupId: string;
  ownerId?: string;
  readonly usernameAllowed: boolean;
  readonly analystAvailable: boolean;
  readonly customFieldTargets: CustomFieldTarget[];
  readonly customFieldLimit: number;
  readonly mediaIds: Set<string>;
  readonly reservedPlatforms: string[];
  bulkApiEnabled: boolean;

  private readonly users = new Map<string, UserRecord>();
  private readonly groups = new Map<string, GroupDTO>();
  /** groupId → userId → roles held there. */
  private readonly memberships = new Map<string, Map<string, Set<Role>>>();
  /** userId → manager ids, in the order they were added. */
  private readonly managers = new Map<string, string[]>();
  private readonly customFields = new Map<string, CustomFieldRecord>();
  /** userId → customFieldId → value. */
  private readonly customValues = new Map<string, Map<string, string>>();
  private readonly externalIds = new Map<string, ExternalIdDTO>();
  /** Users with a `toBeDeactivatedAt` still in the future when last looked at. */
  private readonly scheduled = new Set<string>();
  private readonly bulk = new Map<string, BulkRecord>();
  readonly invitations: InvitationRecord[] = [];

  constructor(
    seed: CompanySeed,
    private readonly clock: EmulatorClock,
    private readonly ids: ObjectIdFactory,
    private readonly settings: CompanySettings,
  ) {
    this.id = seed.id ?? ids.next();
    this.name = seed.name ?? 'Company';
    this.clients = seed.clients.map((c) => ({
      clientId: c.clientId,
      clientSecret: c.clientSecret,
      scopes: c.scopes ?? [...ALL_SCOPES],
    }));
    this.usernameAllowed = seed.usernameAllowed ?? false;
    this.analystAvailable = seed.analystAvailable ?? true;
    this.customFieldTargets = seed.customFieldTargets ?? ['users', 'contents'];
    this.customFieldLimit = seed.customFieldLimit ?? 100;
    this.mediaIds = new Set(seed.mediaIds ?? []);
    this.reservedPlatforms = (seed.reservedPlatforms ?? settings.reservedPlatforms).map((p) => p.toLowerCase());
    this.bulkApiEnabled = seed.bulkApiEnabled ?? true;
    this.rootGroupId = seed.rootGroupId ?? ids.next();
    // The root group is private: 360Learning refuses to make it public (rootGroupNotPublic).
    this.groups.set(this.rootGroupId, { _id: this.rootGroupId, name: seed.rootGroupName ?? this.name, public: false });
    this.memberships.set(this.rootGroupId, new Map());
    if (seed.owner) {
      const owner = this.insertUser({ ...seed.owner, status: 'active', memberships: [] });
      this.ownerId = owner._id;
      owner.primaryGroupId = this.rootGroupId;
    }
    this.seed({ groups: seed.groups, customFields: seed.customFields, users: seed.users });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  // ---------------------------------------------------------------- scheduled deactivation

  /** Applies what the clock has reached (scheduled deactivations, bulk operations); called before every request. */
  sweep(): void {
    this.runDueBulkOperations();
    if (this.scheduled.size === 0) return;
    const now = this.clock.nowMs();
    for (const id of [...this.scheduled]) {
      const user = this.users.get(id);
      if (!user || !user.toBeDeactivatedAt || user.status === 'deleted') {
        this.scheduled.delete(id);
        continue;
      }
      const due = Date.parse(user.toBeDeactivatedAt);
      if (due <= now) {
        this.scheduled.delete(id);
        user.status = 'deleted';
        user.deletedAt.push(new Date(due).toISOString());
        delete user.toBeDeactivatedAt;
      }
    }
  }

  // ---------------------------------------------------------------- users

  private toDTO(user: UserRecord): UserDTO {
    return { ...user, deletedAt: [...user.deletedAt], reactivatedAt: [...user.reactivatedAt] };
  }

  private user(id: string, code = 'userNotFound'): UserRecord {
    const user = this.users.get(id);
    if (!user) throw new ApiError(404, code, `No user with id ${id}.`);
    return user;
  }

  private findByMail(mail: string, except?: string): UserRecord | undefined {
    const key = mail.toLowerCase();
    for (const user of this.users.values()) if (user._id !== except && user.mail?.toLowerCase() === key) return user;
    return undefined;
  }

  private findByUsername(username: string, except?: string): UserRecord | undefined {
    const key = username.toLowerCase();
    for (const user of this.users.values())
      if (user._id !== except && user.username?.toLowerCase() === key) return user;
    return undefined;
  }

  listUsers(filters: { mail?: Filter; username?: Filter; status?: Filter }): UserDTO[] {
    return [...this.users.values()]
      .filter(
        (u) =>
          matchesFilter(u.mail, filters.mail, true) &&
          matchesFilter(u.username, filters.username, true) &&
          matchesFilter(u.status, filters.status),
      )
      .sort(byId)
      .map((u) => this.toDTO(u));
  }

  getUser(id: string): UserDTO {
    return this.toDTO(this.user(id));
  }

  /** POST /users: 201 with a new invited user, or 200 with a deleted user restored to invited. */
  createUser(input: InputUserDTO, sendInvitationEmail: boolean): { status: 200 | 201; user: UserDTO } {
    const { mail, username, membership } = input;
    if (!mail && !username) throw new ApiError(400, 'mailAndUsernameUndefined', 'A mail or a username is required.');
    if (mail && !MAIL.test(mail)) throw new ApiError(400, 'mailInvalid', `"${mail}" is not a valid email address.`);
    if (username && !this.usernameAllowed)
      throw new ApiError(400, 'usernameNotAllowed', 'Usernames are not enabled on this platform.');
    if (!this.groups.has(membership.groupId))
      throw new ApiError(404, 'groupNotFound', `No group with id ${membership.groupId}.`);
    if (membership.role === 'analyst' && !this.analystAvailable)
      throw new ApiError(400, 'analystUnavailable', 'The analyst role is not available on this platform.');
    if (input.primaryGroupId && input.primaryGroupId !== membership.groupId) {
      throw new ApiError(400, 'notMemberOfPrimaryGroup', 'The primary group must be the group of the membership.');
    }
    if (input.toBeDeactivatedAt && Date.parse(input.toBeDeactivatedAt) <= this.clock.nowMs()) {
      throw new ApiError(400, 'deactivationDateInvalid', 'The deactivation date must be in the future.');
    }
    const byMail = mail ? this.findByMail(mail) : undefined;
    const byUsername = username ? this.findByUsername(username) : undefined;
    if (byMail && byUsername && byMail !== byUsername) {
      throw new ApiError(
        400,
        'loginIdentifierMultipleUsersFound',
        'The mail and the username belong to two different users.',
      );
    }
    const existing = byMail ?? byUsername;
    if (existing && existing.status !== 'deleted') {
      if (byMail) throw new ApiError(400, 'mailAlreadyUsed', `The mail ${mail} is already used.`);
      throw new ApiError(400, 'usernameAlreadyUsed', `The username ${username} is already used.`);
    }

    let user: UserRecord;
    let status: 200 | 201;
    if (existing) {
      // Restore: same account and id, back to invited; earlier group roles are not restored.
      user = existing;
      status = 200;
      user.status = 'invited';
      user.reactivatedAt.push(this.now());
      for (const roles of this.memberships.values()) roles.delete(user._id);
      if (mail) user.mail = mail;
      if (username) user.username = username;
      if (input.lang) user.lang = input.lang;
      for (const field of USER_TEXT_FIELDS) if (input[field] !== undefined) user[field] = input[field];
      if (input.toBeDeactivatedAt) user.toBeDeactivatedAt = input.toBeDeactivatedAt;
      else delete user.toBeDeactivatedAt;
    } else {
      status = 201;
      user = {
        _id: this.ids.next(),
        status: 'invited',
        lang: input.lang ?? 'en',
        deletedAt: [],
        reactivatedAt: [],
      };
      if (mail) user.mail = mail;
      if (username) user.username = username;
      for (const field of USER_TEXT_FIELDS) if (input[field] !== undefined) user[field] = input[field];
      if (input.toBeDeactivatedAt) user.toBeDeactivatedAt = input.toBeDeactivatedAt;
      this.users.set(user._id, user);
    }
    this.grant(membership.groupId, user._id, membership.role);
    user.primaryGroupId = input.primaryGroupId ?? membership.groupId;
    if (user.toBeDeactivatedAt) this.scheduled.add(user._id);
    if (sendInvitationEmail && user.mail) {
      this.invitations.push({
        at: this.now(),
        companyId: this.id,
        userId: user._id,
        mail: user.mail,
        reason: status === 201 ? 'created' : 'restored',
      });
    }
    return { status, user: this.toDTO(user) };
  }

  /** PATCH /users/{id}: omitted fields stay; `null` removes a field. */
  updateUser(id: string, patch: UpdateUserDTO): UserDTO {
    const user = this.user(id);
    if (user.status === 'deleted')
      throw new ApiError(400, 'invalidUpdateOnDeletedUser', 'A deleted user cannot be updated.');
    if (typeof patch.mail === 'string') {
      if (!MAIL.test(patch.mail))
        throw new ApiError(400, 'mailInvalid', `"${patch.mail}" is not a valid email address.`);
      if (this.findByMail(patch.mail, id))
        throw new ApiError(400, 'mailAlreadyUsed', `The mail ${patch.mail} is already used.`);
    }
    if (typeof patch.username === 'string') {
      if (!this.usernameAllowed)
        throw new ApiError(400, 'usernameNotAllowed', 'Usernames are not enabled on this platform.');
      if (this.findByUsername(patch.username, id))
        throw new ApiError(400, 'usernameAlreadyUsed', `The username ${patch.username} is already used.`);
    }
    const mailAfter = patch.mail === undefined ? user.mail : (patch.mail ?? undefined);
    const usernameAfter = patch.username === undefined ? user.username : (patch.username ?? undefined);
    if (!mailAfter && !usernameAfter) {
      throw new ApiError(400, 'userShouldHaveAtLeastOneValidIdentifier', 'A user keeps at least a mail or a username.');
    }
    if (typeof patch.primaryGroupId === 'string' && !this.memberships.get(patch.primaryGroupId)?.get(id)?.size) {
      throw new ApiError(400, 'notMemberOfPrimaryGroup', 'The user is not a member of that group.');
    }
    if (typeof patch.toBeDeactivatedAt === 'string') {
      if (id === this.ownerId)
        throw new ApiError(400, 'ownerDeactivationNotAllowed', 'The company owner cannot be deactivated.');
      if (Date.parse(patch.toBeDeactivatedAt) <= this.clock.nowMs()) {
        throw new ApiError(400, 'deactivationDateInvalid', 'The deactivation date must be in the future.');
      }
    }
    if (typeof patch.profileImageId === 'string' && !this.mediaIds.has(patch.profileImageId)) {
      throw new ApiError(400, 'mediaNotFound', `No media with id ${patch.profileImageId}.`);
    }

    const nullable = [
      ...USER_TEXT_FIELDS,
      'mail',
      'username',
      'primaryGroupId',
      'toBeDeactivatedAt',
      'profileImageId',
    ] as const;
    for (const field of nullable) {
      const value = patch[field];
      if (value === undefined) continue;
      if (value === null) delete user[field];
      else user[field] = value;
    }
    if (patch.lang) user.lang = patch.lang;
    if (user.toBeDeactivatedAt) this.scheduled.add(id);
    else this.scheduled.delete(id);
    return this.toDTO(user);
  }

  /** DELETE /users/{id}: soft delete; a second delete changes nothing. */
  deleteUser(id: string): void {
    const user = this.user(id);
    if (id === this.ownerId) throw new ApiError(400, 'userIsCompanyOwner', 'The company owner cannot be deleted.');
    if (user.status === 'deleted') return;
    user.status = 'deleted';
    user.deletedAt.push(this.now());
    delete user.toBeDeactivatedAt;
    this.scheduled.delete(id);
  }

  /** PUT /users/{id}/activate: invited → active; active stays active; deleted is refused. */
  activateUser(id: string): UserDTO {
    const user = this.user(id);
    if (user.status === 'deleted')
      throw new ApiError(400, 'userDeleted', 'A deleted user must be restored (POST /users) before activation.');
    user.status = 'active';
    return this.toDTO(user);
  }

  /** PUT /users/{id}/pseudonymize: only for deleted users; personal fields are removed. */
  pseudonymizeUser(id: string, deleteExternalIds: boolean): UserDTO {
    const user = this.user(id);
    if (user.status !== 'deleted')
      throw new ApiError(400, 'userNotDeleted', 'Only deleted users can be pseudonymized.');
    for (const field of [...USER_TEXT_FIELDS, 'username', 'profileImageId'] as const) delete user[field];
    user.mail = `pseudonymized-${user._id}@pseudonymized.invalid`;
    if (deleteExternalIds) {
      for (const [mappingId, mapping] of this.externalIds) {
        if (mapping.targetType === 'user' && mapping.targetId === id) this.externalIds.delete(mappingId);
      }
    }
    return this.toDTO(user);
  }

  /** GET /users/{id}/roles. */
  userRoles(id: string): Membership[] {
    this.user(id);
    const roles: Membership[] = [];
    if (id === this.ownerId) roles.push({ groupId: this.rootGroupId, role: 'owner' });
    for (const groupId of [...this.memberships.keys()].sort()) {
      const held = this.memberships.get(groupId)?.get(id);
      if (held) for (const role of ROLES) if (held.has(role)) roles.push({ groupId, role });
    }
    return roles;
  }

  // ---------------------------------------------------------------- groups and roles

  private group(id: string): GroupDTO {
    const group = this.groups.get(id);
    if (!group) throw new ApiError(404, 'groupNotFound', `No group with id ${id}.`);
    return group;
  }

  listGroups(): GroupDTO[] {
    return [...this.groups.values()].sort(byId).map((g) => ({ ...g }));
  }

  getGroup(id: string): GroupDTO {
    return { ...this.group(id) };
  }

  /** GET /groups/{id}/roles: every non-deleted member's roles, and the owner on the root group. */
  groupRoles(groupId: string): UserRole[] {
    this.group(groupId);
    const roles: UserRole[] = [];
    if (groupId === this.rootGroupId && this.ownerId) roles.push({ userId: this.ownerId, role: 'owner' });
    const members = this.memberships.get(groupId) ?? new Map<string, Set<Role>>();
    for (const userId of [...members.keys()].sort()) {
      if (this.users.get(userId)?.status === 'deleted') continue;
      const held = members.get(userId)!;
      for (const role of ROLES) if (held.has(role)) roles.push({ userId, role });
    }
    return roles;
  }

  private grant(groupId: string, userId: string, role: Role): void {
    let members = this.memberships.get(groupId);
    if (!members) this.memberships.set(groupId, (members = new Map<string, Set<Role>>()));
    let held = members.get(userId);
    if (!held) members.set(userId, (held = new Set()));
    held.add(role);
  }

  private revoke(groupId: string, userId: string, role: Role): boolean {
    const members = this.memberships.get(groupId);
    const held = members?.get(userId);
    if (!held?.delete(role)) return false;
    if (held.size === 0) members!.delete(userId);
    return true;
  }

  /** POST /groups/{groupId}/{role}/{userId}; adding a role already held changes nothing. */
  addGroupRole(groupId: string, role: Role, userId: string): void {
    this.group(groupId);
    if (role === 'analyst' && !this.analystAvailable)
      throw new ApiError(400, 'analystUnavailable', 'The analyst role is not available on this platform.');
    const user = this.user(userId);
    if (user.status === 'deleted') throw new ApiError(400, 'userDeleted', 'The user is deleted.');
    this.grant(groupId, userId, role);
  }

  /**
   * DELETE /groups/{groupId}/{role}/{userId}. Removing `learner` also removes it from public
   * subgroups, going down until (and not including) the first private one on each branch.
   */
  removeGroupRole(groupId: string, role: Role, userId: string): void {
    this.group(groupId);
    if (role === 'analyst' && !this.analystAvailable)
      throw new ApiError(400, 'analystUnavailable', 'The analyst role is not available on this platform.');
    if (!this.users.has(userId) || !this.revoke(groupId, userId, role)) {
      throw new ApiError(404, 'userNotFoundInGroup', `The user does not have the ${role} role in this group.`);
    }
    if (role !== 'learner') return;
    const children = (parentId: string) => [...this.groups.values()].filter((g) => g.parentId === parentId);
    const queue = children(groupId);
    while (queue.length > 0) {
      const child = queue.shift()!;
      if (!child.public) continue;
      this.revoke(child._id, userId, 'learner');
      queue.push(...children(child._id));
    }
  }

  // ---------------------------------------------------------------- managers

  addManager(userId: string, managerId: string): void {
    const user = this.user(userId);
    const manager = this.user(managerId, 'managerNotFound');
    if (user.status === 'deleted') throw new ApiError(400, 'userDeleted', 'The user is deleted.');
    if (manager.status === 'deleted') throw new ApiError(400, 'managerDeleted', 'The manager is deleted.');
    const list = this.managers.get(userId) ?? [];
    if (!list.includes(managerId)) list.push(managerId);
    this.managers.set(userId, list);
  }

  removeManager(userId: string, managerId: string): void {
    const user = this.user(userId);
    this.user(managerId, 'managerNotFound');
    if (user.status === 'deleted') throw new ApiError(400, 'userDeleted', 'The user is deleted.');
    const list = this.managers.get(userId) ?? [];
    const at = list.indexOf(managerId);
    if (at < 0) throw new ApiError(400, 'managerNotAssignedToUser', 'That user is not a manager of this user.');
    list.splice(at, 1);
  }

  listManagers(userId: string): string[] {
    this.user(userId);
    return [...(this.managers.get(userId) ?? [])];
  }

  listSubordinates(userId: string): string[] {
    this.user(userId);
    const subordinates: string[] = [];
    for (const [id, list] of this.managers) if (list.includes(userId)) subordinates.push(id);
    return subordinates.sort();
  }

  // ---------------------------------------------------------------- custom fields

  private customField(id: string): CustomFieldRecord {
    const field = this.customFields.get(id);
    if (!field) throw new ApiError(404, 'customFieldNotFound', `No custom field with id ${id}.`);
    return field;
  }

  private fieldDTO(field: CustomFieldRecord): CustomFieldDTO {
    return { _id: field._id, name: field.name, targetType: field.targetType, type: field.type };
  }

  private checkFieldName(name: string, targetType: CustomFieldTarget, except?: string): void {
    if (name.trim() === '' || name.length > NAME_MAX)
      throw new ApiError(400, 'invalidName', 'The name must be 1 to 255 characters, not only spaces.');
    const key = name.trim().toLowerCase();
    for (const field of this.customFields.values()) {
      if (field._id !== except && field.targetType === targetType && field.name.trim().toLowerCase() === key) {
        throw new ApiError(400, 'nameAlreadyTaken', `A custom field named "${name}" already exists.`);
      }
    }
  }

  listCustomFields(filters: { name?: Filter; targetType?: Filter; type?: Filter }): CustomFieldDTO[] {
    return [...this.customFields.values()]
      .filter(
        (f) =>
          matchesFilter(f.name, filters.name) &&
          matchesFilter(f.targetType, filters.targetType) &&
          matchesFilter(f.type, filters.type),
      )
      .sort(byId)
      .map((f) => this.fieldDTO(f));
  }

  createCustomField(input: InputCustomFieldDTO, id?: string): CustomFieldDTO {
    if (!this.customFieldTargets.includes(input.targetType)) {
      throw new ApiError(
        400,
        'customFieldsTargetTypeNotEnabled',
        `Custom fields on ${input.targetType} are not enabled.`,
      );
    }
    this.checkFieldName(input.name, input.targetType);
    if (this.customFields.size >= this.customFieldLimit) {
      throw new ApiError(400, 'customFieldLimitReached', `At most ${this.customFieldLimit} custom fields.`);
    }
    const field: CustomFieldRecord = {
      _id: id ?? this.ids.next(),
      name: input.name,
      targetType: input.targetType,
      type: input.type,
      authorizedValues: [],
    };
    this.customFields.set(field._id, field);
    return this.fieldDTO(field);
  }

  renameCustomField(id: string, name: string): CustomFieldDTO {
    const field = this.customField(id);
    this.checkFieldName(name, field.targetType, id);
    field.name = name;
    return this.fieldDTO(field);
  }

  deleteCustomField(id: string): void {
    this.customField(id);
    this.customFields.delete(id);
    for (const values of this.customValues.values()) values.delete(id);
  }

  getAuthorizedValues(id: string): string[] {
    return [...this.customField(id).authorizedValues];
  }

  /** Replaces the list; refused when a value some user holds would disappear. Empty = free text. */
  replaceAuthorizedValues(id: string, values: string[]): string[] {
    const field = this.customField(id);
    let next = [...new Set(values)];
    if (field.type === 'date') {
      const dates = next.map(asCalendarDate);
      if (dates.some((d) => d === undefined || !DATE.test(d))) {
        throw new ApiError(
          400,
          'authorizedValuesTypeMismatch',
          'Authorized values of a date field are YYYY-MM-DD dates.',
        );
      }
      next = [...new Set(dates as string[])];
    }
    if (next.length > 0) {
      const allowed = new Set(next);
      for (const [userId, userValues] of this.customValues) {
        const held = userValues.get(id);
        if (held !== undefined && !allowed.has(held)) {
          throw new ApiError(
            400,
            'customFieldValuesConflict',
            `User ${userId} holds "${held}", which the new list drops.`,
          );
        }
      }
    }
    field.authorizedValues = next;
    return [...next];
  }

  getUserCustomValues(userId: string): CustomFieldValueDTO[] {
    this.user(userId);
    return this.valuesOf(userId);
  }

  private valuesOf(userId: string): CustomFieldValueDTO[] {
    const values = this.customValues.get(userId);
    if (!values) return [];
    return [...values.entries()]
      .filter(([fieldId]) => this.customFields.has(fieldId))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([customFieldId, value]) => ({ customFieldId, type: this.customFields.get(customFieldId)!.type, value }));
  }

  /** PUT /users/{id}/custom-fields/values: the given list replaces every value the user had. */
  replaceUserCustomValues(userId: string, items: CustomFieldValueDTO[]): CustomFieldValueDTO[] {
    this.user(userId);
    const next = new Map<string, string>();
    for (const item of items) {
      const field = this.customFields.get(item.customFieldId);
      if (!field || field.targetType !== 'users')
        throw new ApiError(404, 'customFieldNotFound', `No user custom field with id ${item.customFieldId}.`);
      if (next.has(field._id))
        throw new ApiError(400, 'multipleValuesForSingleCustomField', `Two values for custom field ${field._id}.`);
      if (item.type !== field.type)
        throw new ApiError(400, 'wrongTypeValue', `Custom field ${field._id} holds ${field.type} values.`);
      let value = item.value;
      if (field.type === 'date') {
        const day = asCalendarDate(value);
        if (!day) throw new ApiError(400, 'wrongTypeValue', `"${value}" is not a date.`);
        value = day;
      }
      if (field.authorizedValues.length > 0 && !field.authorizedValues.includes(value)) {
        throw new ApiError(
          400,
          'unauthorizedValue',
          `"${value}" is not an authorized value of custom field ${field._id}.`,
        );
      }
      next.set(field._id, value);
    }
    this.customValues.set(userId, next);
    return this.valuesOf(userId);
  }

  // ---------------------------------------------------------------- external ids

  private isReserved(platform: string): boolean {
    return this.reservedPlatforms.includes(platform.toLowerCase());
  }

  private targetExists(type: ExternalIdTargetType, id: string): boolean {
    if (type === 'user') return this.users.has(id);
    if (type === 'group') return this.groups.has(id);
    return true; // other resources are not modelled here
  }

  private checkMapping(input: InputExternalIdDTO, except?: string): void {
    if (!this.targetExists(input.targetType, input.targetId)) {
      throw new ApiError(404, 'resourceNotFound', `No ${input.targetType} with id ${input.targetId}.`);
    }
    for (const other of this.externalIds.values()) {
      if (other._id === except || other.platform !== input.platform) continue;
      if (other.targetType === input.targetType && other.targetId === input.targetId) {
        throw except
          ? new ApiError(400, 'targetAlreadyMapped', `This ${input.targetType} already has an id on ${input.platform}.`)
          : new ApiError(
              400,
              'mappingAlreadyExists',
              `This ${input.targetType} already has an id on ${input.platform}.`,
            );
      }
      if (other.value === input.value)
        throw new ApiError(400, 'valueAlreadyUsed', `"${input.value}" is already mapped on ${input.platform}.`);
    }
  }

  listExternalIds(filters: { platform?: Filter; type?: Filter; value?: Filter; targetId?: Filter }): ExternalIdDTO[] {
    return [...this.externalIds.values()]
      .filter(
        (m) =>
          matchesFilter(m.platform, filters.platform) &&
          matchesFilter(m.targetType, filters.type) &&
          matchesFilter(m.value, filters.value) &&
          matchesFilter(m.targetId, filters.targetId, true),
      )
      .sort(byId)
      .map((m) => ({ ...m }));
  }

  createExternalId(input: InputExternalIdDTO): ExternalIdDTO {
    if (this.isReserved(input.platform))
      throw new ApiError(400, 'reservedPlatformName', `"${input.platform}" is a reserved platform name.`);
    this.checkMapping(input);
    const mapping: ExternalIdDTO = {
      _id: this.ids.next(),
      platform: input.platform,
      targetType: input.targetType,
      targetId: input.targetId,
      value: input.value,
    };
    this.externalIds.set(mapping._id, mapping);
    return { ...mapping };
  }

  private mapping(id: string): ExternalIdDTO {
    const mapping = this.externalIds.get(id);
    if (!mapping) throw new ApiError(404, 'mappingIdNotFound', `No external id mapping with id ${id}.`);
    return mapping;
  }

  replaceExternalId(id: string, input: InputExternalIdDTO): ExternalIdDTO {
    const mapping = this.mapping(id);
    if (this.isReserved(input.platform) || this.isReserved(mapping.platform)) {
      throw new ApiError(400, 'reservedPlatformName', 'Mappings of a reserved platform cannot be changed.');
    }
    this.checkMapping(input, id);
    Object.assign(mapping, {
      platform: input.platform,
      targetType: input.targetType,
      targetId: input.targetId,
      value: input.value,
    });
    return { ...mapping };
  }

  deleteExternalId(id: string): void {
    const mapping = this.mapping(id);
    if (this.isReserved(mapping.platform))
      throw new ApiError(400, 'reservedPlatformName', 'Mappings of a reserved platform cannot be deleted.');
    this.externalIds.delete(id);
  }

  // ---------------------------------------------------------------- bulk memberships

  private bulkTimes(op: BulkRecord) {
    const step = this.settings.bulkStepMs;
    return { queued: op.createdAtMs + step, started: op.createdAtMs + 2 * step, ended: op.createdAtMs + 3 * step };
  }

  private runDueBulkOperations(): void {
    const now = this.clock.nowMs();
    for (const op of this.bulk.values()) {
      if (op.results || this.bulkTimes(op).ended > now) continue;
      op.results = op.input.map((item) => this.runBulkItem(op.type, item));
    }
  }

  private runBulkItem(type: BulkOperationType, item: BulkMembershipItem): BulkResult {
    try {
      if (type === 'addUsersToGroups') this.addGroupRole(item.groupId, item.role, item.userId);
      else this.removeGroupRole(item.groupId, item.role, item.userId);
      return { input: { ...item }, status: 'success', resourceId: item.userId };
    } catch (err) {
      if (err instanceof ApiError) return { input: { ...item }, status: 'error', errorMessage: err.code };
      throw err;
    }
  }

  /** POST/DELETE /bulk/groups/memberships: queues the work and returns the operation id. */
  submitBulk(type: BulkOperationType, input: BulkMembershipItem[]): string {
    if (!this.bulkApiEnabled) throw new ApiError(503, 'bulkAPIDisabled', 'The Bulk API is disabled on this platform.');
    if (input.length === 0) throw new ApiError(400, 'invalidInput', 'The input list is empty.');
    this.runDueBulkOperations();
    const now = this.clock.nowMs();
    const unfinished = [...this.bulk.values()].filter((op) => this.bulkTimes(op).ended > now).length;
    if (unfinished >= this.settings.bulkConcurrency) {
      throw new ApiError(
        429,
        'bulkOperationsConcurrencyLimitReached',
        `At most ${this.settings.bulkConcurrency} bulk operations at once.`,
      );
    }
    const op: BulkRecord = {
      _id: this.ids.next(),
      type,
      createdAtMs: now,
      input: input.map((i) => ({ userId: i.userId, groupId: i.groupId, role: i.role })),
    };
    this.bulk.set(op._id, op);
    this.runDueBulkOperations();
    return op._id;
  }

  private bulkRecord(id: string): BulkRecord {
    const op = this.bulk.get(id);
    if (!op) throw new ApiError(404, 'bulkOperationNotFound', `No bulk operation with id ${id}.`);
    return op;
  }

  private bulkDTO(op: BulkRecord): BulkOperationDTO {
    const now = this.clock.nowMs();
    const t = this.bulkTimes(op);
    const iso = (ms: number) => new Date(ms).toISOString();
    const dto: BulkOperationDTO = { _id: op._id, type: op.type, createdAt: iso(op.createdAtMs), status: 'pending' };
    if (now < t.queued) return dto;
    dto.status = 'queued';
    dto.queuedAt = iso(t.queued);
    if (now < t.started) return dto;
    dto.startedAt = iso(t.started);
    if (now < t.ended || !op.results) {
      // Halfway through while running.
      return {
        ...dto,
        status: 'running',
        progress: { index: Math.floor(op.input.length / 2), updatedAt: iso(t.started) },
      };
    }
    return {
      ...dto,
      status: 'completed',
      endedAt: iso(t.ended),
      progress: { index: op.input.length, updatedAt: iso(t.ended) },
    };
  }

  getBulkOperation(id: string): BulkOperationDTO {
    return this.bulkDTO(this.bulkRecord(id));
  }

  /** GET /bulk/operations/{id}/results: only once the operation has run. */
  getBulkResults(id: string): BulkResult[] {
    const op = this.bulkRecord(id);
    if (!op.results) throw new ApiError(400, 'bulkOperationNotRun', 'The bulk operation has not run yet.');
    return op.results.map((r) => ({ ...r, input: { ...r.input } }));
  }

  listBulkOperations(filters: {
    status?: Filter;
    type?: Filter;
    createdAt?: { lt?: string; gte?: string };
  }): BulkOperationDTO[] {
    const lt = filters.createdAt?.lt ? Date.parse(filters.createdAt.lt) : undefined;
    const gte = filters.createdAt?.gte ? Date.parse(filters.createdAt.gte) : undefined;
    return [...this.bulk.values()]
      .filter((op) => (lt === undefined || op.createdAtMs < lt) && (gte === undefined || op.createdAtMs >= gte))
      .sort(byId)
      .map((op) => this.bulkDTO(op))
      .filter((dto) => matchesFilter(dto.status, filters.status) && matchesFilter(dto.type, filters.type));
  }

  // ---------------------------------------------------------------- seeding and inspection

  private groupIdFor(ref: { groupId?: string; groupName?: string }): string {
    if (ref.groupId) {
      if (!this.groups.has(ref.groupId)) throw new Error(`seed: no group with id ${ref.groupId}`);
      return ref.groupId;
    }
    if (ref.groupName) {
      const found = [...this.groups.values()].find((g) => g.name === ref.groupName);
      if (!found) throw new Error(`seed: no group named ${ref.groupName}`);
      return found._id;
    }
    return this.rootGroupId;
  }

  private insertUser(seed: UserSeed): UserRecord {
    if (!seed.mail && !seed.username) throw new Error('seed: a user needs a mail or a username');
    if (seed.mail && this.findByMail(seed.mail)) throw new Error(`seed: mail ${seed.mail} already used`);
    if (seed.username && this.findByUsername(seed.username))
      throw new Error(`seed: username ${seed.username} already used`);
    const id = seed.id ?? this.ids.next();
    if (this.users.has(id)) throw new Error(`seed: user id ${id} already used`);
    const user: UserRecord = {
      _id: id,
      status: seed.status ?? 'active',
      lang: seed.lang ?? 'en',
      deletedAt: [],
      reactivatedAt: [],
    };
    if (seed.mail) user.mail = seed.mail;
    if (seed.username) user.username = seed.username;
    for (const field of USER_TEXT_FIELDS) if (seed[field] !== undefined) user[field] = seed[field];
    if (seed.lastLoginDate) user.lastLoginDate = seed.lastLoginDate;
    if (seed.toBeDeactivatedAt) {
      user.toBeDeactivatedAt = seed.toBeDeactivatedAt;
      this.scheduled.add(id);
    }
    if (user.status === 'deleted') user.deletedAt.push(this.now());
    this.users.set(id, user);
    return user;
  }

  /** Adds groups, custom fields and users directly, without the API's rules or rate limits. */
  seed(input: SeedInput): SeedResult {
    const result: SeedResult = { groups: [], customFields: [], users: [] };
    for (const g of input.groups ?? []) {
      const id = g.id ?? this.ids.next();
      if (this.groups.has(id)) throw new Error(`seed: group id ${id} already used`);
      const parentId = this.groupIdFor({ groupId: g.parentId, groupName: g.parentName });
      const group: GroupDTO = { _id: id, name: g.name, public: g.public ?? true, parentId };
      if (g.custom) group.custom = g.custom;
      this.groups.set(id, group);
      this.memberships.set(id, new Map());
      result.groups.push({ ...group });
    }
    for (const f of input.customFields ?? []) {
      const field = this.createCustomField(
        { name: f.name, targetType: f.targetType ?? 'users', type: f.type ?? 'string' },
        f.id,
      );
      if (f.authorizedValues) this.replaceAuthorizedValues(field._id, f.authorizedValues);
      result.customFields.push(field);
    }
    const created: Array<[UserRecord, UserSeed]> = [];
    for (const u of input.users ?? []) created.push([this.insertUser(u), u]);
    // Relations second, so seeded users may point at each other.
    for (const [user, u] of created) {
      const memberships = u.memberships ?? [{ role: 'learner' }];
      for (const m of memberships) this.grant(this.groupIdFor(m), user._id, m.role);
      user.primaryGroupId = u.primaryGroupId ?? (memberships[0] ? this.groupIdFor(memberships[0]) : this.rootGroupId);
      for (const managerId of u.managerIds ?? []) {
        if (!this.users.has(managerId)) throw new Error(`seed: no manager with id ${managerId}`);
        const list = this.managers.get(user._id) ?? [];
        if (!list.includes(managerId)) list.push(managerId);
        this.managers.set(user._id, list);
      }
      for (const e of u.externalIds ?? [])
        this.createExternalId({ platform: e.platform, value: e.value, targetType: 'user', targetId: user._id });
      if (u.customValues) {
        const values = u.customValues.map((v) => {
          const field = v.customFieldId
            ? this.customFields.get(v.customFieldId)
            : [...this.customFields.values()].find((f) => f.name === v.customFieldName && f.targetType === 'users');
          if (!field) throw new Error(`seed: no custom field ${v.customFieldId ?? v.customFieldName}`);
          return { customFieldId: field._id, type: field.type, value: v.value };
        });
        this.replaceUserCustomValues(user._id, values);
      }
      result.users.push(this.toDTO(user));
    }
    return result;
  }

  /**
   * Adds users as `seed` does, for companies of hundreds of thousands: mails, usernames and
   * external ids are checked against indexes built once instead of against every user for each
   * one. Groups and custom fields must exist already. Returns the number of users added.
   */
  seedUsers(users: UserSeed[]): number {
    const mails = new Set<string>();
    const usernames = new Set<string>();
    for (const user of this.users.values()) {
      if (user.mail) mails.add(user.mail.toLowerCase());
      if (user.username) usernames.add(user.username.toLowerCase());
    }
    const mapped = new Set<string>();
    for (const m of this.externalIds.values()) {
      mapped.add(`${m.platform}\u0000v\u0000${m.value}`);
      mapped.add(`${m.platform}\u0000t\u0000${m.targetType}\u0000${m.targetId}`);
    }
    const fieldByName = new Map<string, CustomFieldRecord>();
    for (const f of this.customFields.values()) if (f.targetType === 'users') fieldByName.set(f.name, f);
    const created: Array<[UserRecord, UserSeed]> = [];
    for (const u of users) {
      if (!u.mail && !u.username) throw new Error('seed: a user needs a mail or a username');
      const mail = u.mail?.toLowerCase();
      const username = u.username?.toLowerCase();
      if (mail && mails.has(mail)) throw new Error(`seed: mail ${u.mail} already used`);
      if (username && usernames.has(username)) throw new Error(`seed: username ${u.username} already used`);
      const id = u.id ?? this.ids.next();
      if (this.users.has(id)) throw new Error(`seed: user id ${id} already used`);
      const user: UserRecord = {
        _id: id,
        status: u.status ?? 'active',
        lang: u.lang ?? 'en',
        deletedAt: [],
        reactivatedAt: [],
      };
      if (u.mail) user.mail = u.mail;
      if (u.username) user.username = u.username;
      for (const field of USER_TEXT_FIELDS) if (u[field] !== undefined) user[field] = u[field];
      if (u.lastLoginDate) user.lastLoginDate = u.lastLoginDate;
      if (u.toBeDeactivatedAt) {
        user.toBeDeactivatedAt = u.toBeDeactivatedAt;
        this.scheduled.add(id);
      }
      if (user.status === 'deleted') user.deletedAt.push(this.now());
      this.users.set(id, user);
      if (mail) mails.add(mail);
      if (username) usernames.add(username);
      created.push([user, u]);
    }
    // Relations second, so the users may point at each other.
    for (const [user, u] of created) {
      const memberships = u.memberships ?? [{ role: 'learner' }];
      for (const m of memberships) this.grant(this.groupIdFor(m), user._id, m.role);
      user.primaryGroupId = u.primaryGroupId ?? (memberships[0] ? this.groupIdFor(memberships[0]) : this.rootGroupId);
      if (u.managerIds?.length) {
        const list: string[] = [];
        for (const managerId of u.managerIds) {
          if (!this.users.has(managerId)) throw new Error(`seed: no manager with id ${managerId}`);
          if (!list.includes(managerId)) list.push(managerId);
        }
        this.managers.set(user._id, list);
      }
      for (const e of u.externalIds ?? []) {
        if (this.isReserved(e.platform)) throw new Error(`seed: "${e.platform}" is a reserved platform name`);
        const byValue = `${e.platform}\u0000v\u0000${e.value}`;
        const byTarget = `${e.platform}\u0000t\u0000user\u0000${user._id}`;
        if (mapped.has(byValue)) throw new Error(`seed: "${e.value}" is already mapped on ${e.platform}`);
        if (mapped.has(byTarget)) throw new Error(`seed: user ${user._id} already has an id on ${e.platform}`);
        const mapping: ExternalIdDTO = {
          _id: this.ids.next(),
          platform: e.platform,
          targetType: 'user',
          targetId: user._id,
          value: e.value,
        };
        this.externalIds.set(mapping._id, mapping);
        mapped.add(byValue);
        mapped.add(byTarget);
      }
      if (u.customValues) {
        const values = u.customValues.map((v) => {
          const field = v.customFieldId
            ? this.customFields.get(v.customFieldId)
            : fieldByName.get(v.customFieldName ?? '');
          if (!field) throw new Error(`seed: no custom field ${v.customFieldId ?? v.customFieldName}`);
          return { customFieldId: field._id, type: field.type, value: v.value };
        });
        this.replaceUserCustomValues(user._id, values);
      }
    }
    return created.length;
  }

  /** Everything the company holds, for tests and the admin API. */
  dump(): CompanyDump {
    const externalIds = this.listExternalIds({});
    return {
      id: this.id,
      name: this.name,
      rootGroupId: this.rootGroupId,
      ...(this.ownerId ? { ownerId: this.ownerId } : {}),
      groups: this.listGroups(),
      customFields: [...this.customFields.values()]
        .sort(byId)
        .map((f) => ({ ...this.fieldDTO(f), authorizedValues: [...f.authorizedValues] })),
      users: [...this.users.values()].sort(byId).map((u) => ({
        ...this.toDTO(u),
        roles: this.userRoles(u._id),
        managers: [...(this.managers.get(u._id) ?? [])],
        externalIds: externalIds.filter((m) => m.targetType === 'user' && m.targetId === u._id),
        customValues: this.valuesOf(u._id),
      })),
      externalIds,
    };
  }
}
