/**
 * Finds the `temporal` CLI (dev server + Web UI) without anyone installing it by hand.
 *
 * Order: $TEMPORAL_CLI, `temporal` on PATH, the per-user cache, else build it once with
 * `go install` into the cache. v1.5.x is the newest CLI line whose go.mod allows `go install`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, isExecutable, toolCacheDir } from './tool-cache';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolCacheDir(`temporal-${TEMPORAL_CLI_VERSION}`, env);
}

export type CliSource = 'env' | 'path' | 'cache' | 'built';

/** Returns the CLI path if it can be found without building. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): { path: string; source: CliSource } | undefined {
  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new Error(
        `TEMPORAL_CLI points to ${env.TEMPORAL_CLI}, which is not an executable file. Fix the path or unset TEMPORAL_CLI.`,
      );
    }
    return { path: env.TEMPORAL_CLI, source: 'env' };
  }
  const onPath = findOnPath('temporal', env);
  if (onPath) return { path: onPath, source: 'path' };
  const cached = join(temporalCacheDir(env), 'temporal');
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

/** Finds the CLI or builds it into the cache with Go; throws a how-to message when neither works. */
export function ensureTemporalCli(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): { path: string; source: CliSource } {
  const found = findTemporalCli(env);
  if (found) return found;

  const go = findOnPath('go', env);
  const cacheDir = temporalCacheDir(env);
  if (!go) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it. Either install the CLI ' +
        '(https://docs.temporal.io/cli#install) and put `temporal` on PATH or set TEMPORAL_CLI to its path, ' +
        `or install Go (https://go.dev/doc/install) and run again: bobsync builds it into ${cacheDir}.`,
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cacheDir} (once; a few minutes)…`);
  const result = spawnSync(go, ['install', `${MODULE}@v${TEMPORAL_CLI_VERSION}`], {
    env: { ...env, GOBIN: cacheDir, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const built = join(cacheDir, 'temporal');
  if (result.status !== 0 || !isExecutable(built)) {
    throw new Error(
      `Building the Temporal CLI failed (go install exited with ${result.status ?? result.signal}). ` +
        'Check that the Go module proxy is reachable, or install the CLI yourself and set TEMPORAL_CLI.',
    );
  }
  return { path: built, source: 'built' };
}
