/**
 * The LMS as its paged lists show it (users, HiBob links, members of the managed groups), indexed
 * for planning: which learner an employee matches, and its manager's learner.
 */
import type { MappingConfig } from './mapping-schema';
import type { CurrentLearner, GroupRole, StandardField } from './types';

export interface SnapshotUser {
  learnerId: string;
  status: CurrentLearner['status'];
  fields: Partial<Record<StandardField, string>>;
  /** Present when the destination's list carries them (SCIM). */
  customFields?: Record<string, string>;
  managerIds?: string[];
  /** When the learner last signed in (ISO), where the LMS tells. */
  lastLogin?: string;
}

/** What a learner's user record tells, read alone or in the user list: its id, status and standard fields. */
export type LearnerBasics = Pick<SnapshotUser, 'learnerId' | 'status' | 'fields'>;

/** The cheap, paged view of the LMS: users, HiBob links and the members of managed groups. */
export interface LmsSnapshot {
  users: SnapshotUser[];
  externalIds: { value: string; targetId: string }[];
  groupRoles: (GroupRole & { userId: string })[];
  /**
   * The list shows every learner in full (SCIM resources carry custom attributes and the
   * manager), so a plan is made from the snapshot alone and no learner is read again.
   */
  complete?: boolean;
}

export class SnapshotIndex {
  readonly byLearner = new Map<string, SnapshotUser>();
  readonly learnerOfEmployee = new Map<string, string>();
  readonly employeeOfLearner = new Map<string, string>();
  readonly learnerByMail = new Map<string, string>();
  readonly rolesOf = new Map<string, GroupRole[]>();

  constructor(readonly snapshot: LmsSnapshot) {
    for (const u of snapshot.users) {
      this.byLearner.set(u.learnerId, u);
      // A deleted account keeps its address; a live one with the same address wins.
      const mail = u.fields.mail?.toLowerCase();
      if (mail && (!this.learnerByMail.has(mail) || u.status !== 'deleted')) this.learnerByMail.set(mail, u.learnerId);
    }
    for (const x of snapshot.externalIds) {
      this.learnerOfEmployee.set(x.value, x.targetId);
      this.employeeOfLearner.set(x.targetId, x.value);
    }
    for (const r of snapshot.groupRoles) {
      const list = this.rolesOf.get(r.userId) ?? [];
      list.push({ groupId: r.groupId, role: r.role });
      this.rolesOf.set(r.userId, list);
    }
  }

  /**
   * Learners not deactivated, linked or not: what a run could deactivate. (At go-live nothing is
   * linked yet, and the leavers it deactivates are a share of the whole LMS.)
   */
  activeLearners(): number {
    let n = 0;
    for (const user of this.snapshot.users) if (user.status !== 'deleted') n++;
    return n;
  }
}

/**
 * The learner the snapshot matches an employee to, and how: the learner linked to its HiBob id,
 * else the learner with its address, as the mapping's match order allows.
 */
export function matchedLearnerId(
  index: SnapshotIndex,
  employeeId: string,
  mail: string | undefined,
  mapping: MappingConfig,
): { kind: 'externalId' | 'email'; learnerId: string } | undefined {
  if (mapping.match.order.includes('externalId')) {
    const linked = index.learnerOfEmployee.get(employeeId);
    if (linked && index.byLearner.has(linked)) return { kind: 'externalId', learnerId: linked };
  }
  if (mail && mapping.match.order.includes('email')) {
    const byMail = index.learnerByMail.get(mail);
    if (byMail && index.byLearner.has(byMail)) return { kind: 'email', learnerId: byMail };
  }
  return undefined;
}

/** The learner of a manager as the snapshot shows it: linked to the manager's HiBob id and not deleted. */
export function managerLearnerOf(
  index: SnapshotIndex,
  managerEmployeeId: string | null | undefined,
): string | undefined {
  const learnerId = managerEmployeeId ? index.learnerOfEmployee.get(managerEmployeeId) : undefined;
  return learnerId && index.byLearner.get(learnerId)?.status !== 'deleted' ? learnerId : undefined;
}
