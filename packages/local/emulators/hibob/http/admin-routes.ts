/**
 * Test controls under /__admin. Each route calls the emulator's programmatic method of the same
 * purpose, so HTTP and in-process tests drive identical behaviour.
 * Mutations accept `?triggeredBy=<backend id>` to set the webhook `triggeredBy`.
 */
import express, { Router, type Request } from 'express';
import { generateDemoEmployees } from '../demo-data';
import type { HibobEmulator } from '../index';
import {
  HibobAdminError,
  HIBOB_EVENT_TYPES,
  type HibobEmployeeSeed,
  type HibobEventType,
  type ServiceUserConfig,
} from '../types';
import { DEFAULT_RATE_LIMITS, type RateGroup } from './access';
import { jsonErrorHandler } from './errors';

function by(req: Request): string | undefined {
  return typeof req.query.triggeredBy === 'string' && req.query.triggeredBy ? req.query.triggeredBy : undefined;
}

function body(req: Request): Record<string, unknown> {
  const b: unknown = req.body;
  if (b === undefined) return {};
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    throw new HibobAdminError(400, 'invalid_request', 'Body must be a JSON object');
  return b as Record<string, unknown>;
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

export function adminRoutes(emu: HibobEmulator): Router {
  const router = Router();
  router.use(express.json({ limit: '100mb' }));

  // ---- employees ----
  router.post('/seed', (req, res) => {
    const b: unknown = req.body;
    let employees: HibobEmployeeSeed[];
    if (Array.isArray(b)) employees = b as HibobEmployeeSeed[];
    else if (Array.isArray(body(req).employees)) employees = body(req).employees as HibobEmployeeSeed[];
    else {
      // {count, seed, today}: generate demo data server-side.
      const { count, seed, today } = body(req);
      if (typeof count !== 'number')
        throw new HibobAdminError(400, 'invalid_request', 'Send {employees:[…]} or {count, seed?, today?}');
      employees = generateDemoEmployees({
        count,
        seed: typeof seed === 'number' ? seed : 1,
        today: typeof today === 'string' ? today : undefined,
      });
    }
    res.json({ count: emu.seed(employees) });
  });

  router.post('/reset', (_req, res) => {
    emu.reset();
    res.status(204).end();
  });

  router.get('/employees', (_req, res) => {
    res.json({ employees: emu.listEmployees() });
  });

  router.post('/employees', (req, res) => {
    res.status(201).json(emu.createEmployee(body(req) as never, by(req)));
  });

  router.get('/employees/:idOrEmail', (req, res) => {
    const rec = emu.getEmployee(param(req, 'idOrEmail'));
    if (!rec) throw new HibobAdminError(404, 'not_found', `No employee ${param(req, 'idOrEmail')}`);
    res.json(rec);
  });

  router.patch('/employees/:id', (req, res) => {
    res.json(emu.updateEmployee(param(req, 'id'), body(req), by(req)));
  });

  router.put('/employees/:id/email', (req, res) => {
    res.json(emu.changeEmail(param(req, 'id'), body(req).email as string, by(req)));
  });

  router.post('/employees/:id/terminate', (req, res) => {
    res.json(emu.terminate(param(req, 'id'), body(req) as never, by(req)));
  });

  router.post('/employees/:id/rehire', (req, res) => {
    res.json(emu.rehire(param(req, 'id'), body(req) as never, by(req)));
  });

  router.post('/employees/:id/leave', (req, res) => {
    res.json(emu.startLeave(param(req, 'id'), body(req) as never, by(req)));
  });

  router.delete('/employees/:id', (req, res) => {
    emu.deleteEmployee(param(req, 'id'), by(req));
    res.status(204).end();
  });

  // ---- lifecycle clock (these replace the shared clock routes so a move also applies due changes) ----
  router.post('/lifecycle/tick', (_req, res) => {
    res.json({ applied: emu.tickLifecycle() });
  });

  router.post(['/lifecycle/advance', '/clock/advance'], (req, res) => {
    const ms = Number(body(req).ms ?? 0);
    const applied = emu.advanceClock(ms);
    res.json({ now: emu.kit.clock.now().toISOString(), applied });
  });

  router.post('/clock/set', (req, res) => {
    const at = new Date(String(body(req).at));
    if (Number.isNaN(at.getTime())) throw new HibobAdminError(400, 'invalid_request', 'at must be an ISO instant');
    const applied = emu.setClock(at);
    res.json({ now: emu.kit.clock.now().toISOString(), applied });
  });

  router.post('/events', (req, res) => {
    const b = body(req);
    if (!HIBOB_EVENT_TYPES.includes(b.type as HibobEventType))
      throw new HibobAdminError(400, 'invalid_request', `type must be one of ${HIBOB_EVENT_TYPES.join(', ')}`);
    const data = typeof b.data === 'object' && b.data !== null ? (b.data as Record<string, unknown>) : {};
    emu.emitEvent(b.type as HibobEventType, data, typeof b.triggeredBy === 'string' ? b.triggeredBy : undefined);
    res.status(202).json({});
  });

  // ---- webhooks ----
  router.get('/webhooks', (_req, res) => {
    res.json({ subscriptions: emu.listWebhooks() });
  });

  router.post('/webhooks', (req, res) => {
    res.status(201).json(emu.subscribeWebhook(body(req) as never));
  });

  router.get('/webhooks/deliveries', (_req, res) => {
    res.json({ deliveries: emu.webhookDeliveries() });
  });

  router.post('/webhooks/idle', async (req, res) => {
    const timeoutMs = Number(body(req).timeoutMs ?? 10_000);
    res.json({ idle: await emu.webhooksIdle(timeoutMs) });
  });

  router.get('/webhooks/:id', (req, res) => {
    res.json(emu.getWebhook(param(req, 'id')));
  });

  router.patch('/webhooks/:id', (req, res) => {
    res.json(emu.updateWebhook(param(req, 'id'), body(req)));
  });

  router.put('/webhooks/:id/faults', (req, res) => {
    res.json(emu.updateWebhook(param(req, 'id'), { faults: body(req) }));
  });

  router.delete('/webhooks/:id', (req, res) => {
    emu.unsubscribeWebhook(param(req, 'id'));
    res.status(204).end();
  });

  router.get('/webhooks/:id/deliveries', (req, res) => {
    res.json({ deliveries: emu.webhookDeliveries(param(req, 'id')) });
  });

  // ---- access and settings ----
  router.get('/service-users', (_req, res) => {
    res.json({ serviceUsers: emu.listServiceUsers() });
  });

  router.put('/service-users/:id', (req, res) => {
    const user = { ...body(req), id: param(req, 'id') } as ServiceUserConfig;
    if (typeof user.token !== 'string' || !user.token)
      throw new HibobAdminError(400, 'invalid_request', 'token is required');
    emu.setServiceUser(user);
    res.json(user);
  });

  router.delete('/service-users/:id', (req, res) => {
    if (!emu.removeServiceUser(param(req, 'id'))) throw new HibobAdminError(404, 'not_found', 'No such service user');
    res.status(204).end();
  });

  router.delete('/waf', (_req, res) => {
    emu.ctx.waf.reset();
    res.status(204).end();
  });

  // Read-after-write lag in seconds (0–20): API reads serve each change only this long after it.
  router.get('/read-lag', (_req, res) => {
    res.json({ seconds: emu.getReadLag() });
  });

  router.put('/read-lag', (req, res) => {
    res.json({ seconds: emu.setReadLag(body(req).seconds as number) });
  });

  router.get('/settings', (_req, res) => {
    res.json(emu.getSettings());
  });

  router.patch('/settings', (req, res) => {
    const b = body(req);
    const rateLimits = b.rateLimits as Partial<Record<RateGroup, number>> | undefined;
    for (const g of Object.keys(rateLimits ?? {})) {
      if (!(g in DEFAULT_RATE_LIMITS)) throw new HibobAdminError(400, 'invalid_request', `Unknown rate group ${g}`);
    }
    res.json(emu.updateSettings(b));
  });

  router.get('/sites', (_req, res) => {
    res.json({ sites: emu.ctx.sites });
  });

  router.use(jsonErrorHandler);
  return router;
}
