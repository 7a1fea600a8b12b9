/**
 * Python test servers (an S3-compatible store, …) installed once, pinned, into a virtualenv in
 * the per-user cache, like the Temporal CLI (src/dev/temporal-cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath, isExecutable, toolCacheDir } from '../../src/dev/tool-cache';

export interface PythonTool {
  /** Folder name under the tool cache, with the version in it ("moto-server-5.2.5"). */
  cacheName: string;
  /** What pip installs: the tool and everything it pulls in, each pinned. */
  requirements: readonly string[];
}

export type PythonToolInstall =
  { python: string; source: 'cache' | 'installed'; installMs: number } | { unavailable: string };

const MARKER = 'installed-ok';

/**
 * The virtualenv's python with the tool importable, installing it when missing (python3 -m venv +
 * pip). Built beside the cache dir and renamed into place, so parallel test processes never see a
 * half-made one. Synchronous: test files decide at load time whether to run or to skip with the reason.
 */
export function ensurePythonTool(tool: PythonTool, env: NodeJS.ProcessEnv = process.env): PythonToolInstall {
  const dir = toolCacheDir(tool.cacheName, env);
  const python = join(dir, 'venv', 'bin', 'python');
  if (existsSync(join(dir, MARKER)) && isExecutable(python)) return { python, source: 'cache', installMs: 0 };
  const base = env.BOBSYNC_PYTHON || findOnPath(['python3', 'python'], env);
  if (!base)
    return { unavailable: `no python3 on PATH to install ${tool.cacheName} into a virtualenv (set BOBSYNC_PYTHON)` };

  const started = Date.now();
  mkdirSync(join(dir, '..'), { recursive: true });
  const staging = `${dir}.staging-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { encoding: 'utf8', env: { ...env, PIP_DISABLE_PIP_VERSION_CHECK: '1' }, timeout: 600_000 });
  const failed = (what: string, result: ReturnType<typeof run>) => {
    rmSync(staging, { recursive: true, force: true });
    return { unavailable: `${what} failed: ${(result.stderr || result.error?.message || '').trim().slice(-600)}` };
  };
  const venv = run(base, ['-m', 'venv', join(staging, 'venv')]);
  if (venv.status !== 0) return failed(`${base} -m venv`, venv);
  const pip = run(join(staging, 'venv', 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--no-input',
    '--quiet',
    ...tool.requirements,
  ]);
  if (pip.status !== 0) return failed(`pip install for ${tool.cacheName}`, pip);
  writeFileSync(join(staging, MARKER), `${tool.requirements.join('\n')}\n`);
  try {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } catch {
    // Another process put its copy in place first: use that one.
    rmSync(staging, { recursive: true, force: true });
  }
  if (!existsSync(join(dir, MARKER))) return { unavailable: `${tool.cacheName} could not be put in place at ${dir}` };
  return { python, source: 'installed', installMs: Date.now() - started };
}
