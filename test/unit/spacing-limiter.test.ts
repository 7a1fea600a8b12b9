import { SpacingLimiter, HEADROOM } from '../../src/clients/http/spacing-limiter';

describe('spacing limiter', () => {
  it('never grants two calls closer than the interval, even to many waiting callers', async () => {
    const limiter = new SpacingLimiter(50, () => performance.now());
    // The instants the limiter granted, not when each caller resumed: a busy machine may wake
    // two callers back to back, but their slots are still an interval apart.
    const granted = await Promise.all(Array.from({ length: 20 }, () => limiter.take()));
    granted.sort((a, b) => a - b);
    const gaps = granted.slice(1).map((t, i) => t - granted[i]!);
    // 50/s with headroom → at least 21 ms apart.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / (50 * HEADROOM));
  });

  it('does not release a burst after the event loop was blocked', async () => {
    const limiter = new SpacingLimiter(100, () => performance.now());
    await limiter.take();
    const waiting = Array.from({ length: 5 }, () => limiter.take());
    const until = Date.now() + 200;
    while (Date.now() < until) {
      /* a busy event loop: every timer is late */
    }
    const times = (await Promise.all(waiting)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(5);
  });
});
