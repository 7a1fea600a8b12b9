/**
 * Request and response validation against 360Learning's Core and Bulk API specs, done by
 * express-openapi-validator (OpenAPI 3.1 through Ajv's 2020-12 dialect) on the corrected copy
 * prepared in ./spec. Requests that break the spec get 400 badRequest; responses that break it
 * become a 500 and are recorded as drift, so tests fail loudly.
 */
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { OBJECT_ID } from './ids';
import type { PreparedSpec } from './spec';

export const TOKEN_PATH = '/api/v2/oauth2/token';

/** What express-openapi-validator attaches to a request it matched to an operation. */
export interface OperationMatch {
  openApiRoute: string;
  schema: { operationId?: string; parameters?: unknown[] };
}

export function operationOf(req: Request): OperationMatch | undefined {
  return (req as Request & { openapi?: OperationMatch }).openapi;
}

export interface DriftRecord {
  at: string;
  method: string;
  path: string;
  status: number;
  message: string;
  errors: unknown[];
}

export interface InternalErrorRecord {
  at: string;
  method: string;
  path: string;
  message: string;
  stack?: string;
}

interface ValidatorError extends Error {
  status?: number;
  statusCode?: number;
  type?: string;
  errors?: Array<{ path?: string; message?: string; errorCode?: string }>;
}

/** Sends JSON without going through res.json, so emulator-level answers skip response validation. */
export function sendRaw(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/json').send(JSON.stringify(body));
}

export interface SpecValidation {
  /** Matches the operation and, when enabled, installs response validation. Mount before auth. */
  match: RequestHandler[];
  /** Validates params, query, headers and body. Mount after auth, before the routes. */
  validateRequest: RequestHandler[];
  errorHandler: ErrorRequestHandler;
  drift: DriftRecord[];
  internalErrors: InternalErrorRecord[];
}

function pick(middlewares: RequestHandler[], name: string): RequestHandler {
  const found = middlewares.find((m) => m.name === name);
  if (!found)
    throw new Error(
      `express-openapi-validator no longer provides ${name}; revisit packages/local/emulators/learning360/validation.ts`,
    );
  return found;
}

/**
 * Deep-object array filters arrive as `mail[in]=a&mail[in]=b` or `mail[in][]=a`; the extended
 * query parser makes both lists, but a single `mail[in]=a` stays a string. Wrap it, using the
 * operation's own parameter schemas to know which members are arrays.
 */
function deepObjectArrays(req: Request, _res: Response, next: NextFunction): void {
  const op = operationOf(req);
  const query = req.query as Record<string, unknown>;
  Object.defineProperty(req, 'query', { value: query, writable: true, configurable: true, enumerable: true });
  for (const p of (op?.schema.parameters ?? []) as Array<{
    in?: string;
    name?: string;
    style?: string;
    schema?: { properties?: Record<string, { type?: string }> };
  }>) {
    if (p.in !== 'query' || p.style !== 'deepObject' || !p.name) continue;
    const value = query[p.name];
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const members = value as Record<string, unknown>;
    for (const [key, schema] of Object.entries(p.schema?.properties ?? {})) {
      if (schema.type === 'array' && typeof members[key] === 'string') members[key] = [members[key]];
    }
  }
  next();
}

export function createSpecValidation(
  spec: PreparedSpec,
  options: { validateResponses: boolean; now: () => Date },
): SpecValidation {
  const drift: DriftRecord[] = [];
  const internalErrors: InternalErrorRecord[] = [];
  const middlewares = OpenApiValidator.middleware({
    apiSpec: spec.document() as never,
    validateApiSpec: true,
    validateRequests: { allowUnknownQueryParameters: false },
    validateResponses: options.validateResponses ? { removeAdditional: false } : false,
    // Auth answers with the vendor's own shapes (401 invalid_token, 403 invalid_scope), done in ./index.
    validateSecurity: false,
    ignoreUndocumented: false,
    formats: { ObjectId: OBJECT_ID },
    fileUploader: false,
  }) as unknown as RequestHandler[];

  const match = [pick(middlewares, 'pathParamsMiddleware'), pick(middlewares, 'metadataMiddleware')];
  if (options.validateResponses) match.push(pick(middlewares, 'responseMiddleware'));
  const validateRequest = [deepObjectArrays, pick(middlewares, 'requestMiddleware')];

  const errorHandler: ErrorRequestHandler = (err: ValidatorError, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = err.status ?? err.statusCode ?? 500;
    const message = err.message || 'error';
    if (err instanceof OpenApiValidator.error.InternalServerError) {
      // Only response validation raises this: the emulator answered something the spec forbids.
      drift.push({
        at: options.now().toISOString(),
        method: req.method,
        path: req.originalUrl,
        status: res.statusCode,
        message,
        errors: err.errors ?? [],
      });
      return sendRaw(res, 500, {
        error: { code: 'responseNotInSpec', message: `360Learning emulator response breaks core-api.json: ${message}` },
      });
    }
    const isClientError = err.type === 'entity.parse.failed' || status === 400 || status === 413 || status === 415;
    const bodyError = err.type === 'entity.parse.failed' || (err.errors ?? []).some((e) => e.path?.startsWith('/body'));
    if (isClientError && bodyError && req.path.startsWith('/api/v2/bulk/')) {
      // The Bulk API names its own input errors: more than 20,000 items, or anything else wrong with the input.
      const tooLong = err.errors?.some((e) => e.path === '/body/input' && e.errorCode?.startsWith('maxItems'));
      return sendRaw(res, 400, { error: { code: tooLong ? 'inputTooLong' : 'invalidInput', message } });
    }
    if (isClientError) {
      if (req.path === TOKEN_PATH) {
        const grant = err.errors?.some((e) => e.path === '/body/grant_type' && e.errorCode?.startsWith('enum'));
        return sendRaw(res, 400, { error: grant ? 'unsupported_grant_type' : 'invalid_request' });
      }
      return sendRaw(res, 400, { error: { code: 'badRequest', message } });
    }
    if (status === 404)
      return sendRaw(res, 404, {
        error: { code: 'notFound', message: `${req.method} ${req.path} is not a Core API route.` },
      });
    if (status === 405) return sendRaw(res, 405, { error: { code: 'methodNotAllowed', message } });
    internalErrors.push({
      at: options.now().toISOString(),
      method: req.method,
      path: req.originalUrl,
      message,
      stack: err.stack,
    });
    return sendRaw(res, 500, { error: { code: 'internalError', message } });
  };

  return { match, validateRequest, errorHandler, drift, internalErrors };
}
