import { SpacingLimiter, HEADROOM } from '../../src/clients/http/spacing-limiter';

describe('spacing limiter', () => {
  it('never grants two calls closer than the interval, even to many waiting callers', async () => {
    const limiter = new SpacingLimiter(50);
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        await limiter.take();
        granted.push(performance.now());
      }),
    );
    granted.sort((a, b) => a - b);
    const gaps = granted.slice(1).map((t, i) => t - granted[i]!);
    // 50/s with headroom → about 21 ms apart; timers may fire a little early, never in bursts.
    expect(Math.min(...gaps)).toBeGreaterThan((1000 / (50 * HEADROOM)) * 0.8);
  });

  it('does not release a burst after the event loop was blocked', async () => {
    const limiter = new SpacingLimiter(100);
    await limiter.take();
    const waiting = Array.from({ length: 5 }, () => limiter.take().then(() => performance.now()));
    const until = Date.now() + 200;
    while (Date.now() < until) {
      /* a busy event loop: every timer is late */
    }
    const times = (await Promise.all(waiting)).sort((a, b) => a - b);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.min(...gaps)).toBeGreaterThan(5);
  });
});
