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
