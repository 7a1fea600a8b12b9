import { ScimError } from './errors';
import type { StoredUser, UserData } from './user-model';

/**
 * All users of the tenant, across domains, in creation order. Uniqueness is tenant-wide:
 * userName case-insensitively, externalId exactly.
 */
export class UserStore {
  private readonly users = new Map<string, StoredUser>();
  private readonly byUserName = new Map<string, string>();
  private readonly byExternalId = new Map<string, string>();

  get size(): number {
    return this.users.size;
  }

  all(): StoredUser[] {
    return [...this.users.values()];
  }

  get(id: string): StoredUser | undefined {
    return this.users.get(id);
  }

  findByUserName(userName: string): StoredUser | undefined {
    const id = this.byUserName.get(userName.toLowerCase());
    return id === undefined ? undefined : this.users.get(id);
  }

  findByExternalId(externalId: string): StoredUser | undefined {
    const id = this.byExternalId.get(externalId);
    return id === undefined ? undefined : this.users.get(id);
  }

  /** Throws 409 uniqueness if `data` would clash with a user other than `selfId`. */
  assertUnique(data: UserData, selfId?: string): void {
    const byName = this.findByUserName(data.core.userName);
    if (byName && byName.id !== selfId)
      throw new ScimError(409, 'uniqueness', `userName "${data.core.userName}" already exists`);
    const externalId = data.core.externalId;
    if (externalId !== undefined) {
      const byExternal = this.findByExternalId(externalId);
      if (byExternal && byExternal.id !== selfId)
        throw new ScimError(409, 'uniqueness', `externalId "${externalId}" already exists`);
    }
  }

  insert(user: StoredUser): void {
    if (this.users.has(user.id)) throw new ScimError(409, 'uniqueness', `id "${user.id}" already exists`);
    this.assertUnique(user);
    this.users.set(user.id, user);
    this.index(user);
  }

  /** Swaps in a new version of an existing user, keeping its place in the order. */
  update(user: StoredUser): void {
    const previous = this.users.get(user.id);
    if (!previous) throw new ScimError(404, undefined, `User ${user.id} not found`);
    this.assertUnique(user, user.id);
    this.unindex(previous);
    this.users.set(user.id, user);
    this.index(user);
  }

  delete(id: string): boolean {
    const previous = this.users.get(id);
    if (!previous) return false;
    this.unindex(previous);
    return this.users.delete(id);
  }

  clear(): void {
    this.users.clear();
    this.byUserName.clear();
    this.byExternalId.clear();
  }

  private index(user: StoredUser) {
    this.byUserName.set(user.core.userName.toLowerCase(), user.id);
    if (user.core.externalId !== undefined) this.byExternalId.set(user.core.externalId, user.id);
  }

  private unindex(user: StoredUser) {
    this.byUserName.delete(user.core.userName.toLowerCase());
    if (user.core.externalId !== undefined) this.byExternalId.delete(user.core.externalId);
  }
}
