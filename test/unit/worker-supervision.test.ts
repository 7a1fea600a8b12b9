/**
 * The worker process runs one Temporal Worker per task queue as one unit: one failing stops the
 * rest and fails the whole, so the process exits and is restarted instead of limping on with a
 * queue nobody polls. Stand-in workers make each way of failing happen on cue.
 */
import { superviseWorkers, WorkerFailedError, type SupervisedWorker } from '../../src/worker';

class FakeWorker implements SupervisedWorker {
  state = 'INITIALIZED';
  shutdownCalls = 0;
  private settle?: { resolve: () => void; reject: (err: Error) => void };

  constructor(
    readonly options: { taskQueue: string },
    /** How long a shutdown takes; Infinity for a task that never finishes. */
    private readonly drainMs = 20,
  ) {}

  run(): Promise<void> {
    this.state = 'RUNNING';
    return new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
  }
  shutdown(): void {
    if (this.state !== 'RUNNING') throw new Error(`Not running. Current state: ${this.state}`);
    this.shutdownCalls += 1;
    this.state = 'STOPPING';
    if (Number.isFinite(this.drainMs))
      setTimeout(() => {
        this.state = 'STOPPED';
        this.settle!.resolve();
      }, this.drainMs);
  }
  getState(): string {
    return this.state;
  }
  /** run() rejects, as on most fatal errors. */
  crash(err: Error): void {
    this.state = 'FAILED';
    this.settle!.reject(err);
  }
  /** FAILED while run() never settles, as after a fatal poll error whose native shutdown hangs. */
  failSilently(): void {
    this.state = 'FAILED';
  }
}

function setOf(...drainMs: number[]) {
  const workers = drainMs.map((ms, i) => new FakeWorker({ taskQueue: `q${i}` }, ms));
  const close = jest.fn(async () => undefined);
  return { workers, close, set: superviseWorkers(workers, close, { checkIntervalMs: 10, failureGraceMs: 300 }) };
}

describe('superviseWorkers', () => {
  it('stops every worker on shutdown and then closes the connection', async () => {
    const { workers, close, set } = setOf(20, 20, 20);
    const running = set.run();
    expect(workers.map((w) => w.getState())).toEqual(['RUNNING', 'RUNNING', 'RUNNING']);
    await set.shutdown();
    await expect(running).resolves.toBeUndefined();
    expect(workers.map((w) => w.shutdownCalls)).toEqual([1, 1, 1]);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('when one worker fails, shuts the others down and rejects naming its task queue', async () => {
    const { workers, close, set } = setOf(20, 20, 20);
    const running = set.run();
    const cause = new Error('Namespace bobsync is not found.');
    workers[1]!.crash(cause);
    const err = (await running.catch((e: unknown) => e)) as WorkerFailedError;
    expect(err).toBeInstanceOf(WorkerFailedError);
    expect(err.taskQueue).toBe('q1');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('The Worker of task queue "q1" failed: Namespace bobsync is not found.');
    expect(workers.map((w) => w.getState())).toEqual(['STOPPED', 'FAILED', 'STOPPED']);
    expect(workers.map((w) => w.shutdownCalls)).toEqual([1, 0, 1]);
    // The connection closes only once nothing uses it any more.
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('keeps the first failure when more follow', async () => {
    const { workers, set } = setOf(Infinity, 20);
    const running = set.run();
    workers[1]!.crash(new Error('first'));
    workers[0]!.crash(new Error('second'));
    await expect(running).rejects.toThrow('The Worker of task queue "q1" failed: first');
  });

  it('notices a worker that failed without its run() ever settling, and ends when the others stop, not after the grace period', async () => {
    // Simulated time: the grace period (300 ms, setOf) cannot pass unless the test lets it.
    jest.useFakeTimers();
    try {
      const { workers, close, set } = setOf(20, 20);
      let outcome: unknown = 'pending';
      void set.run().then(
        () => (outcome = 'resolved'),
        (err: unknown) => (outcome = err),
      );
      workers[0]!.failSilently();
      // The first check (10 ms) sees the failure and stops the other worker, which takes 20 ms.
      await jest.advanceTimersByTimeAsync(20);
      expect(workers[1]!.getState()).toBe('STOPPING');
      expect(outcome).toBe('pending');
      // The other worker stopped at 30 ms: run() rejects before the grace period is out.
      await jest.advanceTimersByTimeAsync(300 - 1 - 20);
      expect(outcome).toBeInstanceOf(WorkerFailedError);
      expect((outcome as Error).message).toMatch(/The Worker of task queue "q0" failed \(the SDK logged why/);
      expect(workers[1]!.shutdownCalls).toBe(1);
      expect(workers[1]!.getState()).toBe('STOPPED');
      // …without closing a connection a hung worker may still be using.
      expect(close).not.toHaveBeenCalled();
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives up on a worker that never finishes draining once the grace period has passed', async () => {
    const { workers, set } = setOf(Infinity, 20);
    const running = set.run();
    const started = Date.now();
    workers[1]!.crash(new Error('boom'));
    await expect(running).rejects.toThrow('failed: boom');
    expect(workers[0]!.getState()).toBe('STOPPING');
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('does not reject from shutdown() after a failure: run() reports it', async () => {
    const { workers, set } = setOf(20, 20);
    const running = set.run();
    running.catch(() => undefined);
    workers[0]!.crash(new Error('boom'));
    await expect(set.shutdown()).resolves.toBeUndefined();
    await expect(running).rejects.toBeInstanceOf(WorkerFailedError);
  });
});
