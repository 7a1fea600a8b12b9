/**
 * What a full sync remembers of the employees it found in step, so that the next run plans again
 * only those whose inputs changed.
 *
 * Planning an employee from the snapshots reads its HiBob record; the mapping, destination and
 * protected learners; what the LMS lists show of its learner and of its manager's learner; the
 * fingerprint the last run recorded; whether it may take over a leaver's address; and the time,
 * through its status. An employee found in step is remembered under the digest of its record,
 * with each of those inputs as they were. When the next run finds every one of them the same,
 * and the status not yet due to change by itself, the employee is in step again with the same
 * fingerprint and timer, without being normalised, mapped and fingerprinted. Anything different
 * plans it as before.
 *
 * The memo holds only employees planned in step from the snapshots alone: not those read in full,
 * parked, protected or with a row. What is remembered applies only under the same settings
 * (`steadyMemoKey`): another mapping, another destination or another version of the planner
 * starts from an empty memo.
 */
import { fnv1a64, fingerprint } from './fingerprint';
import type { MappingConfig } from './mapping-schema';
import type { NormaliseOptions } from './normalise';
import { matchedLearnerId, type SnapshotIndex } from './snapshot-index';
import type { DestinationTraits, PopulationMember } from './types';

/**
 * Raise whenever planning decides differently from the same inputs: memos made by another
 * version of the planner are then set aside instead of trusted.
 */
const PLANNER_VERSION = 1;

/** One employee found in step, and the inputs its plan was made from. */
export interface SteadyEmployee {
  /** What the whole-population steps after planning need: id, address and manager. */
  member: PopulationMember;
  /** The fingerprint it was found in step with. */
  fingerprint: string;
  /** The fingerprint the run before had recorded for it (absent: none). */
  last?: string;
  /** The address it is matched by, lower case. */
  mail?: string;
  /** Whether that address counts as needed by someone in HiBob (in scope, not inactive): see adoptLeavers. */
  needsMail: boolean;
  /** Whether it could take over a leaver's learner with its address. */
  adoptLeavers: boolean;
  /** The manager's HiBob id as the mapping reads it. */
  managerEmployeeId?: string;
  /** `matchedLearnerView` when it was planned. */
  learner: string;
  /** `managerLearnerOf` when it was planned ('' for none). */
  managerLearner: string;
  /** Until when its status holds (epoch milliseconds; absent: for good). */
  until?: number;
  /** The effective date ahead its workflow must wake up for (in scope, with a status change ahead). */
  timer?: { at: string; reason: string };
}

/** The settings a memo is valid under: change any and every employee is planned again. */
export interface SteadySettings {
  mapping: MappingConfig;
  destination: DestinationTraits;
  protectedUsers: readonly string[];
  normalise?: NormaliseOptions;
  changedFromSnapshot?: boolean;
}

export function steadyMemoKey(settings: SteadySettings): string {
  return fingerprint({
    planner: PLANNER_VERSION,
    ...settings,
    protectedUsers: [...settings.protectedUsers].sort(),
    changedFromSnapshot: settings.changedFromSnapshot === true,
  });
}

/** The memo as stored between runs. */
export interface StoredSteadyMemo {
  key: string;
  /** Record digest → the employee. */
  employees: [string, SteadyEmployee][];
}

/** Employees in step, by the digest of their HiBob record, under one `steadyMemoKey`. */
export class SteadyMemo {
  private readonly employees: Map<string, SteadyEmployee>;

  constructor(
    readonly key: string,
    employees: Iterable<[string, SteadyEmployee]> = [],
  ) {
    this.employees = new Map(employees);
  }

  /** What was stored, when made under `key`; an empty memo otherwise. */
  static restore(stored: StoredSteadyMemo | undefined, key: string): SteadyMemo {
    return new SteadyMemo(key, stored?.key === key ? stored.employees : []);
  }

  get size(): number {
    return this.employees.size;
  }

  recall(recordDigest: string): SteadyEmployee | undefined {
    return this.employees.get(recordDigest);
  }

  remember(recordDigest: string, employee: SteadyEmployee): void {
    this.employees.set(recordDigest, employee);
  }

  /** Whether both hold the very same entries under the same key (as recalled, not rebuilt). */
  sameAs(other: SteadyMemo): boolean {
    if (other.key !== this.key || other.size !== this.size) return false;
    for (const [digest, employee] of this.employees) if (other.recall(digest) !== employee) return false;
    return true;
  }

  toJSON(): StoredSteadyMemo {
    return { key: this.key, employees: [...this.employees] };
  }
}

/**
 * Everything planning reads of the learner an employee matches, as one digest: how it matched,
 * its list entry (but the last sign-in, which only the unmatched learners' list shows), its group
 * roles, its link and, when the list shows managers, which of them are linked. '' when none matches.
 */
export function matchedLearnerView(
  index: SnapshotIndex,
  employeeId: string,
  mail: string | undefined,
  mapping: MappingConfig,
): string {
  const match = matchedLearnerId(index, employeeId, mail, mapping);
  if (!match) return '';
  const { lastLogin: _lastLogin, ...user } = index.byLearner.get(match.learnerId)!;
  const linkedManagers = index.snapshot.complete
    ? (user.managerIds ?? []).map((id) => index.employeeOfLearner.has(id))
    : null;
  return `${match.kind}:${fnv1a64(
    JSON.stringify([
      user,
      index.rolesOf.get(match.learnerId) ?? [],
      index.employeeOfLearner.get(match.learnerId) ?? null,
      linkedManagers,
    ]),
  )}`;
}
