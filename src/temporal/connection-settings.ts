/**
 * Where and how bobsync connects to Temporal, resolved the way the `temporal` CLI and the SDKs
 * do (Temporal's "environment configuration"), so one set of settings serves all of them:
 *
 *   TEMPORAL_* environment variables  >  a profile of temporal.toml  >  bobsync.yaml `temporal.*`
 *
 * The profile file is $TEMPORAL_CONFIG_FILE, else the CLI's default (~/.config/temporalio/temporal.toml
 * on Linux); the profile is $TEMPORAL_PROFILE, else "default". Certificates and keys are read and
 * checked here, once, so a wrong path or a key that does not fit its certificate is reported by the
 * setting's name before any connection is tried.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { platform } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions as TlsSocketOptions } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfig, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

/** A setting that cannot be used as given; the message names the setting and the fix. */
export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
}

/** Temporal refused or could not be reached with the resolved settings; the message names the setting to check. */
export class TemporalConnectError extends Error {
  override name = 'TemporalConnectError';
}

export type TlsMode = 'none' | 'tls' | 'mtls';

export interface TemporalConnectionSettings {
  address: string;
  namespace: string;
  /** false: plaintext gRPC. */
  tls: TLSConfig | false;
  apiKey?: string;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_*, grpc_meta of the profile). */
  metadata: Record<string, string>;
  /** The setting each value came from ("TEMPORAL_API_KEY", "api_key of profile …"), for messages. */
  from: {
    address: string;
    namespace: string;
    /** Why TLS is on or off: "set by TEMPORAL_TLS", "implied by the API key from TEMPORAL_API_KEY"… */
    tls?: string;
    apiKey?: string;
    serverCaCert?: string;
    clientCert?: string;
    clientKey?: string;
    serverName?: string;
  };
  /** The temporal.toml profile that contributed, if any. */
  profile?: { name: string; file: string };
}

/** What the operator may see about a connection: never the key or certificate contents. */
export interface ConnectionSummary {
  address: string;
  namespace: string;
  tls: TlsMode;
  apiKey: boolean;
  profile?: string;
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** bobsync.yaml's temporal.address and temporal.namespace: used when neither environment nor profile sets them. */
  defaults: { address: string; namespace: string };
  /** Where the defaults come from, for messages (e.g. the path of bobsync.yaml). */
  defaultsFrom?: string;
}

type Pair = 'serverCaCert' | 'clientCert' | 'clientKey';

const PAIRS: Record<Pair, { env: string; toml: string; what: string }> = {
  serverCaCert: { env: 'TEMPORAL_TLS_SERVER_CA_CERT', toml: 'tls.server_ca_cert', what: 'server CA certificate' },
  clientCert: { env: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'tls.client_cert', what: 'client certificate' },
  clientKey: { env: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'tls.client_key', what: 'client private key' },
};

const GRPC_META_PREFIX = 'TEMPORAL_GRPC_META_';

/** Names other tools use for the same thing; set alone, they are probably meant for bobsync too. */
const LOOK_ALIKES: Record<string, string> = {
  TEMPORAL_TLS_CA_CERT_PATH: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  TEMPORAL_TLS_CA_CERT_DATA: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  TEMPORAL_TLS_CA: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
};

/** The CLI's default temporal.toml for this OS ('' when the home directory is unknown). */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env, os: NodeJS.Platform = platform()): string {
  const file = join('temporalio', 'temporal.toml');
  if (os === 'win32') return env.APPDATA ? join(env.APPDATA, file) : '';
  if (os === 'darwin') return env.HOME ? join(env.HOME, 'Library', 'Application Support', file) : '';
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, file);
  return env.HOME ? join(env.HOME, '.config', file) : '';
}

