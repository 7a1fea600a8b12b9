/**
 * What an employee id may look like. HiBob backend ids are ~19-digit strings (contract §13); the
 * rule also takes other short opaque ids, so an id in an unexpected but harmless form is still
 * synced rather than refused for good. It keeps out what no HiBob id holds and what would break the
 * employee's workflow id or the re-read by id: huge values, whitespace and control characters,
 * `/`, and `@` (an email, which HiBob's read would accept as a lookup).
 */
export const HIBOB_EMPLOYEE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Workflow ids carry opaque ids only (HiBob root.id), never names or emails. */
export function employeeWorkflowId(connection: string, employeeId: string): string {
  return `bobsync/${connection}/employee/${employeeId}`;
}

export function notifierWorkflowId(connection: string): string {
  return `bobsync/${connection}/notifier`;
}

/** One full-sync run; `suffix` is a timestamp, or for a schedule the prefix Temporal appends its own to. */
export function fullSyncWorkflowId(connection: string, suffix: string): string {
  return `bobsync/${connection}/full-sync/${suffix}`;
}

/** The Temporal Schedule of a connection's full sync, whether made by `bobsync schedule` or `temporal schedule`. */
export function fullSyncScheduleId(connection: string): string {
  return `bobsync/${connection}/full-sync`;
}
