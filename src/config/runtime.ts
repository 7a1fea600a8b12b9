/**
 * Process settings that are not part of bobsync.yaml: where things run and secrets that are
 * not per connection. All come from the environment, validated with messages that name the variable.
 */
import { z } from 'zod';
import { ConfigError } from './loader';

const port = z.coerce.number().int().min(1).max(65535);

const runtimeSchema = z.object({
  BOBSYNC_CONFIG: z.string().default('bobsync.yaml'),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().optional(),
  BOBSYNC_API_PORT: port.default(3000),
  BOBSYNC_API_HOST: z.string().default('127.0.0.1'),
  BOBSYNC_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must look like smtp://host:port or smtps://user:pass@host:port')
    .optional(),
  BOBSYNC_DATA_DIR: z.string().default('.data'),
  BOBSYNC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type RuntimeSettings = z.infer<typeof runtimeSchema>;

export function runtimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  const parsed = runtimeSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message} (got "${String(env[String(i.path[0])])}")`),
      'environment',
    );
  }
  return parsed.data;
}
