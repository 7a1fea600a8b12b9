/**
 * Finds Temporal's time-skipping test server (the Java `io.temporal:temporal-test-server`) for
 * workflow tests whose timers run for hours or days: the server jumps its clock forward whenever
 * a test waits on a workflow, so an approval window of days passes in milliseconds.
 *
 * Order: $TEMPORAL_TEST_SERVER, else the per-user cache. When the cache lacks it, Maven fetches
 * the server and its runtime dependencies from Maven Central once, and a launcher script is
 * written next to them. The launcher takes the server's own arguments (`<port> [flags]`), which
 * is how `TestWorkflowEnvironment.createTimeSkipping` runs an `existing-path` executable.
 *
 * The SDK gives the server 5 seconds to answer. A cold JVM loading gRPC and protobuf takes about
 * that long on a busy 2-core machine, so the launcher starts Java with a class-data archive of
 * the server's classes (recorded once, here) and a quick-start JIT and GC.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { Connection } from '@temporalio/client';
import { freePort } from './ports';
import { findOnPath, isExecutable, toolCacheDir } from './tool-cache';

export const TEMPORAL_TEST_SERVER_VERSION = '1.32.1';
const GROUP = 'io.temporal';
const ARTIFACT = 'temporal-test-server';
const MAIN_CLASS = 'io.temporal.testserver.TestServer';
/** slf4j binding the server logs through (its own dependency is the 1.7 API, without a binding). */
const SLF4J_VERSION = '1.7.36';
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const LAUNCHER = 'temporal-test-server';
const ARCHIVE = 'server.jsa';
/** The SDK's own start limit is 5 s; the check after installing allows for a first, cold start. */
const VERIFY_START_TIMEOUT_MS = 60_000;

/** JVM flags that shorten start-up: the client JIT only and the serial GC suit a short-lived test server. */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:-UsePerfData'];
/** The server logs warnings and errors only. */
const SERVER_PROPERTIES = ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn'];

export function temporalTestServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolCacheDir(`temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}`, env);
}

const libDir = (cacheDir: string) => join(cacheDir, 'lib');
const serverJar = (cacheDir: string) => join(libDir(cacheDir), `${ARTIFACT}-${TEMPORAL_TEST_SERVER_VERSION}.jar`);

export type TestServerSource = 'env' | 'cache' | 'fetched';

/** Returns the launcher if it exists already; never fetches or starts anything. */
export function findTemporalTestServer(
  env: NodeJS.ProcessEnv = process.env,
): { path: string; source: TestServerSource } | undefined {
  if (env.TEMPORAL_TEST_SERVER) {
    if (!isExecutable(env.TEMPORAL_TEST_SERVER)) {
      throw new Error(
        `TEMPORAL_TEST_SERVER points to ${env.TEMPORAL_TEST_SERVER}, which is not an executable file. Fix the path or unset TEMPORAL_TEST_SERVER.`,
      );
    }
    return { path: env.TEMPORAL_TEST_SERVER, source: 'env' };
  }
  const cacheDir = temporalTestServerCacheDir(env);
  const launcher = join(cacheDir, LAUNCHER);
  if (isExecutable(launcher) && existsSync(serverJar(cacheDir))) return { path: launcher, source: 'cache' };
  return undefined;
}

/** The Java runtime: $JAVA_HOME/bin/java, else `java` on PATH. */
function findJava(env: NodeJS.ProcessEnv): string {
  if (env.JAVA_HOME) {
    const java = join(env.JAVA_HOME, 'bin', 'java');
    if (!isExecutable(java))
      throw new Error(`JAVA_HOME is ${env.JAVA_HOME}, but ${java} is not an executable file. Fix or unset JAVA_HOME.`);
    return java;
  }
  const java = findOnPath('java', env);
  if (!java) {
    throw new Error(
      "Temporal's time-skipping test server is a Java program, and no Java runtime was found. Install Java 17 or newer " +
        '(e.g. `apt-get install openjdk-17-jre-headless`) and put `java` on PATH or set JAVA_HOME, or set TEMPORAL_TEST_SERVER ' +
        'to a test server executable.',
    );
  }
  return java;
}

/** What `java -version` says, to notice a different Java behind the same path. */
function javaVersion(java: string): string {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const text = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
  if (result.status !== 0 || !text)
    throw new Error(`${java} -version failed (exit ${result.status ?? result.signal}): ${text || 'no output'}`);
  return text.split('\n').join(' | ');
}

