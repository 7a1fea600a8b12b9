import type { Request, Response, NextFunction, RequestHandler } from 'express';
import type { EmulatorClock } from './clock';

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  query: string;
  status: number;
  /** Who called, as far as the emulator knows (service user, company, API user). */
  caller?: string;
  durationMs: number;
}

/** Every request an emulator answered, so tests and benchmarks can assert on what was sent. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  constructor(
    private readonly clock: EmulatorClock,
    private readonly max = 200_000,
  ) {}

  middleware(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (req.path.startsWith('/__admin')) return next();
      // Routers mounted under a prefix shorten req.path before the response finishes.
      const path = req.path;
      const started = this.clock.nowMs();
      const startedReal = Date.now();
      res.on('finish', () => {
        const q = req.originalUrl.indexOf('?');
        this.entries.push({
          at: started,
          method: req.method,
          path,
          query: q >= 0 ? req.originalUrl.slice(q + 1) : '',
          status: res.statusCode,
          caller: res.locals.caller as string | undefined,
          durationMs: Date.now() - startedReal,
        });
        if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
      });
      next();
    };
  }

  clear(): void {
    this.entries.length = 0;
  }

  /** Highest number of matching requests that started within any one window of `windowMs`. */
  peakPerWindow(predicate: (entry: LoggedRequest) => boolean, windowMs = 1000): number {
    const times = this.entries
      .filter(predicate)
      .map((e) => e.at)
      .sort((a, b) => a - b);
    let peak = 0;
    let lo = 0;
    for (let hi = 0; hi < times.length; hi++) {
      while (times[hi]! - times[lo]! >= windowMs) lo++;
      peak = Math.max(peak, hi - lo + 1);
    }
    return peak;
  }
}