/** A plain, unauthenticated connection to a known address (the local dev server, tests). */
export function plainConnectionSettings(address: string, namespace: string): TemporalConnectionSettings {
  return {
    address,
    namespace,
    tls: false,
    metadata: {},
    from: { address: 'the given address', namespace: 'the given namespace' },
  };
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  // Compose files and CI often pass unset variables as empty strings: those mean "not set".
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function envBool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = envValue(env, name);
  if (value === undefined) return undefined;
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new TemporalSettingsError(`${name} is "${value}": use true or false.`);
}

function envSource(env: NodeJS.ProcessEnv, pair: Pair): { source: ConfigDataSource; from: string } | undefined {
  const { env: prefix } = PAIRS[pair];
  const path = envValue(env, `${prefix}_PATH`);
  const data = envValue(env, `${prefix}_DATA`);
  if (path && data)
    throw new TemporalSettingsError(
      `Both ${prefix}_PATH and ${prefix}_DATA are set: keep one (the path or the PEM text).`,
    );
  if (path) return { source: { path }, from: `${prefix}_PATH` };
  if (data) return { source: { data }, from: `${prefix}_DATA` };
  return undefined;
}

interface LoadedProfile {
  name: string;
  file: string;
  profile: ClientConfigProfile;
}

function loadProfile(env: NodeJS.ProcessEnv): LoadedProfile | undefined {
  const explicitFile = envValue(env, 'TEMPORAL_CONFIG_FILE');
  const file = explicitFile ?? defaultConfigFile(env);
  const explicitProfile = envValue(env, 'TEMPORAL_PROFILE');
  const name = explicitProfile ?? 'default';
  const fileNamed = explicitFile ? `${file} (TEMPORAL_CONFIG_FILE)` : file;

  if (!file || !existsSync(file)) {
    if (explicitFile)
      throw new TemporalSettingsError(
        `TEMPORAL_CONFIG_FILE points to ${file}, which does not exist. Fix the path or unset TEMPORAL_CONFIG_FILE.`,
      );
    if (explicitProfile)
      throw new TemporalSettingsError(
        `TEMPORAL_PROFILE is "${name}", but there is no Temporal config file at ${file || 'the default location (HOME is not set)'}. ` +
          'Create it (temporal config set --profile …) or point TEMPORAL_CONFIG_FILE at yours.',
      );
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TemporalSettingsError(`Cannot read the Temporal config file ${fileNamed}: ${(err as Error).message}`);
  }
  let profiles: Record<string, ClientConfigProfile>;
  try {
    profiles = loadClientConfig({ configSource: { data: text } }).profiles;
  } catch (err) {
    throw new TemporalSettingsError(`The Temporal config file ${fileNamed} is not valid: ${(err as Error).message}`);
  }
  const profile = profiles[name];
  if (!profile) {
    if (!explicitProfile) return undefined;
    const known = Object.keys(profiles);
    throw new TemporalSettingsError(
      `TEMPORAL_PROFILE is "${name}", but ${fileNamed} has no [profile.${name}] ` +
        `(${known.length ? `its profiles: ${known.join(', ')}` : 'it has no profiles'}).`,
    );
  }
  return { name, file, profile };
}

function readSource(source: ConfigDataSource, from: string, what: string): Buffer {
  if ('data' in source) return Buffer.from(source.data);
  if (!existsSync(source.path))
    throw new TemporalSettingsError(
      `${from} points to ${source.path}, which does not exist: set it to the ${what} file.`,
    );
  try {
    return readFileSync(source.path);
  } catch (err) {
    throw new TemporalSettingsError(`Cannot read the ${what} ${source.path} (${from}): ${(err as Error).message}`);
  }
}

function parseCertificate(pem: Buffer, from: string, what: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new TemporalSettingsError(
      `${from} holds no PEM certificate (-----BEGIN CERTIFICATE-----): set it to the ${what}.`,
    );
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TemporalSettingsError(`The ${what} from ${from} cannot be read: ${(err as Error).message}`);
  }
}

