/**
 * Desired learner × current learner → an ordered plan of operations, each with its reason.
 *
 * Order: create/restore → linkExternalId → updateFields → setCustomFields → group roles
 * (removals before additions, because removing `learner` cascades to public subgroups and
 * would otherwise undo a fresh addition) → managers (add the new one, then remove the old)
 * → activate/deactivate last, so a new learner is complete before it is billed and can sign
 * in, and a leaver's final field updates land before the account is closed.
 *
 * Safety rules:
 * - A learner is never created only to be deactivated, and never before its activation time.
 * - A learner found by email that is linked to another HiBob employee is never merged (park).
 * - A learner found by email only (not linked) is adopted for employees who need an account;
 *   for out-of-scope employees it is left alone, and for leavers too unless the plan is part of
 *   a full sync (`adoptLeavers`): one employee's webhook cannot tell whether the address now
 *   belongs to someone else, a full sync that saw every HiBob person can.
 * - Only owned things change: standard fields the mapping sets, custom fields it names, group
 *   roles bobsync gave (its ownership record), managers that are themselves linked to HiBob employees.
 *
 * Clearing: a desired `null` becomes a change with `to: null`. 360Learning rejects empty strings,
 * so the client decides how to clear (omit, or a platform-specific empty value); the plan only
 * says the value should no longer be there.
 */
import { STANDARD_FIELDS } from './types';
import type { MappingConfig } from './mapping-schema';
import { isParked, managedGroupRoles } from './desired';
import { fingerprint } from './fingerprint';
import type {
  CurrentLearner,
  DesiredLearner,
  DestinationTraits,
  FieldChange,
  GroupRole,
  Match,
  Operation,
  OwnedGroupRole,
  ParkedEmployee,
  RefusedValue,
  Plan,
  PlanContext,
  StandardField,
} from './types';

export interface PlanInput {
  desired: DesiredLearner | ParkedEmployee;
  match: Match;
  context: PlanContext;
  /** Fingerprint of the last plan applied for this employee; equal → noop without a diff. */
  previousFingerprint?: string;
  /**
   * The group roles bobsync gave this learner (its ownership record): only these are ever
   * removed. Without a record, every role a rule manages counts as bobsync's.
   */
  owned?: readonly OwnedGroupRole[];
  /** Values of strict custom fields the LMS does not list; an employee whose plan would write one is parked. */
  refused?: readonly RefusedValue[];
  /**
   * `planFingerprint(desired, match, context)` when the caller has just computed it: the
   * fingerprint hashes the whole desired learner, too costly to take twice per employee.
   */
  fingerprint?: string;
}

function roleKey(g: GroupRole): string {
  return `${g.groupId.toLowerCase()}/${g.role}`;
}

/** Builds the plan context from a connection's mapping and what its destination needs. */
export function planContextFor(
  mapping: MappingConfig,
  destination: DestinationTraits,
  managerLearnerIds: Record<string, string> = {},
  linkedManagerLearnerIds?: string[],
): PlanContext {
  const context: PlanContext = {
    managerLearnerIds,
    managedGroupRoles: managedGroupRoles(mapping),
    onLeaveScope: mapping.scope.onLeaveScope,
  };
  if (destination.defaultGroupId !== undefined)
    context.defaultMembership = { groupId: destination.defaultGroupId, role: 'learner' };
  if (destination.createsActiveLearners) context.createsActiveLearners = true;
  if (destination.refusesApostropheInMail) context.refusesApostropheInMail = true;
  if (destination.linksOnCreate) context.linksOnCreate = true;
  if (linkedManagerLearnerIds) context.linkedManagerLearnerIds = linkedManagerLearnerIds;
  return context;
}

function matchIdentity(match: Match): Record<string, unknown> {
  if (match.kind === 'none') return { kind: 'none' };
  const { learnerId, status, externalId } = match.learner;
  return { kind: match.kind, learnerId, status, externalId };
}

/**
 * The fingerprint of everything a plan depends on except the learner's field values: the
 * desired learner, who the match is (and its status), the manager's learner, and the owned
 * group roles. Drift made by hand in the LMS is found by planning without a previous fingerprint.
 */
export function planFingerprint(desired: DesiredLearner | ParkedEmployee, match: Match, context: PlanContext): string {
  const managerId = isParked(desired) ? undefined : desired.managerEmployeeId;
  return fingerprint({
    v: 1,
    desired,
    match: matchIdentity(match),
    managerLearnerId: typeof managerId === 'string' ? (context.managerLearnerIds[managerId] ?? null) : managerId,
    membership: context.defaultMembership,
    managed: context.managedGroupRoles.map(roleKey).sort(),
    onLeaveScope: context.onLeaveScope ?? 'deactivate',
  });
}

