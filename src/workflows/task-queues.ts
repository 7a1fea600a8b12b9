/**
 * Task queue names. Calls to each vendor run on a queue of their own so the worker can put a
 * task-queue rate limit on it (decision 5 of the design): the limit holds across all workflows.
 */
export const taskQueues = (base: string) => ({
  workflows: base,
  hibob: `${base}-hibob`,
});
