/**
 * Full-sync planning from snapshots: which employees changed, and what to do about them,
 * without touching the LMS per employee. Pure; the activity around it supplies the snapshots,
 * the fingerprints of the last run and, for the few employees a snapshot cannot settle, a
 * deep lookup.
 */
import type { MappingConfig } from './mapping-schema';
import { isParked } from './desired';
import { planContextFor, planEmployee, planFingerprint } from './plan';
import { isProtected } from './protection';
import type { CurrentLearner, DesiredLearner, DestinationTraits, EmployeeAction, GroupRole, Match, ParkedEmployee, Plan, PlanRow, StandardField } from './types';

export interface SnapshotUser {
  learnerId: string;
  status: CurrentLearner['status'];
  fields: Partial<Record<StandardField, string>>;
  /** Present when the destination's list carries them (SCIM). */
  customFields?: Record<string, string>;
  managerIds?: string[];
}

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

  /** Active or invited learners linked to a HiBob employee: the base of the deactivation limit. */
  activeLinkedLearners(): number {
    let n = 0;
    for (const learnerId of this.employeeOfLearner.keys()) if (this.byLearner.get(learnerId)?.status !== 'deleted' && this.byLearner.has(learnerId)) n++;
    return n;
  }
}

export interface SnapshotPlanInput {
  employeeId: string;
  desired: DesiredLearner | ParkedEmployee;
  index: SnapshotIndex;
  mapping: MappingConfig;
  destination: DestinationTraits;
  protectedUsers: readonly string[];
  /** Fingerprint recorded for this employee by the last full sync, if any. */
  lastFingerprint?: string;
}

export type SnapshotPlan =
  | { kind: 'planned'; plan: Plan; learnerId?: string }
  /** The snapshot cannot show custom values and managers: read this learner in full first. */
  | { kind: 'needsLookup'; learnerId: string };

function snapshotLearner(index: SnapshotIndex, learnerId: string): CurrentLearner | undefined {
  const user = index.byLearner.get(learnerId);
  if (!user) return undefined;
  return {
    learnerId,
    status: user.status,
    fields: user.fields,
    customFields: user.customFields ?? {},
    managerIds: user.managerIds ?? [],
    groups: index.rolesOf.get(learnerId) ?? [],
    externalId: index.employeeOfLearner.get(learnerId),
  };
}

export function matchFromSnapshot(employeeId: string, desired: DesiredLearner | ParkedEmployee, index: SnapshotIndex, mapping: MappingConfig): Match {
  if (mapping.match.order.includes('externalId')) {
    const linked = index.learnerOfEmployee.get(employeeId);
    const learner = linked ? snapshotLearner(index, linked) : undefined;
    if (learner) return { kind: 'externalId', learner };
  }
  const mail = !isParked(desired) ? desired.fields.mail?.toLowerCase() : undefined;
  if (mail && mapping.match.order.includes('email')) {
    const byMail = index.learnerByMail.get(mail);
    const learner = byMail ? snapshotLearner(index, byMail) : undefined;
    if (learner) return { kind: 'email', learner };
  }
  return { kind: 'none' };
}

export function planFromSnapshot(input: SnapshotPlanInput): SnapshotPlan {
  const { employeeId, desired, index, mapping } = input;
  const match = matchFromSnapshot(employeeId, desired, index, mapping);
  const learnerId = match.kind === 'none' ? undefined : match.learner.learnerId;
  if (match.kind !== 'none' && isProtected(match.learner, input.protectedUsers)) {
    return { kind: 'planned', learnerId, plan: { employeeId, fingerprint: `protected:${match.learner.learnerId}`, outcome: { kind: 'noop', reason: 'protected user: never changed by bobsync' } } };
  }
  const managerEmployeeId = !isParked(desired) ? desired.managerEmployeeId : undefined;
  const managerLearnerId = managerEmployeeId ? index.learnerOfEmployee.get(managerEmployeeId) : undefined;
  const managerLearnerIds: Record<string, string> =
    managerEmployeeId && managerLearnerId && index.byLearner.get(managerLearnerId)?.status !== 'deleted' ? { [managerEmployeeId]: managerLearnerId } : {};
  // A complete snapshot shows the current managers too: those linked to HiBob were set by bobsync.
  const linkedManagers = Object.values(managerLearnerIds);
  if (index.snapshot.complete && match.kind !== 'none') linkedManagers.push(...match.learner.managerIds.filter((id) => index.employeeOfLearner.has(id)));
  const context = planContextFor(mapping, input.destination, managerLearnerIds, linkedManagers);

  if (match.kind === 'none' || isParked(desired) || index.snapshot.complete) {
    return { kind: 'planned', learnerId, plan: planEmployee({ desired, match, context }) };
  }
  const fingerprint = planFingerprint(desired, match, context);
  if (input.lastFingerprint !== fingerprint) return { kind: 'needsLookup', learnerId: match.learner.learnerId };
  // Unchanged since the last run as far as fingerprints tell: what the snapshot cannot show
  // (custom values, manager) is as the last run left it; what it can show is compared.
  const owned: Record<string, string> = {};
  for (const [name, value] of Object.entries(desired.customFields)) if (typeof value === 'string') owned[name] = value;
  const assumed: Match = { ...match, learner: { ...match.learner, customFields: owned, managerIds: Object.values(managerLearnerIds) } };
  return { kind: 'planned', learnerId, plan: planEmployee({ desired, match: assumed, context, previousFingerprint: undefined }) };
}

