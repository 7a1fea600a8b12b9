/**
 * Full-sync planning from snapshots: which employees changed, and what to do about them,
 * without touching the LMS per employee; then what the whole run does: learners whose employee
 * is gone, the safeguards, the order of the writes, the effective dates left to the employees'
 * workflows and what the run waits for. Pure; the activity around it supplies the snapshots,
 * the state of the last run and, for the few employees a snapshot cannot settle, a deep lookup.
 */
import type { MappingConfig } from './mapping-schema';
import { desiredLearner, isParked } from './desired';
import { fieldDigests } from './field-digests';
import { fingerprint } from './fingerprint';
import { hibobFieldsFor, normaliseEmployee, type NormaliseOptions } from './normalise';
import { planContextFor, planEmployee, planFingerprint } from './plan';
import { isProtected } from './protection';
import { decisionHoldsUntil } from './status';
import { managerLearnerOf, matchedLearnerId, SnapshotIndex, type LearnerBasics } from './snapshot-index';
import {
  matchedLearnerView,
  SteadyMemo,
  steadyMemoKey,
  type SteadyEmployee,
  type StoredSteadyMemo,
} from './steady-memo';
import type {
  CurrentLearner,
  DesiredLearner,
  DestinationTraits,
  Operation,
  OwnedGroupRole,
  RefusedValue,
  EmployeeAction,
  Match,
  NormalisedEmployee,
  ParkedEmployee,
  Plan,
  PopulationMember,
  PlanRow,
} from './types';

export { SnapshotIndex, type LearnerBasics, type LmsSnapshot, type SnapshotUser } from './snapshot-index';

export interface SnapshotPlanInput {
  employeeId: string;
  desired: DesiredLearner | ParkedEmployee;
  index: SnapshotIndex;
  mapping: MappingConfig;
  destination: DestinationTraits;
  protectedUsers: readonly string[];
  /** Fingerprint recorded for this employee by the last full sync, if any. */
  lastFingerprint?: string;
  /**
   * An employee in step at the last run whose fingerprint changed is planned from the snapshot
   * too, instead of read in full (see SnapshotPlan.readInFullWhenApplied). Plans shown for
   * approval as a whole keep the full read: what is approved must be what is done.
   */
  changedFromSnapshot?: boolean;
  /** An inactive employee takes over the unlinked learner with its address (see PlanContext.adoptLeavers). */
  adoptLeavers?: boolean;
}

export type SnapshotPlan =
  /**
   * `readInFullWhenApplied`: the employee changed since the last run, and what the snapshot
   * cannot show (custom values, managers, roles given since) was assumed as the last run left
   * it. Its own workflow reads the learner in full when it applies, so it goes to one even when
   * this plan changes nothing.
   */
  | { kind: 'planned'; plan: Plan; learnerId?: string; readInFullWhenApplied?: boolean }
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

export function matchFromSnapshot(
  employeeId: string,
  desired: DesiredLearner | ParkedEmployee,
  index: SnapshotIndex,
  mapping: MappingConfig,
): Match {
  const matched = matchedLearnerId(index, employeeId, matchingMail(desired), mapping);
  return matched ? { kind: matched.kind, learner: snapshotLearner(index, matched.learnerId)! } : { kind: 'none' };
}

/** The address an employee is matched by, lower case. */
const matchingMail = (desired: DesiredLearner | ParkedEmployee) =>
  !isParked(desired) ? desired.fields.mail?.toLowerCase() : undefined;

/** The learner of the employee's manager as the snapshot shows it (linked, not deleted), by the manager's HiBob id. */
export function snapshotManagerLearner(
  index: SnapshotIndex,
  desired: DesiredLearner | ParkedEmployee,
): Record<string, string> {
  const managerEmployeeId = !isParked(desired) ? desired.managerEmployeeId : undefined;
  const managerLearnerId = managerLearnerOf(index, managerEmployeeId);
  return managerEmployeeId && managerLearnerId ? { [managerEmployeeId]: managerLearnerId } : {};
}

export function planFromSnapshot(input: SnapshotPlanInput): SnapshotPlan {
  const { employeeId, desired, index, mapping } = input;
  const match = matchFromSnapshot(employeeId, desired, index, mapping);
  const learnerId = match.kind === 'none' ? undefined : match.learner.learnerId;
  if (match.kind !== 'none' && isProtected(match.learner, input.protectedUsers)) {
    return {
      kind: 'planned',
      learnerId,
      plan: {
        employeeId,
        fingerprint: `protected:${match.learner.learnerId}`,
        outcome: { kind: 'noop', reason: 'protected user: never changed by bobsync' },
      },
    };
  }
  const managerLearnerIds = snapshotManagerLearner(index, desired);
  // A complete snapshot shows the current managers too: those linked to HiBob were set by bobsync.
  const linkedManagers = Object.values(managerLearnerIds);
  if (index.snapshot.complete && match.kind !== 'none')
    linkedManagers.push(...match.learner.managerIds.filter((id) => index.employeeOfLearner.has(id)));
  const context = planContextFor(mapping, input.destination, managerLearnerIds, linkedManagers);
  if (input.adoptLeavers) context.adoptLeavers = true;

  if (match.kind === 'none' || isParked(desired) || index.snapshot.complete) {
    return { kind: 'planned', learnerId, plan: planEmployee({ desired, match, context }) };
  }
  const fingerprint = planFingerprint(desired, match, context);
  const changed = input.lastFingerprint !== fingerprint;
  // Someone never in step (no fingerprint) is read in full: nothing says what the snapshot cannot show.
  if (changed && !(input.changedFromSnapshot && input.lastFingerprint))
    return { kind: 'needsLookup', learnerId: match.learner.learnerId };
  // In step at the last run: what the snapshot cannot show (custom values, manager) is taken as
  // the last run left it; what it can show (fields, status, managed roles) is compared.
  const owned: Record<string, string> = {};
  for (const [name, value] of Object.entries(desired.customFields)) if (typeof value === 'string') owned[name] = value;
  const assumed: Match = {
    ...match,
    learner: { ...match.learner, customFields: owned, managerIds: Object.values(managerLearnerIds) },
  };
  return {
    kind: 'planned',
    learnerId,
    // Unchanged since the last run: the roles it left are as it left them, so none is removed here.
    // The assumed learner has the same identity and status as the match, so the same fingerprint.
    plan: planEmployee({ desired, match: assumed, context, previousFingerprint: undefined, owned: [], fingerprint }),
    ...(changed ? { readInFullWhenApplied: true } : {}),
  };
}

