/**
 * Spaces calls evenly within one process, a little under the limit (10 writes/s → one every
 * 105 ms). Even spacing keeps any one-second window at or below the limit, which a
 * burst-allowing token bucket would not; the small headroom absorbs network jitter, so requests
 * sent 100 ms apart cannot arrive eleven to a second. Across processes, Temporal's task-queue
 * rate limits hold the line.
 */
/** Fraction of the limit actually used. */
export const HEADROOM = 0.95;

export class SpacingLimiter {
  private nextSlot = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(perSecond > 0)) throw new Error('a rate limit must be positive');
    this.intervalMs = 1000 / (perSecond * HEADROOM);
  }

  /**
   * Resolves, with the instant of its slot, when the caller may make its call. Slots are granted
   * when the caller wakes, not reserved in advance: timers that fire late after a busy event
   * loop cannot then release a burst of calls back to back.
   */
  async take(): Promise<number> {
    for (;;) {
      const now = this.now();
      if (now >= this.nextSlot) {
        this.nextSlot = now + this.intervalMs;
        return now;
      }
      await new Promise((resolve) => setTimeout(resolve, this.nextSlot - now));
    }
  }
}
