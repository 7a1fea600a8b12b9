/**
 * Task queue names. Calls to each vendor run on a queue of their own so the worker can put a
 * task-queue rate limit on it (decision 5 of the design): the limit holds across all workflows
 * and all worker processes. LMS queues are per connection: two LMS tenants each have their own
 * budget, and a slow one never holds up the other.
 */
export const taskQueues = (base: string, connection?: string) => ({
  workflows: base,
  /** HiBob reads of one employee (real time). */
  hibob: `${base}-hibob`,
  /** HiBob people searches: 50 per minute per tenant. */
  hibobSearch: `${base}-hibob-search`,
  lmsReads: lmsQueue(base, 'reads', connection),
  lmsWrites: lmsQueue(base, 'writes', connection),
});

/** The queue of one connection's LMS reads or writes (a workflow that names no connection uses the shared one). */
export function lmsQueue(base: string, kind: 'reads' | 'writes', connection?: string): string {
  return connection ? `${base}-lms-${kind}-${connection}` : `${base}-lms-${kind}`;
}
