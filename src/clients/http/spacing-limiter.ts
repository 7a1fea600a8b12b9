/**
 * Spaces calls evenly within one process, a little under the limit (10 writes/s → one every
 * 105 ms). Across processes, Temporal's task-queue rate limits hold the line.
 *
 * Slots follow a fixed grid rather than "one interval after the last call": a timer that fires
 * a few milliseconds late on a busy event loop would otherwise push every later slot back by as
 * much, and at 10 writes/s a 5 ms delay per call costs 5 % of the limit. After a late call the
 * next may come early to make up the delay, but never sooner than half an interval after it, and
 * never more than ⌊limit⌋ calls within ⌊limit⌋ intervals: sent that way, any one second holds at
 * most the limit even when requests arrive up to 5 % of a second apart from how they were sent.
 * A longer stall is made up by half an interval at most, so it cannot release a burst.
 */
/** Fraction of the limit actually used. */
export const HEADROOM = 0.95;

export class SpacingLimiter {
  private readonly intervalMs: number;
  /** The grid slot the next call is due at. */
  private nextSlot = -Infinity;
  /** The last `windowCalls` grants, oldest first; no call may come within `windowMs` of the oldest. */
  private readonly recent: number[] = [];
  private readonly windowCalls: number;
  private readonly windowMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(perSecond > 0)) throw new Error('a rate limit must be positive');
    this.intervalMs = 1000 / (perSecond * HEADROOM);
    this.windowCalls = Math.max(1, Math.floor(perSecond));
    this.windowMs = this.windowCalls * this.intervalMs;
  }

  /** The earliest instant the next call may go. */
  private earliest(): number {
    const oldest = this.recent.length === this.windowCalls ? this.recent[0]! : -Infinity;
    return Math.max(this.nextSlot, oldest + this.windowMs);
  }

  /** Resolves, with the instant of its slot, when the caller may make its call. */
  async take(): Promise<number> {
    for (;;) {
      const now = this.now();
      const earliest = this.earliest();
      if (now >= earliest) {
        this.grant(now);
        return now;
      }
      await this.sleep(earliest - now);
    }
  }

  private grant(now: number): void {
    // Late by up to half an interval: the next slot stays on the grid and the delay is made up.
    // Later than that (a stall, or no caller for a while): the grid moves to half an interval on.
    this.nextSlot = Math.max(this.nextSlot + this.intervalMs, now + this.intervalMs / 2);
    this.recent.push(now);
    if (this.recent.length > this.windowCalls) this.recent.shift();
  }
}
