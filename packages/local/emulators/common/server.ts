import express, { type Express, type Router } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { EmulatorClock } from './clock';
import { FaultInjector, faultRuleSchema } from './faults';
import { RequestLog } from './request-log';

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

/** Listens on loopback (port 0 = any free port) and resolves once the socket is bound. */
export async function listen(app: Express, port = 0, host = '127.0.0.1'): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 5_000;
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What every emulator shares: a movable clock, a request log and fault injection. */
export class EmulatorKit {
  readonly clock = new EmulatorClock();
  readonly requests = new RequestLog(this.clock);
  readonly faults = new FaultInjector();

  /** Middleware to mount first, before auth and routes. */
  middleware() {
    return [this.requests.middleware(), this.faults.middleware()];
  }

  /**
   * Admin routes under /__admin shared by every emulator:
   * GET/DELETE /requests, GET/POST/DELETE /faults, POST /clock/advance {ms}, POST /clock/set {at}, GET /clock.
   */
  adminRouter(): Router {
    const router = express.Router();
    router.use(express.json({ limit: '50mb' }));
    router.get('/requests', (req, res) => {
      const since = Number(req.query.since ?? 0);
      res.json({ requests: this.requests.entries.filter((e) => e.at >= since) });
    });
    router.delete('/requests', (_req, res) => {
      this.requests.clear();
      res.status(204).end();
    });
    router.get('/faults', (_req, res) => res.json({ faults: this.faults.list() }));
    router.post('/faults', (req, res) => {
      const parsed = faultRuleSchema.safeParse(req.body);
      if (!parsed.success) return res.status(400).json({ error: parsed.error.issues });
      res.status(201).json({ id: this.faults.add(parsed.data) });
    });
    router.delete('/faults', (_req, res) => {
      this.faults.clear();
      res.status(204).end();
    });
    router.get('/clock', (_req, res) => res.json({ now: this.clock.now().toISOString() }));
    router.post('/clock/advance', (req, res) => {
      this.clock.advance(Number((req.body as { ms?: unknown } | undefined)?.ms ?? 0));
      res.json({ now: this.clock.now().toISOString() });
    });
    router.post('/clock/set', (req, res) => {
      this.clock.set(new Date(String((req.body as { at?: unknown } | undefined)?.at)));
      res.json({ now: this.clock.now().toISOString() });
    });
    return router;
  }
}
