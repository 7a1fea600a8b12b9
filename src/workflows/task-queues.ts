/**
 * Task queue names. Calls to each vendor run on a queue of their own so the worker can put a
 * task-queue rate limit on it (decision 5 of the design): the limit holds across all workflows
 * and all worker processes.
 */
export const taskQueues = (base: string) => ({
  workflows: base,
  /** HiBob reads of one employee (real time). */
  hibob: `${base}-hibob`,
  /** HiBob people searches: 50 per minute per tenant. */
  hibobSearch: `${base}-hibob-search`,
  lmsReads: `${base}-lms-reads`,
  lmsWrites: `${base}-lms-writes`,
});
