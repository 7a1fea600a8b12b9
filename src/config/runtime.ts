/**
 * Process settings that are not part of bobsync.yaml: where things run and secrets that are
 * not per connection. All come from the environment, validated with messages that name the variable.
 */
import { z } from 'zod';
import { ConfigError } from './loader';

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Where blobs (snapshots, plans, reports) live. Workers on more than one host share an S3 bucket;
 * S3 credentials come from the AWS SDK's standard chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
 * AWS_PROFILE, web identity, instance role), never from bobsync's own settings.
 */
const blobStoreShape = {
  BOBSYNC_DATA_DIR: z.string().default('.data'),
  BOBSYNC_BLOB_STORE: z
    .enum(['file', 's3'], {
      error: 'must be "file" (files under BOBSYNC_DATA_DIR, one host) or "s3" (a bucket every worker shares)',
    })
    .default('file'),
  BOBSYNC_S3_BUCKET: z.string().optional(),
  BOBSYNC_S3_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a key prefix such as "bobsync/prod/" (no leading "/")')
    .refine((prefix) => !prefix.includes('..'), 'must not contain ".."')
    .optional(),
  BOBSYNC_S3_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be the http(s) URL of an S3-compatible store, e.g. http://minio:9000' })
    .optional(),
  BOBSYNC_S3_REGION: z.string().optional(),
  BOBSYNC_S3_FORCE_PATH_STYLE: z.stringbool({ error: 'must be true or false' }).default(false),
};

function requireBucketForS3(
  settings: { BOBSYNC_BLOB_STORE: string; BOBSYNC_S3_BUCKET?: string },
  ctx: z.RefinementCtx,
): void {
  if (settings.BOBSYNC_BLOB_STORE === 's3' && !settings.BOBSYNC_S3_BUCKET)
    ctx.addIssue({
      code: 'custom',
      path: ['BOBSYNC_S3_BUCKET'],
      message: 'is required when BOBSYNC_BLOB_STORE=s3: set it to the name of the bucket every worker shares',
    });
}

const blobStoreSchema = z.object(blobStoreShape).superRefine(requireBucketForS3);
export type BlobStoreSettings = z.infer<typeof blobStoreSchema>;

const runtimeSchema = z
  .object({
    BOBSYNC_CONFIG: z.string().default('bobsync.yaml'),
    TEMPORAL_ADDRESS: z.string().optional(),
    TEMPORAL_NAMESPACE: z.string().optional(),
    BOBSYNC_API_PORT: port.default(3000),
    BOBSYNC_API_HOST: z.string().default('127.0.0.1'),
    // The codec endpoint listens apart from the webhooks, so the public port never decrypts.
    BOBSYNC_CODEC_PORT: port.default(3001),
    BOBSYNC_CODEC_HOST: z.string().default('127.0.0.1'),
    // Local development only: a codec endpoint with neither token nor OIDC.
    BOBSYNC_CODEC_ALLOW_UNAUTHENTICATED: z.stringbool({ error: 'must be true or false' }).default(false),
    // The worker's Prometheus listener (GET /metrics); 0 turns it off.
    BOBSYNC_WORKER_METRICS_PORT: z.coerce
      .number({ error: 'must be a port number, or 0 to turn the worker metrics listener off' })
      .int()
      .min(0)
      .max(65535)
      .default(9464),
    BOBSYNC_WORKER_METRICS_HOST: z.string().default('127.0.0.1'),
    BOBSYNC_SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must look like smtp://host:port or smtps://user:pass@host:port')
      .optional(),
    ...blobStoreShape,
    BOBSYNC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine(requireBucketForS3);
export type RuntimeSettings = z.infer<typeof runtimeSchema>;

export function runtimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  return parseEnvironment(runtimeSchema, env);
}

/** The blob store settings alone, for the processes and commands that read or write blobs. */
export function blobStoreSettings(env: NodeJS.ProcessEnv = process.env): BlobStoreSettings {
  return parseEnvironment(blobStoreSchema, env);
}

/** Variables whose values may carry a user name and password (smtps://user:pass@host): never echoed. */
const MAY_HOLD_CREDENTIALS = new Set(['BOBSYNC_SMTP_URL']);

function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'not set';
  if (MAY_HOLD_CREDENTIALS.has(name)) return 'set; the value is not shown, as it may hold a password';
  return `got "${value}"`;
}

/** A blank value (as an env file or compose's `${X:-}` leaves it) means "not set", for every variable. */
function withoutBlanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === '' ? undefined : value]));
}

function parseEnvironment<T>(schema: z.ZodType<T>, rawEnv: NodeJS.ProcessEnv): T {
  const env = withoutBlanks(rawEnv);
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0]);
        return `${i.path.join('.')}: ${i.message} (${shownValue(name, env[name])})`;
      }),
      'environment',
    );
  }
  return parsed.data;
}
