/** What most commands and processes need: the validated config, the runtime settings and how to reach Temporal. */
import { resolve } from 'node:path';
import {
  plainConnectionSettings,
  resolveConnectionSettings,
  type TemporalConnectionSettings,
} from '../temporal/connection-settings';
import { assertSecretsPresent, loadConfigFile } from './loader';
import { runtimeSettings, type RuntimeSettings } from './runtime';
import type { BobsyncConfig } from './schema';

export interface CommandContext {
  config: BobsyncConfig;
  configPath: string;
  runtime: RuntimeSettings;
  address: string;
  namespace: string;
  /** TLS, API key and headers as well (TEMPORAL_* variables > temporal.toml profile > bobsync.yaml); absent: plain address. */
  temporal?: TemporalConnectionSettings;
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
  const temporal = resolveConnectionSettings({ env, defaults: config.temporal, defaultsFrom: configPath });
  return { config, configPath, runtime, address: temporal.address, namespace: temporal.namespace, temporal };
}

/** The settings to connect with: the resolved ones, or a plain connection to the context's address. */
export function temporalSettings(ctx: CommandContext): TemporalConnectionSettings {
  return ctx.temporal ?? plainConnectionSettings(ctx.address, ctx.namespace);
}
