import { SpacingLimiter, HEADROOM } from '../../src/clients/http/spacing-limiter';

/** The most grants found in any span of `spanMs` (half-open), and the smallest gap between two. */
function spread(granted: number[], spanMs: number): { mostInSpan: number; smallestGap: number } {
  const sorted = [...granted].sort((a, b) => a - b);
  let mostInSpan = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= spanMs) first++;
    mostInSpan = Math.max(mostInSpan, last - first + 1);
  }
  const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
  return { mostInSpan, smallestGap: Math.min(...gaps) };
}

/** `callers` callers taking slots one after another until `total` were granted. */
async function takeAll(limiter: SpacingLimiter, callers: number, total: number): Promise<number[]> {
  const granted: number[] = [];
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (granted.length < total) granted.push(await limiter.take());
    }),
  );
  return granted.slice(0, total);
}

describe('spacing limiter', () => {
  afterEach(() => jest.useRealTimers());

  it('keeps the rate when every timer fires late, without more than the limit in any second', async () => {
    jest.useFakeTimers();
    const lateMs = 7;
    const limiter = new SpacingLimiter(
      10,
      () => Date.now(),
      (ms) => new Promise((resolve) => setTimeout(resolve, ms + lateMs)),
    );
    const taking = takeAll(limiter, 8, 200);
    await jest.advanceTimersByTimeAsync(60_000);
    const granted = await taking;
    expect(granted).toHaveLength(200);
    const rate = ((granted.length - 1) * 1000) / (Math.max(...granted) - Math.min(...granted));
    // A slot timed from the late wake-up instead of the grid would give 1000 / (105.3 + 7) = 8.9/s.
    expect(rate).toBeGreaterThan(10 * HEADROOM * 0.99);
    expect(rate).toBeLessThanOrEqual(10 * HEADROOM + 1e-9);
    // Requests that reach the vendor up to 5 % of a second apart from how they were sent still
    // fall at most ten to any one of its seconds.
    const { mostInSpan, smallestGap } = spread(granted, 1000 / HEADROOM);
    expect(mostInSpan).toBeLessThanOrEqual(10);
    expect(smallestGap).toBeGreaterThanOrEqual(1000 / (10 * HEADROOM) / 2);
  });

  it('spaces many waiting callers on a real clock', async () => {
    const limiter = new SpacingLimiter(50, () => performance.now());
    const granted = await takeAll(limiter, 20, 60);
    const { mostInSpan, smallestGap } = spread(granted, 1000 / HEADROOM);
    expect(mostInSpan).toBeLessThanOrEqual(50);
    // The instants the limiter granted, not when each caller resumed: a busy machine may wake
    // two callers back to back, but their slots are still half an interval apart at least.
    expect(smallestGap).toBeGreaterThanOrEqual(1000 / (50 * HEADROOM) / 2);
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
    const intervalMs = 1000 / (100 * HEADROOM);
    // 200 ms of missed slots are not made up: after the stall the calls come at most twice as
    // fast as the grid, and only until the grid has caught up.
    expect(spread(times, 1000).smallestGap).toBeGreaterThanOrEqual(intervalMs / 2);
    expect(times[4]! - times[0]!).toBeGreaterThanOrEqual(4 * intervalMs - intervalMs / 2);
  });
});
