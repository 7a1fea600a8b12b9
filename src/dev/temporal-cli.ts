/**
 * Finds the `temporal` CLI (dev server + Web UI) without anyone installing it by hand.
 *
 * Order: $TEMPORAL_CLI, `temporal` on PATH, the per-user cache; when missing, download the
 * release archive for this platform into the cache the way Temporal's SDKs fetch their dev server
 * (temporal.download), else build it with `go install`. v1.5.x is the newest CLI line whose
 * go.mod allows `go install`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { findOnPath, isExecutable, toolCacheDir } from './tool-cache';

export const TEMPORAL_CLI_VERSION = '1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** Temporal's download service: `/cli/<version>?platform=&arch=&format=` answers where the archive is. */
export const TEMPORAL_DOWNLOAD_BASE = 'https://temporal.download';
const RELEASE_PAGE = `https://github.com/temporalio/cli/releases/tag/v${TEMPORAL_CLI_VERSION}`;

export function temporalCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolCacheDir(`temporal-${TEMPORAL_CLI_VERSION}`, env);
}

export type CliSource = 'env' | 'path' | 'cache' | 'downloaded' | 'built';

/** Returns the CLI path if it can be found without downloading or building. */
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

export interface EnsureTemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress and outcome lines (default: stderr). */
  log?: (line: string) => void;
  /** Base URL of the download service (default $BOBSYNC_TEMPORAL_DOWNLOAD_URL or https://temporal.download). */
  downloadBase?: string;
  fetch?: typeof fetch;
  /** How long to wait for the download service to answer before building with Go instead (default 10 s). */
  connectTimeoutMs?: number;
  /** How often a Go build reports progress (default 5 s). */
  progressIntervalMs?: number;
  /** Platform and architecture to ask for (default: this machine's). */
  platform?: NodeJS.Platform;
  arch?: string;
}

/** One way of getting the CLI that did not work, and what would make it work. */
interface Attempt {
  what: string;
  why: string;
  fix: string;
}

class AttemptFailed extends Error {
  constructor(
    readonly why: string,
    readonly fix: string,
  ) {
    super(why);
  }
}

/**
 * Finds the CLI, or downloads it, or builds it with Go, into the cache; throws one message that
 * lists what was tried and how to fix each when nothing works.
 */
export async function ensureTemporalCli(
  options: EnsureTemporalCliOptions = {},
): Promise<{ path: string; source: CliSource }> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const found = findTemporalCli(env);
  if (found) return found;

  const cacheDir = temporalCacheDir(env);
  mkdirSync(cacheDir, { recursive: true });
  const attempts: Attempt[] = [];

  const base = (options.downloadBase ?? env.BOBSYNC_TEMPORAL_DOWNLOAD_URL ?? TEMPORAL_DOWNLOAD_BASE).replace(
    /\/+$/,
    '',
  );
  try {
    const path = await downloadTemporalCli(cacheDir, base, options, log);
    return { path, source: 'downloaded' };
  } catch (err) {
    const failed = err instanceof AttemptFailed ? err : new AttemptFailed((err as Error).message, mirrorFix(base));
    log(`Could not download the Temporal CLI (${failed.why}).`);
    attempts.push({ what: `download from ${base}`, why: failed.why, fix: failed.fix });
  }

  try {
    const path = await buildWithGo(cacheDir, env, options.progressIntervalMs ?? 5_000, log);
    return { path, source: 'built' };
  } catch (err) {
    const failed = err instanceof AttemptFailed ? err : new AttemptFailed((err as Error).message, '');
    attempts.push({ what: 'build with Go (go install)', why: failed.why, fix: failed.fix });
  }

  throw new Error(
    [
      `The Temporal CLI ${TEMPORAL_CLI_VERSION} is not on this machine, and bobsync could not get it into ${cacheDir}:`,
      ...attempts.map((a) => `  - ${a.what}: ${a.why}.\n    Fix: ${a.fix}`),
      `Or install the CLI yourself (https://docs.temporal.io/cli#install, or the archive for your platform from ` +
        `${RELEASE_PAGE}) and put \`temporal\` on PATH or set TEMPORAL_CLI to its path.`,
    ].join('\n'),
  );
}

