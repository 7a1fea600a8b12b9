/**
 * Lifecycle rules, pure. Dates on the record are the truth; a transition is due once its
 * effective date has begun in the employee's site time zone (contract §8):
 *
 * - hired → employed (Active) on the start date;
 * - employed / on leave → terminated (Inactive) on the termination date, or → garden leave
 *   (still Active) on the termination date when the last day of work is later;
 * - garden leave → terminated (Inactive) the day after the last day of work;
 * - employed → a leave type on the leave start; back to employed the day after the leave ends.
 */
import { addDays } from './dates';
import type { EmployeeStatus, HibobEmployeeRecord, HibobEventType, LifecycleRow } from './types';

export interface LifecycleState {
  lifecycleStatus: string;
  status: EmployeeStatus;
}

export interface Transition {
  effectiveDate: string;
  to: LifecycleState;
  clearLeave: boolean;
}

const NOT_LEAVE = new Set(['hired', 'employed', 'garden leave', 'terminated']);

export function isLeaveStatus(lifecycleStatus: string): boolean {
  return !NOT_LEAVE.has(lifecycleStatus.toLowerCase());
}

/** The first transition due on `today` (local date of the employee's site), if any. */
export function nextTransition(rec: HibobEmployeeRecord, today: string): Transition | null {
  const lc = rec.lifecycleStatus.toLowerCase();
  if (lc === 'terminated') return null;
  if (lc === 'hired') {
    if (rec.startDate && rec.startDate <= today) {
      return { effectiveDate: rec.startDate, to: { lifecycleStatus: 'employed', status: 'Active' }, clearLeave: false };
    }
    return null;
  }
  if (lc === 'garden leave') {
    const lastDay = rec.lastDayOfWork ?? rec.terminationDate;
    if (lastDay && addDays(lastDay, 1) <= today) {
      return {
        effectiveDate: addDays(lastDay, 1),
        to: { lifecycleStatus: 'terminated', status: 'Inactive' },
        clearLeave: true,
      };
    }
    return null;
  }
  if (rec.terminationDate && rec.terminationDate <= today) {
    const garden = rec.lastDayOfWork !== null && rec.lastDayOfWork > rec.terminationDate;
    return {
      effectiveDate: rec.terminationDate,
      to: garden
        ? { lifecycleStatus: 'garden leave', status: 'Active' }
        : { lifecycleStatus: 'terminated', status: 'Inactive' },
      clearLeave: true,
    };
  }
  const leave = rec.leave;
  if (lc === 'employed' && leave && leave.startDate <= today) {
    return {
      effectiveDate: leave.startDate,
      to: { lifecycleStatus: leave.type, status: leave.inactive ? 'Inactive' : 'Active' },
      clearLeave: false,
    };
  }
  if (isLeaveStatus(lc) && leave?.endDate && addDays(leave.endDate, 1) <= today) {
    return {
      effectiveDate: addDays(leave.endDate, 1),
      to: { lifecycleStatus: 'employed', status: 'Active' },
      clearLeave: true,
    };
  }
  return null;
}

/** Lifecycle webhook types a transition raises, before the accompanying employee.updated. */
export function transitionEvents(from: LifecycleState, to: LifecycleState): HibobEventType[] {
  const fromLc = from.lifecycleStatus.toLowerCase();
  const toLc = to.lifecycleStatus.toLowerCase();
  const events: HibobEventType[] = [];
  if (fromLc === 'hired' && toLc === 'employed') events.push('employee.joined');
  if (toLc === 'garden leave' || (toLc === 'terminated' && fromLc !== 'garden leave')) events.push('employee.left');
  if (isLeaveStatus(toLc)) events.push('employee.temporaryLeave');
  if (from.status !== to.status) events.push(to.status === 'Active' ? 'employee.activated' : 'employee.inactivated');
  return events;
}

/** State a record should be in on `today`, applying every due transition in order. */
export function settle(rec: HibobEmployeeRecord, today: string): Transition[] {
  const applied: Transition[] = [];
  // Each rule moves the record forward, so a handful of steps always suffices.
  for (let i = 0; i < 8; i++) {
    const t = nextTransition(rec, today);
    if (!t) break;
    applyTransition(rec, t);
    applied.push(t);
  }
  return applied;
}

export function applyTransition(rec: HibobEmployeeRecord, t: Transition): void {
  rec.lifecycleStatus = t.to.lifecycleStatus;
  rec.status = t.to.status;
  if (t.clearLeave) rec.leave = null;
}

type RowDraft = Omit<LifecycleRow, 'id'>;

/** Rows a termination adds to the lifecycle table (future-dated rows are visible at once). */
export function terminationRows(
  terminationDate: string,
  lastDayOfWork: string | null,
  reason: string | null,
): RowDraft[] {
  if (lastDayOfWork && lastDayOfWork > terminationDate) {
    return [
      { effectiveDate: terminationDate, status: 'garden leave', reason, reasonType: null },
      { effectiveDate: addDays(lastDayOfWork, 1), status: 'terminated', reason, reasonType: null },
    ];
  }
  return [{ effectiveDate: terminationDate, status: 'terminated', reason, reasonType: null }];
}

/** A plausible lifecycle history for a seeded record that brings none. */
export function deriveLifecycleRows(rec: HibobEmployeeRecord, terminationReasonLabel: string | null): RowDraft[] {
  const rows: RowDraft[] = [];
  const created = rec.creationDateTime.slice(0, 10);
  if (rec.startDate && created < rec.startDate)
    rows.push({ effectiveDate: created, status: 'hired', reason: null, reasonType: null });
  if (rec.startDate) rows.push({ effectiveDate: rec.startDate, status: 'employed', reason: null, reasonType: null });
  if (rec.leave) {
    rows.push({ effectiveDate: rec.leave.startDate, status: rec.leave.type, reason: null, reasonType: null });
    if (rec.leave.endDate)
      rows.push({ effectiveDate: addDays(rec.leave.endDate, 1), status: 'employed', reason: null, reasonType: null });
  }
  if (rec.terminationDate)
    rows.push(...terminationRows(rec.terminationDate, rec.lastDayOfWork, terminationReasonLabel));
  return rows.sort((a, b) => a.effectiveDate.localeCompare(b.effectiveDate));
}