const linkedSets = new WeakMap<Record<string, string>, Set<string>>();

function linkedManagers(context: PlanContext): Set<string> {
  if (context.linkedManagerLearnerIds) return new Set(context.linkedManagerLearnerIds);
  let set = linkedSets.get(context.managerLearnerIds);
  if (!set) {
    set = new Set(Object.values(context.managerLearnerIds));
    linkedSets.set(context.managerLearnerIds, set);
  }
  return set;
}

function setFields(fields: DesiredLearner['fields']): Partial<Record<StandardField, string>> {
  const out: Partial<Record<StandardField, string>> = {};
  for (const name of STANDARD_FIELDS) {
    const v = fields[name];
    if (typeof v === 'string') out[name] = v;
  }
  return out;
}

function sameValue(field: string, have: string, want: string): boolean {
  return field === 'mail' ? have.toLowerCase() === want.toLowerCase() : have === want;
}

function fieldChanges(desired: DesiredLearner, have: Partial<Record<StandardField, string>>): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const name of STANDARD_FIELDS) {
    const want = desired.fields[name];
    if (want === undefined) continue;
    const now = have[name];
    if (want === null ? now === undefined : now !== undefined && sameValue(name, now, want)) continue;
    changes.push({ field: name, from: now, to: want, rule: desired.provenance?.[name] ?? `fields.${name}` });
  }
  return changes;
}

function customFieldOperation(desired: DesiredLearner, have: Record<string, string>): Operation | undefined {
  const values: Record<string, string> = { ...have };
  const changes: FieldChange[] = [];
  for (const [name, want] of Object.entries(desired.customFields)) {
    if (want === undefined) continue;
    const now = have[name];
    const rule = desired.provenance?.[`customFields.${name}`] ?? `customFields "${name}"`;
    if (want === null) {
      if (now === undefined) continue;
      delete values[name];
    } else {
      if (now === want) continue;
      values[name] = want;
    }
    changes.push({ field: name, from: now, to: want, rule });
  }
  if (!changes.length) return undefined;
  return {
    op: 'setCustomFields',
    values,
    changes,
    reason: `custom field${changes.length > 1 ? 's' : ''} ${changes.map((c) => `"${c.field}"`).join(', ')} changed; other values kept`,
  };
}

/** Why an owned role goes: its rule no longer matches the employee, or the rule left the config. */
function removalReason(g: GroupRole, managed: ReadonlySet<string>, rule: string | undefined): string {
  if (rule === undefined) return `no group rule gives ${g.role} in ${g.groupId} any more`;
  return managed.has(roleKey(g))
    ? `the rule that gave ${g.role} in ${g.groupId} (${rule}) no longer matches this employee`
    : `the rule that gave ${g.role} in ${g.groupId} (${rule}) is no longer in the config`;
}

function groupOperations(
  desired: DesiredLearner,
  have: GroupRole[],
  context: PlanContext,
  owned: readonly OwnedGroupRole[] | undefined,
): Operation[] {
  const wanted = new Set(desired.groups.map(roleKey));
  const held = new Set((desired.heldGroups ?? []).map(roleKey));
  const managed = new Set(context.managedGroupRoles.map(roleKey));
  const ruleOf = owned && new Map(owned.map((o) => [roleKey(o), o.rule]));
  const present = new Set(have.map(roleKey));
  const ops: Operation[] = [];
  const removed = new Set<string>();
  for (const g of have) {
    const key = roleKey(g);
    // A role bobsync did not give (by hand, or before it ran) is never removed.
    const ours = ruleOf ? ruleOf.has(key) : managed.has(key);
    if (!ours || wanted.has(key) || held.has(key) || removed.has(key)) continue;
    removed.add(key);
    ops.push({
      op: 'removeGroupRole',
      group: { groupId: g.groupId, role: g.role },
      reason: removalReason(g, managed, ruleOf?.get(key)),
    });
  }
  for (const g of desired.groups) {
    if (present.has(roleKey(g))) continue;
    ops.push({
      op: 'addGroupRole',
      group: g,
      reason: desired.provenance?.[`groups.${roleKey(g)}`] ?? `group rule gives ${g.role} in ${g.groupId}`,
    });
  }
  return ops;
}

