/**
 * Starts `temporal server start-dev` as a child process and waits until it answers, with
 * bobsync's search attributes registered. Used by the embedded default (`npm start`), the test
 * suite and the benchmarks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { BOBSYNC_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { ensureTemporalCli } from './temporal-cli';

export interface DevServerOptions {
  /** gRPC port of the frontend (default 7233). */
  port?: number;
  /** Web UI port (default port + 1000). */
  uiPort?: number;
  /** SQLite file; omit for an in-memory server. */
  dbFile?: string;
  /** SQLite pragmas for the file (default: FILE_DB_PRAGMAS). */
  sqlitePragmas?: Record<string, string>;
  /** Where the server's own log goes (default: discarded). */
  logFile?: string;
  namespace?: string;
  headless?: boolean;
  /** Codec endpoint the Web UI calls to show decrypted payloads to operators. */
  uiCodecEndpoint?: string;
  /** How long to wait for the frontend to answer. Cold starts on small machines take seconds. */
  startTimeoutMs?: number;
  /**
   * More search attributes to register at start, e.g. { Extra: 'Keyword' }. bobsync's own
   * (src/workflows/search-attributes) are always registered: its workflows set them.
   */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
}

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** bobsync's search attributes, as `--search-attribute` names their types. */
export function bobsyncSearchAttributes(): Record<string, SearchAttributeTypeName> {
  return Object.fromEntries(
    BOBSYNC_SEARCH_ATTRIBUTES.map((k) => [
      k.name,
      TypedSearchAttributes.toMetadataType(k.type) as SearchAttributeTypeName,
    ]),
  );
}

/**
 * Resolves once every named attribute is listed on the namespace: the frontend may answer
 * before the server has registered them, and a workflow that sets one too early fails its task.
 */
async function waitForSearchAttributes(
  address: string,
  namespace: string,
  names: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    let missing = names;
    while (Date.now() < deadline) {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      missing = names.filter((name) => !(name in (listed.customAttributes ?? {})));
      if (missing.length === 0) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`The Temporal dev server at ${address} did not register ${missing.join(', ')} in time.`);
  } finally {
    await connection.close();
  }
}

export interface RunningDevServer {
  address: string;
  uiUrl: string | undefined;
  namespace: string;
  process: ChildProcess;
  cliPath: string;
  stop(): Promise<void>;
}

export async function waitForTemporal(address: string, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`The Temporal dev server exited with code ${child.exitCode} before it was ready.`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * With the file's default rollback journal every commit waits for the disk: 300 signals/s with a
 * worker took seconds per signal-with-start (p50 3 s) on a 2-core machine. A write-ahead log,
 * synced at checkpoints rather than at every commit, took 35 ms. A process crash loses nothing
 * with WAL; a power cut may lose the last commits, which suits a local, single-machine Temporal.
 */
export const FILE_DB_PRAGMAS: Readonly<Record<string, string>> = { journal_mode: 'wal', synchronous: 'normal' };

export async function startDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const cli = await ensureTemporalCli();
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? port + 1000;
  const namespace = options.namespace ?? 'default';
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort));
  if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
    for (const [pragma, value] of Object.entries(options.sqlitePragmas ?? FILE_DB_PRAGMAS))
      args.push('--sqlite-pragma', `${pragma}=${value}`);
  }
  const searchAttributes = { ...bobsyncSearchAttributes(), ...options.searchAttributes };
  for (const [name, type] of Object.entries(searchAttributes)) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  let stdio: ('ignore' | number)[] = ['ignore', 'ignore', 'ignore'];
  if (options.logFile) {
    mkdirSync(dirname(options.logFile), { recursive: true });
    const fd = openSync(options.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  const child = spawn(cli.path, args, { stdio, detached: false });
  const address = `127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const startedBy = Date.now() + (options.startTimeoutMs ?? 60_000);
    await waitForTemporal(address, startedBy - Date.now(), child);
    await waitForSearchAttributes(
      address,
      namespace,
      Object.keys(searchAttributes),
      Math.max(5_000, startedBy - Date.now()),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    address,
    uiUrl: options.headless ? undefined : `http://127.0.0.1:${uiPort}`,
    namespace,
    process: child,
    cliPath: cli.path,
    stop,
  };
}