/** The one-word action and the old → new changes a plan makes, for previews and reports. */
export function planRow(plan: Plan, extra: { displayName?: string; email?: string; learnerId?: string; currentStatus?: string }): PlanRow {
  const { outcome } = plan;
  const base = { employeeId: plan.employeeId, displayName: extra.displayName, email: extra.email, learnerId: extra.learnerId };
  if (outcome.kind === 'noop') {
    const action: EmployeeAction = outcome.reason.startsWith('protected') ? 'protected' : 'noop';
    return { ...base, action, changes: [], operations: [], reason: outcome.reason };
  }
  if (outcome.kind === 'park') return { ...base, action: 'park', changes: [], operations: [], reason: outcome.reason };
  const ops = outcome.operations;
  const kinds = new Set(ops.map((o) => o.op));
  const action: EmployeeAction = kinds.has('create')
    ? 'create'
    : kinds.has('restore')
      ? 'reactivate'
      : kinds.has('deactivate')
        ? 'deactivate'
        : kinds.has('activate') && extra.currentStatus === 'deleted'
          ? 'reactivate'
          : 'update';
  const changes: PlanRow['changes'] = [];
  for (const op of ops) {
    switch (op.op) {
      case 'create':
      case 'restore':
        for (const [field, to] of Object.entries(op.fields)) changes.push({ field, from: undefined, to, rule: op.reason });
        break;
      case 'updateFields':
      case 'setCustomFields':
        changes.push(...op.changes.map((c) => (op.op === 'setCustomFields' ? { ...c, field: `custom: ${c.field}` } : c)));
        break;
      case 'addGroupRole':
        changes.push({ field: `group ${op.group.groupId}`, from: null, to: op.group.role, rule: op.reason });
        break;
      case 'removeGroupRole':
        changes.push({ field: `group ${op.group.groupId}`, from: op.group.role, to: null, rule: op.reason });
        break;
      case 'addManager':
        changes.push({ field: 'manager', from: null, to: op.managerLearnerId, rule: op.reason });
        break;
      case 'removeManager':
        changes.push({ field: 'manager', from: op.managerLearnerId, to: null, rule: op.reason });
        break;
      case 'activate':
        changes.push({ field: 'status', from: extra.currentStatus ?? null, to: 'active', rule: op.reason });
        break;
      case 'deactivate':
        changes.push({ field: 'status', from: extra.currentStatus ?? null, to: 'deleted', rule: op.reason });
        break;
      default:
        break;
    }
  }
  const reason = ops.find((o) => o.op === 'create' || o.op === 'restore' || o.op === 'deactivate')?.reason ?? ops[0]?.reason ?? '';
  return { ...base, action, changes, operations: ops.map((o) => o.op), reason };
}

export interface SafeguardInput {
  deactivations: number;
  activeLinkedLearners: number;
  hibobEmployees: number;
  previousHibobEmployees?: number;
  maxDeactivationPercent: number;
  maxDeactivations?: number;
  maxHibobDropPercent: number;
}

/** Decides whether the deactivations of a plan must wait for a person's approval, and says why. */
export function evaluateSafeguards(input: SafeguardInput): { tripped: boolean; reason?: string } {
  const reasons: string[] = [];
  const byPercent = Math.floor((input.activeLinkedLearners * input.maxDeactivationPercent) / 100);
  const limit = input.maxDeactivations === undefined ? byPercent : Math.min(byPercent, input.maxDeactivations);
  if (input.deactivations > limit) {
    const share = input.activeLinkedLearners ? Math.round((input.deactivations / input.activeLinkedLearners) * 100) : 100;
    const rule = input.maxDeactivations !== undefined && input.maxDeactivations <= byPercent ? `the limit of ${limit}` : `${input.maxDeactivationPercent}% of them (${limit})`;
    reasons.push(`${input.deactivations} deactivations (${share}% of ${input.activeLinkedLearners} active learners) exceed ${rule}`);
  }
  const previous = input.previousHibobEmployees;
  if (previous && input.hibobEmployees < previous) {
    const drop = ((previous - input.hibobEmployees) / previous) * 100;
    if (drop > input.maxHibobDropPercent) {
      reasons.push(`HiBob returned ${input.hibobEmployees} people, ${Math.round(drop)}% fewer than the ${previous} of the last run (limit ${input.maxHibobDropPercent}%)`);
    }
  }
  return reasons.length ? { tripped: true, reason: reasons.join('; ') } : { tripped: false };
}