function parsePrivateKey(pem: Buffer, from: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new TemporalSettingsError(
      `The client private key from ${from} cannot be read (${(err as Error).message}): it must be an unencrypted PEM key.`,
    );
  }
}

function normaliseMetaKey(key: string): string {
  return key.toLowerCase().replaceAll('_', '-');
}

/**
 * Resolves the connection settings from the environment, the temporal.toml profile and
 * bobsync.yaml's defaults, reading and checking certificate files. Throws TemporalSettingsError
 * naming the setting when one cannot be used.
 */
export function resolveConnectionSettings(options: ResolveOptions): TemporalConnectionSettings {
  const env = options.env ?? process.env;
  const loaded = loadProfile(env);
  const profile = loaded?.profile ?? {};
  const inProfile = (key: string) => `${key} of profile "${loaded?.name}" in ${loaded?.file}`;
  const yaml = (key: string) => `temporal.${key} in ${options.defaultsFrom ?? 'bobsync.yaml'}`;

  const pick = <T>(envName: string, fromEnv: T | undefined, tomlKey: string, fromProfile: T | undefined) =>
    fromEnv !== undefined
      ? { value: fromEnv, from: envName }
      : fromProfile !== undefined
        ? { value: fromProfile, from: inProfile(tomlKey) }
        : undefined;

  const address = pick('TEMPORAL_ADDRESS', envValue(env, 'TEMPORAL_ADDRESS'), 'address', profile.address) ?? {
    value: options.defaults.address,
    from: yaml('address'),
  };
  const namespace = pick('TEMPORAL_NAMESPACE', envValue(env, 'TEMPORAL_NAMESPACE'), 'namespace', profile.namespace) ?? {
    value: options.defaults.namespace,
    from: yaml('namespace'),
  };
  const apiKey = pick('TEMPORAL_API_KEY', envValue(env, 'TEMPORAL_API_KEY'), 'api_key', profile.apiKey);

  // The SDK cannot skip host-name checks; TEMPORAL_TLS_SERVER_NAME is the supported way round a mismatch.
  if (envBool(env, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'))
    throw new TemporalSettingsError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by bobsync (the Temporal TypeScript SDK always ' +
        "verifies the server's name): unset it and set TEMPORAL_TLS_SERVER_NAME to a name in the server's certificate.",
    );

  const sources: Partial<Record<Pair, { source: ConfigDataSource; from: string }>> = {};
  for (const pair of Object.keys(PAIRS) as Pair[]) {
    const fromProfile = profile.tls?.[pair === 'serverCaCert' ? 'serverCACert' : pair];
    const chosen =
      envSource(env, pair) ??
      (fromProfile
        ? { source: fromProfile, from: inProfile(`${PAIRS[pair].toml}_${'path' in fromProfile ? 'path' : 'data'}`) }
        : undefined);
    if (chosen) sources[pair] = chosen;
  }
  const serverName = pick(
    'TEMPORAL_TLS_SERVER_NAME',
    envValue(env, 'TEMPORAL_TLS_SERVER_NAME'),
    'tls.server_name',
    profile.tls?.serverName,
  );

  // TLS is on when asked for, else when anything about TLS or an API key is set (Temporal Cloud needs it).
  const envTls = envBool(env, 'TEMPORAL_TLS');
  const explicitTls =
    envTls !== undefined
      ? { on: envTls, from: 'TEMPORAL_TLS' }
      : profile.tls?.disabled !== undefined
        ? { on: !profile.tls.disabled, from: inProfile('tls.disabled') }
        : undefined;
  const anyTlsSetting = Boolean(profile.tls) || Object.keys(sources).length > 0 || serverName !== undefined;
  const tlsOn = explicitTls?.on ?? (anyTlsSetting || apiKey !== undefined);
  const firstTlsSetting =
    Object.values(sources)[0]?.from ?? serverName?.from ?? (profile.tls ? inProfile('tls') : undefined);
  const tlsFrom = explicitTls
    ? `set by ${explicitTls.from}`
    : firstTlsSetting
      ? `implied by ${firstTlsSetting}`
      : apiKey
        ? `implied by the API key from ${apiKey.from}`
        : undefined;

  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(profile.grpcMeta ?? {})) metadata[normaliseMetaKey(key)] = value;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(GRPC_META_PREFIX) || name.length === GRPC_META_PREFIX.length) continue;
    const key = normaliseMetaKey(name.slice(GRPC_META_PREFIX.length));
    // As in the CLI, an empty variable removes a header the profile sets.
    if (value === undefined || value === '') delete metadata[key];
    else metadata[key] = value;
  }
  if (apiKey && metadata.authorization !== undefined)
    throw new TemporalSettingsError(
      `An API key (${apiKey.from}) and an authorization gRPC header (TEMPORAL_GRPC_META_AUTHORIZATION or grpc_meta) are both set: keep one.`,
    );

  const settings: TemporalConnectionSettings = {
    address: address.value,
    namespace: namespace.value,
    tls: false,
    apiKey: apiKey?.value,
    metadata,
    from: { address: address.from, namespace: namespace.from, tls: tlsFrom, apiKey: apiKey?.from },
    profile: loaded ? { name: loaded.name, file: loaded.file } : undefined,
  };
  if (!tlsOn) return settings;

  const tls: TLSConfig = {};
  if (serverName) {
    tls.serverNameOverride = serverName.value;
    settings.from.serverName = serverName.from;
  }
  const ca = sources.serverCaCert;
  if (ca) {
    const pem = readSource(ca.source, ca.from, PAIRS.serverCaCert.what);
    parseCertificate(pem, ca.from, PAIRS.serverCaCert.what);
    tls.serverRootCACertificate = pem;
    settings.from.serverCaCert = ca.from;
  }
  const { clientCert, clientKey } = sources;
  if (clientCert && !clientKey)
    throw new TemporalSettingsError(
      `A client certificate is set (${clientCert.from}) but no key: set TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_key_path in the profile).`,
    );
  if (clientKey && !clientCert)
    throw new TemporalSettingsError(
      `A client key is set (${clientKey.from}) but no certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH (or tls.client_cert_path in the profile).`,
    );
  if (clientCert && clientKey) {
    const crt = readSource(clientCert.source, clientCert.from, PAIRS.clientCert.what);
    const key = readSource(clientKey.source, clientKey.from, PAIRS.clientKey.what);
    const certificate = parseCertificate(crt, clientCert.from, PAIRS.clientCert.what);
    const privateKey = parsePrivateKey(key, clientKey.from);
    if (!certificate.checkPrivateKey(privateKey))
      throw new TemporalSettingsError(
        `The client key from ${clientKey.from} does not belong to the certificate from ${clientCert.from}: set the key issued with that certificate.`,
      );
    if (Date.parse(certificate.validTo) < Date.now())
      throw new TemporalSettingsError(
        `The client certificate from ${clientCert.from} expired on ${certificate.validTo}: set a current one.`,
      );
    tls.clientCertPair = { crt, key };
    settings.from.clientCert = clientCert.from;
    settings.from.clientKey = clientKey.from;
  }
  settings.tls = tls;
  return settings;
}

