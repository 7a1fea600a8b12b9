/**
 * Getting the Temporal CLI onto a machine that has none: the download the SDKs use (served here
 * by a local stand-in of temporal.download), the fallback to `go install` (a stand-in `go` script),
 * and the message when neither works. Nothing here leaves the machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTemporalCli, temporalCacheDir, TEMPORAL_CLI_VERSION } from '../../src/dev/temporal-cli';
import { freePort } from '../../src/dev/ports';

const MODULE = 'github.com/temporalio/cli/cmd/temporal';

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'bobsync-temporal-cli-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** A .tar.gz holding an executable `temporal` shell script (and a licence file, as the real one does). */
function fakeArchive(script: string): Buffer {
  const dir = mkdtempSync(join(scratch, 'archive-'));
  writeFileSync(join(dir, 'temporal'), script, { mode: 0o755 });
  writeFileSync(join(dir, 'LICENSE'), 'MIT\n');
  execFileSync('tar', ['-czf', join(dir, 'out.tar.gz'), '-C', dir, 'LICENSE', 'temporal']);
  return readFileSync(join(dir, 'out.tar.gz'));
}
const WORKING_CLI = '#!/bin/sh\necho "temporal version 1.5.1 (downloaded)"\n';

interface FakeDownloads {
  base: string;
  requests: string[];
  close(): Promise<void>;
}

/** A stand-in for temporal.download: `route` answers each request, the URLs are recorded. */
async function fakeDownloadService(route: (req: IncomingMessage, res: ServerResponse, base: string) => void) {
  const requests: string[] = [];
  let base = '';
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    route(req, res, base);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } satisfies FakeDownloads;
}

/** Answers like temporal.download: metadata naming the archive, then the archive itself. */
function servesArchive(archive: Buffer) {
  return (req: IncomingMessage, res: ServerResponse, base: string) => {
    if (req.url?.startsWith(`/cli/v${TEMPORAL_CLI_VERSION}?`)) {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          archiveUrl: `${base}/assets/temporal_cli_${TEMPORAL_CLI_VERSION}_linux_amd64.tar.gz`,
          fileToExtract: 'temporal',
        }),
      );
    } else if (req.url?.startsWith('/assets/')) {
      res.setHeader('content-type', 'application/gzip');
      res.end(archive);
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
}

/** A folder with a stand-in `go` that "builds" a working CLI into $GOBIN, talking like `go install -v`. */
function fakeGo(options: { fail?: boolean } = {}): { pathDir: string; argsFile: string } {
  const pathDir = mkdtempSync(join(scratch, 'gobin-'));
  const argsFile = join(pathDir, 'args');
  const body = options.fail
    ? [
        `echo "$*" > "${argsFile}"`,
        'echo "go: downloading github.com/temporalio/cli v1.5.1" >&2',
        'echo "go: github.com/temporalio/cli@v1.5.1: dial tcp: lookup proxy.golang.org: no such host" >&2',
        'exit 1',
      ]
    : [
        `echo "$*" > "${argsFile}"`,
        'echo "go: downloading github.com/temporalio/cli v1.5.1" >&2',
        '/bin/sleep 0.4',
        'echo "github.com/temporalio/cli/internal/temporalcli" >&2',
        '/bin/sleep 0.4',
        `printf '#!/bin/sh\\necho "temporal version 1.5.1 (built)"\\n' > "$GOBIN/temporal"`,
        '/bin/chmod +x "$GOBIN/temporal"',
        `echo "${MODULE}" >&2`,
      ];
  writeFileSync(join(pathDir, 'go'), ['#!/bin/sh', ...body, ''].join('\n'));
  chmodSync(join(pathDir, 'go'), 0o755);
  return { pathDir, argsFile };
}

function envWith(pathDirs: string[]): NodeJS.ProcessEnv {
  // No `temporal` and no `go` unless a test puts one there; a cache of its own.
  const empty = join(scratch, 'empty-path');
  mkdirSync(empty, { recursive: true });
  return { XDG_CACHE_HOME: join(scratch, 'cache'), PATH: [...pathDirs, empty].join(':') };
}