function managerOperations(
  desired: DesiredLearner,
  learnerId: string | undefined,
  have: string[],
  context: PlanContext,
  afterRestore: boolean,
): Operation[] {
  const want = desired.managerEmployeeId;
  if (want === undefined) return [];
  const ops: Operation[] = [];
  const wantLearner = want === null ? undefined : context.managerLearnerIds[want];
  if (want !== null && wantLearner === undefined) {
    ops.push({
      op: 'deferManager',
      managerEmployeeId: want,
      reason: `manager ${want} (work.reportsTo) has no learner yet; linked once it exists`,
    });
  } else if (wantLearner !== undefined && wantLearner !== learnerId && (afterRestore || !have.includes(wantLearner))) {
    ops.push({
      op: 'addManager',
      managerLearnerId: wantLearner,
      reason: `HiBob manager ${want} (work.reportsTo) is learner ${wantLearner}`,
    });
  }
  const linked = linkedManagers(context);
  for (const m of new Set(have)) {
    if (m === wantLearner || !linked.has(m)) continue;
    ops.push({
      op: 'removeManager',
      managerLearnerId: m,
      reason:
        want === null
          ? 'HiBob lists no manager (work.reportsTo is empty)'
          : `learner ${m} is no longer the HiBob manager`,
    });
  }
  return ops;
}

function membershipOf(context: PlanContext): GroupRole[] {
  return context.defaultMembership ? [context.defaultMembership] : [];
}

function withMembership<T extends Extract<Operation, { op: 'create' | 'restore' }>>(op: T, context: PlanContext): T {
  return context.defaultMembership ? { ...op, membership: context.defaultMembership } : op;
}

/** 360Learning invites a new learner (activated as the plan's last step); SCIM creates it active. */
function statusAfterCreate(context: PlanContext): CurrentLearner['status'] {
  return context.createsActiveLearners ? 'active' : 'invited';
}