/** Single-quotes a word for /bin/sh. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function launcherHeader(java: string, version: string): string {
  return `# java: ${java} (${version})`;
}

/** A pom whose dependencies are the server and a logging binding; Maven copies their runtime closure. */
function pomXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Fetched by bobsync: Temporal's time-skipping test server and its runtime dependencies. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>bobsync.local</groupId>
  <artifactId>temporal-test-server-runtime</artifactId>
  <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${GROUP}</groupId>
      <artifactId>${ARTIFACT}</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

/** Copies the server and its runtime dependencies into <cache>/lib with Maven. */
function fetchJars(cacheDir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  const mvn = findOnPath('mvn', env);
  if (!mvn) {
    throw new Error(
      `Temporal's time-skipping test server is fetched once from Maven Central with Maven, and \`mvn\` is not on PATH. ` +
        'Install Maven (e.g. `apt-get install maven`) and run `bobsync temporal ensure --test-server` again, or set ' +
        'TEMPORAL_TEST_SERVER to a test server executable.',
    );
  }
  mkdirSync(cacheDir, { recursive: true });
  const pom = join(cacheDir, 'pom.xml');
  writeFileSync(pom, pomXml());
  const partial = join(cacheDir, `lib.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  log(
    `Fetching Temporal's time-skipping test server ${TEMPORAL_TEST_SERVER_VERSION} with Maven into ${cacheDir} (once)…`,
  );
  const result = spawnSync(
    mvn,
    [
      '-B',
      '-q',
      '-f',
      pom,
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      `-DoutputDirectory=${partial}`,
      '-DincludeScope=runtime',
    ],
    { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 },
  );
  // Quiet Maven prints only problems (and terminal resets, dropped here).
  const output = stripVTControlCharacters(`${result.stdout ?? ''}${result.stderr ?? ''}`).trim();
  const fetched = existsSync(partial) ? readdirSync(partial) : [];
  const expected = [
    `${ARTIFACT}-${TEMPORAL_TEST_SERVER_VERSION}.jar`,
    `temporal-sdk-${TEMPORAL_TEST_SERVER_VERSION}.jar`,
    `slf4j-simple-${SLF4J_VERSION}.jar`,
  ];
  const missing = expected.filter((jar) => !fetched.includes(jar));
  if (result.status !== 0 || missing.length > 0) {
    rmSync(partial, { recursive: true, force: true });
    if (output) log(output);
    throw new Error(
      `Fetching the time-skipping test server failed (mvn exited with ${result.status ?? result.signal}` +
        `${missing.length ? `; missing ${missing.join(', ')}` : ''}). Check that Maven Central (or your Maven mirror) is reachable, ` +
        `or set TEMPORAL_TEST_SERVER to a test server executable.`,
    );
  }
  rmSync(libDir(cacheDir), { recursive: true, force: true });
  renameSync(partial, libDir(cacheDir));
}

function classpath(cacheDir: string): string {
  // An explicit, sorted list: the class-data archive only applies to the classpath it was recorded with.
  return readdirSync(libDir(cacheDir))
    .filter((name) => name.endsWith('.jar'))
    .sort()
    .map((name) => join(libDir(cacheDir), name))
    .join(':');
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** Waits until the server at 127.0.0.1:port answers the calls the SDK makes when it connects. */
async function waitForServer(port: number, child: ChildProcess, timeoutMs: number, logFile: string): Promise<number> {
  const started = Date.now();
  let lastError: unknown;
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `The time-skipping test server exited (${child.exitCode ?? child.signalCode}) before it answered; its output is in ${logFile}.`,
      );
    }
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        await connection.healthService.check({});
        return Date.now() - started;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(
    `The time-skipping test server did not answer within ${timeoutMs} ms (${String(lastError)}); its output is in ${logFile}.`,
  );
}

