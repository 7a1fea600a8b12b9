/**
 * Remote codec endpoint for the Temporal Web UI and the `temporal` CLI (`--codec-endpoint`):
 * operators see decrypted payloads in their browser while Temporal itself only stores
 * ciphertext. The UI calls `POST {endpoint}/decode` (and `/encode` when sending signals or
 * starting workflows) straight from the browser, hence the CORS handling.
 *
 * Anyone who passes this endpoint's check can decrypt history, so it runs on a listener of its
 * own (never the public webhook port) and takes a static bearer token (the CLI's `--codec-auth`)
 * and/or the OIDC access token the Temporal UI forwards when it signs users in.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { Router, type Express, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { JWTVerifyGetKey } from 'jose';

export const ENV_CODEC_AUTH_TOKEN = 'BOBSYNC_CODEC_AUTH_TOKEN';
export const ENV_CODEC_CORS_ORIGINS = 'BOBSYNC_CODEC_CORS_ORIGINS';
export const ENV_CODEC_OIDC_ISSUER = 'BOBSYNC_CODEC_OIDC_ISSUER';
export const ENV_CODEC_OIDC_AUDIENCE = 'BOBSYNC_CODEC_OIDC_AUDIENCE';
export const ENV_CODEC_OIDC_JWKS_URL = 'BOBSYNC_CODEC_OIDC_JWKS_URL';
export const DEFAULT_CODEC_CORS_ORIGINS = ['http://localhost:8233'];

const ALLOWED_HEADERS = ['Content-Type', 'X-Namespace', 'Authorization', 'Authorization-Extras'];
const BODY_LIMIT = '16mb'; // a batch of 2 MiB payloads, base64-inflated

/** Payload as JSON (protobuf JSON mapping): every metadata value and the data are base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export interface CodecRouterOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call the endpoint; `*` allows any. Default: the dev server UI. */
  corsOrigins?: readonly string[];
  /** When set, requests may authenticate with `Authorization: Bearer <token>`. */
  authToken?: string;
  /** When set, requests may authenticate with an access token (a JWT) this issuer signed. */
  oidc?: CodecOidcOptions;
}

/** Which OIDC access tokens the endpoint accepts: the Temporal UI forwards its user's (`codec.passAccessToken`). */
export interface CodecOidcOptions {
  /** Must equal the token's `iss` exactly. */
  issuer: string;
  /** The token's `aud` must contain one of these: without it any token of the issuer would do. */
  audience: string[];
  /** Where the issuer's signing keys are; default: `jwks_uri` of `<issuer>/.well-known/openid-configuration`. */
  jwksUrl?: string;
}

/** Resolves true for a valid token, false for one to refuse; rejects when it cannot tell (keys unreachable). */
export type BearerVerifier = (token: string) => Promise<boolean>;

export class InvalidPayloadJsonError extends Error {
  override readonly name = 'InvalidPayloadJsonError';
}

/** Router with `POST /encode` and `POST /decode`; mount it under e.g. `/codec`. */
export function createCodecRouter(options: CodecRouterOptions): Router {
  const origins = new Set(options.corsOrigins ?? DEFAULT_CODEC_CORS_ORIGINS);
  const token = options.authToken ? Buffer.from(options.authToken, 'utf8') : undefined;
  const verifyJwt = options.oidc ? oidcBearerVerifier(options.oidc) : undefined;
  const router = Router();

  router.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin && (origins.has('*') || origins.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      // The UI may send cookies (TEMPORAL_CODEC_INCLUDE_CREDENTIALS); that needs an exact origin echo.
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.vary('Origin');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS.join(', '));
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  });

  // After the CORS step on purpose: browsers send preflights without credentials.
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if (!token && !verifyJwt) return next();
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const given = match?.[1]?.trim();
    if (given) {
      const bytes = Buffer.from(given, 'utf8');
      if (token && bytes.length === token.length && timingSafeEqual(bytes, token)) return next();
      if (verifyJwt && JWT_SHAPE.test(given)) {
        try {
          if (await verifyJwt(given)) return next();
        } catch (err) {
          // The identity provider's keys cannot be read: not the caller's fault, and worth retrying.
          res.status(503).json({ error: `Cannot check the access token now: ${(err as Error).message}` });
          return;
        }
      }
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="bobsync-codec"');
    res.status(401).json({
      error: verifyJwt
        ? 'A valid bearer token or OIDC access token is required for the codec endpoint.'
        : 'A valid bearer token is required for the codec endpoint.',
    });
  });

  router.use(express.json({ limit: BODY_LIMIT }));

  const handle = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    let payloads: Payload[];
    try {
      payloads = payloadsFromJson(req.body);
    } catch (err) {
      res.status(400).json({ error: (err as Error).message });
      return;
    }
    try {
      const result =
        direction === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      res.json({ payloads: result.map(payloadToJson) });
    } catch (err) {
      // Unknown key id or tampered payload: the message names the key id and is safe to show.
      res.status(422).json({ error: (err as Error).message });
    }
  };
  router.post('/encode', handle('encode'));
  router.post('/decode', handle('decode'));

  // Malformed JSON bodies from express.json end up here.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    const status = typeof err === 'object' && err !== null && 'status' in err ? Number(err.status) : NaN;
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: (err as Error).message });
      return;
    }
    next(err);
  });
  return router;
}

