import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ScimError, badRequest, sendScim, sendScimError } from './errors';
import { parseFilter } from './filter';
import {
  LIST_RESPONSE_URN,
  schemaDocuments,
  serviceProviderConfig,
  userResourceType,
  type DiscoveryContext,
} from './schemas';
import type { ApiUserState, SkillcastTenant } from './tenant';
import { displayNameOf, etagOf, toScimResource, type ResourceContext, type StoredUser } from './user-model';

/** Request bodies are accepted as application/scim+json and as plain application/json. */
export const JSON_BODY_TYPES = ['application/json', 'application/scim+json', 'application/*+json'];

const baseUrlOf = (req: Request) => `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;

function apiUserOf(res: Response): ApiUserState {
  return res.locals.apiUser as ApiUserState;
}

function integerParam(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string' || !/^-?\d+$/u.test(value.trim()))
    throw badRequest('invalidValue', `${name} must be an integer`);
  return Number.parseInt(value, 10);
}

function listResponse(resources: unknown[], totalResults: number, startIndex: number) {
  return {
    schemas: [LIST_RESPONSE_URN],
    totalResults,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

/** SCIM 2.0 service provider (RFC 7644) for one tenant; mounted at /skillcastApi/scim and /skillcastApi/scim/v2. */
export function createScimRouter(tenant: SkillcastTenant): Router {
  const router = express.Router();

  // Authenticate before reading bodies, so an unauthenticated caller learns nothing else.
  router.use((req, res, next) => {
    const apiUser = tenant.authenticateBearer(req.get('authorization'));
    res.locals.apiUser = apiUser;
    res.locals.caller = apiUser.name;
    next();
  });
  router.use(express.json({ type: JSON_BODY_TYPES, limit: '10mb' }));

  const discovery = (req: Request): DiscoveryContext => ({
    baseUrl: baseUrlOf(req),
    extensionUrn: tenant.options.extensionUrn,
    attributes: tenant.options.attributes,
    maxResults: tenant.options.maxResults,
  });
  const resourceContext = (req: Request): ResourceContext => {
    const base = baseUrlOf(req);
    return {
      ...tenant.schema,
      location: (id) => `${base}/Users/${id}`,
      displayNameOf: (id) => {
        const other = tenant.store.get(id);
        return other ? displayNameOf(other) : undefined;
      },
    };
  };
  const sendUser = (req: Request, res: Response, status: number, user: StoredUser) => {
    const resource = toScimResource(user, resourceContext(req));
    res.setHeader('ETag', etagOf(user));
    if (status === 201) res.setHeader('Location', (resource.meta as { location: string }).location);
    sendScim(res, status, resource);
  };
  const bodyOf = (req: Request): unknown => {
    if (req.body === undefined) throw badRequest('invalidSyntax', 'A JSON body (application/scim+json) is required');
    return req.body;
  };
  const idOf = (req: Request) => String(req.params.id);

  router.get('/ServiceProviderConfig', (req, res) => sendScim(res, 200, serviceProviderConfig(discovery(req))));
  router.get('/ResourceTypes', (req, res) =>
    sendScim(res, 200, listResponse([userResourceType(discovery(req))], 1, 1)),
  );
  router.get('/ResourceTypes/:id', (req, res) => {
    if (idOf(req) !== 'User') throw new ScimError(404, undefined, `Resource type ${idOf(req)} not found`);
    sendScim(res, 200, userResourceType(discovery(req)));
  });
  router.get('/Schemas', (req, res) => {
    const schemas = schemaDocuments(discovery(req));
    sendScim(res, 200, listResponse(schemas, schemas.length, 1));
  });
  router.get('/Schemas/:id', (req, res) => {
    const schema = schemaDocuments(discovery(req)).find((s) => s.id.toLowerCase() === idOf(req).toLowerCase());
    if (!schema) throw new ScimError(404, undefined, `Schema ${idOf(req)} not found`);
    sendScim(res, 200, schema);
  });

  router.get('/Users', (req, res) => {
    const rawFilter = req.query.filter;
    if (rawFilter !== undefined && typeof rawFilter !== 'string')
      throw badRequest('invalidFilter', 'Give one filter parameter');
    const filter = rawFilter && rawFilter.trim() !== '' ? parseFilter(rawFilter) : undefined;
    // RFC 7644 §3.4.2.4: startIndex below 1 means 1, a negative count means 0.
    const startIndex = Math.max(1, integerParam(req.query.startIndex, 'startIndex', 1));
    const count = Math.min(
      tenant.options.maxResults,
      Math.max(0, integerParam(req.query.count, 'count', tenant.options.maxResults)),
    );
    const matching = tenant.list(apiUserOf(res), filter);
    const context = resourceContext(req);
    const page = matching.slice(startIndex - 1, startIndex - 1 + count).map((u) => toScimResource(u, context));
    sendScim(res, 200, listResponse(page, matching.length, startIndex));
  });
  router.post('/Users', (req, res) => sendUser(req, res, 201, tenant.create(apiUserOf(res), bodyOf(req))));
  router.get('/Users/:id', (req, res) => sendUser(req, res, 200, tenant.get(apiUserOf(res), idOf(req))));
  router.put('/Users/:id', (req, res) =>
    sendUser(req, res, 200, tenant.replace(apiUserOf(res), idOf(req), bodyOf(req), req.get('if-match'))),
  );
  router.patch('/Users/:id', (req, res) =>
    sendUser(req, res, 200, tenant.patch(apiUserOf(res), idOf(req), bodyOf(req), req.get('if-match'))),
  );
  router.delete('/Users/:id', (req, res) => {
    tenant.remove(apiUserOf(res), idOf(req), req.get('if-match'));
    res.status(204).end();
  });

  router.use((req, _res) => {
    throw new ScimError(404, undefined, `No SCIM endpoint ${req.method} ${req.path}`);
  });
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    sendScimError(res, toScimError(err));
  });
  return router;
}

/** Maps anything thrown while serving a request onto a SCIM error. */
export function toScimError(err: unknown): ScimError {
  if (err instanceof ScimError) return err;
  const e = err as { type?: string; status?: number; message?: string };
  if (e?.type === 'entity.parse.failed')
    return badRequest('invalidSyntax', `Malformed JSON: ${e.message ?? ''}`.trim());
  if (e?.type === 'entity.too.large') return new ScimError(413, undefined, 'Request body too large');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return new ScimError(e.status, undefined, e.message ?? 'Bad request');
  return new ScimError(500, undefined, `Internal error: ${e?.message ?? String(err)}`);
}