/** An employee a run wrote to, as the run left it: the learner and its status after the operations. */
export interface SettledEmployee {
  employeeId: string;
  desired: DesiredLearner | ParkedEmployee;
  learnerId: string;
  /** The operations applied, in order (create, activate, deactivate… change the status). */
  operations: readonly Operation['op'][];
}

/** The learner's status once `operations` ran on a learner that had `before` (none: not yet created). */
export function statusAfter(
  before: CurrentLearner['status'] | undefined,
  operations: readonly Operation['op'][],
  destination: DestinationTraits,
): CurrentLearner['status'] | undefined {
  let status = before;
  for (const op of operations) {
    if (op === 'create' || op === 'restore') status = destination.createsActiveLearners ? 'active' : 'invited';
    else if (op === 'activate') status = 'active';
    else if (op === 'deactivate') status = 'deleted';
  }
  return status;
}

/**
 * The fingerprint the next full sync will compute for each employee this run wrote to, so that
 * it finds them unchanged from its snapshot alone instead of reading each learner in full: the
 * learner now linked, its status after the operations, and the manager's learner as this run
 * left it. An employee the run could not settle (no learner) is left out and read next time.
 */
export function settledFingerprints(
  settled: readonly SettledEmployee[],
  index: SnapshotIndex,
  mapping: MappingConfig,
  destination: DestinationTraits,
): Record<string, string> {
  const after = new Map<string, { learnerId: string; status: CurrentLearner['status'] }>();
  for (const e of settled) {
    const status = statusAfter(index.byLearner.get(e.learnerId)?.status, e.operations, destination);
    if (status) after.set(e.employeeId, { learnerId: e.learnerId, status });
  }
  const learnerOf = (employeeId: string) => {
    const mine = after.get(employeeId);
    if (mine) return mine;
    const learnerId = index.learnerOfEmployee.get(employeeId);
    const status = learnerId ? index.byLearner.get(learnerId)?.status : undefined;
    return learnerId && status ? { learnerId, status } : undefined;
  };
  const kind = mapping.match.order.includes('externalId') ? 'externalId' : 'email';
  const out: Record<string, string> = {};
  for (const e of settled) {
    const mine = after.get(e.employeeId);
    if (!mine || isParked(e.desired)) continue;
    const managerId = e.desired.managerEmployeeId;
    const manager = managerId ? learnerOf(managerId) : undefined;
    const managerLearnerIds: Record<string, string> =
      managerId && manager && manager.status !== 'deleted' ? { [managerId]: manager.learnerId } : {};
    const learner: CurrentLearner = {
      learnerId: mine.learnerId,
      status: mine.status,
      fields: {},
      customFields: {},
      groups: [],
      managerIds: [],
      externalId: e.employeeId,
    };
    out[e.employeeId] = planFingerprint(
      e.desired,
      { kind, learner },
      planContextFor(mapping, destination, managerLearnerIds),
    );
  }
  return out;
}

/** The one-word action and the old → new changes a plan makes, for previews and reports. */
export function planRow(
  plan: Plan,
  extra: { displayName?: string; email?: string; learnerId?: string; currentStatus?: string },
): PlanRow {
  const { outcome } = plan;
  const base = {
    employeeId: plan.employeeId,
    displayName: extra.displayName,
    email: extra.email,
    learnerId: extra.learnerId,
  };
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
        for (const [field, to] of Object.entries(op.fields))
          changes.push({ field, from: undefined, to, rule: op.reason });
        break;
      case 'updateFields':
      case 'setCustomFields':
        changes.push(
          ...op.changes.map((c) => (op.op === 'setCustomFields' ? { ...c, field: `custom: ${c.field}` } : c)),
        );
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
  const reason =
    ops.find((o) => o.op === 'create' || o.op === 'restore' || o.op === 'deactivate')?.reason ?? ops[0]?.reason ?? '';
  return { ...base, action, changes, operations: ops.map((o) => o.op), reason };
}

export interface SafeguardInput {
  deactivations: number;
  activeLearners: number;
  hibobEmployees: number;
  previousHibobEmployees?: number;
  maxDeactivationPercent: number;
  maxDeactivations?: number;
  maxHibobDropPercent: number;
}