/**
 * Router options from the environment: `BOBSYNC_CODEC_CORS_ORIGINS` (comma-separated, default
 * http://localhost:8233), `BOBSYNC_CODEC_AUTH_TOKEN`, and `BOBSYNC_CODEC_OIDC_ISSUER` with
 * `BOBSYNC_CODEC_OIDC_AUDIENCE` (comma-separated) and optionally `BOBSYNC_CODEC_OIDC_JWKS_URL`.
 */
export function codecRouterOptionsFromEnv(
  codec: PayloadCodec,
  env: NodeJS.ProcessEnv = process.env,
): CodecRouterOptions {
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0);
  const rawOrigins = env[ENV_CODEC_CORS_ORIGINS];
  const corsOrigins = rawOrigins ? list(rawOrigins).map((o) => o.replace(/\/+$/, '')) : DEFAULT_CODEC_CORS_ORIGINS;
  const authToken = env[ENV_CODEC_AUTH_TOKEN]?.trim() || undefined;
  const issuer = env[ENV_CODEC_OIDC_ISSUER]?.trim() || undefined;
  const audience = list(env[ENV_CODEC_OIDC_AUDIENCE]);
  const jwksUrl = env[ENV_CODEC_OIDC_JWKS_URL]?.trim() || undefined;
  if (!issuer && (audience.length || jwksUrl)) {
    throw new Error(
      `${ENV_CODEC_OIDC_AUDIENCE} and ${ENV_CODEC_OIDC_JWKS_URL} need ${ENV_CODEC_OIDC_ISSUER}: set it too.`,
    );
  }
  if (issuer && !audience.length) {
    throw new Error(
      `${ENV_CODEC_OIDC_ISSUER} is set but ${ENV_CODEC_OIDC_AUDIENCE} is not: name the audience the Temporal UI's ` +
        'access tokens carry, or any token of that issuer would open the codec endpoint.',
    );
  }
  for (const [name, value] of [
    [ENV_CODEC_OIDC_ISSUER, issuer],
    [ENV_CODEC_OIDC_JWKS_URL, jwksUrl],
  ] as const) {
    if (value && !/^https?:\/\/[^/]/.test(value)) throw new Error(`${name} must be an http(s) URL (got "${value}").`);
  }
  const oidc = issuer ? { issuer, audience, ...(jwksUrl ? { jwksUrl } : {}) } : undefined;
  return { codec, corsOrigins, authToken, oidc };
}

/** `createCodecRouter(codecRouterOptionsFromEnv(codec, env))`. */
export function codecRouterFromEnv(codec: PayloadCodec, env: NodeJS.ProcessEnv = process.env): Router {
  return createCodecRouter(codecRouterOptionsFromEnv(codec, env));
}

export class CodecAuthRequiredError extends Error {
  override readonly name = 'CodecAuthRequiredError';
}

/**
 * The codec listener's app: `/codec/encode`, `/codec/decode` and `/healthz`. Refuses to exist
 * without a credential unless `allowUnauthenticated` (local development) says otherwise.
 */
