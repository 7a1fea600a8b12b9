/**
 * NormalisedEmployee + mapping → the learner the connector wants, or a parked employee.
 *
 * A problem with the data (no email, an invalid email, a date custom field that is not a date,
 * a scope that cannot be decided) parks the employee only when the employee needs an account
 * (in scope and not inactive). For a leaver the faulty value is simply left untouched, so a
 * bad email never keeps a terminated employee's learner active.
 */
import { STANDARD_FIELDS } from './types';
import type { MappingConfig } from './mapping-schema';
import {
  describeCondition,
  describeExpression,
  evaluateCondition,
  evaluateExpression,
  unreadableFields,
  type Truth,
} from './expressions';
import { evaluateStatus } from './status';
import { isIsoDate } from './time';
import type { DesiredLearner, GroupRole, NormalisedEmployee, ParkCode, ParkedEmployee } from './types';

export interface DesiredOptions {
  /** 360Learning accepts apostrophes in addresses (o'neil@…); Skillcast rejects them. Default true. */
  allowApostropheInEmail?: boolean;
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const TOP_LEVEL = /^(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$/;

/**
 * A practical address check (not the full RFC 5322 grammar, which allows quoted spaces and
 * comments no LMS accepts). Returns what is wrong, or undefined when the address is usable.
 */
export function emailProblem(mail: string, options: DesiredOptions = {}): string | undefined {
  if (/\s/.test(mail)) return 'contains a space';
  const at = mail.lastIndexOf('@');
  if (at <= 0 || at === mail.length - 1) return 'needs a name, an @ and a domain';
  if (mail.indexOf('@') !== at) return 'has more than one @';
  if (mail.length > 254) return 'is longer than 254 characters';
  const local = mail.slice(0, at);
  const domain = mail.slice(at + 1);
  if (local.length > 64) return 'has more than 64 characters before the @';
  if (options.allowApostropheInEmail === false && local.includes("'"))
    return 'contains an apostrophe, which this destination rejects';
  if (!LOCAL_PART.test(local)) return 'has characters or dots before the @ that addresses cannot hold';
  const labels = domain.split('.');
  if (labels.length < 2) return 'has a domain without a dot';
  if (!labels.every((l) => DOMAIN_LABEL.test(l))) return `has an invalid domain "${domain}"`;
  if (!TOP_LEVEL.test(labels[labels.length - 1]!)) return `has an invalid top-level domain in "${domain}"`;
  return undefined;
}

export function isParked(value: DesiredLearner | ParkedEmployee): value is ParkedEmployee {
  return 'park' in value;
}

function roleKey(g: GroupRole): string {
  return `${g.groupId.toLowerCase()}/${g.role}`;
}

/** Every group role the mapping's rules can give: the only roles the connector adds or removes. */
export function managedGroupRoles(mapping: MappingConfig): GroupRole[] {
  const seen = new Map<string, GroupRole>();
  for (const rule of mapping.groups) {
    const g: GroupRole = { groupId: rule.groupId, role: rule.role };
    if (!seen.has(roleKey(g))) seen.set(roleKey(g), g);
  }
  return [...seen.values()];
}

/**
 * The text a mapping entry gives every employee's provenance, made once per entry: the same for
 * everyone, so 100,000 desired learners share one string instead of holding a copy each.
 */
const describedEntries = new WeakMap<object, Map<string, string>>();
/** `entry` is a part of the mapping, `place` where it sits (one entry may sit in two places). */
function describedOnce(entry: object, place: string, describe: () => string): string {
  let texts = describedEntries.get(entry);
  if (!texts) describedEntries.set(entry, (texts = new Map<string, string>()));
  let text = texts.get(place);
  if (text === undefined) texts.set(place, (text = describe()));
  return text;
}

function scopeDecision(employee: NormalisedEmployee, mapping: MappingConfig): { inScope: Truth; why: string } {
  const { include, exclude } = mapping.scope;
  const included = include ? evaluateCondition(include, employee) : true;
  const excluded = exclude ? evaluateCondition(exclude, employee) : false;
  if (included === false && include)
    return {
      inScope: false,
      why: describedOnce(
        include,
        'include',
        () => `out of scope: scope.include is not met (${describeCondition(include)})`,
      ),
    };
  if (excluded === true && exclude)
    return {
      inScope: false,
      why: describedOnce(
        exclude,
        'exclude',
        () => `out of scope: scope.exclude matches (${describeCondition(exclude)})`,
      ),
    };
  if (included === undefined || excluded === undefined) {
    const unread = [include, exclude].flatMap((c) => (c ? unreadableFields(c, employee) : []));
    return {
      inScope: undefined,
      why: `scope cannot be decided: HiBob did not return ${[...new Set(unread)].join(', ')} (check the service user's permissions)`,
    };
  }
  return { inScope: true, why: include || exclude ? 'in scope' : 'in scope (no scope rules)' };
}

/** The learner wanted for `employee` at `now`, or the reason it cannot be synchronised. */
export function desiredLearner(
  employee: NormalisedEmployee,
  mapping: MappingConfig,
  now: Date,
  options: DesiredOptions = {},
): DesiredLearner | ParkedEmployee {
  const park = (reason: string, code: ParkCode): ParkedEmployee => ({ employeeId: employee.id, park: reason, code });
  const { lifecycle } = employee;

  if (lifecycle.status === undefined && (lifecycle.internalStatus === undefined || !mapping.status.useInternalStatus)) {
    return park(
      'status cannot be decided: HiBob returned no internal.lifecycleStatus (nor a usable internal.status); check that the service user may read the internal category',
      'invalidValue',
    );
  }
  const scope = scopeDecision(employee, mapping);
  if (scope.inScope === undefined) return park(scope.why, 'invalidValue');
  const provenance: Record<string, string> = { scope: scope.why };
  const status = evaluateStatus(employee, mapping.status, now);
  const needsAccount = scope.inScope && status.state !== 'inactive';
  // Value problems park an employee who needs an account; for anyone else the value stays untouched.
  let parked: ParkedEmployee | undefined;
  const problem = (reason: string, code: ParkCode) => {
    if (needsAccount && !parked) parked = park(reason, code);
  };

  const fields: DesiredLearner['fields'] = {};
  for (const name of STANDARD_FIELDS) {
    const expr = mapping.fields[name];
    if (!expr) continue;
    const value = evaluateExpression(expr, employee);
    provenance[name] = describedOnce(expr, name, () => `fields.${name} ← ${describeExpression(expr)}`);
    if (value !== undefined) fields[name] = value;
  }
  if (mapping.fields.mail) {
    const mail = fields.mail;
    if (typeof mail !== 'string') {
      problem(
        mail === null
          ? 'HiBob holds no email for this employee'
          : 'HiBob did not return the email field (check the service user may read it)',
        'missingEmail',
      );
      delete fields.mail;
    } else {
      const wrong = emailProblem(mail, options);
      if (wrong) {
        problem(`email "${mail}" ${wrong}`, 'invalidEmail');
        delete fields.mail;
      }
    }
  }

  const customFields: DesiredLearner['customFields'] = {};
  for (const custom of mapping.customFields) {
    const value = evaluateExpression(custom.source, employee);
    provenance[`customFields.${custom.name}`] = describedOnce(
      custom,
      custom.name,
      () => `customFields "${custom.name}" ← ${describeExpression(custom.source)}`,
    );
    if (value === undefined) continue;
    const text = value;
    if (custom.type === 'date' && value !== null && !isIsoDate(value)) {
      problem(
        `custom field "${custom.name}" is a date field and needs YYYY-MM-DD, but the mapping gives "${text}"`,
        'invalidValue',
      );
      continue;
    }
    customFields[custom.name] = value;
  }
  if (parked) return parked;

  const groups = new Map<string, GroupRole>();
  const held = new Map<string, GroupRole>();
  mapping.groups.forEach((rule, i) => {
    const g: GroupRole = { groupId: rule.groupId, role: rule.role };
    const truth = evaluateCondition(rule.when, employee);
    if (truth === false) return;
    if (truth === undefined) {
      held.set(roleKey(g), g);
      provenance[`groups.${roleKey(g)}`] ??=
        `groups[${i}] cannot be decided: HiBob did not return ${unreadableFields(rule.when, employee).join(', ')}; the role is left as it is`;
      return;
    }
    if (!groups.has(roleKey(g))) {
      groups.set(roleKey(g), g);
      provenance[`groups.${roleKey(g)}`] = describedOnce(
        rule,
        String(i),
        () => `groups[${i}]: ${describeCondition(rule.when)}`,
      );
    }
  });
  for (const key of groups.keys()) held.delete(key);

  const desired: DesiredLearner = {
    employeeId: employee.id,
    inScope: scope.inScope,
    status,
    fields,
    customFields,
    groups: [...groups.values()],
    provenance,
  };
  if (held.size) desired.heldGroups = [...held.values()];
  if (mapping.manager.enabled && employee.managerId !== undefined) {
    desired.managerEmployeeId = employee.managerId === employee.id ? null : employee.managerId;
    provenance.manager = 'manager ← work.reportsTo';
  }
  return desired;
}
