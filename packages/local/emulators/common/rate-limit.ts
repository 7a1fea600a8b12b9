import type { EmulatorClock } from './clock';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix epoch seconds at which the current window ends. */
  resetEpochSeconds: number;
}

/**
 * Fixed-window request budget per key (e.g. "service-user:search" or "company:write"),
 * which is how the vendors describe their limits: N requests per second or per minute.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly clock: EmulatorClock,
    public limit: number,
    public windowMs: number,
  ) {}

  take(key: string): RateDecision {
    const now = this.clock.nowMs();
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    let window = this.windows.get(key);
    if (!window || window.start !== start) {
      window = { start, count: 0 };
      this.windows.set(key, window);
    }
    const allowed = window.count < this.limit;
    if (allowed) window.count += 1;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      resetEpochSeconds: Math.ceil((start + this.windowMs) / 1000),
    };
  }

  reset(): void {
    this.windows.clear();
  }
}