/** Whether a safeguard stops a plan's deactivations, and why. */
export interface SafeguardVerdict {
  tripped: boolean;
  /** Why it tripped, in words. */
  reason?: string;
}

/** Decides whether the deactivations of a plan must wait for a person's approval, and says why. */
export function evaluateSafeguards(input: SafeguardInput): SafeguardVerdict {
  const reasons: string[] = [];
  const byPercent = Math.floor((input.activeLearners * input.maxDeactivationPercent) / 100);
  const limit = input.maxDeactivations === undefined ? byPercent : Math.min(byPercent, input.maxDeactivations);
  if (input.deactivations > limit) {
    const share = input.activeLearners ? Math.round((input.deactivations / input.activeLearners) * 100) : 100;
    const rule =
      input.maxDeactivations !== undefined && input.maxDeactivations <= byPercent
        ? `the limit of ${limit}`
        : `${input.maxDeactivationPercent}% of them (${limit})`;
    reasons.push(
      `${input.deactivations} deactivations (${share}% of ${input.activeLearners} active learners) exceed ${rule}`,
    );
  }
  const previous = input.previousHibobEmployees;
  if (previous && input.hibobEmployees < previous) {
    const drop = ((previous - input.hibobEmployees) / previous) * 100;
    if (drop > input.maxHibobDropPercent) {
      reasons.push(
        `HiBob returned ${input.hibobEmployees} people, ${Math.round(drop)}% fewer than the ${previous} of the last run (limit ${input.maxHibobDropPercent}%)`,
      );
    }
  }
  return reasons.length ? { tripped: true, reason: reasons.join('; ') } : { tripped: false };
}

/**
 * A row of a run's plan, with what the run itself needs: the fingerprint the next run compares
 * with, whether a safeguard holds it, `sourceDigest`, the digest of the normalised HiBob employee
 * the row was planned from (`sourceDigestOf`), and `position`, where that employee's record is
 * in the HiBob records the plan read (absent for rows of no HiBob record).
 */
export type PlannedRow = PlanRow & { fingerprint: string; held?: boolean; sourceDigest?: string; position?: number };

/**
 * What an approval binds a row to: the values of the HiBob fields the mapping reads, as the
 * plan read them. A change to any of them after the preview gives another digest; a change
 * elsewhere (say, the manager's display name shown beside a report's manager id) does not.
 */
export const sourceDigestOf = (employee: NormalisedEmployee, mapping: MappingConfig): string =>
  fingerprint(fieldDigests(employee, hibobFieldsFor(mapping)));

/** The source digest of a row planned for an employee HiBob did not return. */
export const GONE_DIGEST = 'gone';

/** An effective date ahead that a full sync leaves to the employee's workflow. */
export interface PendingTimer {
  employeeId: string;
  at: string;
  reason: string;
}

/** What the LMS holds for one employee when its learner is read in full. */
export interface LearnerView {
  match: Match;
  /** Manager's HiBob id → learner id, for the one manager this employee has (if provisioned). */
  managerLearnerIds: Record<string, string>;
  /** Learner ids of current managers that are linked to HiBob employees. */
  linkedManagerLearnerIds: string[];
  /** Group roles bobsync gave the learner (its ownership record). */
  ownedGroupRoles?: OwnedGroupRole[];
  /** Values of strict custom fields the LMS does not list. */
  refusedValues?: RefusedValue[];
}

/**
 * Reads in full the learner of an employee the snapshot cannot settle: its HiBob id, its HiBob
 * record and the learner the snapshot matched.
 */
export type DeepLookup = (
  employeeId: string,
  record: Record<string, unknown>,
  learnerId: string,
) => Promise<LearnerView>;

/** HiBob's records in HiBob's order: an array, or records parsed as they are read (EmployeeRecords). */
export interface HibobRecordList {
  readonly length: number;
  at(index: number): Record<string, unknown> | undefined;
  /** A digest of the record as received, when the list keeps its text: what the steady memo is keyed by. */
  digestAt?(index: number): string | undefined;
}

export interface PopulationInput {
  /** The HiBob records, in the order HiBob returned them. */
  records: HibobRecordList;
  normalise?: NormaliseOptions;
  mapping: MappingConfig;
  destination: DestinationTraits;
  index: SnapshotIndex;
  protectedUsers: readonly string[];
  /** Employee id → the fingerprint the last full sync recorded. */
  fingerprints: Readonly<Record<string, string>>;
  now: Date;
  /** Effective dates up to this instant (epoch milliseconds) are handed on as timers; later ones wait for a later run. */
  horizonEnd: number;
  /** Told the position of each employee before it is planned. */
  progress?: (position: number) => void;
  /** See SnapshotPlanInput.changedFromSnapshot. */
  changedFromSnapshot?: boolean;
  /** The employees the last run found in step (steady-memo.ts): planned again only when an input changed. */
  steady?: SteadyMemo;
}

export interface PopulationPlan {
  /** Employees with something to do, or parked, in HiBob's order. */
  rows: PlannedRow[];
  /** Employee id → fingerprint of each employee already in step. */
  unchanged: Record<string, string>;
  /** Effective dates within the horizon, in HiBob's order. */
  timers: PendingTimer[];
  /** HiBob ids of every employee HiBob returned. */
  seen: Set<string>;
  /** Every employee HiBob returned, in HiBob's order. */
  employees: PopulationMember[];
  /** What each employee not already in step was planned from, for its workflow to start from. */
  sources: Map<string, EmployeeSource>;
  /** The employees found in step, for the next run (when the input had a memo). */
  steady?: SteadyMemo;
}

