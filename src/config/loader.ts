import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type BobsyncConfig, type SecretRef } from './schema';

/** A config problem, worded for the operator: where it is, what is wrong, how to fix it. */
export class ConfigError extends Error {
  constructor(
    readonly problems: string[],
    source: string,
  ) {
    super(`${source} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
}

const SECRET_FIELDS = new Set(['serviceUserToken', 'webhookSecret', 'clientSecret', 'token']);

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const where = formatPath(issue.path) || '(top level)';
  const last = issue.path[issue.path.length - 1];
  const value = valueAt(raw, issue.path);
  // A secret written as a value (a string, or a token YAML read as a number) instead of `{ env: … }`.
  if (
    typeof last === 'string' &&
    SECRET_FIELDS.has(last) &&
    value !== undefined &&
    value !== null &&
    typeof value !== 'object'
  ) {
    return `${where}: secrets cannot be written in the config file. Write \`${last}: { env: SOME_VARIABLE }\` and set SOME_VARIABLE in the environment.`;
  }
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against \`bobsync config schema\`.`;
  }
  if (issue.code === 'invalid_type' && value === undefined) {
    return `${where}: is required (${issue.message}).`;
  }
  return `${where}: ${issue.message}.`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Parses and validates YAML text; `source` names the file in messages. */
export function parseConfig(text: string, source = 'bobsync.yaml'): BobsyncConfig {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => `YAML syntax: ${e.message}`),
      source,
    );
  }
  const raw: unknown = doc.toJS();
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => describeIssue(i, raw)),
      source,
    );
  return parsed.data;
}

export function loadConfigFile(path: string): BobsyncConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      [
        `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)}). Pass --config PATH or set BOBSYNC_CONFIG.`,
      ],
      path,
    );
  }
  return parseConfig(text, path);
}

/** Every secret reference in the config, with where it is used. */
export function secretReferences(config: BobsyncConfig): { where: string; ref: SecretRef }[] {
  const refs: { where: string; ref: SecretRef }[] = [];
  config.connections.forEach((c, i) => {
    const base = `connections[${i}]`;
    refs.push({ where: `${base}.source.serviceUserToken`, ref: c.source.serviceUserToken });
    if (c.source.webhookSecret) refs.push({ where: `${base}.source.webhookSecret`, ref: c.source.webhookSecret });
    if (c.destination.type === '360learning')
      refs.push({ where: `${base}.destination.clientSecret`, ref: c.destination.clientSecret });
    else refs.push({ where: `${base}.destination.token`, ref: c.destination.token });
  });
  return refs;
}

/** Names every environment variable the config needs that is not set. */
export function missingSecrets(config: BobsyncConfig, env: NodeJS.ProcessEnv = process.env): string[] {
  return secretReferences(config)
    .filter(({ ref }) => !env[ref.env])
    .map(({ where, ref }) => `${ref.env} is not set (needed by ${where}); export it before starting bobsync.`);
}

/** Reads a secret's value; throws a message naming the variable, never the value. */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[ref.env];
  if (!value) throw new ConfigError([`${ref.env} is not set; export it before starting bobsync.`], 'environment');
  return value;
}

export function assertSecretsPresent(
  config: BobsyncConfig,
  env: NodeJS.ProcessEnv = process.env,
  source = 'environment',
): void {
  const missing = missingSecrets(config, env);
  if (missing.length) throw new ConfigError(missing, source);
}