export function tlsMode(settings: TemporalConnectionSettings): TlsMode {
  if (!settings.tls) return 'none';
  return settings.tls.clientCertPair ? 'mtls' : 'tls';
}

export function describeConnection(settings: TemporalConnectionSettings): ConnectionSummary {
  return {
    address: settings.address,
    namespace: settings.namespace,
    tls: tlsMode(settings),
    apiKey: settings.apiKey !== undefined,
    ...(settings.profile ? { profile: `${settings.profile.name} (${settings.profile.file})` } : {}),
  };
}

/** Options for Connection.connect (client) and NativeConnection.connect (worker): the same fields. */
export function connectionOptions(settings: TemporalConnectionSettings): {
  address: string;
  tls: TLSConfig | false;
  apiKey?: string;
  metadata?: Record<string, string>;
} {
  return {
    address: settings.address,
    // An explicit false: with an API key the SDK would otherwise turn TLS on by itself.
    tls: settings.tls,
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(Object.keys(settings.metadata).length ? { metadata: settings.metadata } : {}),
  };
}

function causes(err: unknown): Error[] {
  const chain: Error[] = [];
  for (let e = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  return chain;
}

function detailOf(err: unknown): string {
  const chain = causes(err);
  const deepest = chain.at(-1);
  // One line, without a final period: the messages built around it add their own.
  return (deepest?.message ?? String(err)).replace(/\s+/g, ' ').trim().replace(/\.$/, '');
}

// The worker's core (tonic) words the same statuses as their descriptions.
const AUTH_WORDS =
  /\b(UNAUTHENTICATED|PERMISSION_DENIED|Unauthenticated|PermissionDenied)\b|does not have valid authentication credentials|caller does not have permission/;

/** gRPC status codes 16 (UNAUTHENTICATED) and 7 (PERMISSION_DENIED), as the client or the worker's core reports them. */
function isAuthFailure(err: unknown): boolean {
  return causes(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    return code === 16 || code === 7 || AUTH_WORDS.test(e.message);
  });
}

function hostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return match ? { host: match[1]!, port: Number(match[2]) } : { host: address, port: 7233 };
}

interface Probe {
  ok: boolean;
  code?: string;
  message?: string;
  /** The failure came after the handshake: the server looked at the client certificate and hung up. */
  afterHandshake?: boolean;
}

/** OpenSSL's "…:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…" → "tlsv13 alert certificate required". */
function opensslReason(message: string): string {
  return /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1]?.trim() ?? message.trim();
}

/** A bare TLS handshake to the address, to say why the gRPC connection failed (the SDK only reports a timeout). */
function probeTls(settings: TemporalConnectionSettings, verify: boolean, timeoutMs = 3_000): Promise<Probe> {
  const { host, port } = hostPort(settings.address);
  const tls = settings.tls || {};
  const servername = tls.serverNameOverride ?? (isIP(host) ? undefined : host);
  const options: TlsSocketOptions = {
    host,
    port,
    servername,
    ALPNProtocols: ['h2'],
    rejectUnauthorized: verify,
    ...(tls.serverRootCACertificate ? { ca: Buffer.from(tls.serverRootCACertificate) } : {}),
    ...(tls.clientCertPair
      ? { cert: Buffer.from(tls.clientCertPair.crt), key: Buffer.from(tls.clientCertPair.key) }
      : {}),
  };
  return new Promise((resolve) => {
    const socket = tlsConnect(options);
    let settled = false;
    let handshook = false;
    const done = (probe: Probe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(probe.ok ? probe : { ...probe, afterHandshake: handshook });
    };
    const timer = setTimeout(
      () => done({ ok: false, code: 'ETIMEDOUT', message: 'no TLS handshake in time' }),
      timeoutMs,
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      done({ ok: false, code: err.code, message: opensslReason(err.message) }),
    );
    // With TLS 1.3 a server rejects the client certificate only after the handshake: give it a moment to say so.
    socket.on('secureConnect', () => {
      handshook = true;
      setTimeout(() => done({ ok: true }), 300);
    });
    socket.on('close', () => done({ ok: false, code: 'ECONNRESET', message: 'the server closed the connection' }));
  });
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
]);

