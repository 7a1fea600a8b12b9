/**
 * Status rules: should the employee's learner be active now, inactive, or not exist yet?
 *
 * Effective dates are calendar dates at the employee's site (HiBob applies lifecycle changes at
 * local midnight), so they become instants in the site's time zone, falling back to the
 * connection's default. `now` is always given; the decision also says when it will change by
 * itself (`changesAt`) so a workflow can sleep until then instead of polling.
 *
 * Order of the rules (first that applies wins):
 *  1. lifecycle status listed as inactive (terminated)            → inactive
 *  2. the last day of work (or termination date) has ended        → inactive
 *  3. before the start date minus the activation lead time        → notYet, changes at activation
 *  4. activeLifecycleStatuses set and the lifecycle is not in it  → inactive
 *  5. a leave status                                              → active if keepActive, else inactive
 *  6. internal.status Inactive, unless the start date is today or ahead → inactive (useInternalStatus)
 *  7. otherwise (employed, hired after start, garden leave…)      → active
 * An active decision with a termination ahead changes to inactive at the end of the last day.
 * End dates before the start date belong to an earlier employment (rehire) and are ignored.
 */
import type { StatusRules } from './mapping-schema';
import { addDays, describeInstant, isIsoDate, isTimeZone, localDate, localMidnightUtc } from './time';
import type { LearnerStatus, NormalisedEmployee, StatusDecision } from './types';

interface Timeline {
  timeZone: string;
  today: string;
  start?: string;
  /** Instant the learner may be activated (start − lead time). */
  activation?: Date;
  /** Last working day and the instant the learner is deactivated. */
  lastDay?: string;
  deactivation?: Date;
  /** The deactivation instant in local time and what it is, for reasons. */
  ending?: string;
}

function timeline(employee: NormalisedEmployee, rules: StatusRules, now: Date): Timeline {
  const timeZone = isTimeZone(employee.siteTimeZone) ? employee.siteTimeZone : rules.defaultTimeZone;
  const { startDate, terminationDate, lastDayOfWork } = employee.lifecycle;
  const start = isIsoDate(startDate) ? startDate : undefined;
  const termination = isIsoDate(terminationDate) && !(start && terminationDate < start) ? terminationDate : undefined;
  const lastWorked = isIsoDate(lastDayOfWork) && !(start && lastDayOfWork < start) ? lastDayOfWork : undefined;
  const t: Timeline = { timeZone, today: localDate(now, timeZone) };
  if (start) {
    t.start = start;
    t.activation = localMidnightUtc(addDays(start, -rules.activateBeforeStartDays), timeZone);
  }
  const lastDay = lastWorked ?? termination;
  if (lastDay) {
    t.lastDay = lastDay;
    const atTermination = rules.deactivateAt === 'startOfTerminationDate' && termination !== undefined;
    t.deactivation = localMidnightUtc(atTermination ? termination : addDays(lastDay, 1), timeZone);
    t.ending = `${describeInstant(t.deactivation, timeZone)} (${atTermination ? `start of the termination date ${termination}` : `end of the last day ${lastDay}`})`;
  }
  return t;
}

function listed(list: readonly string[] | undefined, value: string | null | undefined): boolean {
  return typeof value === 'string' && !!list?.includes(value);
}

function baseDecision(employee: NormalisedEmployee, rules: StatusRules, t: Timeline, now: Date): StatusDecision {
  const lifecycle = employee.lifecycle.status;
  if (listed(rules.inactiveLifecycleStatuses, lifecycle)) {
    return { state: 'inactive', reason: `lifecycle status is ${lifecycle}` };
  }
  if (t.deactivation && now.getTime() >= t.deactivation.getTime()) {
    return { state: 'inactive', reason: `deactivated since ${t.ending}` };
  }
  if (t.activation && now.getTime() < t.activation.getTime()) {
    const lead = rules.activateBeforeStartDays ? ` (${rules.activateBeforeStartDays} days before the start date)` : '';
    const then = evaluateStatus(employee, rules, t.activation);
    return {
      state: 'notYet',
      reason: `starts on ${t.start}; activation at ${describeInstant(t.activation, t.timeZone)}${lead}`,
      changesAt: t.activation.toISOString(),
      nextState: then.state === 'notYet' ? 'active' : then.state,
    };
  }
  const leave = listed(rules.leaveStatuses.statuses, lifecycle);
  if (
    rules.activeLifecycleStatuses &&
    typeof lifecycle === 'string' &&
    !leave &&
    !rules.activeLifecycleStatuses.includes(lifecycle)
  ) {
    return { state: 'inactive', reason: `lifecycle status ${lifecycle} is not in status.activeLifecycleStatuses` };
  }
  if (leave) {
    return rules.leaveStatuses.keepActive
      ? { state: 'active', reason: `on ${lifecycle}; kept active (status.leaveStatuses.keepActive)` }
      : { state: 'inactive', reason: `on ${lifecycle}; status.leaveStatuses.keepActive is false` };
  }
  // HiBob turns a joiner Active at local midnight of the start date, and reads may lag behind:
  // on the start date itself its Inactive is not trusted yet.
  const starting = t.start !== undefined && t.start >= t.today;
  if (rules.useInternalStatus && employee.lifecycle.internalStatus?.toLowerCase() === 'inactive' && !starting) {
    return { state: 'inactive', reason: 'HiBob internal status is Inactive' };
  }
  if (starting && t.start === t.today) return { state: 'active', reason: `starts today (${t.start})` };
  if (starting)
    return { state: 'active', reason: `starts on ${t.start}; activated ${rules.activateBeforeStartDays} days ahead` };
  if (typeof lifecycle === 'string') return { state: 'active', reason: `lifecycle status is ${lifecycle}` };
  return { state: 'active', reason: `HiBob internal status is ${employee.lifecycle.internalStatus ?? 'not set'}` };
}

/** Decides the learner's state at `now` and when that decision changes by itself. */
export function evaluateStatus(employee: NormalisedEmployee, rules: StatusRules, now: Date): StatusDecision {
  const t = timeline(employee, rules, now);
  const decision = baseDecision(employee, rules, t, now);
  if (decision.state === 'active' && t.deactivation) {
    decision.reason += `; deactivation at ${t.ending}`;
    decision.changesAt = t.deactivation.toISOString();
    decision.nextState = 'inactive';
  }
  return decision;
}

/**
 * Until when (epoch milliseconds) the decision at `now`, reason included, stays what it is while
 * the employee's record stays the same; undefined when it holds for good. Besides the activation
 * and the deactivation, the decision follows the local date from the start date on (rule 6 and
 * the "starts today" reasons), so it holds at most until the next local midnight then.
 */
export function decisionHoldsUntil(employee: NormalisedEmployee, rules: StatusRules, now: Date): number | undefined {
  const t = timeline(employee, rules, now);
  let until = Infinity;
  for (const at of [t.activation, t.deactivation])
    if (at && at.getTime() > now.getTime()) until = Math.min(until, at.getTime());
  if (t.start !== undefined && t.start >= t.today)
    until = Math.min(until, localMidnightUtc(addDays(t.today, 1), t.timeZone).getTime());
  return until === Infinity ? undefined : until;
}

/** The state a learner account should end up in, given a decision (notYet leaves it as it is). */
export function targetState(decision: StatusDecision): LearnerStatus | undefined {
  return decision.state === 'notYet' ? undefined : decision.state;
}