export type { PopulationMember } from './types';

/**
 * An employee's HiBob record as the run read it and its manager's learner as the LMS snapshot
 * showed it: handed to the employee's workflow so that it need not read them again.
 */
export interface EmployeeSource {
  record: Record<string, unknown>;
  managerLearnerIds: Record<string, string>;
  /** The learner linked to the employee, as the user list showed it. */
  learner?: LearnerBasics;
}

/**
 * Employees planned between two turns of the event loop. Planning a large population takes
 * seconds of CPU; the worker's heartbeats and other tasks get through in between.
 */
const EMPLOYEES_PER_TURN = 200;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Why an employee whose change the paged lists do not show goes to its workflow all the same. */
export const READ_IN_FULL_REASON =
  'changed in HiBob since the last run, in what the paged lists do not show (custom fields, manager): read in full when applied';

const isProtectedNoop = (plan: Plan) => plan.outcome.kind === 'noop' && plan.outcome.reason.startsWith('protected');

/**
 * Two HiBob people with one address: the first to be created claims it, the second is a
 * conflict now, not after a write. `claimed` (address → HiBob id) carries the claims from one
 * employee to the next.
 */
function parkSecondClaimant(plan: Plan, employeeId: string, claimed: Map<string, string>): Plan {
  if (plan.outcome.kind !== 'apply' || plan.outcome.operations[0]?.op !== 'create') return plan;
  const mail = plan.outcome.operations[0].fields.mail?.toLowerCase();
  if (!mail) return plan;
  const claimant = claimed.get(mail);
  if (!claimant) {
    claimed.set(mail, employeeId);
    return plan;
  }
  return {
    ...plan,
    outcome: {
      kind: 'park',
      code: 'conflict',
      reason: `HiBob employee ${claimant} has the same email (${mail}); two people are never merged, resolve it in HiBob`,
    },
  };
}

/** The effective date ahead an employee's workflow must wake up for, when it falls within the horizon. */
function timerOf(
  employeeId: string,
  desired: DesiredLearner | ParkedEmployee,
  plan: Plan,
  horizonEnd: number,
): PendingTimer | undefined {
  const status = !isParked(desired) && desired.inScope && !isProtectedNoop(plan) ? desired.status : undefined;
  return status?.changesAt && Date.parse(status.changesAt) <= horizonEnd
    ? { employeeId, at: status.changesAt, reason: status.reason }
    : undefined;
}

/**
 * Plans every employee HiBob returned: from the snapshot where it can tell, through `lookup`
 * otherwise. Employees already in step go to `unchanged`; the others become rows, except an
 * employee parked only by the mapping whose plan is not a park (a leaver with a faulty value).
 */