function tlsAdvice(settings: TemporalConnectionSettings, probe: Probe): string {
  const { from } = settings;
  const code = probe.code ?? '';
  const message = probe.message ?? '';
  if (UNTRUSTED.has(code))
    return from.serverCaCert
      ? `The server's certificate is not signed by the CA from ${from.serverCaCert}: set the CA that issued it.`
      : "The server's certificate is not signed by a CA this machine trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that issued it.";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return from.serverName
      ? `The server's certificate does not hold the name from ${from.serverName}: set a name it holds.`
      : "The server's certificate does not hold the host name of the address: set TEMPORAL_TLS_SERVER_NAME to a name it holds.";
  if (
    probe.afterHandshake ||
    /certificate required|handshake failure|bad certificate|unknown ca|certificate unknown/i.test(message)
  )
    return from.clientCert
      ? `The server refused the client certificate from ${from.clientCert}: is it issued by a CA the server trusts?`
      : 'The server asks for a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH.';
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(message))
    return `The server does not answer in TLS: if it is a plain server (like the local dev server), set TEMPORAL_TLS=false${from.apiKey ? ` (an API key from ${from.apiKey} turns TLS on)` : ''}.`;
  return 'Check the TLS settings (TEMPORAL_TLS_*, or tls.* in the temporal.toml profile).';
}

function lookAlikeHints(env: NodeJS.ProcessEnv): string {
  const hints = Object.entries(LOOK_ALIKES)
    .filter(([name, standard]) => envValue(env, name) && !envValue(env, standard))
    .map(([name, standard]) => `${name} is set, but bobsync (like the temporal CLI) reads ${standard}.`);
  return hints.length ? ` ${hints.join(' ')}` : '';
}

/**
 * Turns a failed connect into a message that names the setting to look at: the API key, the
 * client certificate, the CA or server name, TLS on or off, or the address.
 */
export async function explainConnectError(
  err: unknown,
  settings: TemporalConnectionSettings,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TemporalConnectError> {
  const { address, from } = settings;
  const detail = detailOf(err);
  const hints = lookAlikeHints(env);
  const explain = (message: string) => new TemporalConnectError(`${message}${hints}`, { cause: err });

  if (isAuthFailure(err)) {
    // The server's own words: "16 UNAUTHENTICATED: …" from the client, `message: "…"` from the worker's core.
    const said = (/message: "([^"]*)"/.exec(detail)?.[1] ?? detail.replace(/^\d+ [A-Z_]+: /, '')).replace(/\.$/, '');
    if (from.apiKey)
      return explain(
        `Temporal refused the API key from ${from.apiKey}: ${said}. Check the key, and that it may use namespace ${settings.namespace}.`,
      );
    if (from.clientCert)
      return explain(
        `Temporal at ${address} refused the client certificate from ${from.clientCert}: ${said}. Check that it is allowed on namespace ${settings.namespace}.`,
      );
    return explain(
      `Temporal at ${address} asks for credentials (${said}): set TEMPORAL_API_KEY, or a client certificate ` +
        'with TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or api_key / tls.* in the temporal.toml profile).',
    );
  }

  if (settings.tls) {
    const probe = await probeTls(settings, true);
    if (!probe.ok && probe.code !== 'ECONNREFUSED' && probe.code !== 'ENOTFOUND' && probe.code !== 'ETIMEDOUT')
      return explain(
        `TLS with Temporal at ${address} failed (TLS ${from.tls ?? 'on'}): ${probe.message ?? detail}. ${tlsAdvice(settings, probe)}`,
      );
  } else {
    const probe = await probeTls(settings, false);
    if (probe.ok)
      return explain(
        `Temporal at ${address} answers in TLS, but TLS is off${from.tls ? ` (${from.tls})` : ''}: set TEMPORAL_TLS=true (and TEMPORAL_API_KEY or a client certificate if it asks for one).`,
      );
  }
  return explain(
    `Cannot reach Temporal at ${address} (from ${from.address}): ${detail}. Start Temporal or fix the address ` +
      '(TEMPORAL_ADDRESS, address in the temporal.toml profile, or temporal.address in bobsync.yaml).',
  );
}
