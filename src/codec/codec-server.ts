/**
 * Remote codec endpoint for the Temporal Web UI and the `temporal` CLI (`--codec-endpoint`):
 * operators see decrypted payloads in their browser while Temporal itself only stores
 * ciphertext. The UI calls `POST {endpoint}/decode` (and `/encode` when sending signals or
 * starting workflows) straight from the browser, hence the CORS handling.
 *
 * Anyone who can reach this endpoint can decrypt history: keep it on an internal network,
 * behind the same access control as the UI, and set a bearer token for non-browser callers.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';

export const ENV_CODEC_AUTH_TOKEN = 'BOBSYNC_CODEC_AUTH_TOKEN';
export const ENV_CODEC_CORS_ORIGINS = 'BOBSYNC_CODEC_CORS_ORIGINS';
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
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
}

export class InvalidPayloadJsonError extends Error {
  override readonly name = 'InvalidPayloadJsonError';
}

/** Router with `POST /encode` and `POST /decode`; mount it under e.g. `/codec`. */
export function createCodecRouter(options: CodecRouterOptions): Router {
  const origins = new Set(options.corsOrigins ?? DEFAULT_CODEC_CORS_ORIGINS);
  const token = options.authToken ? Buffer.from(options.authToken, 'utf8') : undefined;
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

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!token) return next();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = match ? Buffer.from(match[1]!.trim(), 'utf8') : undefined;
    if (given && given.length === token.length && timingSafeEqual(given, token)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="bobsync-codec"');
    res.status(401).json({ error: 'A valid bearer token is required for the codec endpoint.' });
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
 * Router options from the environment: `BOBSYNC_CODEC_CORS_ORIGINS` (comma-separated,
 * default http://localhost:8233) and `BOBSYNC_CODEC_AUTH_TOKEN` (optional).
 */
export function codecRouterOptionsFromEnv(
  codec: PayloadCodec,
  env: NodeJS.ProcessEnv = process.env,
): CodecRouterOptions {
  const rawOrigins = env[ENV_CODEC_CORS_ORIGINS];
  const corsOrigins = rawOrigins
    ? rawOrigins
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter((o) => o.length > 0)
    : DEFAULT_CODEC_CORS_ORIGINS;
  const authToken = env[ENV_CODEC_AUTH_TOKEN]?.trim() || undefined;
  return { codec, corsOrigins, authToken };
}

/** `createCodecRouter(codecRouterOptionsFromEnv(codec, env))`. */
export function codecRouterFromEnv(codec: PayloadCodec, env: NodeJS.ProcessEnv = process.env): Router {
  return createCodecRouter(codecRouterOptionsFromEnv(codec, env));
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
