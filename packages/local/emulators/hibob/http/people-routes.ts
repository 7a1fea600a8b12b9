/** POST /people/search, POST /people/{identifier}, GET /people/{id}/lifecycle, and the PUT test controls. */
import { Router, type Request, type Response } from 'express';
import type { EmployeeFields } from '../directory';
import { parseReadBody, parseSearchBody } from '../people-request';
import { renderEmployee } from '../render';
import type { HibobEmployeeRecord, ServiceUserConfig } from '../types';
import { inPopulation, permittedFields, serviceUserOf } from './access';
import type { HibobHttpContext } from './context';
import { sendError } from './errors';

/** Employee by backend id or email (case-insensitive), as API readers currently see them. */
function findVisible(ctx: HibobHttpContext, identifier: string): HibobEmployeeRecord | undefined {
  const byId = ctx.store.visible(identifier);
  if (byId) return byId;
  if (!identifier.includes('@')) return undefined;
  const wanted = identifier.toLowerCase();
  return ctx.store.visibleAll().find((r) => r.email?.toLowerCase() === wanted);
}

function readOne(
  ctx: HibobHttpContext,
  req: Request,
  user: ServiceUserConfig,
): HibobEmployeeRecord | { status: number; key: string; error: string } {
  const identifier = String(req.params.identifier ?? req.params.id);
  const rec = findVisible(ctx, identifier);
  if (!rec) return { status: 404, key: 'not_found', error: `Employee ${identifier} not found` };
  if (!inPopulation(user, rec)) return { status: 403, key: 'forbidden', error: 'No access to this employee' };
  return rec;
}

function getPath(obj: unknown, path: string): unknown {
  let node = obj;
  for (const part of path.split('.')) {
    if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Employees rendered between two turns of the event loop while a search is answered. */
const EMPLOYEES_PER_SLICE = 500;

/**
 * Answers `{"employees": [...]}` (the same bytes `res.json` would send) a slice at a time, with a
 * turn of the event loop between slices. Rendering a company of 100,000 takes seconds; the
 * emulators of a local stack share one process, and other requests (360Learning's pages, a
 * webhook's read) are answered in between, as separate services would answer them.
 */
function sendEmployees(
  res: Response,
  people: readonly HibobEmployeeRecord[],
  render: (record: HibobEmployeeRecord) => unknown,
): void {
  res.status(200).type('application/json');
  res.write('{"employees":[');
  const sendFrom = (start: number) => {
    if (res.destroyed) return;
    const slice = people.slice(start, start + EMPLOYEES_PER_SLICE);
    res.write(`${start > 0 && slice.length ? ',' : ''}${slice.map((r) => JSON.stringify(render(r))).join(',')}`);
    if (start + EMPLOYEES_PER_SLICE >= people.length) res.end(']}');
    else setImmediate(sendFrom, start + EMPLOYEES_PER_SLICE);
  };
  sendFrom(0);
}

export function peopleRoutes(ctx: HibobHttpContext): Router {
  const router = Router();

  router.post('/people/search', (req, res) => {
    const parsed = parseSearchBody(req.body);
    if (!parsed.ok) return sendError(res, 400, 'invalid_request', parsed.error);
    const q = parsed.value;
    const user = serviceUserOf(res);
    const fields = permittedFields(ctx.catalog, user, q.fields);
    let people = ctx.store.visibleAll().filter((r) => inPopulation(user, r));
    if (!q.showInactive) people = people.filter((r) => r.status === 'Active');
    if (q.filter?.fieldPath === 'root.id') {
      const ids = new Set(q.filter.values);
      people = people.filter((r) => ids.has(r.id));
    } else if (q.filter?.fieldPath === 'root.email') {
      const emails = new Set(q.filter.values.map((v) => v.toLowerCase()));
      people = people.filter((r) => r.email !== null && emails.has(r.email.toLowerCase()));
    }
    const env = ctx.directory.readEnv();
    const options = { mode: q.humanReadable, dateFormat: user.dateFormat ?? 'DD/MM/YYYY' } as const;
    sendEmployees(res, people, (r) => renderEmployee(r, fields, env, options));
  });

  router.post('/people/:identifier', (req, res) => {
    const parsed = parseReadBody(req.body);
    if (!parsed.ok) return sendError(res, 400, 'invalid_request', parsed.error);
    const user = serviceUserOf(res);
    const found = readOne(ctx, req, user);
    if ('key' in found) return sendError(res, found.status, found.key, found.error);
    const fields = permittedFields(ctx.catalog, user, parsed.value.fields);
    res.json(
      renderEmployee(found, fields, ctx.directory.readEnv(), {
        mode: parsed.value.humanReadable,
        dateFormat: user.dateFormat ?? 'DD/MM/YYYY',
      }),
    );
  });

  router.get('/people/:id/lifecycle', (req, res) => {
    const found = readOne(ctx, req, serviceUserOf(res));
    if ('key' in found) return sendError(res, found.status, found.key, found.error);
    const values = [...found.lifecycle].sort((a, b) => a.effectiveDate.localeCompare(b.effectiveDate) || a.id - b.id);
    res.json({ values });
  });

  // Test controls standing in for HR edits made through Bob's write API.
  router.put('/people/:identifier/email', (req, res) => {
    const email: unknown = (req.body as { email?: unknown } | undefined)?.email;
    if (typeof email !== 'string' || !email.includes('@'))
      return sendError(res, 400, 'invalid_request', 'Body must be {"email": "<address>"}');
    const target = ctx.directory.find(String(req.params.identifier));
    if (!target) return sendError(res, 404, 'not_found', `Employee ${req.params.identifier} not found`);
    ctx.directory.changeEmail(target.id, email, serviceUserOf(res).id);
    res.json({});
  });

  router.put('/people/:identifier', (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      return sendError(res, 400, 'invalid_request', 'Body must be a JSON object');
    const target = ctx.directory.find(String(req.params.identifier));
    if (!target) return sendError(res, 404, 'not_found', `Employee ${req.params.identifier} not found`);
    // Fields may come nested by jsonPath ({"work":{"title":…}}), under their category ({"root":{…}}) or flat by id.
    const fields: Record<string, unknown> = {};
    for (const def of ctx.catalog.all) {
      const flat = (body as Record<string, unknown>)[def.meta.id];
      const value = flat !== undefined ? flat : (getPath(body, def.meta.jsonPath) ?? getPath(body, def.meta.id));
      if (value !== undefined) fields[def.meta.id] = value;
    }
    if (!Object.keys(fields).length) return sendError(res, 400, 'invalid_request', 'No known fields in the body');
    if ('root.email' in fields)
      return sendError(res, 400, 'invalid_request', 'Change the email with PUT /people/{id}/email');
    const edits: EmployeeFields = { fields };
    ctx.directory.update(target.id, edits, serviceUserOf(res).id);
    res.json({});
  });

  return router;
}