/** Plans the changes that make the LMS match the desired learner. Pure and deterministic. */
export function planEmployee(input: PlanInput): Plan {
  const { desired, match, context, previousFingerprint, owned } = input;
  const fp = input.fingerprint ?? planFingerprint(desired, match, context);
  if (isParked(desired))
    return {
      employeeId: desired.employeeId,
      fingerprint: fp,
      outcome: { kind: 'park', reason: desired.park, code: desired.code },
    };

  const state = desired.status.state;
  const recheckAt = desired.inScope ? desired.status.changesAt : undefined;
  const plan = (outcome: Plan['outcome']): Plan => {
    const p: Plan = { employeeId: desired.employeeId, fingerprint: fp, outcome };
    if (recheckAt) p.recheckAt = recheckAt;
    return p;
  };
  const noop = (reason: string) => plan({ kind: 'noop', reason });
  const park = (reason: string, code: 'missingEmail' | 'conflict' | 'unauthorizedValue') =>
    plan({ kind: 'park', reason, code });

  if (previousFingerprint !== undefined && previousFingerprint === fp)
    return noop('unchanged since the last applied plan');
  if (context.refusesApostropheInMail && desired.fields.mail?.includes("'")) {
    return plan({
      kind: 'park',
      code: 'invalidEmail',
      reason: `the destination refuses emails with an apostrophe (${desired.fields.mail}); change the address in HiBob`,
    });
  }

  const learner: CurrentLearner | undefined = match.kind === 'none' ? undefined : match.learner;
  const linked = match.kind === 'externalId' || (learner !== undefined && learner.externalId === desired.employeeId);
  const needsAccount = desired.inScope && state !== 'inactive';

  if (match.kind === 'email' && learner?.externalId !== undefined && learner.externalId !== desired.employeeId) {
    const why = `learner ${learner.learnerId} has this email but is linked to HiBob employee ${learner.externalId}`;
    if (needsAccount) return park(`${why}; two people are never merged, resolve it by hand`, 'conflict');
    return noop(`${why}; nothing to do for an employee who is ${desired.inScope ? 'inactive' : 'out of scope'}`);
  }

  if (!desired.inScope) {
    const why = desired.provenance?.scope ?? 'out of scope';
    if (!learner) return noop(`${why}; no learner is created`);
    if (!linked) return noop(`${why}; learner ${learner.learnerId} found by email is not linked and is left alone`);
    if (learner.status === 'deleted') return noop(`${why}; learner ${learner.learnerId} is already deactivated`);
    if ((context.onLeaveScope ?? 'deactivate') === 'ignore') return noop(`${why}; scope.onLeaveScope is ignore`);
    return plan({
      kind: 'apply',
      operations: [{ op: 'deactivate', reason: `${why}; scope.onLeaveScope is deactivate` }],
    });
  }

  const statusReason = desired.status.reason;
  if (!learner) {
    if (state === 'inactive')
      return noop(`no learner, and the employee is inactive (${statusReason}); nothing is created`);
    if (state === 'notYet') return noop(`no learner yet: ${statusReason}`);
  } else {
    if (!linked && state === 'inactive' && !(context.adoptLeavers && learner.status !== 'deleted')) {
      return noop(
        learner.status === 'deleted'
          ? `learner ${learner.learnerId} found by email is already deactivated (${statusReason})`
          : `learner ${learner.learnerId} has this email but is not linked; an inactive employee does not adopt it in real time (${statusReason})`,
      );
    }
    if (learner.status === 'deleted' && state === 'inactive')
      return noop(`learner ${learner.learnerId} is already deactivated (${statusReason})`);
    if (learner.status === 'deleted' && state === 'notYet')
      return noop(`learner ${learner.learnerId} stays deactivated for now: ${statusReason}`);
  }

  const ops: Operation[] = [];
  const restoring = learner?.status === 'deleted';
  /** The learner as it will be once the create / restore above it has run. */
  let base: Pick<CurrentLearner, 'fields' | 'customFields' | 'groups' | 'managerIds' | 'status'>;

  if (!learner) {
    const created = setFields(desired.fields);
    if (created.mail === undefined)
      return park('a learner cannot be created without an email (fields.mail gives none)', 'missingEmail');
    ops.push(withMembership({ op: 'create', fields: created, reason: `new learner: ${statusReason}` }, context));
    if (!context.linksOnCreate)
      ops.push({ op: 'linkExternalId', reason: 'store the HiBob employee id on the new learner' });
    base = {
      fields: created,
      customFields: {},
      groups: membershipOf(context),
      managerIds: [],
      status: statusAfterCreate(context),
    };
  } else if (restoring) {
    // Restore with the address the deleted account has, so 360Learning restores it instead of creating a second account.
    const mail = learner.fields.mail ?? (typeof desired.fields.mail === 'string' ? desired.fields.mail : undefined);
    if (mail === undefined)
      return park(`deleted learner ${learner.learnerId} cannot be restored without an email`, 'missingEmail');
    const restored = { ...setFields(desired.fields), mail };
    ops.push(
      withMembership(
        {
          op: 'restore',
          fields: restored,
          reason: `rehire or return: learner ${learner.learnerId} was deactivated; restoring the same account keeps its training history (${statusReason})`,
        },
        context,
      ),
    );
    if (!linked)
      ops.push({
        op: 'linkExternalId',
        reason: `adopt learner ${learner.learnerId} found by email: store the HiBob employee id`,
      });
    // Group roles do not come back with the account.
    base = {
      ...learner,
      fields: { ...learner.fields, ...restored },
      groups: membershipOf(context),
      status: statusAfterCreate(context),
    };
  } else {
    if (!linked)
      ops.push({
        op: 'linkExternalId',
        reason:
          state === 'inactive'
            ? `learner ${learner.learnerId} found by email belongs to a HiBob leaver: store the HiBob employee id`
            : `adopt learner ${learner.learnerId} found by email: store the HiBob employee id`,
      });
    base = learner;
  }

  const changes = fieldChanges(desired, base.fields);
  if (changes.length) {
    const mailChange = changes.find((c) => c.field === 'mail');
    const what = `update ${changes.map((c) => c.field).join(', ')}`;
    ops.push({
      op: 'updateFields',
      changes,
      reason: mailChange ? `${what}; the email changed in HiBob: same learner, new address` : what,
    });
  }
  const custom = customFieldOperation(desired, base.customFields);
  const refused =
    custom?.op === 'setCustomFields' &&
    input.refused?.find((r) => custom.changes.some((c) => c.field === r.field && c.to === r.value));
  if (refused)
    return park(
      `"${refused.value}" is not an authorized value of custom field "${refused.field}" (authorizedValues: strict); add it in the LMS or change it in HiBob`,
      'unauthorizedValue',
    );
  if (custom) ops.push(custom);
  // A leaver's groups and managers are left as they are: the account is about to close.
  if (state !== 'inactive') {
    ops.push(...groupOperations(desired, base.groups, context, owned));
    ops.push(...managerOperations(desired, learner?.learnerId, base.managerIds, context, restoring));
  }
  if (state === 'active' && base.status !== 'active') ops.push({ op: 'activate', reason: statusReason });
  if (state === 'inactive' && base.status !== 'deleted') ops.push({ op: 'deactivate', reason: statusReason });

  if (!ops.length) return noop(`learner ${learner?.learnerId ?? ''} is up to date (${statusReason})`);
  return plan({ kind: 'apply', operations: ops });
}
