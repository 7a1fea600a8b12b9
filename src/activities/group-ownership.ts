/**
 * bobsync's durable record of the group roles it gave each learner: it removes only those, and
 * never a role given by hand. The record lives in the blob store, one per connection and
 * employee, so it outlives workers, continue-as-new and the end of idle employee workflows.
 * Only the employee's own workflow writes it (one writer per employee).
 *
 * A role is recorded before it is added and forgotten after it is removed: a worker lost in
 * between leaves a record of a role that is not there (harmless, removing it is a no-op), never
 * a role bobsync gave but does not know about.
 */
import { createHash } from 'node:crypto';
import { getJsonIfStored, type BlobStore } from '../blobstore/blob-store';
import type { GroupRole, OwnedGroupRole } from '../domain/types';

interface OwnershipRecord {
  roles: OwnedGroupRole[];
}

const sameRole = (a: GroupRole, b: GroupRole) => a.groupId === b.groupId && a.role === b.role;

export class GroupOwnership {
  constructor(private readonly blobs: BlobStore) {}

  private key(connection: string, employeeId: string): string {
    // HiBob ids are digits; anything else is hashed rather than trusted in a path.
    const name = /^[A-Za-z0-9._-]{1,100}$/.test(employeeId)
      ? employeeId
      : createHash('sha256').update(employeeId).digest('hex').slice(0, 40);
    return `ownership/${connection}/${name}.json`;
  }

  /** The roles bobsync gave this employee's learner (none when it never gave one). */
  async owned(connection: string, employeeId: string): Promise<OwnedGroupRole[]> {
    return (await getJsonIfStored<OwnershipRecord>(this.blobs, this.key(connection, employeeId)))?.roles ?? [];
  }

  /** Records a role about to be given, with the rule that gives it. */
  async record(connection: string, employeeId: string, role: OwnedGroupRole): Promise<void> {
    await this.recordAll(connection, employeeId, [role]);
  }

  /** Records several roles about to be given (a full sync's bulk request) in one write. */
  async recordAll(connection: string, employeeId: string, given: OwnedGroupRole[]): Promise<void> {
    if (given.length === 0) return;
    const roles = await this.owned(connection, employeeId);
    const kept = roles.filter((r) => !given.some((g) => sameRole(r, g)));
    await this.blobs.putJson(this.key(connection, employeeId), {
      roles: [...kept, ...given],
    } satisfies OwnershipRecord);
  }

  /** Forgets a role once it is removed. */
  async forget(connection: string, employeeId: string, role: GroupRole): Promise<void> {
    const roles = await this.owned(connection, employeeId);
    if (!roles.some((r) => sameRole(r, role))) return;
    await this.blobs.putJson(this.key(connection, employeeId), {
      roles: roles.filter((r) => !sameRole(r, role)),
    } satisfies OwnershipRecord);
  }
}
