import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { faultRuleSchema } from '../common/faults';
import { ScimError, sendScimError } from './errors';
import type { SkillcastEmulator } from './index';

const feedSchema = z.object({
  /** Defaults to the first API user's default domain. */
  domain: z.string().optional(),
  identifier: z.enum(['email', 'employeeId']).default('email'),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))),
  columns: z
    .object({
      email: z.string(),
      employeeId: z.string(),
      firstName: z.string(),
      lastName: z.string(),
      status: z.string(),
      attributes: z.record(z.string(), z.string()),
    })
    .partial()
    .optional(),
  inactiveStatuses: z.array(z.string()).optional(),
});
export type FeedRequest = z.infer<typeof feedSchema>;

const assignmentSchema = z.object({
  courseId: z.string(),
  courseName: z.string(),
  status: z.string(),
  deadline: z.string().optional(),
  completedAt: z.string().optional(),
});

const seedSchema = z.object({
  domain: z.string().optional(),
  users: z.array(z.record(z.string(), z.unknown())),
});

const tokenSchema = z.object({ token: z.string().min(1) });

/**
 * Skillcast-specific admin routes (mounted at /__admin next to the kit's shared ones):
 * POST /reset; GET/POST /users; GET/PATCH/DELETE /users/:id; GET /domains;
 * POST /feed-preview, /feed-apply; GET /tokens; POST /tokens/expire|revoke|restore;
 * POST /api-users/:name/regenerate; GET /sessions; POST /faults/scim.
 */
export function createAdminRouter(emulator: SkillcastEmulator): Router {
  const router = express.Router();
  router.use(express.json({ limit: '50mb' }));
  const tenant = emulator.tenant;
  const baseOf = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}`;

  router.post('/reset', (_req, res) => {
    emulator.reset();
    res.status(204).end();
  });

  router.get('/domains', (_req, res) => {
    const byDomain = tenant.usersByDomain();
    res.json({
      domains: tenant.options.domains.map((name) => ({
        name,
        users: byDomain[name]?.length ?? 0,
        active: byDomain[name]?.filter((u) => u.core.active).length ?? 0,
      })),
    });
  });

  router.get('/users', (req, res) => {
    const domain = typeof req.query.domain === 'string' ? req.query.domain : undefined;
    res.json({ domains: emulator.users(domain, baseOf(req)) });
  });
  router.post('/users', (req, res) => {
    const body = seedSchema.parse(req.body);
    res.status(201).json({ users: emulator.seedUsers(body.users, body.domain, baseOf(req)) });
  });
  router.get('/users/:id', (req, res) => {
    const user = tenant.store.get(req.params.id);
    if (!user) res.status(404).json({ error: `User ${req.params.id} not found` });
    else res.json(emulator.adminView(user, baseOf(req)));
  });
  router.patch('/users/:id', (req, res) => {
    const body = z
      .object({ domain: z.string().optional(), assignments: z.array(assignmentSchema).optional() })
      .parse(req.body);
    const id = req.params.id;
    if (!tenant.store.get(id)) {
      res.status(404).json({ error: `User ${id} not found` });
      return;
    }
    if (body.domain !== undefined) tenant.moveUser(id, body.domain);
    if (body.assignments !== undefined) tenant.setAssignments(id, body.assignments);
    const updated = tenant.store.get(id);
    if (updated) res.json(emulator.adminView(updated, baseOf(req)));
  });
  router.delete('/users/:id', (req, res) => {
    res.status(tenant.store.delete(req.params.id) ? 204 : 404).end();
  });

  router.post('/feed-preview', (req, res) => {
    res.json(emulator.previewFeed(feedSchema.parse(req.body)));
  });
  router.post('/feed-apply', (req, res) => {
    res.json(emulator.applyFeed(feedSchema.parse(req.body)));
  });

  router.get('/tokens', (_req, res) => {
    res.json({ apiUsers: tenant.apiUsers.map((u) => ({ ...u })) });
  });
  for (const action of ['expire', 'revoke', 'restore'] as const) {
    router.post(`/tokens/${action}`, (req, res) => {
      const { token } = tokenSchema.parse(req.body);
      const known =
        action === 'restore'
          ? emulator.restoreToken(token)
          : action === 'expire'
            ? emulator.expireToken(token)
            : emulator.revokeToken(token);
      res.status(known ? 204 : 404).end();
    });
  }
  router.post('/api-users/:name/regenerate', (req, res) => {
    const body = z.object({ token: z.string().min(1).optional() }).parse(req.body ?? {});
    const token = emulator.regenerateToken(req.params.name, body.token);
    if (token === undefined) res.status(404).json({ error: `API user ${req.params.name} not found` });
    else res.json({ name: req.params.name, token });
  });
  router.get('/sessions', (_req, res) => {
    res.json({ sessions: [...tenant.restSessions.values()] });
  });

  router.post('/faults/scim', (req, res) => {
    const rule = faultRuleSchema.parse(req.body);
    res.status(201).json({ id: emulator.injectFault(rule) });
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ScimError) sendScimError(res, err);
    else if (err instanceof z.ZodError) res.status(400).json({ error: err.issues });
    else res.status(400).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return router;
}
