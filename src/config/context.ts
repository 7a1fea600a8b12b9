/** What most commands and processes need: the validated config, the runtime settings and a Temporal address. */
import { resolve } from 'node:path';
import { assertSecretsPresent, loadConfigFile } from './loader';
import { runtimeSettings, type RuntimeSettings } from './runtime';
import type { BobsyncConfig } from './schema';

export interface CommandContext {
  config: BobsyncConfig;
  configPath: string;
  runtime: RuntimeSettings;
  address: string;
  namespace: string;
}

export function loadContext(
  opts: { config?: string },
  env: NodeJS.ProcessEnv = process.env,
  requireSecrets = true,
): CommandContext {
  const runtime = runtimeSettings(env);
  const configPath = resolve(opts.config ?? runtime.BOBSYNC_CONFIG);
  const config = loadConfigFile(configPath);
  if (requireSecrets) assertSecretsPresent(config, env);
  return {
    config,
    configPath,
    runtime,
    address: runtime.TEMPORAL_ADDRESS ?? config.temporal.address,
    namespace: runtime.TEMPORAL_NAMESPACE ?? config.temporal.namespace,
  };
}
