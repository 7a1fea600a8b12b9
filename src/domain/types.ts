/**
 * The domain model: pure data that flows HiBob employee → normalised employee → desired learner
 * → plan of operations against the current learner. Nothing here does I/O; the same inputs
 * always give the same plan, which is what makes plans previewable and workflows replayable.
 */

/** A HiBob value as read: `undefined` = not permitted or unknown (leave the target alone), `null` = empty (clear it). */
export type SourceValue = string | number | boolean | string[] | null | undefined;

export interface SourceField {
  /** Machine value: list item id, ISO date, text, number. */
  value: SourceValue;
  /** Display value (list label, formatted name) when HiBob sent one (humanReadable APPEND). */
  label?: string | null;
}

export interface NormalisedEmployee {
  /** HiBob root.id, a ~19-digit string. The only primary key. */
  id: string;
  /** Work email as HiBob holds it (not yet standardised). */
  email: string | null | undefined;
  /** Every field read, keyed by HiBob field id (`root.firstName`, `work.department`, custom ids…). */
  fields: Record<string, SourceField>;
  /** IANA time zone of the employee's site, for effective dates; undefined = connection default. */
  siteTimeZone?: string;
  lifecycle: {
    /** internal.lifecycleStatus, lower case (`hired`, `employed`, `garden leave`, `terminated`, …). */
    status?: string | null;
    /** internal.status: `Active` / `Inactive`. */
    internalStatus?: string | null;
    startDate?: string | null;
    terminationDate?: string | null;
    lastDayOfWork?: string | null;
  };
  /** HiBob root.id of the manager (work.reportsTo.id); null = no manager; undefined = not readable. */
  managerId?: string | null;
}

/** What the whole-population steps after planning need of each employee: who they are and report to. */
export type PopulationMember = Pick<NormalisedEmployee, 'id' | 'email' | 'managerId'>;

/** The learner state the connector wants in the LMS for one employee. */
export type LearnerStatus = 'active' | 'inactive';

export interface StatusDecision {
  /**
   * `active` / `inactive`: the account should be in that state now.
   * `notYet`: a future hire before the activation lead time: the account should not exist yet
   * (or, if it already does, stay as it is).
   */
  state: LearnerStatus | 'notYet';
  /** Which rule decided, for the plan's reasons (e.g. "lifecycle terminated", "termination date 2026-03-31 passed"). */
  reason: string;
  /** The next instant (UTC ISO) at which the decision changes by itself, e.g. start − lead time, end of last day. */
  changesAt?: string;
  /** The state at `changesAt`. */
  nextState?: LearnerStatus;
}

/**
 * Standard learner fields the connector may own (360Learning user fields; SCIM core and enterprise
 * attributes). `employeeNumber` and `department` exist on SCIM users only.
 */
export const STANDARD_FIELDS = [
  'mail',
  'firstName',
  'lastName',
  'job',
  'organization',
  'phone',
  'lang',
  'employeeNumber',
  'department',
] as const;
/** Standard fields a 360Learning user does not have. */
export const SCIM_ONLY_FIELDS = ['employeeNumber', 'department'] as const;
export type StandardField = (typeof STANDARD_FIELDS)[number];

export interface DesiredLearner {
  employeeId: string;
  /** Within the connection's scope (filters)? Out-of-scope employees are never created. */
  inScope: boolean;
  status: StatusDecision;
  /** undefined = leave untouched, null = clear, string = set. `mail` is always a valid address when present. */
  fields: Partial<Record<StandardField, string | null>>;
  /** Custom field values by custom field name; same undefined/null convention. */
  customFields: Record<string, string | null | undefined>;
  /** HiBob id of the manager, resolved to a learner by the caller through the link. */
  managerEmployeeId?: string | null;
  /** Group roles the rules want for this employee. */
  groups: GroupRole[];
  /**
   * Managed group roles whose rule could not be decided (it reads a field HiBob did not return):
   * the plan neither adds nor removes them.
   */
  heldGroups?: GroupRole[];
  /**
   * How each value was produced, for the reasons of plans and reports: `mail` →
   * `fields.mail ← root.email | trim | lowercase`, `customFields.<name>`, `groups.<groupId>/<role>`, `scope`.
   */
  provenance?: Record<string, string>;
}

export type ParkCode = 'invalidEmail' | 'missingEmail' | 'conflict' | 'invalidValue' | 'unauthorizedValue';

/** An employee that cannot be turned into a learner; reported with the reason, nothing written. */
export interface ParkedEmployee {
  employeeId: string;
  park: string;
  code: ParkCode;
}

export interface GroupRole {
  groupId: string;
  /** Body form (`userAdmin`, not `user-admin`). */
  role: 'admin' | 'analyst' | 'editor' | 'coach' | 'contributor' | 'learner' | 'userAdmin';
}

/** What the LMS holds now for the learner linked to (or matched with) an employee. */
export interface CurrentLearner {
  learnerId: string;
  status: 'active' | 'invited' | 'deleted';
  fields: Partial<Record<StandardField, string>>;
  /** Custom field values by custom field name. */
  customFields: Record<string, string>;
  /** Learner ids of the current managers. */
  managerIds: string[];
  groups: GroupRole[];
  /** HiBob id stored as the learner's external id, if any. */
  externalId?: string;
}