function mirrorFix(base: string): string {
  let host = base;
  try {
    host = new URL(base).host;
  } catch {
    /* not a URL: name it as given */
  }
  return `allow HTTPS from this machine to ${host} and run again, or set BOBSYNC_TEMPORAL_DOWNLOAD_URL to a mirror of it`;
}

/** Temporal's names for this machine, as its download service expects them. */
function downloadTarget(platform: NodeJS.Platform, arch: string): { platform: string; arch: string } {
  const platforms: Partial<Record<NodeJS.Platform, string>> = { linux: 'linux', darwin: 'darwin' };
  const arches: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
  const p = platforms[platform];
  const a = arches[arch];
  if (!p || !a) {
    throw new AttemptFailed(
      `no archive is offered for ${platform}/${arch} here`,
      'install the CLI for your platform yourself (see below)',
    );
  }
  return { platform: p, arch: a };
}

async function downloadTemporalCli(
  cacheDir: string,
  base: string,
  options: EnsureTemporalCliOptions,
  log: (line: string) => void,
): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const target = downloadTarget(options.platform ?? process.platform, options.arch ?? process.arch);
  const query = new URLSearchParams({ platform: target.platform, arch: target.arch, format: 'tar.gz' });
  const infoUrl = `${base}/cli/v${TEMPORAL_CLI_VERSION}?${query.toString()}`;
  const unreachable = (err: unknown, url: string): never => {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const reason =
      (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
        ? `no answer within ${timeoutMs % 1000 ? `${timeoutMs} ms` : `${timeoutMs / 1000} s`}`
        : (cause?.code ?? cause?.message ?? (err as Error).message);
    throw new AttemptFailed(`${url} is unreachable (${reason})`, mirrorFix(base));
  };

  log(`Downloading the Temporal CLI ${TEMPORAL_CLI_VERSION} (${target.platform}/${target.arch}) into ${cacheDir}…`);
  const infoResponse = await doFetch(infoUrl, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: unknown) =>
    unreachable(err, infoUrl),
  );
  if (!infoResponse.ok) {
    throw new AttemptFailed(`${infoUrl} answered ${infoResponse.status}`, mirrorFix(base));
  }
  const info = (await infoResponse.json().catch(() => ({}))) as { archiveUrl?: unknown; fileToExtract?: unknown };
  const { archiveUrl, fileToExtract } = info;
  if (typeof archiveUrl !== 'string' || typeof fileToExtract !== 'string') {
    throw new AttemptFailed(`${infoUrl} did not name an archive and the file in it`, mirrorFix(base));
  }
  if (!/\.tar\.gz$/.test(new URL(archiveUrl, infoUrl).pathname)) {
    throw new AttemptFailed(`the archive ${archiveUrl} is not a .tar.gz`, mirrorFix(base));
  }
  // A member name from the network is extracted only when it cannot step outside the folder.
  if (!/^[\w.-]+(\/[\w.-]+)*$/.test(fileToExtract) || fileToExtract.split('/').includes('..')) {
    throw new AttemptFailed(`the archive names an unsafe file "${fileToExtract}"`, mirrorFix(base));
  }

  const work = mkdtempSync(join(cacheDir, '.download-'));
  try {
    const archive = join(work, 'temporal.tar.gz');
    await fetchToFile(doFetch, new URL(archiveUrl, infoUrl).href, archive, timeoutMs).catch((err: unknown) => {
      if (err instanceof AttemptFailed) throw err;
      return unreachable(err, archiveUrl);
    });
    const tar = spawnSync('tar', ['-xzf', archive, '-C', work, fileToExtract], { encoding: 'utf8' });
    if (tar.error || tar.status !== 0) {
      throw new AttemptFailed(
        `extracting ${fileToExtract} from ${archiveUrl} failed: ${tar.error?.message ?? tar.stderr.trim()}`,
        tar.error ? 'install tar' : 'run again (the archive may have been cut short)',
      );
    }
    const extracted = join(work, fileToExtract);
    if (!statSync(extracted, { throwIfNoEntry: false })?.isFile()) {
      throw new AttemptFailed(`${archiveUrl} has no file ${fileToExtract}`, mirrorFix(base));
    }
    chmodSync(extracted, 0o755);
    const version = spawnSync(extracted, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    if (version.status !== 0 || !/temporal version/i.test(version.stdout)) {
      throw new AttemptFailed(
        `the downloaded CLI does not run here (\`temporal --version\`: ${version.error?.message ?? (version.stderr.trim() || `exit ${version.status}`)})`,
        'install the CLI for your platform yourself (see below)',
      );
    }
    // Renamed into place only once it runs: a cut-short download never looks like a cached CLI.
    const dest = join(cacheDir, 'temporal');
    renameSync(extracted, dest);
    log(`Temporal CLI ready: ${dest} (${version.stdout.trim()})`);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Streams `url` to `file`, giving up when the server stays silent for `idleMs` (before or during the body). */
async function fetchToFile(doFetch: typeof fetch, url: string, file: string, idleMs: number): Promise<void> {
  const controller = new AbortController();
  let timer = setTimeout(() => controller.abort(), idleMs);
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idleMs);
  };
  try {
    const res = await doFetch(url, { signal: controller.signal });
    if (!res.ok || !res.body) throw new AttemptFailed(`${url} answered ${res.status}`, mirrorFix(url));
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    body.on('data', poke);
    await pipeline(body, createWriteStream(file));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `go install -v` into the cache, reporting every few seconds how long it has run and which
 * package it is on, instead of minutes of silence.
 */
async function buildWithGo(
  cacheDir: string,
  env: NodeJS.ProcessEnv,
  progressIntervalMs: number,
  log: (line: string) => void,
): Promise<string> {
  const go = findOnPath('go', env);
  if (!go) {
    throw new AttemptFailed(
      'Go is not installed',
      `install Go (https://go.dev/doc/install) and run again: bobsync builds the CLI into ${cacheDir} once (a few minutes)`,
    );
  }
  log(`Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cacheDir} (once; a few minutes)…`);
  const started = Date.now();
  const child = spawn(go, ['install', '-v', `${MODULE}@v${TEMPORAL_CLI_VERSION}`], {
    env: { ...env, GOBIN: cacheDir, GOFLAGS: env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  let current = 'resolving modules';
  let packages = 0;
  const onLine = (line: string) => {
    const text = line.trim();
    if (!text) return;
    tail.push(text);
    if (tail.length > 15) tail.shift();
    const downloading = /^go: downloading (\S+)/.exec(text);
    if (downloading) current = `downloading ${downloading[1]}`;
    // `-v` names each package as it is compiled, one import path per line.
    else if (/^[\w.-]+(\/[\w.@+-]+)*$/.test(text)) {
      packages += 1;
      current = `compiling ${text}`;
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      lines.forEach(onLine);
    });
  }
  const progress = setInterval(() => {
    log(`  building the Temporal CLI: ${elapsed(Date.now() - started)}, ${packages} packages compiled, ${current}`);
  }, progressIntervalMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => clearInterval(progress));

  const built = join(cacheDir, 'temporal');
  if (exit.error || exit.code !== 0 || !isExecutable(built)) {
    const outcome = exit.error?.message ?? `go install exited with ${exit.code ?? exit.signal}`;
    throw new AttemptFailed(
      `${outcome}${tail.length ? `; its last output:\n      ${tail.slice(-5).join('\n      ')}` : ''}`,
      'check that the Go module proxy is reachable (GOPROXY) and that Go is recent enough for the CLI’s go.mod',
    );
  }
  log(`Temporal CLI built in ${elapsed(Date.now() - started)}: ${built}`);
  return built;
}

function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