/** Starts a command with its output going to a log file. */
function spawnLogged(command: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'w');
  try {
    return spawn(command, args, { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

/**
 * Records which classes the server loads while it starts and answers its first calls, into a
 * class-data archive the JVM maps at the next start instead of parsing those classes again.
 * Java 13 and newer can; with an older Java the launcher runs without one.
 */
async function writeClassArchive(
  cacheDir: string,
  java: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  const archive = join(cacheDir, ARCHIVE);
  const partial = `${archive}.partial-${process.pid}`;
  const logFile = join(cacheDir, 'class-archive.log');
  rmSync(partial, { force: true });
  const cp = classpath(cacheDir);
  const port = await freePort();
  const child = spawnLogged(
    java,
    [`-XX:ArchiveClassesAtExit=${partial}`, ...JVM_FLAGS, ...SERVER_PROPERTIES, '-cp', cp, MAIN_CLASS, String(port)],
    logFile,
  );
  try {
    await waitForServer(port, child, VERIFY_START_TIMEOUT_MS, logFile);
  } catch (err) {
    await stop(child, 'SIGKILL');
    rmSync(partial, { force: true });
    throw err;
  }
  // The archive is written while the JVM shuts down; it replaces the previous one in one rename.
  await stop(child, 'SIGTERM');
  // Only an archive this JVM accepts for this classpath is kept (-Xshare:on fails otherwise).
  const check = spawnSync(
    java,
    [...JVM_FLAGS, '-Xshare:on', `-XX:SharedArchiveFile=${partial}`, '-cp', cp, '-version'],
    { stdio: 'ignore' },
  );
  if (!existsSync(partial) || check.status !== 0) {
    rmSync(partial, { force: true });
    rmSync(archive, { force: true });
    log(
      `Warning: ${java} could not record a class-data archive (see ${logFile}); the test server will start more slowly and ` +
        'may miss the SDK’s 5-second start limit on a busy machine. Java 17 or newer records one.',
    );
    return undefined;
  }
  renameSync(partial, archive);
  return archive;
}

function launcherScript(cacheDir: string, java: string, version: string, archive: string | undefined): string {
  // -Xshare:auto: should the JVM refuse the archive, it starts without it rather than failing.
  const flags = [
    ...JVM_FLAGS,
    ...(archive ? ['-Xshare:auto', `-XX:SharedArchiveFile=${archive}`] : []),
    ...SERVER_PROPERTIES,
  ];
  return [
    '#!/bin/sh',
    `# Temporal time-skipping test server ${TEMPORAL_TEST_SERVER_VERSION}. Usage: ${LAUNCHER} <port> [--enable-time-skipping]`,
    '# Written by `bobsync temporal ensure --test-server`; run that again after changing Java.',
    launcherHeader(java, version),
    `exec ${shellQuote(java)} ${flags.map(shellQuote).join(' ')} -cp ${shellQuote(classpath(cacheDir))} ${MAIN_CLASS} "$@"`,
    '',
  ].join('\n');
}

/** Starts the server through a launcher and stops it; returns how long it took to answer. */
async function verifyLauncher(launcher: string, logFile: string): Promise<number> {
  const port = await freePort();
  const child = spawnLogged(launcher, [String(port)], logFile);
  try {
    return await waitForServer(port, child, VERIFY_START_TIMEOUT_MS, logFile);
  } finally {
    await stop(child, 'SIGKILL');
  }
}

/**
 * Finds the test server's launcher, or fetches the server with Maven and writes the launcher
 * when missing (or when the Java it was written for changed); throws a how-to message when
 * neither Java nor Maven is there to do it.
 */
export async function ensureTemporalTestServer(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ path: string; source: TestServerSource }> {
  const found = findTemporalTestServer(env);
  if (found?.source === 'env') return found;

  const cacheDir = temporalTestServerCacheDir(env);
  const launcher = join(cacheDir, LAUNCHER);
  const java = findJava(env);
  const version = javaVersion(java);
  if (found && readFileSync(launcher, 'utf8').includes(`\n${launcherHeader(java, version)}\n`)) return found;

  let source: TestServerSource = 'cache';
  if (!existsSync(serverJar(cacheDir))) {
    fetchJars(cacheDir, env, log);
    source = 'fetched';
  }
  log(`Preparing the time-skipping test server launcher for ${java}…`);
  const archive = await writeClassArchive(cacheDir, java, log);
  const partial = `${launcher}.partial-${process.pid}`;
  writeFileSync(partial, launcherScript(cacheDir, java, version, archive), { mode: 0o755 });
  try {
    const ms = await verifyLauncher(partial, join(cacheDir, 'verify.log'));
    log(`The time-skipping test server answered ${ms} ms after its launcher started.`);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
  renameSync(partial, launcher);
  return { path: launcher, source };
}