export async function planPopulation(input: PopulationInput, lookup: DeepLookup): Promise<PopulationPlan> {
  const { mapping, destination, index } = input;
  const out: PopulationPlan = {
    rows: [],
    unchanged: {},
    timers: [],
    seen: new Set(),
    employees: [],
    sources: new Map(),
  };
  const recalled = input.steady;
  const steady = recalled && new SteadyMemo(recalled.key);
  if (steady) out.steady = steady;
  const claimed = new Map<string, string>();
  const describe = (i: number) => {
    const employee = normaliseEmployee(input.records.at(i)!, input.normalise);
    const name = [employee.fields['root.firstName']?.value, employee.fields['root.surname']?.value]
      .filter(Boolean)
      .join(' ');
    const member: PopulationMember = { id: employee.id, email: employee.email, managerId: employee.managerId };
    return {
      member,
      ...(name ? { name } : {}),
      desired: desiredLearner(employee, mapping, input.now),
      until: steady && decisionHoldsUntil(employee, mapping.status, input.now),
    };
  };
  // Everything a remembered employee's plan read is as it was (adoptLeavers is checked once the
  // whole population's addresses are known).
  const stillInStep = (e: SteadyEmployee) =>
    (e.until === undefined || input.now.getTime() < e.until) &&
    input.fingerprints[e.member.id] === e.last &&
    (managerLearnerOf(index, e.managerEmployeeId) ?? '') === e.managerLearner &&
    matchedLearnerView(index, e.member.id, e.mail, mapping) === e.learner;
  // Only the desired learner and a few fields of each employee are kept between the two passes:
  // the normalised employee is larger still, and is made again for the few that have a row.
  type Described = ReturnType<typeof describe>;
  const people: (Partial<Described> & { member: PopulationMember; digest?: string; remembered?: SteadyEmployee })[] =
    [];
  for (let i = 0; i < input.records.length; i++) {
    if (i > 0 && i % EMPLOYEES_PER_TURN === 0) await nextTurn();
    const digest = steady ? input.records.digestAt?.(i) : undefined;
    const remembered = digest === undefined ? undefined : recalled!.recall(digest);
    people.push(
      remembered && stillInStep(remembered)
        ? { member: remembered.member, digest, remembered }
        : { ...describe(i), digest },
    );
  }
  // A leaver does not take over an address someone in HiBob still needs (a rehire under a new id).
  const neededMails = new Set<string>();
  for (const { desired, remembered } of people) {
    if (remembered?.needsMail) neededMails.add(remembered.mail!);
    else if (desired && needsMail(desired)) neededMails.add(matchingMail(desired)!);
  }
  await nextTurn();
  for (const [i, person] of people.entries()) {
    if (i > 0 && i % EMPLOYEES_PER_TURN === 0) await nextTurn();
    input.progress?.(i);
    const { remembered, digest } = person;
    if (remembered && remembered.adoptLeavers === !neededMails.has(remembered.mail ?? '')) {
      // In step as at the last run, from the same inputs: the same fingerprint and timer.
      const { id } = remembered.member;
      out.employees.push(remembered.member);
      out.seen.add(id);
      if (remembered.timer && Date.parse(remembered.timer.at) <= input.horizonEnd)
        out.timers.push({ employeeId: id, ...remembered.timer });
      out.unchanged[id] = remembered.fingerprint;
      steady!.remember(digest!, remembered);
      continue;
    }
    const { member: employee, name, desired, until } = person.desired ? (person as Described) : describe(i);
    // Read again only for the few that need it: kept as text, a record is parsed on each read.
    let record: Record<string, unknown> | undefined;
    const recordOf = () => (record ??= input.records.at(i)!);
    out.employees.push(employee);
    out.seen.add(employee.id);
    const mail = matchingMail(desired);
    const adoptLeavers = isParked(desired) || !neededMails.has(mail ?? '');
    const snap = planFromSnapshot({
      adoptLeavers,
      employeeId: employee.id,
      desired,
      index,
      mapping,
      destination,
      protectedUsers: input.protectedUsers,
      lastFingerprint: input.fingerprints[employee.id],
      changedFromSnapshot: input.changedFromSnapshot,
    });
    let plan: Plan;
    let learnerId: string | undefined;
    const readInFull = snap.kind === 'planned' && snap.readInFullWhenApplied === true;
    if (snap.kind === 'planned') {
      plan = snap.plan;
      learnerId = snap.learnerId;
    } else {
      // Custom values and managers are not in the snapshot: read this learner in full.
      const found = await lookup(employee.id, recordOf(), snap.learnerId);
      learnerId = found.match.kind === 'none' ? undefined : found.match.learner.learnerId;
      plan = planEmployee({
        desired,
        match: found.match,
        context: {
          ...planContextFor(mapping, destination, found.managerLearnerIds, found.linkedManagerLearnerIds),
          adoptLeavers,
        },
        owned: found.ownedGroupRoles,
        refused: found.refusedValues,
      });
    }
    plan = parkSecondClaimant(plan, employee.id, claimed);
    const timer = timerOf(employee.id, desired, plan, input.horizonEnd);
    if (timer) out.timers.push(timer);
    if (plan.outcome.kind === 'noop' && !isProtectedNoop(plan) && !readInFull) {
      out.unchanged[employee.id] = plan.fingerprint;
      // Planned from the snapshots alone: the same inputs give the same plan next run.
      if (steady && digest !== undefined && snap.kind === 'planned' && !isParked(desired)) {
        steady.remember(digest, {
          member: employee,
          fingerprint: plan.fingerprint,
          last: input.fingerprints[employee.id],
          mail,
          needsMail: needsMail(desired),
          adoptLeavers,
          managerEmployeeId: desired.managerEmployeeId ?? undefined,
          learner: matchedLearnerView(index, employee.id, mail, mapping),
          managerLearner: managerLearnerOf(index, desired.managerEmployeeId) ?? '',
          until,
          timer:
            desired.inScope && desired.status.changesAt
              ? { at: desired.status.changesAt, reason: desired.status.reason }
              : undefined,
        });
      }
      continue;
    }
    let row = planRow(plan, {
      displayName: name,
      email: typeof employee.email === 'string' ? employee.email : undefined,
      learnerId,
      currentStatus: learnerId ? index.byLearner.get(learnerId)?.status : undefined,
    });
    // Nothing the snapshot shows changed: what did is for the employee's workflow to find.
    if (readInFull && row.action === 'noop') row = { ...row, action: 'update', reason: READ_IN_FULL_REASON };
    if (!isParked(desired) || plan.outcome.kind === 'park')
      out.rows.push({
        ...row,
        fingerprint: plan.fingerprint,
        sourceDigest: sourceDigestOf(normaliseEmployee(recordOf(), input.normalise), mapping),
        position: i,
      });
    const linked = index.byLearner.get(index.learnerOfEmployee.get(employee.id) ?? '');
    out.sources.set(employee.id, {
      record: recordOf(),
      managerLearnerIds: snapshotManagerLearner(index, desired),
      ...(linked ? { learner: { learnerId: linked.learnerId, status: linked.status, fields: linked.fields } } : {}),
    });
  }
  return out;
}

/** Whether someone in HiBob needs the address: in scope and not to be inactive (see adoptLeavers). */
const needsMail = (desired: DesiredLearner | ParkedEmployee) =>
  !isParked(desired) && desired.inScope && desired.status.state !== 'inactive' && !!desired.fields.mail;

/** A row of a HiBob report the run could not use (no usable identity, a duplicate). */
export interface PopulationProblem {
  /** 1-based row of the report. */
  row: number;
  employeeId?: string;
  identity?: string;
  message: string;
}

/** Report rows without a usable identity are in HiBob all the same: parked, and not leavers. */
export function problemRows(problems: readonly PopulationProblem[]): PlannedRow[] {
  return problems.map((problem) => {
    const employeeId = problem.employeeId ?? `report row ${problem.row}`;
    return {
      employeeId,
      email: problem.identity,
      action: 'park',
      changes: [],
      operations: [],
      reason: problem.message,
      fingerprint: `problem:${employeeId}`,
    };
  });
}

