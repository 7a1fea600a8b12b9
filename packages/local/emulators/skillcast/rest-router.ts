import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { SkillcastRestUser } from './options';
import type { SkillcastTenant } from './tenant';
import { parseBasic } from './tenant';
import { primaryEmail, type ScimObject, type StoredUser } from './user-model';

/** The caller's IP as the socket sees it (IPv4-mapped IPv6 addresses reduced to IPv4). */
export function callerIp(req: Request): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

const DENIED = { message: 'Authorization has been denied for this request.' };

function employeeOf(user: StoredUser) {
  const name = (user.core.name as ScimObject | undefined) ?? {};
  return {
    userId: user.id,
    firstName: name.givenName ?? null,
    lastName: name.familyName ?? null,
    email: primaryEmail(user) ?? null,
    employeeId: user.enterprise.employeeNumber ?? null,
    domain: user.domain,
    archived: !user.core.active,
  };
}

/**
 * The REST API at /skillcastapi: login for a bearer token bound to the caller's IP, and
 * read-only employee endpoints. Error bodies are `{ message }`.
 */
export function createRestRouter(tenant: SkillcastTenant): Router {
  const router = express.Router();

  const login = (req: Request, res: Response) => {
    const basic = parseBasic(req.get('authorization'));
    const session = basic ? tenant.login(basic.userId, basic.password, callerIp(req)) : undefined;
    if (!session) {
      res.setHeader('WWW-Authenticate', 'Basic realm="skillcast"');
      res.status(401).json({ message: 'Authorisation failed: check the user ID and password' });
      return;
    }
    res.locals.caller = session.userId;
    res.json({ message: 'Authenticated successfully', token: session.token });
  };
  router.post('/integration/login', login);
  router.get('/integration/login', login);

  router.use((req: Request, res: Response, next: NextFunction) => {
    const user = tenant.authenticateRest(req.get('authorization'), callerIp(req));
    if (!user) {
      res.status(401).json(DENIED);
      return;
    }
    res.locals.restUser = user;
    res.locals.caller = user.userId;
    next();
  });

  const restUserOf = (res: Response) => res.locals.restUser as SkillcastRestUser;
  const visible = (res: Response) => tenant.store.all().filter((u) => restUserOf(res).domains.includes(u.domain));

  router.get('/employees', (_req, res) => {
    res.json(visible(res).map(employeeOf));
  });
  router.get('/employees/:userId', (req, res) => {
    const user = visible(res).find((u) => u.id === req.params.userId);
    if (!user) res.status(404).json({ message: `Employee ${req.params.userId} not found` });
    else res.json(employeeOf(user));
  });
  router.get('/employees/:userId/assignments', (req, res) => {
    const user = visible(res).find((u) => u.id === req.params.userId);
    if (!user) res.status(404).json({ message: `Employee ${req.params.userId} not found` });
    else res.json(user.assignments);
  });

  router.use((_req: Request, res: Response) => {
    res.status(404).json({ message: 'No HTTP resource was found that matches the request URI.' });
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number })?.status;
    res
      .status(typeof status === 'number' && status >= 400 && status < 500 ? status : 500)
      .json({ message: err instanceof Error ? err.message : 'Processing error' });
  });
  return router;
}
