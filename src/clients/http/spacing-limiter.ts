/**
 * Spaces calls evenly at a fixed rate within one process (e.g. 10 writes/s → one every 100 ms).
 * Even spacing keeps any one-second window at or below the limit, which a burst-allowing token
 * bucket would not. Across processes, Temporal's task-queue rate limits hold the line.
 */
export class SpacingLimiter {
  private nextSlot = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perSecond > 0)) throw new Error('a rate limit must be positive');
    this.intervalMs = 1000 / perSecond;
  }

  /** Resolves when the caller may make its call. */
  async take(): Promise<void> {
    const now = this.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + this.intervalMs;
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }
}