export function createCodecApp(options: CodecRouterOptions & { allowUnauthenticated?: boolean }): Express {
  if (!options.authToken && !options.oidc && !options.allowUnauthenticated) {
    throw new CodecAuthRequiredError(
      'The codec endpoint decrypts every payload for whoever calls it, so it needs a credential: set ' +
        `${ENV_CODEC_AUTH_TOKEN} (the Temporal CLI sends it with --codec-auth "Bearer <token>") and/or ` +
        `${ENV_CODEC_OIDC_ISSUER} and ${ENV_CODEC_OIDC_AUDIENCE} (the Temporal UI forwards its users' access ` +
        'tokens). For a local, single-user run only, BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED=true starts it open. ' +
        '`bobsync api --no-codec` runs the webhook API without it.',
    );
  }
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/codec', createCodecRouter(options));
  return app;
}

// Three base64url parts: worth a signature check; anything else cannot be an access token we accept.
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
// jose errors that mean "this token is no good" rather than "the keys could not be read".
const TOKEN_REJECTIONS = new Set([
  'ERR_JWT_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_INVALID',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
]);

/**
 * Verifies access tokens against the issuer's published keys (fetched on first use, cached, and
 * re-read when a token names a key not seen yet, so key rotation needs no restart).
 */
export function oidcBearerVerifier(oidc: CodecOidcOptions): BearerVerifier {
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const keySet = () =>
    (keys ??= (async () => {
      // jose is ESM-only; loaded only where OIDC is configured.
      const { createRemoteJWKSet } = await import('jose');
      const jwksUrl = oidc.jwksUrl ?? (await discoverJwksUrl(oidc.issuer));
      return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5_000 });
    })().catch((err: unknown) => {
      keys = undefined; // try discovery again on the next request
      throw err;
    }));
  return async (token) => {
    const { jwtVerify } = await import('jose');
    try {
      await jwtVerify(token, await keySet(), {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: JWT_ALGORITHMS,
        clockTolerance: 30,
      });
      return true;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'string' && TOKEN_REJECTIONS.has(code)) return false;
      throw err;
    }
  };
}

async function discoverJwksUrl(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) }).catch((err: Error) => {
    throw new Error(`OIDC discovery at ${url} failed: ${err.message}`);
  });
  if (!res.ok) throw new Error(`OIDC discovery at ${url} answered ${res.status}`);
  const doc = (await res.json()) as { jwks_uri?: unknown };
  if (typeof doc.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${url} names no jwks_uri`);
  return doc.jwks_uri;
}

export function payloadsFromJson(body: unknown): Payload[] {
  // Protobuf JSON leaves out empty lists: the Temporal CLI sends `{}` for "no payloads".
  if (typeof body === 'object' && body !== null && (body as { payloads?: unknown }).payloads === undefined) return [];
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { payloads?: unknown }).payloads)) {
    throw new InvalidPayloadJsonError(
      'Body must be JSON of the form {"payloads": [{"metadata": {...}, "data": "<base64>"}]}.',
    );
  }
  return (body as { payloads: unknown[] }).payloads.map((item, index) => payloadFromJson(item, index));
}

export function payloadFromJson(item: unknown, index = 0): Payload {
  if (typeof item !== 'object' || item === null)
    throw new InvalidPayloadJsonError(`payloads[${index}] must be an object.`);
  const { metadata, data } = item as { metadata?: unknown; data?: unknown };
  const out: Record<string, Uint8Array> = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata)) {
      throw new InvalidPayloadJsonError(`payloads[${index}].metadata must be an object of base64 strings.`);
    }
    for (const [name, value] of Object.entries(metadata)) {
      out[name] = base64Bytes(value, `payloads[${index}].metadata.${name}`);
    }
  }
  return {
    metadata: out,
    data: data === undefined || data === null ? new Uint8Array() : base64Bytes(data, `payloads[${index}].data`),
  };
}

export function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[name] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

// Protobuf JSON accepts standard and URL-safe base64, padded or not.
const BASE64_ANY = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64Bytes(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64_ANY.test(value))
    throw new InvalidPayloadJsonError(`${where} must be a base64 string.`);
  return new Uint8Array(Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64'));
}