/** How the current learner was found, decided by the caller's lookups. */
export type Match =
  { kind: 'none' } | { kind: 'externalId'; learner: CurrentLearner } | { kind: 'email'; learner: CurrentLearner };

/** What planning needs to know about the destination a connection writes to. */
export interface DestinationTraits {
  /** 360Learning: the group every new learner joins. */
  defaultGroupId?: string;
  createsActiveLearners?: boolean;
  refusesApostropheInMail?: boolean;
  /** A created learner carries the HiBob id from its first write (SCIM `externalId`): no link step follows. */
  linksOnCreate?: boolean;
}

/** A value a custom field kept strict (`authorizedValues: strict`) does not list: the employee is parked. */
export interface RefusedValue {
  field: string;
  value: string;
}

/** A group role bobsync gave, with the rule that gave it (from its durable ownership record). */
export interface OwnedGroupRole extends GroupRole {
  rule: string;
}

/** Context the plan needs beyond the two sides. */
export interface PlanContext {
  /** Manager's HiBob id → learner id, for managers already provisioned. */
  managerLearnerIds: Record<string, string>;
  /** Group roles the connector owns: only these are ever added or removed. */
  managedGroupRoles: GroupRole[];
  /** Group every new learner joins at creation (360Learning requires one membership; SCIM has none). */
  defaultMembership?: GroupRole;
  /** A created or restored learner is active at once (SCIM `active: true`) rather than invited. */
  createsActiveLearners?: boolean;
  /** The destination refuses emails with an apostrophe (Skillcast): such an employee is parked, nothing sent. */
  refusesApostropheInMail?: boolean;
  /** A created learner carries the HiBob id already (SCIM `externalId` in the POST): no linkExternalId follows a create. */
  linksOnCreate?: boolean;
  /**
   * Which of the learner's current managers are learners linked to a HiBob employee, i.e. were set
   * from HiBob and may be replaced. Managers outside this list were set by hand and are kept.
   * When omitted, every learner id in `managerLearnerIds` counts as linked.
   */
  linkedManagerLearnerIds?: string[];
  /** What happens to the learner of an employee who left the scope (mapping.scope.onLeaveScope); default deactivate. */
  onLeaveScope?: 'deactivate' | 'ignore';
  /**
   * A learner found by email for an inactive employee is linked and deactivated rather than left
   * alone. Full syncs set it (they see every HiBob person, leavers included, so the address is
   * known to be the leaver's); real-time syncs of one employee do not.
   */
  adoptLeavers?: boolean;
}

export type Operation =
  | { op: 'create'; fields: Partial<Record<StandardField, string>>; membership?: GroupRole; reason: string }
  /** A deleted learner comes back (360Learning: POST with the same mail answers 200 and restores it). */
  | { op: 'restore'; fields: Partial<Record<StandardField, string>>; membership?: GroupRole; reason: string }
  | { op: 'linkExternalId'; reason: string }
  | { op: 'updateFields'; changes: FieldChange[]; reason: string }
  /** Replace-all write of the merged custom values (owned fields changed, others preserved). */
  | { op: 'setCustomFields'; values: Record<string, string>; changes: FieldChange[]; reason: string }
  | { op: 'activate'; reason: string }
  | { op: 'deactivate'; reason: string }
  | { op: 'addGroupRole'; group: GroupRole; reason: string }
  | { op: 'removeGroupRole'; group: GroupRole; reason: string }
  | { op: 'addManager'; managerLearnerId: string; reason: string }
  | { op: 'removeManager'; managerLearnerId: string; reason: string }
  /** The manager has no learner yet; the caller retries later instead of dropping the link. */
  | { op: 'deferManager'; managerEmployeeId: string; reason: string };

export interface FieldChange {
  field: string;
  from: string | null | undefined;
  to: string | null;
  /** The mapping rule that produced the value. */
  rule: string;
}

export type PlanOutcome =
  | { kind: 'apply'; operations: Operation[] }
  | { kind: 'noop'; reason: string }
  /** Nothing is written; the employee is reported with the reason (invalid email, conflict…). */
  | { kind: 'park'; reason: string; code: ParkCode };

export interface Plan {
  employeeId: string;
  outcome: PlanOutcome;
  /** When the plan should be recomputed by itself (status change at an effective date). */
  recheckAt?: string;
  /** A stable hash of the desired learner, so an unchanged employee is recognised without a diff. */
  fingerprint: string;
}

/** The one-word summary of what a plan does to an employee's learner. */
export type EmployeeAction =
  | 'create'
  | 'update'
  | 'deactivate'
  | 'reactivate'
  | 'noop'
  | 'park'
  /** On the protected list: never changed. */
  | 'protected'
  /** Held back by a safeguard, waiting for approval. */
  | 'held';

/** One employee of a full-sync plan, as the plan preview and the report show it. */
export interface PlanRow {
  employeeId: string;
  /** Display name and email help a reader find the person; they never leave the report. */
  displayName?: string;
  email?: string;
  learnerId?: string;
  action: EmployeeAction;
  /** Field-level changes (old → new) with the mapping rule that produced each. */
  changes: FieldChange[];
  /** Operations in order, e.g. ["updateFields", "addGroupRole"]. */
  operations: Operation['op'][];
  reason: string;
}