/**
 * Linked learners whose employee HiBob no longer returns (deleted in HiBob, or outside the
 * service user's population): deactivated. Not a learner already deleted or protected, nor one
 * whose employee is in `seen` or `heldEmployeeIds` (report rows left out, still in HiBob).
 */
export function goneRows(
  index: SnapshotIndex,
  seen: ReadonlySet<string>,
  protectedUsers: readonly string[],
  heldEmployeeIds: readonly string[] = [],
): PlannedRow[] {
  const held = new Set(heldEmployeeIds);
  const rows: PlannedRow[] = [];
  for (const [employeeId, learnerId] of index.learnerOfEmployee) {
    const user = index.byLearner.get(learnerId);
    if (
      seen.has(employeeId) ||
      held.has(employeeId) ||
      !user ||
      user.status === 'deleted' ||
      isProtected({ learnerId, fields: user.fields }, protectedUsers)
    )
      continue;
    rows.push({
      employeeId,
      email: user.fields.mail,
      displayName: [user.fields.firstName, user.fields.lastName].filter(Boolean).join(' ') || undefined,
      learnerId,
      action: 'deactivate',
      changes: [{ field: 'status', from: user.status, to: 'deleted', rule: 'no longer in HiBob' }],
      operations: ['deactivate'],
      reason: 'no longer returned by HiBob (deleted, or outside the service user’s population)',
      fingerprint: `gone:${employeeId}`,
      sourceDigest: GONE_DIGEST,
    });
  }
  return rows;
}

/** A learner that belongs to nobody in HiBob, as every full-sync report lists it. */
export interface UnmatchedLearner {
  learnerId: string;
  email?: string;
  displayName?: string;
  lastLogin?: string;
  status: CurrentLearner['status'];
  /** On the protected list: listed, never deactivated. */
  protected: boolean;
}

/** What a full sync does with learners that match no HiBob person (the connection's `safety.unmatchedLearners`). */
export type UnmatchedLearnersMode = 'report' | 'deactivate';

const UNMATCHED_PREFIX = 'unmatched:';

/**
 * The row key of an unmatched learner. Such a row has no HiBob employee and so no employee
 * workflow: its key names the learner, and applying it deactivates that learner directly.
 */
export function unmatchedLearnerKey(learnerId: string): string {
  return `${UNMATCHED_PREFIX}${learnerId}`;
}

/** The learner id of an unmatched learner's row key; undefined for an employee id. */
export function learnerOfUnmatchedKey(key: string): string | undefined {
  return key.startsWith(UNMATCHED_PREFIX) ? key.slice(UNMATCHED_PREFIX.length) : undefined;
}

/**
 * Learners that match no HiBob person: not linked to any HiBob id, and their address is nobody's
 * in HiBob (leavers included, and report rows the run could not use). Learners already
 * deactivated are not listed. Sorted by e-mail for the report.
 */
export function unmatchedLearners(
  index: SnapshotIndex,
  employees: readonly Pick<NormalisedEmployee, 'email'>[],
  problems: readonly PopulationProblem[],
  protectedUsers: readonly string[],
): UnmatchedLearner[] {
  const hibobMails = new Set<string>();
  for (const e of employees) if (typeof e.email === 'string') hibobMails.add(e.email.toLowerCase());
  for (const p of problems) if (p.identity?.includes('@')) hibobMails.add(p.identity.toLowerCase());
  const out: UnmatchedLearner[] = [];
  for (const user of index.snapshot.users) {
    const mail = user.fields.mail;
    if (user.status === 'deleted' || index.employeeOfLearner.has(user.learnerId)) continue;
    if (mail && hibobMails.has(mail.toLowerCase())) continue;
    const entry: UnmatchedLearner = {
      learnerId: user.learnerId,
      status: user.status,
      protected: isProtected({ learnerId: user.learnerId, fields: user.fields }, protectedUsers),
    };
    if (mail) entry.email = mail;
    const name = [user.fields.firstName, user.fields.lastName].filter(Boolean).join(' ');
    if (name) entry.displayName = name;
    if (user.lastLogin) entry.lastLogin = user.lastLogin;
    out.push(entry);
  }
  return out.sort((a, b) => (a.email ?? a.learnerId).localeCompare(b.email ?? b.learnerId));
}

/** Under `deactivate`, a deactivation row per unmatched learner that is neither protected nor gone. */
export function unmatchedRows(unmatched: readonly UnmatchedLearner[], mode: UnmatchedLearnersMode): PlannedRow[] {
  if (mode !== 'deactivate') return [];
  return unmatched
    .filter((u) => !u.protected)
    .map((u) => ({
      employeeId: unmatchedLearnerKey(u.learnerId),
      email: u.email,
      displayName: u.displayName,
      learnerId: u.learnerId,
      action: 'deactivate' as const,
      changes: [{ field: 'status', from: u.status, to: 'deleted', rule: 'safety.unmatchedLearners: deactivate' }],
      operations: ['deactivate' as const],
      reason:
        'matches no HiBob person (no HiBob link, and no HiBob person has this e-mail); safety.unmatchedLearners is deactivate',
      fingerprint: `unmatched:${u.learnerId}`,
      sourceDigest: GONE_DIGEST,
    }));
}