const target = { platform: 'linux' as const, arch: 'x64' };

function versionOf(path: string): string {
  return spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

describe('ensureTemporalCli', () => {
  it('downloads the archive for this platform into the cache, and finds it there afterwards', async () => {
    const service = await fakeDownloadService(servesArchive(fakeArchive(WORKING_CLI)));
    const env = envWith([]);
    const lines: string[] = [];
    try {
      const first = await ensureTemporalCli({ env, log: (l) => lines.push(l), downloadBase: service.base, ...target });
      expect(first).toEqual({ path: join(temporalCacheDir(env), 'temporal'), source: 'downloaded' });
      expect(versionOf(first.path)).toBe('temporal version 1.5.1 (downloaded)');
      // The SDK's request: version with a "v", Temporal's platform and architecture names, tar.gz.
      const info = new URL(service.requests[0]!, service.base);
      expect(info.pathname).toBe(`/cli/v${TEMPORAL_CLI_VERSION}`);
      expect(Object.fromEntries(info.searchParams)).toEqual({ platform: 'linux', arch: 'amd64', format: 'tar.gz' });
      expect(service.requests).toHaveLength(2);
      expect(lines.join('\n')).toMatch(/Downloading the Temporal CLI 1\.5\.1 \(linux\/amd64\)/);
      // Nothing but the CLI is left in the cache folder.
      expect(existsSync(join(temporalCacheDir(env), 'LICENSE'))).toBe(false);

      const again = await ensureTemporalCli({ env, log: () => undefined, downloadBase: service.base, ...target });
      expect(again).toEqual({ path: first.path, source: 'cache' });
      expect(service.requests).toHaveLength(2);
    } finally {
      await service.close();
    }
  });

  it('asks for arm64 on ARM machines and darwin on macOS', async () => {
    const service = await fakeDownloadService(servesArchive(fakeArchive(WORKING_CLI)));
    try {
      await ensureTemporalCli({
        env: envWith([]),
        log: () => undefined,
        downloadBase: service.base,
        platform: 'darwin',
        arch: 'arm64',
      });
      const info = new URL(service.requests[0]!, service.base);
      expect(info.searchParams.get('platform')).toBe('darwin');
      expect(info.searchParams.get('arch')).toBe('arm64');
    } finally {
      await service.close();
    }
  });

  it('builds with Go when the download is refused, reporting progress while it builds', async () => {
    const service = await fakeDownloadService((_req, res) => {
      res.statusCode = 403;
      res.end('Forbidden');
    });
    const go = fakeGo();
    const env = envWith([go.pathDir]);
    const lines: string[] = [];
    try {
      const cli = await ensureTemporalCli({
        env,
        log: (l) => lines.push(l),
        downloadBase: service.base,
        progressIntervalMs: 100,
        ...target,
      });
      expect(cli).toEqual({ path: join(temporalCacheDir(env), 'temporal'), source: 'built' });
      expect(versionOf(cli.path)).toBe('temporal version 1.5.1 (built)');
      expect(readFileSync(go.argsFile, 'utf8').trim()).toBe(`install -v ${MODULE}@v${TEMPORAL_CLI_VERSION}`);
      const text = lines.join('\n');
      expect(text).toMatch(/Could not download the Temporal CLI \(.*answered 403\)/);
      expect(text).toMatch(/Building the Temporal CLI 1\.5\.1 with Go/);
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/building the Temporal CLI: \d+s, 0 packages compiled, downloading github\.com/),
          expect.stringMatching(
            /building the Temporal CLI: \d+s, 1 packages compiled, compiling github\.com\/temporalio\/cli\/internal/,
          ),
        ]),
      );
      expect(text).toMatch(/Temporal CLI built in \d+s/);
    } finally {
      await service.close();
    }
  });

  it('falls back at once when the download service cannot be reached', async () => {
    const closedPort = await freePort();
    const go = fakeGo();
    const lines: string[] = [];
    const started = Date.now();
    const cli = await ensureTemporalCli({
      env: envWith([go.pathDir]),
      log: (l) => lines.push(l),
      downloadBase: `http://127.0.0.1:${closedPort}`,
      ...target,
    });
    expect(cli.source).toBe('built');
    expect(lines.join('\n')).toMatch(/unreachable \(ECONNREFUSED\)/);
    // The stand-in build takes under a second; no wait on the download before it.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up on a download service that accepts connections but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: TcpServer = createTcpServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const go = fakeGo();
    const lines: string[] = [];
    const started = Date.now();
    try {
      const cli = await ensureTemporalCli({
        env: envWith([go.pathDir]),
        log: (l) => lines.push(l),
        downloadBase: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        connectTimeoutMs: 300,
        ...target,
      });
      expect(cli.source).toBe('built');
      expect(lines.join('\n')).toMatch(/unreachable \(no answer within 300 ms\)/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('does not keep a downloaded CLI that does not run', async () => {
    const service = await fakeDownloadService(
      servesArchive(fakeArchive('#!/bin/sh\necho "exec format error" >&2\nexit 126\n')),
    );
    const go = fakeGo();
    const env = envWith([go.pathDir]);
    const lines: string[] = [];
    try {
      const cli = await ensureTemporalCli({ env, log: (l) => lines.push(l), downloadBase: service.base, ...target });
      expect(cli.source).toBe('built');
      expect(lines.join('\n')).toMatch(/the downloaded CLI does not run here .*exec format error/);
      expect(versionOf(cli.path)).toBe('temporal version 1.5.1 (built)');
    } finally {
      await service.close();
    }
  });

  it('says what was tried and how to fix each when neither the download nor Go works', async () => {
    const service = await fakeDownloadService((_req, res) => {
      res.statusCode = 403;
      res.end();
    });
    const env = envWith([]);
    try {
      const run = ensureTemporalCli({ env, log: () => undefined, downloadBase: service.base, ...target });
      await expect(run).rejects.toThrow(/not on this machine, and bobsync could not get it/);
      const message = await run.catch((err: Error) => err.message);
      expect(message).toContain(`- download from ${service.base}: ${service.base}/cli/v1.5.1?`);
      expect(message).toMatch(
        /answered 403\.\n\s+Fix: allow HTTPS from this machine to 127\.0\.0\.1:\d+ .*BOBSYNC_TEMPORAL_DOWNLOAD_URL/,
      );
      expect(message).toMatch(/- build with Go \(go install\): Go is not installed\.\n\s+Fix: install Go/);
      expect(message).toMatch(/set TEMPORAL_CLI to its path/);
      expect(existsSync(join(temporalCacheDir(env), 'temporal'))).toBe(false);
    } finally {
      await service.close();
    }
  });

  it("quotes the Go build's own last words when it fails", async () => {
    const go = fakeGo({ fail: true });
    const run = ensureTemporalCli({
      env: envWith([go.pathDir]),
      log: () => undefined,
      downloadBase: `http://127.0.0.1:${await freePort()}`,
      ...target,
    });
    const message = await run.then(
      () => '',
      (err: Error) => err.message,
    );
    expect(message).toMatch(/build with Go \(go install\): go install exited with 1; its last output:/);
    expect(message).toContain('lookup proxy.golang.org: no such host');
    expect(message).toMatch(/Fix: check that the Go module proxy is reachable/);
  });

  it('uses TEMPORAL_CLI when it is set, without downloading', async () => {
    const script = join(scratch, 'my-temporal');
    writeFileSync(script, WORKING_CLI, { mode: 0o755 });
    await expect(ensureTemporalCli({ env: { ...envWith([]), TEMPORAL_CLI: script } })).resolves.toEqual({
      path: script,
      source: 'env',
    });
  });
});
