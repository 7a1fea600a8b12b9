/**
 * Where bobsync keeps the tools it fetches or builds for itself (Temporal CLI, time-skipping test
 * server): one folder per tool and version under the per-user cache, and how to find executables.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** `$XDG_CACHE_HOME/bobsync/<tool>` (default ~/.cache/bobsync/<tool>). */
export function toolCacheDir(tool: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bobsync', tool);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first of `names` found as an executable on PATH. */
export function findOnPath(names: string | readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const name of typeof names === 'string' ? [names] : names) {
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      if (dir && isExecutable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}
