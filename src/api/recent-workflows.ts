/**
 * Which employee workflows this API process delivered an event to lately. An employee workflow
 * stays open while it has work and for an idle period after (10 minutes), so a recent delivery
 * means it most likely still runs and a plain signal will reach it. The memory is only a hint:
 * a wrong guess costs one extra call, never an event.
 */
export class RecentWorkflows {
  private readonly deliveredAt = new Map<string, number>();

  constructor(
    /** How long after a delivery the workflow is assumed to run; keep it under the idle period. */
    private readonly ttlMs: number,
    /** Bound on memory: the oldest entries go first. */
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  likelyRunning(workflowId: string): boolean {
    const at = this.deliveredAt.get(workflowId);
    if (at === undefined) return false;
    if (this.now() - at < this.ttlMs) return true;
    this.deliveredAt.delete(workflowId);
    return false;
  }

  delivered(workflowId: string): void {
    // Re-inserting moves the key to the end, so Map order stays oldest-first.
    this.deliveredAt.delete(workflowId);
    this.deliveredAt.set(workflowId, this.now());
    if (this.deliveredAt.size > this.maxEntries)
      this.deliveredAt.delete(this.deliveredAt.keys().next().value as string);
  }

  forget(workflowId: string): void {
    this.deliveredAt.delete(workflowId);
  }

  get size(): number {
    return this.deliveredAt.size;
  }
}