/** A tripped safeguard holds every deactivation of the plan until someone approves it. */
export function holdDeactivations(rows: readonly PlannedRow[], safeguard: SafeguardVerdict): PlannedRow[] {
  return rows.map((row) => (safeguard.tripped && row.action === 'deactivate' ? { ...row, held: true } : row));
}

/** Rows per action, with the employees already in step as `noop`. */
export function countByAction(rows: readonly PlanRow[], unchanged: number): Partial<Record<EmployeeAction, number>> {
  const byAction: Partial<Record<EmployeeAction, number>> = { noop: unchanged };
  for (const row of rows) byAction[row.action] = (byAction[row.action] ?? 0) + 1;
  return byAction;
}

/** How far below the top of the reporting tree each employee sits (cycles are cut). */
export function managerDepths(employees: readonly { id: string; managerId?: string | null }[]): Map<string, number> {
  const managerOf = new Map(employees.map((e) => [e.id, e.managerId ?? undefined]));
  const depths = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depths.get(id);
    if (known !== undefined) return known;
    const manager = managerOf.get(id);
    const d = manager && managerOf.has(manager) && !seen.has(manager) ? depthOf(manager, seen.add(id)) + 1 : 0;
    depths.set(id, d);
    return d;
  };
  for (const e of employees) depthOf(e.id, new Set());
  return depths;
}

/**
 * The rows that write to the LMS (not parked, not protected), managers first so their reports
 * find a learner to link to; rows at one depth keep the plan's order.
 */
export function applyOrder<R extends Pick<PlanRow, 'employeeId' | 'action'>>(
  rows: readonly R[],
  depths: ReadonlyMap<string, number>,
): R[] {
  return rows
    .filter((r) => r.action !== 'park' && r.action !== 'protected')
    .sort((a, b) => (depths.get(a.employeeId) ?? 0) - (depths.get(b.employeeId) ?? 0));
}

/** The employee ids to apply now and those a safeguard holds, each in the order given. */
export function splitHeld(rows: readonly { employeeId: string; held?: boolean }[]): {
  applyNow: string[];
  held: string[];
} {
  return {
    applyNow: rows.filter((r) => !r.held).map((r) => r.employeeId),
    held: rows.filter((r) => r.held).map((r) => r.employeeId),
  };
}

/** Employees applied now get their timer from that sync; the others need one set. */
export function pendingTimers(timers: readonly PendingTimer[], appliedNow: readonly string[]): PendingTimer[] {
  const applied = new Set(appliedNow);
  return timers.filter((t) => !applied.has(t.employeeId));
}

/** How a connection asks for approval before a run writes. */
export type ApprovalMode = 'always' | 'firstRun' | 'onSafeguard' | 'never';

/**
 * What a run waits for before applying: the whole plan (`plan`), only the deactivations a
 * safeguard holds (`held`), or nothing (`none`), and why, in words.
 */
export interface ApprovalDecision {
  scope: 'plan' | 'held' | 'none';
  reason: string;
}

export interface ApprovalInput {
  mode: ApprovalMode;
  /** The connection has no saved state: no full sync has finished for it yet. */
  firstRun: boolean;
  /** Employees the plan writes to (held ones included) and those a safeguard holds. */
  toApply: number;
  held: number;
  safeguard: SafeguardVerdict;
}

/**
 * What a run waits for before applying, from the connection's approval mode: the whole plan
 * (`always`; `firstRun` on the first run), the deactivations a safeguard holds (`onSafeguard`,
 * and `firstRun` later on), or nothing (`never`: held deactivations are left undone). A plan
 * with nothing to apply waits for nothing.
 */
export function approvalFor(input: ApprovalInput): ApprovalDecision {
  if (input.toApply === 0) return { scope: 'none', reason: 'nothing to apply' };
  if (input.mode === 'always') return { scope: 'plan', reason: 'approval mode always' };
  if (input.mode === 'firstRun' && input.firstRun)
    return { scope: 'plan', reason: 'first run of this connection, approval mode firstRun' };
  if (input.held === 0)
    return {
      scope: 'none',
      reason: input.safeguard.tripped ? 'safeguard tripped, but it holds nothing' : 'no safeguard tripped',
    };
  if (input.mode === 'never') return { scope: 'none', reason: 'held: safeguard, approval mode never' };
  return { scope: 'held', reason: input.safeguard.reason ?? 'a safeguard holds deactivations' };
}

/** A safeguard's verdict as the run keeps it: `notAsked` when approval mode never leaves what it holds undone. */
export type SafeguardOutcome = SafeguardVerdict & { decision?: 'notAsked' };

/** What the run waits for, and the safeguard as the run keeps it. */
export function decideApproval(input: ApprovalInput): { approval: ApprovalDecision; safeguard: SafeguardOutcome } {
  const approval = approvalFor(input);
  // Approval mode never: what the safeguard holds is left undone without asking anyone.
  const safeguard: SafeguardOutcome =
    input.mode === 'never' && input.safeguard.tripped && approval.scope === 'none'
      ? { ...input.safeguard, decision: 'notAsked' }
      : input.safeguard;
  return { approval, safeguard };
}

export interface FullRunInput {
  /** The HiBob records, in the order HiBob returned them. */
  records: HibobRecordList;
  normalise?: NormaliseOptions;
  mapping: MappingConfig;
  destination: DestinationTraits;
  index: SnapshotIndex;
  /** The connection's protected learners and safeguard limits. */
  safety: Pick<SafeguardInput, 'maxDeactivationPercent' | 'maxDeactivations' | 'maxHibobDropPercent'> & {
    protectedUsers: readonly string[];
  };
  /** What the last full sync left: its people count and each employee's fingerprint. */
  previous: { hibobEmployees?: number; fingerprints: Readonly<Record<string, string>> };
  /** Report rows HiBob returned that the run could not use, and the HiBob ids among them. */
  problems: readonly PopulationProblem[];
  heldEmployeeIds: readonly string[];
  now: Date;
  /** How many days ahead effective dates are handed on to the employees' workflows. */
  timerHorizonDays: number;
  approvalMode: ApprovalMode;
  /** No full sync has finished for the connection yet. */
  firstRun: boolean;
  unmatchedLearners: UnmatchedLearnersMode;
  /** Told the position of each employee before it is planned. */
  progress?: (position: number) => void;
  /**
   * Given, planning remembers the employees it finds in step (FullRunPlan.steady) and plans
   * again only those of `last` whose inputs changed (see steady-memo.ts).
   */
  steady?: { last?: StoredSteadyMemo };
}

export interface FullRunPlan {
  /** Every changed row: HiBob's employees in HiBob's order, then unusable report rows, then learners whose employee is gone. */
  rows: PlannedRow[];
  /** Employee id → fingerprint of each employee already in step. */
  unchanged: Record<string, string>;
  byAction: Partial<Record<EmployeeAction, number>>;
  /** Employees the plan writes to, held ones included. */
  toApply: number;
  /** Employee ids to apply now and those a safeguard holds, managers first. */
  applyNow: string[];
  held: string[];
  /** Effective dates within the horizon of the employees not applied now. */
  pendingTimers: PendingTimer[];
  safeguard: SafeguardOutcome;
  approval: ApprovalDecision;
  /** Learners that match no HiBob person; under `deactivate` the unprotected ones are rows too. */
  unmatched: UnmatchedLearner[];
  /** What each employee not already in step was planned from (PopulationPlan.sources). */
  sources: Map<string, EmployeeSource>;
  /** The employees found in step, for the next run (PopulationPlan.steady). */
  steady?: SteadyMemo;
  /** `steady` holds what `input.steady.last` held: nothing new to store. */
  steadyAsBefore?: boolean;
}

/** A full sync's plan, from HiBob's records and the LMS snapshot; `lookup` reads the learners the snapshot cannot settle. */
export async function planFullRun(input: FullRunInput, lookup: DeepLookup): Promise<FullRunPlan> {
  const { index, safety } = input;
  // A plan approved as a whole is read in full, so that what is approved is what is done.
  const changedFromSnapshot = !(
    input.approvalMode === 'always' ||
    (input.approvalMode === 'firstRun' && input.firstRun)
  );
  const steadyKey =
    input.steady &&
    steadyMemoKey({
      mapping: input.mapping,
      destination: input.destination,
      protectedUsers: safety.protectedUsers,
      normalise: input.normalise,
      changedFromSnapshot,
    });
  const recalled = steadyKey === undefined ? undefined : SteadyMemo.restore(input.steady!.last, steadyKey);
  const population = await planPopulation(
    {
      records: input.records,
      normalise: input.normalise,
      mapping: input.mapping,
      destination: input.destination,
      index,
      protectedUsers: safety.protectedUsers,
      fingerprints: input.previous.fingerprints,
      now: input.now,
      horizonEnd: input.now.getTime() + input.timerHorizonDays * 86_400_000,
      progress: input.progress,
      steady: recalled,
      changedFromSnapshot,
    },
    lookup,
  );
  // Each step below walks the whole population or LMS: the event loop gets a turn in between.
  await nextTurn();
  const unmatched = unmatchedLearners(index, population.employees, input.problems, safety.protectedUsers);
  await nextTurn();
  const planned = [
    ...population.rows,
    ...problemRows(input.problems),
    ...goneRows(index, population.seen, safety.protectedUsers, input.heldEmployeeIds),
    ...unmatchedRows(unmatched, input.unmatchedLearners),
  ];
  const verdict = evaluateSafeguards({
    deactivations: planned.filter((r) => r.action === 'deactivate').length,
    activeLearners: index.activeLearners(),
    hibobEmployees: input.records.length,
    previousHibobEmployees: input.previous.hibobEmployees,
    maxDeactivationPercent: safety.maxDeactivationPercent,
    maxDeactivations: safety.maxDeactivations,
    maxHibobDropPercent: safety.maxHibobDropPercent,
  });
  const rows = holdDeactivations(planned, verdict);
  await nextTurn();
  const toApply = applyOrder(rows, managerDepths(population.employees));
  const { applyNow, held } = splitHeld(toApply);
  const { approval, safeguard } = decideApproval({
    mode: input.approvalMode,
    firstRun: input.firstRun,
    toApply: toApply.length,
    held: held.length,
    safeguard: verdict,
  });
  return {
    rows,
    unchanged: population.unchanged,
    byAction: countByAction(rows, Object.keys(population.unchanged).length),
    toApply: toApply.length,
    applyNow,
    held,
    pendingTimers: pendingTimers(population.timers, applyNow),
    safeguard,
    approval,
    unmatched,
    sources: population.sources,
    ...(population.steady
      ? {
          steady: population.steady,
          steadyAsBefore: input.steady?.last?.key === steadyKey && population.steady.sameAs(recalled!),
        }
      : {}),
  };
}
